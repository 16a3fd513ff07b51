package dataapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
)

// wholeRecord is one whole operation record as the Data API sends it when
// every field is asked for; a test replaces one member's text.
const wholeRecord = `{"project_id":580,"operation_id":12345678901234567,"payment_id":"p-1",` +
	`"operation_type":"sale","operation_status":"success","payment_type":"purchase","payment_status":"success",` +
	`"payment_method":"card","account_number":"","customer_id":"c-1",` +
	`"operation_created_at":"2026-11-01 00:00:00","operation_completed_at":"2026-11-01 00:01:00",` +
	`"sum_initial":{"amount":100,"currency":"EUR"},"sum_converted":{"amount":100,"currency":"EUR"},` +
	`"provider_id":1,"provider_payment_id":"pp-1","code":"0","message":"Success"}`

// serveRecord answers every request with one signed page holding record.
func serveRecord(t *testing.T, record string) ([]domain.Operation, error) {
	t.Helper()
	body, err := dataapi.AppendSigned([]byte(secret), []byte(`{"operations":[`+record+`]}`))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL, nil).OperationsByPayment(context.Background(), 580, "p-1")
}

// The baseline record decodes: the other cases differ by one member only.
func TestBaselineRecordDecodes(t *testing.T) {
	ops, err := serveRecord(t, wholeRecord)
	if err != nil || len(ops) != 1 || ops[0].SumInitial.Amount != 100 || ops[0].PaymentStatus != "success" {
		t.Fatalf("baseline: %+v, %v", ops, err)
	}
}

// A needed parameter sent as null (or as an empty string) is no value: it
// is refused like a missing one, naming the field, the operation and
// data_api.fields (payment_type and payment_method are not needed: they are
// stored empty).
func TestNullNeededFieldIsRefused(t *testing.T) {
	for _, tt := range []struct{ name, from, to string }{
		{"payment_status null", `"payment_status":"success"`, `"payment_status":null`},
		{"payment_status empty", `"payment_status":"success"`, `"payment_status":""`},
		{"operation_type null", `"operation_type":"sale"`, `"operation_type":null`},
		{"operation_status empty", `"operation_status":"success"`, `"operation_status":""`},
		{"currency null", `"currency":"EUR"}`, `"currency":null}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := strings.Replace(wholeRecord, tt.from, tt.to, 1)
			ops, err := serveRecord(t, rec)
			if err == nil {
				t.Fatalf("accepted: %q stored as %+v", tt.to, ops[0])
			}
			field := strings.Split(strings.Trim(tt.from, `"`), `"`)[0]
			for _, want := range []string{field, "12345678901234567", "data_api.fields"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v; want it to name %q", err, want)
				}
			}
		})
	}
}

// JSON false flattens to "0" and true to "1" (the signature's rule): the
// decoder must not read an amount of false as zero, or true as one minor
// unit.
func TestBooleanAmountIsNotAnAmount(t *testing.T) {
	for _, v := range []string{"false", "true"} {
		t.Run(v, func(t *testing.T) {
			rec := strings.Replace(wholeRecord, `"sum_initial":{"amount":100`, `"sum_initial":{"amount":`+v, 1)
			ops, err := serveRecord(t, rec)
			if err == nil {
				t.Fatalf(`"amount":%s accepted as the amount %d`, v, ops[0].SumInitial.Amount)
			}
		})
	}
}

// Amounts of other shapes: each is refused, nothing reaches the caller.
func TestBadAmountsAreRefused(t *testing.T) {
	for _, tt := range []struct{ name, to string }{
		{"sum_initial null", `"sum_initial":null`},
		{"sum_initial empty object", `"sum_initial":{}`},
		{"amount null", `"sum_initial":{"amount":null,"currency":"EUR"}`},
		{"amount empty", `"sum_initial":{"amount":"","currency":"EUR"}`},
		{"amount with a fraction", `"sum_initial":{"amount":"12.5","currency":"EUR"}`},
		{"amount in exponent form", `"sum_initial":{"amount":1e3,"currency":"EUR"}`},
		{"amount as an array", `"sum_initial":{"amount":[100],"currency":"EUR"}`},
		{"no currency", `"sum_initial":{"amount":100}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := strings.Replace(wholeRecord, `"sum_initial":{"amount":100,"currency":"EUR"}`, tt.to, 1)
			ops, err := serveRecord(t, rec)
			if err == nil {
				t.Fatalf("accepted: %+v", ops)
			}
			if !strings.Contains(err.Error(), "sum_initial") {
				t.Errorf("err = %v; want it to name sum_initial", err)
			}
		})
	}
	// Unknown members are ignored.
	rec := strings.Replace(wholeRecord, `"code":"0"`, `"rrn":"x","fee":{"amount":1},"code":"0"`, 1)
	if _, err := serveRecord(t, rec); err != nil {
		t.Errorf("unknown members: %v", err)
	}
}

// An amount refused for its value (not its absence) names the operation,
// not the record's place in the page: the finance user must find it.
func TestBadAmountErrorNamesTheOperation(t *testing.T) {
	rec := strings.Replace(wholeRecord, `"amount":100,"currency":"EUR"}`, `"amount":"12.5","currency":"EUR"}`, 1)
	_, err := serveRecord(t, rec)
	if err == nil {
		t.Fatal("accepted")
	}
	if !strings.Contains(err.Error(), "12345678901234567") {
		t.Errorf("err = %v; want it to name operation 12345678901234567", err)
	}
}

// Duplicate member names in one record are refused by the tokenizer, as
// malformed, before anything is verified or decoded.
func TestDuplicateMemberIsRefused(t *testing.T) {
	rec := strings.Replace(wholeRecord, `"code":"0"`, `"operation_status":"decline","code":"0"`, 1)
	body := []byte(`{"operations":[` + rec + `],"signature":"AAAA"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	t.Cleanup(srv.Close)
	_, err := newClient(t, srv.URL, nil).OperationsByPayment(context.Background(), 580, "p-1")
	if err == nil || !strings.Contains(err.Error(), "duplicate") || errors.Is(err, dataapi.ErrBadSignature) {
		t.Errorf("err = %v, want the duplicate member refused as malformed", err)
	}
}
