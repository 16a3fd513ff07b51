package reconcile

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/fees"
)

// fullText is itemText with everything the item's sides say: the
// operation and the record an item points at, field by field.
func fullText(it *domain.Item) string {
	s := itemText(it)
	if it.Provider != nil {
		s += fmt.Sprintf("|op %+v", *it.Provider)
	}
	return s + fmt.Sprintf("|due %s|ask %s %s", it.Due.Format(time.RFC3339Nano), it.AskAt.Format(time.RFC3339Nano), it.AskMethod)
}

// streamText runs Stream and writes down, inside the sink (the sides the
// items point at are reused after it), every item with its place and
// each call's owner and operation ids, then what the output says.
func streamText(t *testing.T, in Input, cfg Config) []string {
	t.Helper()
	var lines []string
	out, err := Stream(in, cfg, func(owner domain.Unit, items []domain.Item, places []Place, opIDs []uint64) error {
		lines = append(lines, fmt.Sprintf("unit %q ops %v", owner, opIDs))
		for i := range items {
			lines = append(lines, fmt.Sprintf("%x %q %s", places[i].Key, places[i].Owner, fullText(&items[i])))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lines = append(lines, outputText(out)...)
	lines = append(lines, fmt.Sprintf("links %v fallbacks %v fees %d %d", out.Links, out.Fallbacks, out.FeesChecked, out.FeesUnchecked))
	return lines
}

// tablesOf copies ops and recs into tables of their own (as the ledger's
// reads fill them), which point at nothing of the caller's: the engine
// makes every operation and record it judges from the rows.
func tablesOf(ops []domain.Operation, recs []domain.Record) (*OpTable, *RecordTable) {
	ot, rt := NewOpTable(0), NewRecordTable(0)
	for i := range ops {
		op := ops[i]
		op.AccountNumber, op.CustomerID = "", "" // the ledger's lean read has neither
		ot.Add(&op)
	}
	for i := range recs {
		r := recs[i]
		r.CustomerID = ""
		rt.Add(&r)
	}
	return ot, rt
}

// The engine given its input as tables gives what it gives from the
// operations and records themselves: the same items, places, sides,
// re-checks, re-openings, links and fallbacks, on randomised books with
// refunds in parts, reverses, double charges, unknown words, records
// found by provider or operation id, fees, resolutions that hold and
// resolutions whose data changed.
func TestTablesGiveWhatTheSlicesGive(t *testing.T) {
	contract := reviewContract(t)
	for seed := uint64(1); seed <= 40; seed++ {
		ops, recs, res, cfg := reviewCase(seed, contract)
		want := streamText(t, Input{Operations: slices.Clone(ops), Records: slices.Clone(recs), Resolutions: res}, cfg)
		ot, rt := tablesOf(ops, recs)
		got := streamText(t, Input{OpTable: ot, RecordTable: rt, Resolutions: res}, cfg)
		if len(want) < 50 {
			t.Fatalf("seed %d: %d lines: the test checks little", seed, len(want))
		}
		sameLines(t, seed, got, want)
		// Run over tables (no sink: nothing is reused) says the same.
		ot, rt = tablesOf(ops, recs)
		a := outputText(Run(Input{OpTable: ot, RecordTable: rt, Resolutions: res}, cfg))
		b := outputText(Run(Input{Operations: slices.Clone(ops), Records: slices.Clone(recs), Resolutions: res}, cfg))
		if !slices.Equal(a, b) {
			t.Fatalf("seed %d: Run over tables differs from Run over the slices", seed)
		}
	}
}

// reviewContract is the tariffs reviewCase's fees are checked against.
func reviewContract(t *testing.T) *fees.Contract {
	t.Helper()
	contract, _, err := fees.NewContract([]fees.Tariff{
		{Method: "advcash", Type: domain.RecordPurchase, Percent: 2_500_000, Min: 50},
		{Method: "advcash", Type: domain.RecordRefund, Fixed: 40},
	})
	if err != nil {
		t.Fatal(err)
	}
	return contract
}

// sameLines fails at the first line of got that is not want's.
func sameLines(t *testing.T, seed uint64, got, want []string) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("seed %d: line %d differs\n got %s\nwant %s", seed, i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("seed %d: %d lines, want %d", seed, len(got), len(want))
	}
}

// reviewCase is seed's randomised books (reviewData) with fees against
// contract, sides without a completion or creation time, and
// resolutions, some holding and some whose data changed.
func reviewCase(seed uint64, contract *fees.Contract) ([]domain.Operation, []domain.Record, map[ResolutionKey]Resolution, Config) {
	rng := rand.New(rand.NewPCG(seed, 13))
	ops, recs := reviewData(rng, seed%2 == 0)
	for i := range ops {
		ops[i].AccountNumber, ops[i].CustomerID = "", ""
		switch rng.IntN(3) {
		case 0:
			ops[i].Fee = domain.Money{Amount: 30, Currency: "EUR"}
		case 1:
			ops[i].Fee = domain.Money{Amount: ops[i].SumInitial.Amount * 25 / 1000, Currency: "EUR"}
		}
		if rng.IntN(5) == 0 {
			ops[i].CompletedAt = time.Time{}
		}
	}
	for i := range recs {
		recs[i].CustomerID = ""
		if rng.IntN(7) == 0 {
			recs[i].CreatedAt = time.Time{}
		}
	}
	cfg := Config{Now: now, AmountTolerance: int64(rng.IntN(3)), Fees: contract, FeeTolerance: 1}
	// Resolutions: some exceptions resolved as they are (they hold),
	// some with another fingerprint (they re-open).
	res := map[ResolutionKey]Resolution{}
	for _, it := range Run(Input{Operations: slices.Clone(ops), Records: slices.Clone(recs)}, cfg).Items {
		if !domain.IsException(it.Result) || rng.IntN(3) != 0 {
			continue
		}
		fp := it.Fingerprint
		if rng.IntN(2) == 0 {
			fp = "changed"
		}
		k := KeyOf(&it)
		res[k] = Resolution{ProjectID: k.ProjectID, ID: k.ID, Type: k.Type, Part: k.Part, Code: it.Code,
			Reason: "checked", User: "ann", At: now, Fingerprint: fp, Summary: it.Reason}
	}
	return ops, recs, res, cfg
}

// A table gives back the operation and the record it was given, to the
// nanosecond and in UTC, whatever their words.
func TestTableRowsRoundTrip(t *testing.T) {
	op := domain.Operation{ProjectID: 7, OperationID: 1<<64 - 1, PaymentID: "p\x00ü", PaymentType: "purchase",
		PaymentStatus: "weird status", OperationType: "sale", OperationStatus: "success", PaymentMethod: "card",
		CreatedAt: time.Unix(1_700_000_000, 123_456_789).UTC(), SumInitial: domain.Money{Amount: -1 << 63, Currency: "EUR"},
		SumConverted: domain.Money{Amount: 1<<63 - 1, Currency: "UAH"}, ProviderID: -3, ProviderPaymentID: "pp",
		Code: "0", Message: "ok", Fee: domain.Money{Amount: 12, Currency: "EUR"}}
	rec := domain.Record{Source: "bank", PaymentID: "p", Type: "refund", Amount: domain.Money{Amount: 5, Currency: "USD"},
		Status: "paid", CreatedAt: time.Unix(-5, 1).UTC(), ProviderPaymentID: "x", OperationID: 9, ProjectID: -1,
		Method: "card", Origin: "b.csv:2"}
	ot, rt := NewOpTable(0), NewRecordTable(0)
	ot.Add(&domain.Operation{})
	ot.Add(&op)
	rt.Add(&domain.Record{})
	rt.Add(&rec)
	var gotOp domain.Operation
	var gotRec domain.Record
	ot.fill(0, &gotOp)
	rt.fill(0, &gotRec)
	if gotOp != (domain.Operation{}) || gotRec != (domain.Record{}) {
		t.Fatalf("zero values: %+v %+v", gotOp, gotRec)
	}
	ot.fill(1, &gotOp)
	rt.fill(1, &gotRec)
	if gotOp != op {
		t.Errorf("operation\n got %+v\nwant %+v", gotOp, op)
	}
	if gotRec != rec {
		t.Errorf("record\n got %+v\nwant %+v", gotRec, rec)
	}
}

// passInBatches makes Stream judge every input on two goroutines, in
// batches of n groups, until the returned func.
func passInBatches(n int) (restore func()) {
	groups, size, procs := parallelGroups, batchGroups, runtime.GOMAXPROCS(2)
	parallelGroups, batchGroups = 1, n
	return func() { parallelGroups, batchGroups = groups, size; runtime.GOMAXPROCS(procs) }
}

// Judged on two goroutines, in batches of any size, the stream is what
// one goroutine gives: the sink's calls in the same order with the same
// items, places, sides and operation ids, and the same re-checks,
// re-openings, links, fallbacks and fee counts (the workers' re-checks
// and re-openings gathered in the groups' order).
func TestTwoGoroutinesStreamWhatOneDoes(t *testing.T) {
	contract := reviewContract(t)
	for seed := uint64(1); seed <= 40; seed++ {
		ops, recs, res, cfg := reviewCase(seed, contract)
		ot, rt := tablesOf(ops, recs)
		want := streamText(t, Input{OpTable: ot, RecordTable: rt, Resolutions: res}, cfg)
		restore := passInBatches([]int{1, 2, 5, 64}[seed%4])
		ot, rt = tablesOf(ops, recs)
		got := streamText(t, Input{OpTable: ot, RecordTable: rt, Resolutions: res}, cfg)
		restore()
		sameLines(t, seed, got, want)
	}
}

// A sink's error stops the parallel pass: Stream returns it, the sink is
// not called again, and no worker is left running.
func TestTheParallelPassStopsAtTheSinksError(t *testing.T) {
	ops, recs, res, cfg := reviewCase(3, nil)
	for _, stopAt := range []int{1, 2, 7, 30} {
		restore := passInBatches(2)
		before := runtime.NumGoroutine()
		ot, rt := tablesOf(ops, recs)
		calls, after := 0, 0
		errStop := errors.New("disk full")
		_, err := Stream(Input{OpTable: ot, RecordTable: rt, Resolutions: res}, cfg, func(domain.Unit, []domain.Item, []Place, []uint64) error {
			if calls++; calls > stopAt {
				after++
			}
			if calls == stopAt {
				return errStop
			}
			return nil
		})
		restore()
		if !errors.Is(err, errStop) || after != 0 {
			t.Fatalf("stop at %d: err %v, %d calls after the error", stopAt, err, after)
		}
		// A worker Stream waited for has said it is done, but may not
		// have returned yet: the count drops a moment later (CI under
		// load saw 3 after, 2 before). One left running never drops it.
		for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > before; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("stop at %d: %d goroutines 10 s after Stream, %d before", stopAt, runtime.NumGoroutine(), before)
			}
		}
	}
}
