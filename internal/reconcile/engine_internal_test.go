package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// fingerprintFmt is fingerprint as it was first written, with fmt: stored
// resolutions hold its results, so the fast one must agree byte for byte.
func fingerprintFmt(it *domain.Item, ops []*domain.Operation, recs []*domain.Record) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%d|%s\n", it.Code, it.Type, it.ProjectID, it.PaymentID)
	for _, op := range ops {
		fmt.Fprintf(h, "op|%d|%s|%s|%s|%d|%s\n", op.OperationID, op.OperationType, op.OperationStatus, op.PaymentStatus, op.SumInitial.Amount, op.SumInitial.Currency)
	}
	for _, r := range recs {
		fmt.Fprintf(h, "rec|%s|%s|%d|%s|%s\n", r.Source, r.ID(), r.Amount.Amount, r.Amount.Currency, r.Status)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func TestFingerprintUnchanged(t *testing.T) {
	ops := []*domain.Operation{
		{OperationID: 18446744073709551615, OperationType: "sale", OperationStatus: "success", PaymentStatus: "success",
			SumInitial: domain.Money{Amount: -150, Currency: "UZS"}, CreatedAt: time.Now()},
		{OperationID: 1, OperationType: "refund", OperationStatus: "awaiting 3ds result", SumInitial: domain.Money{Amount: 0, Currency: ""}},
	}
	recs := []*domain.Record{
		{Source: "books", PaymentID: "ord-1|x", Amount: domain.Money{Amount: 123456789012, Currency: "USD"}, Status: "paid"},
		{Source: "", ProviderPaymentID: "pp-7", Amount: domain.Money{Amount: -1, Currency: "EUR"}, Status: "пending"},
		{Source: "b", OperationID: 42, Status: "failed"},
	}
	for _, c := range []struct {
		it   domain.Item
		ops  []*domain.Operation
		recs []*domain.Record
	}{
		{domain.Item{Code: "amount_mismatch", Type: "purchase", ProjectID: 580, PaymentID: "ord-1"}, ops, recs},
		{domain.Item{Code: "duplicate", Type: "payout", ProjectID: -3, PaymentID: ""}, ops[:1], nil},
		{domain.Item{Code: "missing_at_provider"}, nil, recs[1:]},
		{domain.Item{Code: "x", PaymentID: string(make([]byte, 600))}, ops, recs}, // past the stack buffer
	} {
		if got, want := fingerprint(&c.it, c.ops, c.recs), fingerprintFmt(&c.it, c.ops, c.recs); got != want {
			t.Errorf("%s: fingerprint %s, with fmt %s", c.it.Code, got, want)
		}
	}
}
