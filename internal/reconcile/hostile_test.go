package reconcile

import (
	"errors"
	"strings"
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

// More rows than the engine's int32 lists index are refused with an error
// that says so, before any grouping (a wrapped index would end a list and
// drop what follows it silently): the limit, lowered here, is 2^31-1.
func TestHostileMoreRowsThanTheListsIndexAreRefused(t *testing.T) {
	defer func(n int) { maxRows = n }(maxRows)
	maxRows = 3
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	var ops []domain.Operation
	for i := range 4 {
		ops = append(ops, op(uint64(1+i), "p", "sale", "success", 1, "EUR", at))
	}
	recs := []domain.Record{rec("p", domain.RecordPurchase, domain.RecordPaid, 1, "EUR", at)}
	ot, rt := tablesOf(ops, recs)
	for _, in := range []Input{{Operations: ops, Records: recs}, {OpTable: ot, RecordTable: rt}, {Records: append(recs, recs[0], recs[0], recs[0])}} {
		calls := 0
		_, err := Stream(in, Config{Now: at}, func(domain.Unit, []domain.Item, []Place, []uint64) error { calls++; return nil })
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "at most 3") || calls != 0 {
			t.Fatalf("Stream: %v after %d units, want ErrTooLarge before any", err, calls)
		}
		func() {
			defer func() {
				if r, _ := recover().(error); !errors.Is(r, ErrTooLarge) {
					t.Fatalf("Run: recovered %v, want ErrTooLarge", r)
				}
			}()
			out := Run(in, Config{Now: at})
			t.Fatalf("Run gave %d items", len(out.Items))
		}()
	}
	maxRows = 4 // at the limit: taken
	if out := Run(Input{Operations: ops, Records: recs}, Config{Now: at}); len(out.Items) != 1 {
		t.Fatalf("%d items at the limit, want 1", len(out.Items))
	}
}
