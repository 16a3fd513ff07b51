package dataapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
)

// recorder wraps the fake's handler and keeps every request body.
type recorder struct {
	h      http.Handler
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.bodies = append(r.bodies, body)
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.h.ServeHTTP(w, req)
}

func recordedFake(t *testing.T, cfg fakeapi.Config) (*fakeapi.Server, *recorder, string) {
	t.Helper()
	var rec *recorder
	f, url := newFakeWith(t, cfg, func(h http.Handler) http.Handler {
		rec = &recorder{h: h}
		return rec
	})
	return f, rec, url
}

func TestRequestsAskForEveryStoredField(t *testing.T) {
	fake, rec, url := recordedFake(t, fakeapi.Config{Seed: 3, Count: 150})
	c := newClient(t, url, nil)
	ops, _, err := all(t, c, window())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.OperationsByPayment(context.Background(), ops[0].ProjectID, ops[0].PaymentID); err != nil {
		t.Fatal(err)
	}
	if len(rec.bodies) < 3 {
		t.Fatalf("%d requests", len(rec.bodies))
	}
	for _, body := range rec.bodies {
		var req struct {
			Fields []string `json:"fields"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(req.Fields, dataapi.DefaultFields()) {
			t.Errorf("request asks for %v, want every stored parameter %v", req.Fields, dataapi.DefaultFields())
		}
	}
	// And what came back is whole: the amounts are those of the fake.
	want := fake.Operations(now)
	for i := range ops {
		if ops[i].SumInitial != want[i].SumInitial || ops[i].OperationType != want[i].OperationType ||
			ops[i].PaymentStatus != want[i].PaymentStatus || ops[i].PaymentMethod != want[i].PaymentMethod {
			t.Fatalf("operation %d = %+v, want %+v", ops[i].OperationID, ops[i], want[i])
		}
	}
}

// The fake follows the reference: without "fields", only the required
// parameters; with it, what was asked, in the reference's order.
func TestFakeSendsWhatWasAsked(t *testing.T) {
	_, url := newFake(t, fakeapi.Config{Seed: 3, Count: 5})
	post := func(fields []string) []map[string]any {
		t.Helper()
		req := dataapi.OperationsRequest{Token: token, ProjectID: []int64{580, 579}, TZ: "UTC", Limit: 10, Fields: fields,
			Interval: &dataapi.Interval{From: start.Format(dataapi.TimeLayout), To: now.Format(dataapi.TimeLayout)}}
		body, _ := json.Marshal(req)
		body, err := dataapi.AppendSigned([]byte(secret), body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(url+dataapi.PathOperations, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d: %s", resp.StatusCode, data)
		}
		var out struct {
			Operations []map[string]any `json:"operations"`
		}
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
		return out.Operations
	}
	keys := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	required := []string{"operation_completed_at", "operation_created_at", "operation_id", "payment_id", "project_id"}
	for _, op := range post(nil) {
		if got := keys(op); !slices.Equal(got, required) {
			t.Errorf("without fields: %v, want the required ones %v", got, required)
		}
	}
	for _, op := range post([]string{"sum_initial", "operation_type"}) {
		want := append(slices.Clone(required), "operation_type", "sum_initial")
		slices.Sort(want)
		if got := keys(op); !slices.Equal(got, want) {
			t.Errorf("with two fields: %v, want %v", got, want)
		}
	}
	// An unknown name is refused.
	req := dataapi.OperationsRequest{Token: token, ProjectID: []int64{580}, TZ: "UTC", Limit: 10, Fields: []string{"amount"},
		Interval: &dataapi.Interval{From: start.Format(dataapi.TimeLayout), To: now.Format(dataapi.TimeLayout)}}
	body, _ := json.Marshal(req)
	body, _ = dataapi.AppendSigned([]byte(secret), body)
	resp, err := http.Post(url+dataapi.PathOperations, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown field: HTTP %d, want 400", resp.StatusCode)
	}
}

// A response whose record lacks a needed parameter is refused whole, naming
// the parameter, the operation and the config key: nothing of that page
// reaches the caller, so nothing is stored with an empty type or a zero
// amount.
func TestMissingNeededFieldRefusesThePage(t *testing.T) {
	for _, tt := range []struct {
		omit, path string
	}{
		{"sum_initial", "sum_initial:amount"},
		{"operation_status", "operation_status"},
		{"operation_type", "operation_type"},
		{"payment_status", "payment_status"},
	} {
		t.Run(tt.omit, func(t *testing.T) {
			fake, url := newFake(t, fakeapi.Config{Seed: 4, Count: 300, Faults: fakeapi.Faults{OmitField: tt.omit, OmitEvery: 150}})
			var got []domain.Operation
			err := newClient(t, url, nil).Operations(context.Background(), window(), func(p *dataapi.Page) error {
				got = append(got, p.Operations...)
				return nil
			})
			if !errors.Is(err, dataapi.ErrMissingField) {
				t.Fatalf("err = %v, want ErrMissingField", err)
			}
			bad := fake.Operations(now)[149]
			for _, want := range []string{tt.path, "data_api.fields", "operation " + strconv.FormatUint(bad.OperationID, 10), bad.PaymentID, "nothing of this page is stored"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v; want it to name %q", err, want)
				}
			}
			if len(got) != 100 {
				t.Errorf("%d operations reached the caller, want the first page's 100 only", len(got))
			}
			for _, op := range got {
				if op.SumInitial.Amount == 0 || op.OperationType == "" || op.OperationStatus == "" {
					t.Errorf("operation %d reached the caller without its amount, type or status", op.OperationID)
				}
			}
		})
	}
}

// Asking for less than a needed parameter is refused before any request;
// leaving out an optional one is allowed and stores it empty.
func TestFieldsOption(t *testing.T) {
	_, url := newFake(t, fakeapi.Config{Seed: 5, Count: 50})
	o := dataapi.Options{BaseURL: url, Token: token, Secret: []byte(secret),
		Fields: []string{"project_id", "operation_type", "operation_status", "payment_type", "payment_status", "payment_method"}}
	if _, err := dataapi.New(o); err == nil || !strings.Contains(err.Error(), "sum_initial") {
		t.Errorf("fields without sum_initial: err = %v, want it refused naming sum_initial", err)
	}
	o.Fields = append(o.Fields, "sum_initial", "sum_initial")
	if _, err := dataapi.New(o); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a field twice: err = %v", err)
	}
	o.Fields = append(o.Fields[:len(o.Fields)-1], "rrn")
	if _, err := dataapi.New(o); err == nil || !strings.Contains(err.Error(), `"rrn"`) {
		t.Errorf("an unknown field: err = %v", err)
	}
	c := newClient(t, url, func(o *dataapi.Options) {
		o.Fields = []string{"operation_type", "operation_status", "payment_type", "payment_status", "payment_method", "sum_initial"}
	})
	var missing int
	ops := []domain.Operation{}
	err := c.Operations(context.Background(), window(), func(p *dataapi.Page) error {
		ops = append(ops, p.Operations...)
		missing += len(p.Missing)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if op.AccountNumber != "" || op.CustomerID != "" || op.ProviderPaymentID != "" || op.SumInitial.Amount == 0 {
			t.Fatalf("operation %+v: not asked for fields came, or the amount did not", op)
		}
	}
	if missing != 0 {
		t.Errorf("fields not asked for were counted as missing")
	}
}

// An optional parameter that was asked for and did not come is stored
// empty and counted, so that the sync can say so.
func TestMissingOptionalFieldIsCounted(t *testing.T) {
	_, url := newFake(t, fakeapi.Config{Seed: 6, Count: 90, Faults: fakeapi.Faults{OmitField: "customer_id", OmitEvery: 3}})
	var missing int
	err := newClient(t, url, nil).Operations(context.Background(), window(), func(p *dataapi.Page) error {
		missing += p.Missing["customer_id"]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if missing != 30 {
		t.Errorf("missing customer_id counted %d times, want 30", missing)
	}
}

// A server that checks the signature of a request with a long array
// ("fields" has 18 items) in index order refuses the first request; the
// client signs it again that way and keeps doing so.
func TestRequestSignedInTheServersArrayOrder(t *testing.T) {
	fake, url := newFake(t, fakeapi.Config{Seed: 7, Count: 350, RequestArraysInOrder: true})
	ops, pages, err := all(t, newClient(t, url, nil), window())
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 350 || pages != 4 {
		t.Fatalf("%d operations in %d pages", len(ops), pages)
	}
	// Pages are requested one ahead; the first page took two requests, the
	// rest one each (plus at most one cancelled look-ahead).
	if n := fake.Requests(); n < pages+1 || n > pages+2 {
		t.Errorf("%d requests for %d pages: the order learnt from the first refusal was not kept", n, pages)
	}
}

// An amount sent as an empty string is refused, not read as zero.
func TestEmptyAmountIsAnError(t *testing.T) {
	op := domain.Operation{ProjectID: 580, OperationID: 12345678901234567, PaymentID: "p-1", OperationType: "sale",
		OperationStatus: "success", PaymentType: "purchase", PaymentStatus: "success", PaymentMethod: "card",
		CreatedAt: start, CompletedAt: start, SumInitial: domain.Money{Amount: 100, Currency: "EUR"}}
	body := dataapi.AppendOperationsResponse(nil, []domain.Operation{op}, func(int) dataapi.EncodeOptions {
		return dataapi.EncodeOptions{AmountAsString: true}
	})
	body = bytes.Replace(body, []byte(`"amount":"100"`), []byte(`"amount":""`), 1)
	body, err := dataapi.AppendSigned([]byte(secret), body)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	_, err = newClient(t, srv.URL, nil).OperationsByPayment(context.Background(), 580, "p-1")
	if err == nil || !strings.Contains(err.Error(), "sum_initial:amount") || !strings.Contains(err.Error(), "empty") {
		t.Errorf("err = %v, want the empty amount refused", err)
	}
}
