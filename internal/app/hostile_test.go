package app

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
	"reconciled/internal/reconcile"
)

// Hostile or unusual upstream data, on a real ledger and the real engine:
// whatever ECommPay's schema allows (and more) either works — the stored
// result is what a run from scratch gives, over the tables and over the
// slices alike — or is refused with an error that says why.

// storedIsFromScratch reconciles (full; when touch is set, incrementally
// after it, then full again) and compares the export of the stored result
// with a run from scratch over the tables and over the slices.
func storedIsFromScratch(t *testing.T, a *App, touch func()) {
	t.Helper()
	ctx := context.Background()
	for run, full := range []bool{true, false, true} {
		if run == 1 {
			if touch == nil {
				return
			}
			touch()
		}
		res, err := a.RunReconcile(ctx, RunRequest{User: "tester", Full: full})
		if err != nil {
			t.Fatalf("reconcile (full %v): %v", full, err)
		}
		if err := a.Ledger.Check(); err != nil {
			t.Fatalf("full %v: %v", full, err)
		}
		in, err := LoadInput(ctx, a.Ledger)
		if err != nil {
			t.Fatal(err)
		}
		cfg := a.EngineConfig()
		fresh := reconcile.Run(in, cfg)
		slices := reconcile.Run(loadSlices(ctx, t, a.Ledger), cfg)
		var want, got, fromSlices bytes.Buffer
		for _, c := range []struct {
			w     *bytes.Buffer
			items func(func(*domain.Item) error) error
		}{{&want, export.ItemsOf(fresh.Items)}, {&got, a.Ledger.ForEachItem}, {&fromSlices, export.ItemsOf(slices.Items)}} {
			if _, err := export.ReconciliationCSV(c.w, c.items, export.ItemFilter{}, export.CSVOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if got.String() != want.String() {
			t.Fatalf("full %v (%d items stored, %d from scratch): the stored result differs from a run from scratch:\n%s",
				full, res.Summary.Items, len(fresh.Items), clip(lineDiff(got.String(), want.String())))
		}
		if fromSlices.String() != want.String() {
			t.Fatalf("full %v: the engine over its tables differs from the engine over the slices:\n%s",
				full, clip(lineDiff(want.String(), fromSlices.String())))
		}
		if st, _, err := a.Ledger.Result(); err != nil || st.Items != len(fresh.Items) {
			t.Fatalf("full %v: the stored state counts %d items (%v), a run from scratch makes %d", full, st.Items, err, len(fresh.Items))
		}
	}
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:4000] + "…"
	}
	return s
}

func refundOf(id uint64, payment string, at time.Time, amount int64) domain.Operation {
	op := sale(id, payment, at, amount)
	op.OperationType, op.PaymentStatus = "refund", "partially refunded"
	return op
}

// More items for one payment and type than a 16-bit item number holds:
// ECommPay may send any number of refunds of one payment, and each is an
// item of its own. They must all be stored, none in another's place.
func TestHostileMoreItemsOfOnePaymentThanA16BitNumber(t *testing.T) {
	if testing.Short() {
		t.Skip("70,000 operations")
	}
	const refunds = 1<<16 - 10
	at := now.Add(-20 * 24 * time.Hour)
	ops := []domain.Operation{sale(1, "p-many", at, 100_000_000)}
	for i := range refunds {
		ops = append(ops, refundOf(uint64(2+i), "p-many", at.Add(time.Duration(i)*time.Second), 1))
	}
	a := testApp(t, ops, []domain.Record{paid("p-many", at, 100_000_000)})
	storedIsFromScratch(t, a, func() {
		// 20 more refunds: the payment's unit, recomputed alone, passes
		// 65,536 items; then a full recompute of the same
		var more []domain.Operation
		for i := range 20 {
			more = append(more, refundOf(uint64(refunds+2+i), "p-many", at, 1))
		}
		if _, err := a.Ledger.UpsertPage(more, now); err != nil {
			t.Fatal(err)
		}
	})
}

// Values at the edges of what the wire and the records allow: operation
// ids up to 2^64-1, payment ids of one byte and of the longest stored,
// ids with NUL bytes and invalid UTF-8, amounts at ±domain.MaxAmount (the
// engine alone takes ±2^63: reconcile's TestHostileAmountsAtTheEdgesOfAnInt64),
// records with no time, at the epoch, before 1970.
func TestHostileEdgeValuesStoreWhatTheEngineGives(t *testing.T) {
	at := now.Add(-3 * time.Hour)
	long := strings.Repeat("x", domain.MaxUpstreamIDBytes)
	weird := "p\x00\xff\xfe\x00"
	ops := []domain.Operation{
		sale(math.MaxUint64, "a", at, domain.MaxAmount),
		sale(math.MaxUint64-1, long, at, -domain.MaxAmount),
		sale(1, weird, at, -domain.MaxAmount),
		sale(2, "p\x00", at, 0),
		sale(3, "b", at, 7),
	}
	ops[3].ProviderPaymentID = "\x00" // a record below falls back to it
	ops[2].ProviderPaymentID = long
	ops[3].PaymentMethod, ops[3].Code, ops[3].Message = "\xff", "\x00", strings.Repeat("m", 1000)
	recs := []domain.Record{
		paid("a", at, domain.MaxAmount-1),   // amount_mismatch by one, at the top
		paid(long, at, domain.MaxAmount),    // against -MaxAmount
		paid(weird, at, -domain.MaxAmount),  // matched at the bottom
		paid("p\x00", time.Time{}, 0),       // no time: first seen
		paid("b", time.Unix(0, 0).UTC(), 7), // the epoch, to the second
		paid("orphan-1969", time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), 1),
		paid("orphan-epoch", time.Unix(0, 0).UTC(), 1),
		{Source: "records", ProviderPaymentID: "\x00", Type: domain.RecordPurchase, Status: domain.RecordPaid,
			Amount: domain.Money{Amount: 1, Currency: "EUR"}, CreatedAt: at, Origin: "books.csv:9"},
		{Source: "records", OperationID: math.MaxUint64, Type: domain.RecordPurchase, Status: domain.RecordPaid,
			Amount: domain.Money{Amount: 1, Currency: "EUR"}, CreatedAt: at, Origin: "books.csv:10"},
	}
	a := testApp(t, ops, recs)
	storedIsFromScratch(t, a, func() {
		op := ops[0]
		op.SumInitial.Amount, op.SumConverted.Amount = domain.MaxAmount-1, domain.MaxAmount-1
		if _, err := a.Ledger.UpsertPage([]domain.Operation{op}, now); err != nil {
			t.Fatal(err)
		}
	})
	// The amount at the top against the one at the bottom is a mismatch.
	items, _, err := a.Ledger.UnitItems(domain.PaymentUnit(long))
	if err != nil || len(items) != 1 || items[0].Result != domain.ResultAmountMismatch {
		t.Fatalf("the item of MaxAmount against -MaxAmount: %+v (%v), want one amount_mismatch", items, err)
	}
}

// Times the Data API's layout allows (four-digit years) but nanoseconds
// since 1970 in an int64 do not hold (after 2262): an item created then
// must keep its date, or the operation must be refused.
func TestHostileFarFutureTimes(t *testing.T) {
	for _, when := range []time.Time{
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(when.Format("2006"), func(t *testing.T) {
			op := sale(10, "p-far", when, 100)
			a := testApp(t, nil, nil)
			if _, err := a.Ledger.UpsertPage([]domain.Operation{op}, now); err != nil {
				if !strings.Contains(err.Error(), "operation 10") {
					t.Fatalf("refused without naming the operation: %v", err)
				}
				return // refused, clearly: nothing stored
			}
			storedIsFromScratch(t, a, nil)
			items, _, err := a.Ledger.UnitItems(domain.PaymentUnit("p-far"))
			if err != nil || len(items) != 1 || !items[0].CreatedAt.Equal(when) {
				t.Fatalf("stored item %+v (%v): want one created %s", items, err, when)
			}
		})
	}
}

// Records from the books with times nanoseconds since 1970 do not hold
// (before 1678, after 2262): stored and read back as they were, or refused.
func TestHostileRecordTimesOutsideNanoseconds(t *testing.T) {
	for _, when := range []time.Time{
		time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		t.Run(when.Format("2006"), func(t *testing.T) {
			a := testApp(t, nil, nil)
			if _, err := a.Ledger.ImportRecords([]domain.Record{paid("r-far", when, 100)},
				ledger.Import{At: now, User: "tester", File: "books.csv", Format: "csv", Lines: 1}, now); err != nil {
				if !strings.Contains(err.Error(), "r-far") && !strings.Contains(err.Error(), "created") {
					t.Fatalf("refused without saying which: %v", err)
				}
				return
			}
			storedIsFromScratch(t, a, nil)
			items, _, err := a.Ledger.UnitItems(domain.PaymentUnit("r-far"))
			if err != nil || len(items) != 1 || !items[0].CreatedAt.Equal(when) {
				t.Fatalf("stored item %+v (%v): want one created %s", items, err, when)
			}
		})
	}
}

// Many distinct words: statuses, types, methods, codes, messages and
// currencies ECommPay may invent, across many operations. The tables
// number them (uint32) and the stored items keep them inline past the
// one-byte dictionary: each must come back as it went in.
func TestHostileManyDistinctWords(t *testing.T) {
	n := 70_000
	if testing.Short() {
		n = 3_000
	}
	at := now.Add(-40 * 24 * time.Hour)
	currencies := []string{"EUR", "USD", "JPY", "KWD", "XAU", "XTS", "BHD", "CLF"}
	var ops []domain.Operation
	var recs []domain.Record
	for i := range n {
		op := sale(uint64(1000+i), fmt.Sprintf("w-%d", i), at, int64(i))
		op.OperationStatus = fmt.Sprintf("status %d", i%700)
		if i%3 == 0 {
			op.OperationStatus = "success"
		}
		if i%5 == 0 {
			op.OperationType = fmt.Sprintf("type %d", i)
		}
		op.PaymentStatus = fmt.Sprintf("payment status %d", i)
		op.PaymentMethod = fmt.Sprintf("method %d", i%300)
		op.Code, op.Message = fmt.Sprintf("%d", i), fmt.Sprintf("message %d", i)
		op.SumInitial.Currency = currencies[i%len(currencies)]
		op.SumConverted = op.SumInitial
		ops = append(ops, op)
		r := paid(op.PaymentID, at, int64(i))
		r.Amount.Currency = currencies[(i/2)%len(currencies)]
		r.Status = []string{domain.RecordPaid, domain.RecordFailed, fmt.Sprintf("merchant status %d", i)}[i%3]
		r.Method = fmt.Sprintf("their method %d", i)
		recs = append(recs, r)
	}
	a := testApp(t, ops, recs)
	storedIsFromScratch(t, a, func() {
		op := ops[7]
		op.OperationStatus = "yet another status"
		if _, err := a.Ledger.UpsertPage([]domain.Operation{op}, now); err != nil {
			t.Fatal(err)
		}
	})
}

// Amounts whose sum an int64 does not hold: the stored result's totals
// per result and currency (status, the report) must not wrap into a
// negative sum; an amount that could make them wrap is refused.
func TestHostileAmountsWhoseSumWraps(t *testing.T) {
	at := now.Add(-3 * time.Hour)
	a := testApp(t, nil, nil)
	big := sale(1, "big-1", at, 1<<62)
	big2 := sale(2, "big-2", at, 1<<62)
	if _, err := a.Ledger.UpsertPage([]domain.Operation{big, big2}, now); err != nil {
		if !strings.Contains(err.Error(), "operation 1") {
			t.Fatalf("refused without naming the operation: %v", err)
		}
		return
	}
	if _, err := a.RunReconcile(context.Background(), RunRequest{User: "tester", Full: true}); err != nil {
		t.Fatal(err)
	}
	st, _, err := a.Ledger.Result()
	if err != nil {
		t.Fatal(err)
	}
	for res, m := range st.Amounts {
		for cur, sum := range m {
			if sum < 0 {
				t.Fatalf("the stored total of %s in %s is %d: two amounts of 2^62 wrapped", res, cur, sum)
			}
		}
	}
}
