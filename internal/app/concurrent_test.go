package app

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/reconcile"
)

// TestReconcilesAtOnceStoreARunFromScratch: the daemon's jobs and its
// socket's commands refresh the stored result at the same time (a
// reconcile, a report, an export of the reconciliation, a resolve), while
// a sync stores changes. Whatever the order their reads and writes land
// in, a refresh must never store items older than the marks it leaves:
// after them, one more reconcile gives what a run from scratch gives.
// Before the ledger refused a result read before another was stored
// (ErrResultMoved), about one run in two ended with stale items (a full
// recompute storing what it read before an incremental one consumed the
// marks of a change). Timing decides where it fails, never whether the
// assertion holds.
func TestReconcilesAtOnceStoreARunFromScratch(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var ops []domain.Operation
	var recs []domain.Record
	for i := range 3000 {
		p := fmt.Sprintf("p%d", i)
		ops = append(ops, sale(uint64(1000+i), p, at.Add(-time.Duration(i)*time.Minute), 1000))
		recs = append(recs, paid(p, at.Add(-time.Duration(i)*time.Minute), 1000))
	}
	a := testApp(t, ops, recs)
	ctx := context.Background()
	if _, err := a.RunReconcile(ctx, RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	// settle reconciles once more, alone, and compares the stored result
	// with a run from scratch.
	settle := func(round int) {
		t.Helper()
		if _, err := a.RunReconcile(ctx, RunRequest{User: "tester"}); err != nil {
			t.Fatal(err)
		}
		in, err := LoadInput(ctx, a.Ledger)
		if err != nil {
			t.Fatal(err)
		}
		cfg := a.EngineConfig()
		var want, got bytes.Buffer
		if _, err := export.ReconciliationCSV(&want, export.ItemsOf(reconcile.Run(in, cfg).Items), export.ItemFilter{}, export.CSVOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := export.ReconciliationCSV(&got, a.Ledger.ForEachItem, export.ItemFilter{}, export.CSVOptions{}); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("after round %d the stored result differs from a run from scratch:\n%s", round, lineDiff(got.String(), want.String()))
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	for round := range 60 {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for _, full := range []bool{true, false, false} {
			wg.Go(func() {
				if _, err := a.RunReconcile(ctx, RunRequest{User: "tester", Full: full}); err != nil {
					errs <- err
				}
			})
		}
		// A sync meanwhile: pages that change the same payments again
		// and again.
		pages := make([][]domain.Operation, 3)
		for i := range pages {
			for _, j := range r.Perm(600)[:300] {
				op := ops[j]
				op.SumInitial.Amount = int64(900 + r.IntN(200))
				pages[i] = append(pages[i], op)
			}
		}
		wg.Go(func() {
			for _, page := range pages {
				if _, err := a.Ledger.UpsertPage(page, at); err != nil {
					errs <- err
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		settle(round)
	}
}
