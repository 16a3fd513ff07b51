package dataapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
)

const (
	token  = "WKiarERJ5pcceNerpM9R5TNnyPTQMl"
	secret = "test-secret"
)

var (
	start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	now   = start.Add(10 * 24 * time.Hour)
)

func newFake(t testing.TB, cfg fakeapi.Config) (*fakeapi.Server, string) {
	t.Helper()
	return newFakeWith(t, cfg, func(h http.Handler) http.Handler { return h })
}

// newFakeWith is newFake with the fake's handler wrapped.
func newFakeWith(t testing.TB, cfg fakeapi.Config, wrap func(http.Handler) http.Handler) (*fakeapi.Server, string) {
	t.Helper()
	cfg.Token, cfg.Secret = token, []byte(secret)
	if cfg.Start.IsZero() {
		cfg.Start = start
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	f, err := fakeapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(wrap(f.Handler()))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func newClient(t testing.TB, url string, mod func(*dataapi.Options)) *dataapi.Client {
	t.Helper()
	o := dataapi.Options{
		BaseURL: url, Token: token, Secret: []byte(secret), PageSize: 100,
		Retry: dataapi.Retry{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond},
	}
	if mod != nil {
		mod(&o)
	}
	c, err := dataapi.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func all(t testing.TB, c *dataapi.Client, q dataapi.Query) ([]domain.Operation, int, error) {
	t.Helper()
	var ops []domain.Operation
	pages := 0
	err := c.Operations(context.Background(), q, func(p *dataapi.Page) error {
		pages++
		ops = append(ops, p.Operations...)
		return nil
	})
	return ops, pages, err
}

func window() dataapi.Query {
	return dataapi.Query{Projects: []int64{580, 579}, From: start, To: now}
}

// masked is what the client must return for an operation the fake sends.
func masked(ops []domain.Operation) []domain.Operation {
	out := make([]domain.Operation, len(ops))
	for i, op := range ops {
		op.AccountNumber = domain.MaskAccount(op.AccountNumber)
		out[i] = op
	}
	return out
}

func TestOperationsPagesThroughEverything(t *testing.T) {
	fake, url := newFake(t, fakeapi.Config{Seed: 1, Count: 1234})
	got, pages, err := all(t, newClient(t, url, nil), window())
	if err != nil {
		t.Fatal(err)
	}
	want := masked(fake.Operations(now))
	if len(got) != len(want) || len(want) != 1234 {
		t.Fatalf("got %d operations, want %d (1234)", len(got), len(want))
	}
	byID := map[uint64]domain.Operation{}
	for _, op := range got {
		byID[op.OperationID] = op
	}
	for _, w := range want {
		if g := byID[w.OperationID]; g != w {
			t.Fatalf("operation %d\n got %+v\nwant %+v", w.OperationID, g, w)
		}
	}
	if pages != 13 { // 12 full pages of 100 and a short one
		t.Errorf("pages = %d, want 13", pages)
	}
	amountAsString, seventeen := false, false
	for _, op := range got {
		amountAsString = amountAsString || op.PaymentMethod == fakeapi.MethodADVCash
		seventeen = seventeen || len(fmt.Sprint(op.OperationID)) == 17
		if strings.Contains(op.AccountNumber, "8600") && !strings.Contains(op.AccountNumber, "*") {
			t.Fatalf("full card number stored: %s", op.AccountNumber)
		}
	}
	if !amountAsString || !seventeen {
		t.Error("the data set should have string amounts and 17-digit ids")
	}
}

func TestOperationsFiltersByProjectAndInterval(t *testing.T) {
	fake, url := newFake(t, fakeapi.Config{Seed: 2, Count: 600})
	from, to := start.Add(100*time.Minute), start.Add(300*time.Minute)
	got, _, err := all(t, newClient(t, url, nil), dataapi.Query{Projects: []int64{579}, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, op := range fake.Operations(now) {
		if op.ProjectID == 579 && !op.CreatedAt.Before(from) && !op.CreatedAt.After(to) {
			want++
		}
	}
	if len(got) != want || want == 0 {
		t.Fatalf("got %d operations, want %d", len(got), want)
	}
	for _, op := range got {
		if op.ProjectID != 579 || op.CreatedAt.Before(from) || op.CreatedAt.After(to) {
			t.Fatalf("operation outside the query: %+v", op)
		}
	}
}

func TestMoreThanTenProjectsAreSplit(t *testing.T) {
	var projects []fakeapi.Project
	var ids []int64
	for i := int64(1); i <= 23; i++ {
		projects = append(projects, fakeapi.Project{ID: 1000 + i, Method: fakeapi.MethodADVCash})
		ids = append(ids, 1000+i)
	}
	fake, url := newFake(t, fakeapi.Config{Seed: 3, Count: 500, Projects: projects})
	// The fake refuses more than ten ids in one request.
	got, _, err := all(t, newClient(t, url, nil), dataapi.Query{Projects: ids, From: start, To: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 500 {
		t.Fatalf("got %d operations, want 500", len(got))
	}
	if fake.Requests() < 3 {
		t.Errorf("%d requests for 23 projects, want at least 3", fake.Requests())
	}
}

func TestRetriesServerErrors(t *testing.T) {
	fake, url := newFake(t, fakeapi.Config{Seed: 4, Count: 450, Faults: fakeapi.Faults{ServerErrorEvery: 2}})
	got, _, err := all(t, newClient(t, url, nil), window())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 450 {
		t.Fatalf("got %d, want 450", len(got))
	}
	// Five pages, requests 2, 4, 6 and 8 fail; one more request may have
	// gone out for a sixth page before the fifth was known to be the last.
	if n := fake.Requests(); n < 9 || n > 11 {
		t.Errorf("requests = %d, want 9 (+ at most one page ahead and its retry)", n)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	// Request 2, for the second page, is told to wait a second.
	_, url := newFake(t, fakeapi.Config{Seed: 4, Count: 450, Faults: fakeapi.Faults{RateLimitEvery: 2, RetryAfter: time.Second}})
	begin := time.Now()
	got, _, err := all(t, newClient(t, url, func(o *dataapi.Options) { o.Retry.MaxAttempts = 10 }), window())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 450 {
		t.Fatalf("got %d, want 450", len(got))
	}
	if elapsed := time.Since(begin); elapsed < time.Second {
		t.Errorf("retried after %v, before the server's Retry-After of 1s", elapsed)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	fake, url := newFake(t, fakeapi.Config{Seed: 5, Count: 10, Faults: fakeapi.Faults{ServerErrorEvery: 1}})
	_, _, err := all(t, newClient(t, url, nil), window())
	var apiErr *dataapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("err = %v, want an HTTP 500 APIError", err)
	}
	if !strings.Contains(err.Error(), "gave up after 4 attempts") {
		t.Errorf("err = %v, want it to say how many attempts", err)
	}
	if fake.Requests() != 4 {
		t.Errorf("requests = %d, want 4", fake.Requests())
	}
}

func TestTimeoutsAreRetried(t *testing.T) {
	fake, url := newFake(t, fakeapi.Config{Seed: 6, Count: 10, Faults: fakeapi.Faults{Delay: 2 * time.Second}})
	c := newClient(t, url, func(o *dataapi.Options) {
		o.Timeout = 100 * time.Millisecond
		o.Retry.MaxAttempts = 2
	})
	_, _, err := all(t, c, window())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	if fake.Requests() != 2 {
		t.Errorf("requests = %d, want 2", fake.Requests())
	}
}

func TestCancelStopsRetrying(t *testing.T) {
	_, url := newFake(t, fakeapi.Config{Seed: 7, Count: 10, Faults: fakeapi.Faults{ServerErrorEvery: 1}})
	c := newClient(t, url, func(o *dataapi.Options) {
		o.Retry = dataapi.Retry{MaxAttempts: 10, BaseDelay: time.Minute, MaxDelay: time.Minute}
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	begin := time.Now()
	err := c.Operations(ctx, window(), func(*dataapi.Page) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("took %v to stop after cancel, while the backoff was a minute", d)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*dataapi.Options)
		status int
		hint   string
	}{
		{"wrong secret", func(o *dataapi.Options) { o.Secret = []byte("other") }, 403, "check data_api.secret"},
		{"wrong token", func(o *dataapi.Options) { o.Token = strings.Repeat("x", 30) }, 401, "check data_api.token"},
		{"unknown project", nil, 403, "check data_api.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, url := newFake(t, fakeapi.Config{Seed: 8, Count: 10})
			q := window()
			if tt.mod == nil {
				q.Projects = []int64{4242}
			}
			_, _, err := all(t, newClient(t, url, tt.mod), q)
			var apiErr *dataapi.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
				t.Fatalf("err = %v, want HTTP %d", err, tt.status)
			}
			if !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("err = %v, want the hint %q", err, tt.hint)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), token) {
				t.Errorf("error shows a credential: %v", err)
			}
			// One request, and the same once more signed with the items of
			// "fields" (18 of them) in index order (order.go): no retry with
			// backoff.
			if fake.Requests() != 2 {
				t.Errorf("requests = %d, want 2 (the request, then the other array order; no retry)", fake.Requests())
			}
			if !strings.Contains(err.Error(), "other order") {
				t.Errorf("err = %v, want it to say the other array order was refused too", err)
			}
		})
	}
}

func TestUntrustedResponsesAreRejected(t *testing.T) {
	for _, f := range []fakeapi.Faults{{BadSignatureEvery: 2}, {Unsigned: true}} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			_, url := newFake(t, fakeapi.Config{Seed: 9, Count: 250, Faults: f})
			var pages int
			err := newClient(t, url, nil).Operations(context.Background(), window(), func(p *dataapi.Page) error {
				pages++
				return nil
			})
			want := dataapi.ErrBadSignature
			if f.Unsigned {
				want = dataapi.ErrUnsigned
			}
			if !errors.Is(err, want) {
				t.Fatalf("err = %v, want %v", err, want)
			}
			if wantPages := map[bool]int{true: 0, false: 1}[f.Unsigned]; pages != wantPages {
				t.Errorf("%d pages reached the caller, want %d (only the ones before the bad one)", pages, wantPages)
			}
		})
	}
}

func TestRepeatedRowIsDelivered(t *testing.T) {
	_, url := newFake(t, fakeapi.Config{Seed: 10, Count: 250, Faults: fakeapi.Faults{RepeatRow: true}})
	got, _, err := all(t, newClient(t, url, nil), window())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]int{}
	for _, op := range got {
		seen[op.OperationID]++
	}
	if len(got) != 251 || len(seen) != 250 {
		t.Fatalf("got %d rows with %d distinct ids, want 251 rows, 250 ids", len(got), len(seen))
	}
}

func TestOperationsByPayment(t *testing.T) {
	fake, url := newFake(t, fakeapi.Config{Seed: 11, Count: 2000})
	var refund domain.Operation
	for _, op := range fake.Operations(now) {
		if op.OperationType == domain.OpRefund && op.OperationStatus == domain.StatusSuccess {
			refund = op
			break
		}
	}
	if refund.OperationID == 0 {
		t.Fatal("no successful refund in the data set")
	}
	ops, err := newClient(t, url, nil).OperationsByPayment(context.Background(), refund.ProjectID, refund.PaymentID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 || ops[0].OperationType != domain.OpSale || ops[1].OperationID != refund.OperationID {
		t.Fatalf("got %+v, want the sale and its refund", ops)
	}
	for _, op := range ops {
		if op.PaymentID != refund.PaymentID || !strings.Contains(op.PaymentStatus, "refunded") {
			t.Errorf("operation %+v", op)
		}
	}
	none, err := newClient(t, url, nil).OperationsByPayment(context.Background(), 580, "no-such-payment")
	if err != nil || len(none) != 0 {
		t.Fatalf("unknown payment: %v, %v", none, err)
	}
}

// Requests go out in UTC whatever zone the caller thinks in: a window
// across the autumn DST change in Europe/Berlin must not be sent with from
// after to, and answers must not be ambiguous.
func TestRequestsAreInUTC(t *testing.T) {
	fake, url := newFake(t, fakeapi.Config{Seed: 12, Count: 50})
	var seen []dataapi.OperationsRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req dataapi.OperationsRequest
		json.Unmarshal(body, &req)
		seen = append(seen, req)
		r.Body = io.NopCloser(bytes.NewReader(body))
		fake.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	_ = url
	berlin, _ := time.LoadLocation("Europe/Berlin")
	from := time.Date(2026, 10, 25, 0, 50, 0, 0, time.UTC).In(berlin) // 02:50 CEST, before the clocks go back
	to := from.Add(20 * time.Minute)                                  // 02:10 CET: the second 02:10 in Berlin
	if _, _, err := all(t, newClient(t, srv.URL, nil), dataapi.Query{Projects: []int64{580}, From: from, To: to}); err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[0].TZ != "UTC" || seen[0].Interval.From != "2026-10-25 00:50:00" || seen[0].Interval.To != "2026-10-25 01:10:00" {
		t.Fatalf("request tz %q interval %+v", seen[0].TZ, *seen[0].Interval)
	}
	got, _, err := all(t, newClient(t, srv.URL, nil), window())
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range fake.Operations(now) {
		if !got[i].CreatedAt.Equal(op.CreatedAt) || got[i].CreatedAt.Location() != time.UTC {
			t.Fatalf("created %v, want %v", got[i].CreatedAt, op.CreatedAt)
		}
	}
}

func TestRetryAfterIsBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "9999999999")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	begin := time.Now()
	_, _, err := all(t, newClient(t, srv.URL, nil), window())
	if err == nil || !strings.Contains(err.Error(), "giving up") || time.Since(begin) > 5*time.Second {
		t.Fatalf("err = %v after %v, want an immediate give-up", err, time.Since(begin))
	}
}

// A server that sends more rows than the limit, or rows of projects not
// asked for, is refused rather than paged through wrongly.
func TestMisbehavingServerIsRefused(t *testing.T) {
	fake, _ := newFake(t, fakeapi.Config{Seed: 14, Count: 300})
	ops := fake.Operations(now)
	for _, tt := range []struct {
		name string
		page []domain.Operation
		want string
	}{
		{"more than the limit", ops[:150], "for a limit of 100"},
		{"another project", []domain.Operation{func() domain.Operation { o := ops[0]; o.ProjectID = 999; return o }()}, "not asked for"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write(dataapi.AppendSignedOperationsResponse(nil, []byte(secret), tt.page, func(int) dataapi.EncodeOptions { return dataapi.EncodeOptions{} }))
		}))
		_, _, err := all(t, newClient(t, srv.URL, nil), window())
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}

// The fake signs pages with AppendSignedOperationsResponse, which builds
// the signed string directly; Verify, the generic algorithm, must agree
// for pages of every size and for awkward values.
func TestSignedResponseVerifies(t *testing.T) {
	fake, _ := newFake(t, fakeapi.Config{Seed: 13, Count: 1200})
	all := fake.Operations(now)
	odd := all[0]
	odd.PaymentID, odd.Message, odd.CustomerID = "a\"b\\c;d:e\u2028", "Ошибка: \"нет\"", ""
	odd.SumInitial.Amount, odd.CompletedAt = -5, time.Time{}
	tash, _ := time.LoadLocation("Asia/Tashkent")
	for _, n := range []int{0, 1, 2, 10, 11, 101, 1000, 1200} {
		ops := append([]domain.Operation{odd}, all[:n]...)
		body := dataapi.AppendSignedOperationsResponse(nil, []byte(secret), ops, func(i int) dataapi.EncodeOptions {
			return dataapi.EncodeOptions{Location: tash, AmountAsString: i%3 == 0}
		})
		if err := dataapi.Verify([]byte(secret), body); err != nil {
			t.Fatalf("%d operations: %v", len(ops), err)
		}
	}
}

func TestClientAndOptionsDoNotPrintCredentials(t *testing.T) {
	o := dataapi.Options{BaseURL: "http://127.0.0.1:1", Token: token, Secret: []byte(secret)}
	c, err := dataapi.New(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{o, &o, c, struct{ C *dataapi.Client }{c}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, token) || strings.Contains(out, secret) || strings.Contains(out, fmt.Sprint([]byte(secret))) {
				t.Errorf("%s of %T shows a credential: %s", verb, v, out)
			}
		}
	}
}
