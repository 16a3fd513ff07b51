package dataapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"reconciled/internal/doccheck"
	"reconciled/internal/domain"
)

// docs/data-api.md is the contract as this package implements it. These
// tests hold it to the code: the endpoints, every request member, every
// parameter of an operation record with its class and members, the error
// body, the retry defaults, a signature test vector, and a signed response
// that the client must read as the operation the page says it holds.

// jsonMembers lists the JSON members of a request struct, nested ones as
// "parent.member".
func jsonMembers(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		ft := t.Field(i).Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, jsonMembers(ft, prefix+name+".")...)
			continue
		}
		out = append(out, prefix+name)
	}
	return out
}

func TestReferenceRequestsAndEndpoints(t *testing.T) {
	doc := doccheck.Read(t, "data-api.md")
	if got, want := doccheck.Column(doccheck.Table(t, doc, "endpoints"), 0), []string{PathOperations, PathOperationsByPayment, PathFinancialOperations, PathChargebacks, PathBalance}; !slices.Equal(got, want) {
		t.Errorf("docs/data-api.md: endpoints %v, the client calls %v", got, want)
	}
	cb := doccheck.Table(t, doc, "chargeback record")
	if got := doccheck.Column(cb, 0); !slices.Equal(got, chargebackMembers) {
		t.Errorf("docs/data-api.md: chargeback members %v, wire.go reads %v", got, chargebackMembers)
	}
	for _, r := range cb {
		if req := slices.Contains(cbRequired, strings.Trim(r[0], "`")); req != (r[1] == "required") {
			t.Errorf("docs/data-api.md: chargeback member %s is %q, wire.go requires it: %v", r[0], r[1], req)
		}
	}
	for _, tt := range []struct {
		marker string
		typ    reflect.Type
	}{
		{"request: " + PathOperations, reflect.TypeOf(OperationsRequest{})},
		{"request: " + PathOperationsByPayment, reflect.TypeOf(PaymentRequest{})},
		{"request: " + PathBalance, reflect.TypeOf(BalanceRequest{})},
		{"error body", reflect.TypeOf(ErrorBody{})},
	} {
		got := doccheck.Column(doccheck.Table(t, doc, tt.marker), 0)
		if want := jsonMembers(tt.typ, ""); !slices.Equal(got, want) {
			t.Errorf("docs/data-api.md: %s has the members\n%v\nthe code sends or reads\n%v", tt.marker, got, want)
		}
	}
}

func TestReferenceListsEveryParameter(t *testing.T) {
	rows := doccheck.Table(t, doccheck.Read(t, "data-api.md"), "parameters")
	var names []string
	for _, p := range Parameters {
		names = append(names, p.Name)
	}
	if got := doccheck.Column(rows, 0); !slices.Equal(got, names) {
		t.Fatalf("docs/data-api.md: the record's parameters\n%v\nwire.go's, in order\n%v", got, names)
	}
	for i, p := range Parameters {
		class := "optional"
		switch {
		case p.Required:
			class = "required"
		case p.Needed:
			class = "needed"
		}
		if got := rows[i][1]; got != class {
			t.Errorf("docs/data-api.md: %s is %s, the doc says %q", p.Name, class, got)
		}
		var members []string
		for _, f := range recordFields {
			if parent, member, ok := strings.Cut(f.path, ":"); ok && parent == p.Name {
				members = append(members, member)
			}
		}
		if got := doccheck.Codes(rows[i][2]); !slices.Equal(got, members) {
			t.Errorf("docs/data-api.md: %s has the members %v, the decoder reads %v", p.Name, got, members)
		}
	}
}

func TestReferenceSignatureVector(t *testing.T) {
	doc := doccheck.Read(t, "data-api.md")
	for _, name := range doccheck.Markers(doc, "signature vector") {
		t.Run(name, func(t *testing.T) {
			marker := "signature vector: " + name
			blocks := doccheck.Blocks(t, doc, marker)
			if len(blocks) != 4 {
				t.Fatalf("docs/data-api.md: %s: want 4 code blocks (key, input, string, signature), have %d", marker, len(blocks))
			}
			key, input, str, sig := blocks[0], blocks[1], blocks[2], blocks[3]
			got, err := SignatureString([]byte(input))
			if err != nil {
				t.Fatal(err)
			}
			if got != str {
				t.Errorf("string\n got %s\n doc %s", got, str)
			}
			if got, err := Sign([]byte(key), []byte(input)); err != nil || got != sig {
				t.Errorf("signature\n got %s (%v)\n doc %s", got, err, sig)
			}
		})
	}
	if len(doccheck.Markers(doc, "signature vector")) == 0 {
		t.Error("docs/data-api.md has no signature vector")
	}
}

// The example response of the reference, served as it is written, is read
// by the client as the one operation the page describes.
func TestReferenceResponseExample(t *testing.T) {
	doc := doccheck.Read(t, "data-api.md")
	blocks := doccheck.Blocks(t, doc, "response example")
	if len(blocks) != 2 {
		t.Fatalf("docs/data-api.md: response example: want 2 code blocks (key, response), have %d", len(blocks))
	}
	key, body := blocks[0], blocks[1]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, Token: strings.Repeat("t", 30), Secret: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	var got []domain.Operation
	err = c.Operations(context.Background(), Query{Projects: []int64{580}, From: time.Unix(0, 0), To: time.Now()}, func(p *Page) error {
		got = append(got, p.Operations...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { t, _ := time.Parse(time.DateTime, s); return t }
	want := domain.Operation{
		ProjectID: 580, OperationID: 12345678901234567, PaymentID: "order-1042",
		OperationType: "sale", OperationStatus: "success", PaymentType: "purchase", PaymentStatus: "success",
		PaymentMethod: "card", AccountNumber: "411111******1111", CustomerID: "c-77",
		CreatedAt: at("2026-11-20 10:00:00"), CompletedAt: at("2026-11-20 10:00:05"),
		SumInitial: domain.Money{Amount: 100050, Currency: "UAH"}, SumConverted: domain.Money{Amount: 2450, Currency: "USD"},
		ProviderID: 1455, ProviderPaymentID: "pp-9c3e", Code: "0", Message: "Success",
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("the example reads as\n%+v\nwant\n%+v", got, want)
	}
}

// The retry and timeout defaults the reference gives are New's.
func TestReferenceRetryDefaults(t *testing.T) {
	c, err := New(Options{BaseURL: "http://127.0.0.1:9", Token: strings.Repeat("t", 30), Secret: []byte("s")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"attempts":            strconv.Itoa(c.retry.MaxAttempts),
		"first wait":          c.retry.BaseDelay.String(),
		"longest wait":        c.retry.MaxDelay.String(),
		"longest Retry-After": c.retry.MaxRetryAfter.String(),
		"timeout":             c.timeout.String(),
		"page size":           strconv.Itoa(c.pageSize),
		"projects a request":  strconv.Itoa(MaxSignedArray),
	}
	rows := doccheck.Table(t, doccheck.Read(t, "data-api.md"), "defaults")
	seen := map[string]bool{}
	for _, r := range rows {
		name, value := r[0], doccheck.Column([][]string{r}, 1)[0]
		w, ok := want[name]
		if !ok {
			t.Errorf("docs/data-api.md: default %q is none the test knows", name)
			continue
		}
		seen[name] = true
		if d, err := time.ParseDuration(value); err == nil {
			value = d.String()
		}
		if value != w {
			t.Errorf("docs/data-api.md: %s is %s, the client has %s", name, r[1], w)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("docs/data-api.md: the defaults table lacks %q", name)
		}
	}
}
