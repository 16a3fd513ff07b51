package app

import (
	"context"
	"testing"
	"time"

	"reconciled/internal/domain"
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
	if out, err := a.Ledger.UpsertCallbacks([]domain.Operation{declined}, now); err != nil || out[0].String() != "updated" {
		t.Fatalf("the callback: %v %v", out, err)
	}
	short := sale(2, "p-sync", at, 900)
	if _, err := a.Ledger.UpsertPage([]domain.Operation{short}, now); err != nil {
		t.Fatal(err)
	}
	r, ok, err := a.ReconcileUnits(ctx, []domain.Unit{domain.PaymentUnit("p-cb")}, "callbacks")
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
	if _, ok, err := testApp(t, nil, nil).ReconcileUnits(ctx, []domain.Unit{domain.PaymentUnit("x")}, "callbacks"); ok || err != nil {
		t.Errorf("with no result stored: %v %v", ok, err)
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
