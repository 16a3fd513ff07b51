package app

import (
	"context"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// Seed 1492 of the property test (-incremental.seeds 1500), reduced: a
// sync moves operation 5 from payment "old" to "new", with a provider id
// it had not, and leaves its marks for the next reconcile; callbacks then store an operation with the same
// provider id, and the reconcile of what they changed reads operation 5
// (a record falls back to that provider id) and stores the item it is the
// first operation of under "new" — while "old", not recomputed, still
// names that place: two units named one item, and the state counted the
// old one's item on (check: damaged, one item too many). The reconcile
// after callbacks must take the units pending marks name with an
// operation it reads, and still be what a run from scratch gives.
func TestCallbacksReconcileTakesThePaymentAnOperationLeft(t *testing.T) {
	at := time.Date(2026, 11, 8, 18, 0, 0, 0, time.UTC)
	moved := sale(5, "old", at, 1000)
	rec := paid("", at, 1000)
	rec.ProviderPaymentID = "v1" // found by provider id alone: none has it yet
	base := testApp(t, []domain.Operation{moved}, []domain.Record{rec})
	w := &randWorld{t: t, a: base, l: base.Ledger, clock: at.Add(time.Hour)}
	w.use0(base.Config)
	ctx := context.Background()
	res, err := w.a.RunReconcile(ctx, RunRequest{User: "tester", Full: true})
	if err != nil {
		t.Fatal(err)
	}
	w.compare(ctx, 0, res)

	moved.PaymentID, moved.ProviderPaymentID = "new", "v1"
	if _, err := w.l.UpsertPage([]domain.Operation{moved}, w.clock); err != nil {
		t.Fatal(err)
	}
	w.log = append(w.log, "the sync moves operation 5 to payment new, with provider id v1 (not reconciled)")
	cb := sale(6, "other", at, 500)
	cb.ProviderPaymentID = "v1"
	_, changes, err := w.l.UpsertCallbacks([]domain.Operation{cb}, w.clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := w.a.ReconcileUnits(ctx, changes, "callbacks"); err != nil || !ok {
		t.Fatalf("the callbacks' reconcile: %v %v", ok, err)
	}
	w.log = append(w.log, "a callback of operation 6 with provider id v1, and its reconcile")
	if err := w.l.Check(); err != nil {
		t.Fatalf("after %v: %v", w.log, err)
	}
	if res, err = w.a.RunReconcile(ctx, RunRequest{User: "tester"}); err != nil || res.Full {
		t.Fatalf("%+v %v", res, err)
	}
	w.compare(ctx, 1, res)
}
