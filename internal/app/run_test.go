package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

func TestRunReconcileSavesTheSummaryOfItsWindowFromAllData(t *testing.T) {
	in := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	before := in.Add(-48 * time.Hour)
	a := testApp(t, []domain.Operation{sale(1, "p-ok", in, 1000), sale(2, "p-short", in, 1000), sale(3, "p-old", before, 700)},
		[]domain.Record{paid("p-ok", in, 1000), paid("p-short", in, 900), paid("p-old", before, 700)})

	from, to := in.Add(-time.Hour), in.Add(time.Hour)
	res, err := a.RunReconcile(context.Background(), RunRequest{From: from, To: to, User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if items, _, err := a.Items(context.Background()); err != nil || len(items) != 3 || res.State.Items != 3 {
		t.Fatalf("%d items stored (state: %d; %v), want all 3", len(items), res.State.Items, err)
	}
	s := res.Summary
	if s.Items != 2 || s.Counts[domain.ResultMatched] != 1 || s.Counts[domain.ResultAmountMismatch] != 1 {
		t.Fatalf("summary %+v, want the 2 items of the window: one matched, one amount mismatch", s)
	}
	if got := s.Amounts[domain.ResultMatched]["EUR"]; got != 1000 {
		t.Fatalf("matched EUR %d, want 1000 (minor units)", got)
	}
	if !s.At.Equal(now) || !s.From.Equal(from) || !s.To.Equal(to) {
		t.Fatalf("summary at %s for [%s, %s)", s.At, s.From, s.To)
	}
	saved, ok, err := a.Ledger.LastRun()
	if err != nil || !ok {
		t.Fatalf("no saved run: %v", err)
	}
	if saved.Items != 2 || saved.Counts[domain.ResultAmountMismatch] != 1 || !saved.At.Equal(now) {
		t.Fatalf("saved %+v, want the summary returned", saved)
	}
}

func TestRunReconcileReopensAResolutionOnceWhenTheDataChanged(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-short", at, 1000)}, []domain.Record{paid("p-short", at, 900)})
	ctx := context.Background()
	_, err := a.RunReconcile(ctx, RunRequest{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	items, _, err := a.Items(ctx)
	if err != nil {
		t.Fatal(err)
	}
	it := items[0]
	if it.Result != domain.ResultAmountMismatch {
		t.Fatalf("result %s, want amount mismatch", it.Result)
	}
	k := domain.KeyOf(&it)
	r := domain.Resolution{ProjectID: k.ProjectID, ID: k.ID, Type: k.Type, Part: k.Part, Code: it.Code, Reason: "bank-fee",
		User: "tester", At: now, Fingerprint: it.Fingerprint, Summary: it.Reason}
	if err := a.Ledger.SaveResolutions([]domain.Resolution{r}, nil); err != nil {
		t.Fatal(err)
	}
	// The books change: the record now says 950; the resolution was of 900.
	if _, err := a.Ledger.ImportRecords([]domain.Record{paid("p-short", at, 950)},
		ledger.Import{At: now, User: "tester", File: "books2.csv", Format: "csv", Lines: 1}, now); err != nil {
		t.Fatal(err)
	}
	second, err := a.RunReconcile(ctx, RunRequest{User: "night-shift"})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Reopened) != 1 || second.Reopened[0].ID != r.ID || !second.Reopened[0].ReopenedAt.Equal(now) {
		t.Fatalf("re-opened %+v, want the one resolution, at now", second.Reopened)
	}
	third, err := a.RunReconcile(ctx, RunRequest{User: "night-shift"})
	if err != nil {
		t.Fatal(err)
	}
	if len(third.Reopened) != 0 {
		t.Fatalf("re-opened again: %+v", third.Reopened)
	}
	events, err := a.Ledger.Audit()
	if err != nil {
		t.Fatal(err)
	}
	var reopens []domain.AuditEvent
	for _, e := range events {
		if e.Action == domain.AuditReopen {
			reopens = append(reopens, e)
		}
	}
	if len(reopens) != 1 || reopens[0].User != "night-shift" || reopens[0].ID != r.ID {
		t.Fatalf("audit re-openings %+v, want one by night-shift", reopens)
	}
}

// RunReconcile checks its request again: a window that ends before it
// starts saves no run (it would count nothing and read as "no items").
func TestRunReconcileRefusesAWindowThatEndsBeforeItStarts(t *testing.T) {
	in := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-ok", in, 1000)}, []domain.Record{paid("p-ok", in, 1000)})
	_, err := a.RunReconcile(context.Background(), RunRequest{From: in, To: in.Add(-time.Hour)})
	if re := refusal(t, "window", err); re.Field != "to" {
		t.Fatalf("refused %q, want the to field", re.Field)
	}
	if _, ok, err := a.Ledger.LastRun(); err != nil || ok {
		t.Fatalf("a run was saved (%v, %v)", ok, err)
	}
}

// TestRunReconcileCountsThePaymentsItRecomputed: one payment changed, and
// the run says it recomputed one, not also the operation id and provider
// payment id its operation carries (units a record could name, which it
// reads to find none).
func TestRunReconcileCountsThePaymentsItRecomputed(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var ops []domain.Operation
	var recs []domain.Record
	for i := range 5 {
		p := fmt.Sprintf("p%d", i)
		op := sale(uint64(100+i), p, at, 1000)
		op.ProviderPaymentID = "v-" + p
		ops, recs = append(ops, op), append(recs, paid(p, at, 1000))
	}
	a := testApp(t, ops, recs)
	ctx := context.Background()
	if _, err := a.RunReconcile(ctx, RunRequest{}); err != nil {
		t.Fatal(err)
	}
	changed := ops[2]
	changed.SumInitial.Amount = 900
	if _, err := a.Ledger.UpsertPage([]domain.Operation{changed}, at); err != nil {
		t.Fatal(err)
	}
	res, err := a.RunReconcile(ctx, RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Full || res.Units != 1 || res.Changed != 1 || res.Items != 1 {
		t.Fatalf("recomputed %d payments (%d marked changed, full %v): %d items; want 1 (1): 1", res.Units, res.Changed, res.Full, res.Items)
	}
}
