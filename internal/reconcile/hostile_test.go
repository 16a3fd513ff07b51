package reconcile

import (
	"testing"
	"time"

	"reconciled/internal/domain"
)

// Upstream data may give one payment more items of one type than a 16-bit
// item number counts (a refund is an item, and ECommPay may send any
// number of refunds of a payment): every item keeps a place of its own,
// in the engine's order, so that none is stored over another.
func TestHostilePlacesStayDistinctPastA16BitNumber(t *testing.T) {
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	const refunds = 1<<16 + 3
	ops := []domain.Operation{op(1, "p", "sale", "success", 1_000_000, "EUR", at)}
	for i := range refunds {
		r := op(uint64(2+i), "p", "refund", "success", 1, "EUR", at.Add(time.Duration(i)*time.Second))
		ops = append(ops, r)
	}
	out := Run(Input{Operations: ops}, Config{Now: at.Add(90 * 24 * time.Hour)})
	if len(out.Items) != 1+refunds {
		t.Fatalf("%d items, want %d", len(out.Items), 1+refunds)
	}
	for i := 1; i < len(out.Places); i++ {
		if out.Places[i].Key <= out.Places[i-1].Key {
			t.Fatalf("place %d (%x) is not after place %d (%x): two items in one place, or out of the engine's order",
				i, out.Places[i].Key, i-1, out.Places[i-1].Key)
		}
	}
}
