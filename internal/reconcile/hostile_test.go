package reconcile

import (
	"errors"
	"math"
	"slices"
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

// The engine takes any int64 amount (the ledger refuses those past
// domain.MaxAmount, for its sums): 2^63-1 against -(2^63-1) is a mismatch
// whose distance an int64 does not hold, -2^63 against itself a match,
// and the tables give what the slices give.
func TestHostileAmountsAtTheEdgesOfAnInt64(t *testing.T) {
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	ops := []domain.Operation{
		op(1, "top", "sale", "success", math.MaxInt64, "EUR", at),
		op(2, "far", "sale", "success", -math.MaxInt64, "EUR", at),
		op(3, "bottom", "sale", "success", math.MinInt64, "EUR", at),
		op(4, "one", "sale", "success", math.MinInt64, "EUR", at),
	}
	recs := []domain.Record{
		rec("top", domain.RecordPurchase, domain.RecordPaid, math.MaxInt64-1, "EUR", at),
		rec("far", domain.RecordPurchase, domain.RecordPaid, math.MaxInt64, "EUR", at),
		rec("bottom", domain.RecordPurchase, domain.RecordPaid, math.MinInt64, "EUR", at),
		rec("one", domain.RecordPurchase, domain.RecordPaid, math.MinInt64+1, "EUR", at),
	}
	cfg := Config{Now: at.Add(time.Hour), AmountTolerance: math.MaxInt64}
	for _, tol := range []int64{0, 1, math.MaxInt64} {
		cfg.AmountTolerance = tol
		want := map[string]string{"top": domain.ResultAmountMismatch, "far": domain.ResultAmountMismatch,
			"bottom": domain.ResultMatched, "one": domain.ResultAmountMismatch}
		if tol >= 1 {
			want["top"], want["one"] = domain.ResultMatched, domain.ResultMatched
		}
		if tol == math.MaxInt64 {
			want["far"] = domain.ResultAmountMismatch // 2^64-2 apart: past any tolerance
		}
		out := Run(Input{Operations: ops, Records: recs}, cfg)
		for _, it := range out.Items {
			if it.Result != want[it.PaymentID] {
				t.Errorf("tolerance %d: %s is %s, want %s (%s)", tol, it.PaymentID, it.Result, want[it.PaymentID], it.Reason)
			}
		}
		ot, rt := tablesOf(ops, recs)
		if a, b := streamText(t, Input{OpTable: ot, RecordTable: rt}, cfg), streamText(t, Input{Operations: ops, Records: recs}, cfg); !slices.Equal(a, b) {
			t.Errorf("tolerance %d: the tables give\n%s\nthe slices\n%s", tol, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	}
}
