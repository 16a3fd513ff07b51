package dataapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
)

// feeRecord is one record of /financial-reporting/operations asked for
// its fee alone: the required ids and the fee; a test replaces the fee.
const feeRecord = `{"project_id":580,"operation_id":12345678901234567,"payment_id":"p-1",` +
	`"operation_created_at":"2026-11-01 00:00:00","operation_completed_at":"2026-11-01 00:01:00",` +
	`"fee":{"amount":30,"currency":"EUR"}}`

// serveFees answers every request with one signed page holding record
// and returns what the fee sync's client reads from it.
func serveFees(t *testing.T, record string) ([]domain.Operation, error) {
	t.Helper()
	body, err := dataapi.AppendSigned([]byte(secret), []byte(`{"operations":[`+record+`]}`))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	t.Cleanup(srv.Close)
	var got []domain.Operation
	err = newClient(t, srv.URL, nil).FinancialOperations(context.Background(), window(), func(p *dataapi.Page) error {
		got = append(got, p.Operations...)
		return nil
	})
	return got, err
}

// A fee is stored as its two members say: one without its amount is not a
// fee of 0 (the settlement would count nothing charged, fee_mismatch
// would flag 0 as charged), and one without its currency is not "no fee"
// either (the amount would be dropped unsaid): both are refused, naming
// the operation, like a sum without its amount.
func TestAHalfFeeIsRefused(t *testing.T) {
	ops, err := serveFees(t, feeRecord)
	if err != nil || len(ops) != 1 || ops[0].Fee != (domain.Money{Amount: 30, Currency: "EUR"}) || ops[0].OperationID != 12345678901234567 {
		t.Fatalf("baseline: %+v, %v", ops, err)
	}
	for _, tt := range []struct{ name, to string }{
		{"no amount", `"fee":{"currency":"EUR"}`},
		{"no currency", `"fee":{"amount":30}`},
		{"currency null", `"fee":{"amount":30,"currency":null}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := serveFees(t, strings.Replace(feeRecord, `"fee":{"amount":30,"currency":"EUR"}`, tt.to, 1))
			if err == nil {
				t.Fatalf("accepted: %s read as %+v", tt.to, ops)
			}
			if !strings.Contains(err.Error(), "12345678901234567") || !strings.Contains(err.Error(), "fee") {
				t.Fatalf("the error names neither the operation nor the fee: %v", err)
			}
		})
	}
	for _, none := range []string{`"fee":null`, `"fee":{}`} {
		rec := strings.Replace(feeRecord, `,"fee":{"amount":30,"currency":"EUR"}`, ","+none, 1)
		ops, err := serveFees(t, rec)
		if err != nil || len(ops) != 1 || ops[0].Fee != (domain.Money{}) {
			t.Errorf("%s: %+v, %v; want a record without a fee", none, ops, err)
		}
	}
}
