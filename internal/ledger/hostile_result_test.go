package ledger

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// A time the stored result cannot hold (an item's creation and its
// deadlines are nanoseconds since 1970 in an int64: 1677 to 2262) is
// refused where it arrives, naming what carried it, and nothing of the
// batch is stored; one at the edge of what is taken is stored as it was.
func TestHostileTimesTheResultCannotHoldAreRefused(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	far := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	eur := domain.Money{Amount: 100, Currency: "EUR"}
	op := domain.Operation{ProjectID: 1, OperationID: 5, PaymentID: "p", PaymentType: "purchase", OperationType: "sale",
		OperationStatus: "success", CreatedAt: t0, SumInitial: eur, SumConverted: eur}
	late := op
	late.OperationID, late.CreatedAt = 6, far
	done := op
	done.OperationID, done.CompletedAt = 7, time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		ops  []domain.Operation
		want string
	}{
		{[]domain.Operation{op, late}, "operation 6: operation_created_at 9999-12-31T23:59:59Z is not between 1700 and 2199"},
		{[]domain.Operation{done, op}, "operation 7: operation_completed_at 2262-04-12T00:00:00Z is not between 1700 and 2199"},
	} {
		if _, err := l.UpsertPage(c.ops, t0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("UpsertPage: %v, want %q", err, c.want)
		}
	}
	cb := domain.Chargeback{ID: 9, ProjectID: 1, PaymentID: "p", Amount: eur, Status: "open", CreatedAt: t0, Deadline: far}
	if _, err := l.UpsertChargebacks([]domain.Chargeback{cb}, t0); err == nil ||
		!strings.Contains(err.Error(), "chargeback 9: deadline 9999-12-31T23:59:59Z is not between 1700 and 2199") {
		t.Errorf("UpsertChargebacks: %v", err)
	}
	rec := domain.Record{Source: "books", PaymentID: "p", Type: domain.RecordPurchase, Status: domain.RecordPaid, Amount: eur,
		CreatedAt: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), Origin: "books.csv:2"}
	if _, err := l.ImportRecords([]domain.Record{rec}, Import{At: t0, File: "books.csv"}, t0); err == nil ||
		!strings.Contains(err.Error(), "record books.csv:2: created_at 1500-01-01T00:00:00Z is not between 1700 and 2199") {
		t.Errorf("ImportRecords: %v", err)
	}
	if n, err := l.Counts(); err != nil || len(n) != 0 {
		t.Fatalf("stored %+v (%v), want nothing", n, err)
	}
	// The edges that are taken come back as they went in.
	edge := op
	edge.CreatedAt = time.Date(2199, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	rec.CreatedAt = time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := l.UpsertPage([]domain.Operation{edge}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ImportRecords([]domain.Record{rec}, Import{At: t0, File: "books.csv"}, t0); err != nil {
		t.Fatal(err)
	}
}

// An amount past domain.MaxAmount (an operation's sums, a fee, a record's
// amount) is refused, naming what carried it: the stored result sums its
// items' amounts per result and currency, and two of 2^62 wrapped.
func TestHostileAmountsPastTheBoundAreRefused(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	eur := domain.Money{Amount: domain.MaxAmount, Currency: "EUR"}
	op := domain.Operation{ProjectID: 1, OperationID: 5, PaymentID: "p", PaymentType: "purchase", OperationType: "sale",
		OperationStatus: "success", CreatedAt: t0, SumInitial: eur, SumConverted: eur}
	if _, err := l.UpsertPage([]domain.Operation{op}, t0); err != nil {
		t.Fatalf("at the bound: %v", err)
	}
	conv := op
	conv.OperationID, conv.SumConverted.Amount = 6, -domain.MaxAmount-1
	if _, err := l.UpsertPage([]domain.Operation{conv}, t0); err == nil ||
		!strings.Contains(err.Error(), "operation 6: sum_converted: amount -1000000000000001 is not within ±1000000000000000 minor units") {
		t.Errorf("UpsertPage: %v", err)
	}
	fee := op
	fee.Fee = domain.Money{Amount: 1 << 62, Currency: "EUR"}
	if _, err := l.UpsertFees([]domain.Operation{fee}, t0); err == nil || !strings.Contains(err.Error(), "operation 5: fee: amount") {
		t.Errorf("UpsertFees: %v", err)
	}
	rec := domain.Record{Source: "books", PaymentID: "p", Type: domain.RecordRefund, Status: domain.RecordRefunded,
		Amount: domain.Money{Amount: domain.MaxAmount + 1, Currency: "EUR"}, CreatedAt: t0, Origin: "books.csv:2"}
	if _, err := l.ImportRecords([]domain.Record{rec}, Import{At: t0, File: "books.csv"}, t0); err == nil ||
		!strings.Contains(err.Error(), "record books.csv:2: amount 1000000000000001") {
		t.Errorf("ImportRecords: %v", err)
	}
}
