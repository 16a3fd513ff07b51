package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/reconcile"
)

// ReconcileUnits recomputes the payments callbacks changed and no other:
// a sync's changes stay marked for the next reconcile (the daemon must not
// reconcile a whole running sync after every callback), the callbacks'
// own marks are consumed, and what it stored is what a run from scratch
// says of those payments.
func TestReconcileUnitsRecomputesOnlyThose(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	processing := sale(1, "p-cb", at, 1000)
	processing.OperationStatus, processing.PaymentStatus, processing.CompletedAt = "processing", "processing", time.Time{}
	a := testApp(t, []domain.Operation{processing, sale(2, "p-sync", at, 1000), sale(3, "p-other", at, 1000)},
		[]domain.Record{paid("p-cb", at, 1000), paid("p-sync", at, 1000), paid("p-other", at, 1000)})
	ctx := context.Background()
	if _, err := a.RunReconcile(ctx, RunRequest{}); err != nil {
		t.Fatal(err)
	}
	declined := sale(1, "p-cb", at, 1000)
	declined.OperationStatus, declined.PaymentStatus = "decline", "decline"
	out, changes, err := a.Ledger.UpsertCallbacks([]domain.Operation{declined}, now)
	if err != nil || out[0].String() != "updated" {
		t.Fatalf("the callback: %v %v", out, err)
	}
	short := sale(2, "p-sync", at, 900)
	if _, err := a.Ledger.UpsertPage([]domain.Operation{short}, now); err != nil {
		t.Fatal(err)
	}
	r, ok, err := a.ReconcileUnits(ctx, changes, "callbacks")
	if err != nil || !ok || r.Full || r.Units != 1 {
		t.Fatalf("ReconcileUnits: %+v %v %v", r, ok, err)
	}
	if got := results(t, a); got["p-cb"] != domain.ResultStatusMismatch || got["p-sync"] != domain.ResultMatched {
		t.Errorf("after the callbacks' reconcile: %v (p-sync must wait for the next reconcile)", got)
	}
	if b, _ := a.Ledger.Behind(now); b.Changed != 1 {
		t.Errorf("behind %+v: the sync's payment stays marked, the callback's mark is consumed", b)
	}
	if _, err := a.RunReconcile(ctx, RunRequest{}); err != nil {
		t.Fatal(err)
	}
	got := results(t, a)
	in, err := LoadInput(ctx, a.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	cfg := a.EngineConfig()
	cfg.Now = now
	for _, it := range reconcile.Run(in, cfg).Items {
		if got[it.PaymentID] != it.Result {
			t.Errorf("%s: stored %s, from scratch %s", it.PaymentID, got[it.PaymentID], it.Result)
		}
	}
	if b, _ := a.Ledger.Behind(now); b.Changed != 0 {
		t.Errorf("behind after the reconcile: %+v", b)
	}
	// Nothing stored yet, or a unit list that is empty: nothing to do.
	if _, ok, err := testApp(t, nil, nil).ReconcileUnits(ctx, ledger.Changes{domain.PaymentUnit("x"): {1}}, "callbacks"); ok || err != nil {
		t.Errorf("with no result stored: %v %v", ok, err)
	}
}

// A callback is mostly the first news of an operation: the sync has not
// seen it yet, so no stored unit lists it. The reconcile after it must
// read it all the same (the ids UpsertCallbacks returns): a payment the
// books call paid and the callback declines is a status_mismatch at
// once, and a charge no book holds is missing_in_records. Before, the
// reconcile read the payments' units as stored, found no operation,
// stored the old verdict and consumed the callbacks' marks, so that not
// even the next reconcile saw the operations.
func TestACallbackOfANewOperationIsReconciled(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(2, "p-other", at, 1000)}, []domain.Record{paid("p-new", at, 1000), paid("p-other", at, 1000)})
	ctx := context.Background()
	if _, err := a.RunReconcile(ctx, RunRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := results(t, a); got["p-new"] != domain.ResultPending {
		t.Fatalf("before the callbacks: %v", got)
	}
	declined := sale(1, "p-new", at, 1000)
	declined.OperationStatus, declined.PaymentStatus = "decline", "decline"
	unbooked := sale(3, "p-unbooked", at, 500)
	out, changes, err := a.Ledger.UpsertCallbacks([]domain.Operation{declined, unbooked}, now)
	if err != nil || out[0] != ledger.OutcomeNew || out[1] != ledger.OutcomeNew {
		t.Fatalf("the callbacks: %v %v", out, err)
	}
	if _, ok, err := a.ReconcileUnits(ctx, changes, "callbacks"); err != nil || !ok {
		t.Fatalf("ReconcileUnits: %v %v", ok, err)
	}
	want := map[string]string{"p-new": domain.ResultStatusMismatch, "p-unbooked": domain.ResultMissingInRecords, "p-other": domain.ResultMatched}
	if got := results(t, a); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the callbacks' reconcile: %v, want %v", got, want)
	}
	if err := a.Ledger.Check(); err != nil {
		t.Error(err)
	}
}

// A sync's page of a new operation marks its payment; a callback of
// another operation of that payment, reconciled before the next
// reconcile, holds the payment in its closure but not the sync's new
// operation (no stored unit lists it), so it must leave the sync's mark
// for the next reconcile instead of consuming it.
func TestTheCallbacksReconcileLeavesASyncsMarkItDidNotRead(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	auth := sale(1, "p-two", at, 1000)
	auth.OperationType = "auth"
	a := testApp(t, []domain.Operation{auth}, []domain.Record{paid("p-two", at, 1000)})
	ctx := context.Background()
	if _, err := a.RunReconcile(ctx, RunRequest{}); err != nil {
		t.Fatal(err)
	}
	refund := sale(5, "p-two", at.Add(time.Hour), 1000)
	refund.OperationType = "refund" // the sync's news: no record of it
	if _, err := a.Ledger.UpsertPage([]domain.Operation{refund}, now); err != nil {
		t.Fatal(err)
	}
	capture := sale(2, "p-two", at.Add(time.Minute), 1000)
	capture.OperationType = "capture" // the callback's
	_, changes, err := a.Ledger.UpsertCallbacks([]domain.Operation{capture}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := a.ReconcileUnits(ctx, changes, "callbacks"); err != nil || !ok {
		t.Fatalf("ReconcileUnits: %v %v", ok, err)
	}
	if b, _ := a.Ledger.Behind(now); b.Changed != 1 {
		t.Errorf("behind %+v: the sync's mark of p-two must stay for the next reconcile", b)
	}
	res, err := a.RunReconcile(ctx, RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := LoadInput(ctx, a.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	cfg := a.EngineConfig()
	cfg.Now = now
	fresh := reconcile.Run(in, cfg).Items
	if res.Summary.Items != len(fresh) {
		t.Errorf("the next reconcile stored %d items, a run from scratch has %d: %v", res.Summary.Items, len(fresh), results(t, a))
	}
}

func results(t *testing.T, a *App) map[string]string {
	t.Helper()
	got := map[string]string{}
	if err := a.Ledger.ForEachItem(func(it *domain.Item) error { got[it.PaymentID] = it.Result; return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}
