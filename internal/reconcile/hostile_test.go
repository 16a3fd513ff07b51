package reconcile

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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

// BenchmarkRefundsOfOnePayment is one payment with n refunds and a record
// for each (paired by amount: refund i is i+1 minor units, its record
// too), and with n refund records of a payment ECommPay never saw: the
// pairing of a payment's refunds compares every record with every
// refund, so the time grows as n² (DEVELOPERS.md, "Noticed and left
// alone"). go test ./internal/reconcile -run - -bench RefundsOfOnePayment -benchtime 1x
func BenchmarkRefundsOfOnePayment(b *testing.B) {
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	for _, n := range []int{2000, 4000, 8000, 16000} {
		ops := []domain.Operation{op(1, "p", "sale", "success", 1<<40, "EUR", at)}
		var paired, orphans []domain.Record
		for i := range n {
			ops = append(ops, op(uint64(2+i), "p", "refund", "success", int64(1+i), "EUR", at.Add(time.Duration(i)*time.Second)))
			paired = append(paired, rec("p", domain.RecordRefund, domain.RecordRefunded, int64(1+i), "EUR", at))
			orphans = append(orphans, rec("gone", domain.RecordRefund, domain.RecordRefunded, int64(1+i), "EUR", at))
		}
		for _, c := range []struct {
			name string
			in   Input
		}{{"paired", Input{Operations: ops, Records: paired}}, {"orphans", Input{Records: orphans}}} {
			b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
				for b.Loop() {
					Run(c.in, Config{Now: at.Add(90 * 24 * time.Hour)})
				}
			})
		}
	}
}

// The maps that find a payment's refunds and twins past manyParts give
// what the loops give: the same items, places and reasons on payments of
// many refunds (some sharing provider ids, reversed, declined) and
// records (by operation id, provider id, amount; twins; lines of no
// refund), with every lookup through the maps and with none.
func TestHostileManyRefundsByMapsAsByLoops(t *testing.T) {
	defer func(n int) { manyParts = n }(manyParts)
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	for seed := uint64(1); seed <= 30; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		var ops []domain.Operation
		var recs []domain.Record
		for p := range 3 {
			pay := fmt.Sprintf("p%d", p)
			ops = append(ops, op(uint64(100*p+1), pay, "sale", "success", 100_000, "EUR", at))
			for i := range 2 + rng.IntN(40) {
				typ := []string{"refund", "refund", "refund", "reversal", "refund reverse"}[rng.IntN(5)]
				st := []string{"success", "success", "decline", "processing"}[rng.IntN(4)]
				r := op(uint64(100*p+2+i), pay, typ, st, int64(1+rng.IntN(5))*100, []string{"EUR", "EUR", "USD"}[rng.IntN(3)],
					at.Add(time.Duration(rng.IntN(50))*time.Minute))
				r.ProviderPaymentID = []string{"", "", "v1", "v2", fmt.Sprintf("v-%d-%d", p, i)}[rng.IntN(5)]
				ops = append(ops, r)
			}
			for range rng.IntN(50) {
				r := rec(pay, domain.RecordRefund, []string{domain.RecordRefunded, domain.RecordFailed, domain.RecordPending}[rng.IntN(3)],
					int64(1+rng.IntN(5))*100, []string{"EUR", "EUR", "USD"}[rng.IntN(3)], at.Add(time.Duration(rng.IntN(3))*time.Minute))
				switch rng.IntN(4) {
				case 0:
					r.OperationID = uint64(100*p + 2 + rng.IntN(45))
				case 1:
					r.ProviderPaymentID = []string{"v1", "v2", "v9"}[rng.IntN(3)]
				}
				recs = append(recs, r)
				if rng.IntN(5) == 0 {
					recs = append(recs, r) // the same line twice
				}
			}
		}
		for range rng.IntN(40) { // refund lines of a payment ECommPay never saw
			r := rec("gone", domain.RecordRefund, domain.RecordRefunded, int64(1+rng.IntN(4))*100, "EUR", at)
			recs = append(recs, r)
		}
		cfg := Config{Now: at.Add(time.Duration(rng.IntN(100)) * time.Hour), AmountTolerance: int64(rng.IntN(2)) * 100}
		manyParts = 1 << 62
		loops := streamText(t, Input{Operations: ops, Records: recs}, cfg)
		manyParts = 0
		maps := streamText(t, Input{Operations: ops, Records: recs}, cfg)
		if !slices.Equal(loops, maps) {
			t.Fatalf("seed %d: by the loops\n%s\nby the maps\n%s", seed, strings.Join(loops, "\n"), strings.Join(maps, "\n"))
		}
	}
}
