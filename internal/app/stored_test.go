package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
	"reconciled/internal/reconcile"
)

// The stored result is what export and status read: they say which
// reconcile it is of and when the data moved on since; the next reconcile
// recomputes only what changed, a changed tolerance everything.
func TestStoredResultIsReadAndSaysWhenItIsBehind(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-ok", at, 1000), sale(2, "p-short", at, 1000)},
		[]domain.Record{paid("p-ok", at, 1000), paid("p-short", at, 900)})
	ctx := context.Background()
	export := func() (string, string) {
		var b bytes.Buffer
		var note string
		if _, err := a.Export(ctx, ExportRequest{What: "reconciliation", Format: "csv", Notice: func(s string) { note = s }}, &b); err != nil {
			t.Fatal(err)
		}
		return b.String(), note
	}
	if _, note := export(); !strings.Contains(note, "no reconciliation is stored yet") {
		t.Fatalf("before any reconcile: %q", note)
	}
	first, err := a.RunReconcile(ctx, RunRequest{User: "tester"})
	if err != nil || !first.Full || first.State.Items != 2 {
		t.Fatalf("first reconcile: full %v, %d items, %v", first.Full, first.State.Items, err)
	}
	csv, note := export()
	if !strings.Contains(note, "from the reconciliation of 2026-11-21 10:00:00 CET") || strings.Contains(note, "since then") {
		t.Fatalf("an up-to-date export says %q", note)
	}
	st, err := a.Status(ctx)
	if err != nil || st.Result == nil || st.Result.Items != 2 || st.Behind != (ledger.Behind{}) {
		t.Fatalf("status: %+v %+v %v", st.Result, st.Behind, err)
	}

	// The books change: the export still shows the stored result, and says
	// it is behind; status too.
	if _, err := a.Ledger.ImportRecords([]domain.Record{paid("p-short", at, 1000)},
		ledger.Import{At: now, User: "tester", File: "books2.csv", Format: "csv", Lines: 1}, now); err != nil {
		t.Fatal(err)
	}
	stale, note := export()
	if stale != csv || !strings.Contains(note, "since then 1 payments changed and 0 deadlines passed") {
		t.Fatalf("a stale export says %q (same rows: %v)", note, stale == csv)
	}
	if st, _ := a.Status(ctx); st.Behind.Changed != 1 {
		t.Fatalf("status behind %+v", st.Behind)
	}
	second, err := a.RunReconcile(ctx, RunRequest{User: "tester"})
	if err != nil || second.Full || second.Units != 1 || second.Items != 1 {
		t.Fatalf("second reconcile: full %v, %d units, %d items, %v", second.Full, second.Units, second.Items, err)
	}
	if fresh, note := export(); strings.Contains(fresh, "amount_mismatch") || strings.Contains(note, "since then") {
		t.Fatalf("after the reconcile: %q\n%s", note, fresh)
	}
	var out bytes.Buffer
	WriteRun(&out, second)
	if !strings.Contains(out.String(), "recomputed 1 payments changed since the last reconcile (1 marked changed, 0 with a deadline passed): 1 items") {
		t.Fatalf("reconcile says:\n%s", out.String())
	}

	// Another tolerance: everything again.
	cfg := *a.Config
	cfg.Reconcile.AmountTolerance = 5
	b := a.On(&cfg)
	var note2 string
	if _, err := b.Export(ctx, ExportRequest{What: "reconciliation", Format: "csv", Notice: func(s string) { note2 = s }}, io.Discard); err != nil ||
		!strings.Contains(note2, "made with other verdict settings") {
		t.Fatalf("an export under another tolerance says %q (%v)", note2, err)
	}
	third, err := b.RunReconcile(ctx, RunRequest{User: "tester"})
	if err != nil || !third.Full {
		t.Fatalf("after a tolerance change: full %v, %v", third.Full, err)
	}
	if again, err := b.RunReconcile(ctx, RunRequest{User: "tester"}); err != nil || again.Full || again.Units != 0 {
		t.Fatalf("then nothing changed: full %v, %d units, %v", again.Full, again.Units, err)
	}
}

// Reconciles of one daemon may overlap (a schedule, a socket command, a
// report job's refresh): one at a time stores the result, so a full one
// and an incremental one cannot keep the older of the two.
func TestOverlappingReconcilesStoreTheNewest(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var ops []domain.Operation
	for i := range 300 {
		ops = append(ops, sale(uint64(i+1), fmt.Sprintf("p-%d", i), at, 1000))
	}
	a := testApp(t, ops, nil)
	ctx := context.Background()
	if _, err := a.RunReconcile(ctx, RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() {
		for i := range 30 {
			rec := paid(fmt.Sprintf("p-%d", i*7), at, 1000)
			if _, err := a.Ledger.ImportRecords([]domain.Record{rec}, ledger.Import{At: now, File: fmt.Sprintf("b%d.csv", i)}, now); err != nil {
				errs <- err
				return
			}
			if _, err := a.RunReconcile(ctx, RunRequest{User: "tester"}); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	go func() {
		for range 10 {
			if _, err := a.RunReconcile(ctx, RunRequest{User: "tester", Full: true}); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.RunReconcile(ctx, RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	in, err := LoadInput(ctx, a.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	var want, got bytes.Buffer
	export.ReconciliationCSV(&want, export.ItemsOf(reconcile.Run(in, a.EngineConfig()).Items), export.ItemFilter{}, export.CSVOptions{})
	export.ReconciliationCSV(&got, a.Ledger.ForEachItem, export.ItemFilter{}, export.CSVOptions{})
	if got.String() != want.String() {
		t.Fatalf("after overlapping reconciles the stored result differs:\n%s", lineDiff(got.String(), want.String()))
	}
}

// A bulk change (a new book: more units than one mark lists) is named as
// such, not as the few listed beside it.
func TestABulkChangeIsNamedAsMoreThanTheLimit(t *testing.T) {
	s := Stored{State: ledger.ResultState{At: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}, Behind: ledger.Behind{Changed: 3, Due: 1, Bulk: true}}
	want := fmt.Sprintf("since then more than %d payments changed and 1 deadlines passed", ledger.BulkMark)
	if n := s.Note(time.UTC); !strings.Contains(n, want) {
		t.Fatalf("note %q, want %q", n, want)
	}
	var b bytes.Buffer
	if err := WriteStatus(&b, &Status{Result: &s.State, Behind: s.Behind}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), fmt.Sprintf("behind the data: more than %d payments changed", ledger.BulkMark)) {
		t.Fatalf("status says:\n%s", b.String())
	}
}

// A full recompute paces the heap at twice its input, and gives the
// limit back after; a lower limit set before (GOMEMLIMIT) stays.
func TestPaceHeapSetsAndRestoresTheLimit(t *testing.T) {
	const high, low = int64(1 << 40), int64(100 << 20)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(high))
	restore := paceHeap()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	got := debug.SetMemoryLimit(-1)
	if got >= high || got < 256<<20 || got > int64(max(4*ms.HeapAlloc, 512<<20)) {
		t.Fatalf("limit during the recompute %d, heap %d", got, ms.HeapAlloc)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != high {
		t.Fatalf("limit after %d, want %d back", got, high)
	}
	debug.SetMemoryLimit(low)
	restore = paceHeap()
	if got := debug.SetMemoryLimit(-1); got != low {
		t.Fatalf("a lower limit set before became %d", got)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != low {
		t.Fatalf("a lower limit set before became %d after", got)
	}
}

// A clock set back (by NTP, by a person) to before the stored result's
// time: the stored verdicts may call missing what is still within its
// limit now. Export and status say the result is ahead of the clock, the
// daemon's reconcile of a callback's units leaves it to the next
// reconcile, and that reconcile recomputes everything, as from scratch.
func TestAClockSetBackRecomputesEverything(t *testing.T) {
	at := time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-ok", at, 1000)}, []domain.Record{paid("p-ok", at, 1000), paid("p-late", at, 500)})
	clock := at.Add(10 * 24 * time.Hour) // past every limit: p-late is missing at ECommPay
	a.Now = func() time.Time { return clock }
	ctx := context.Background()
	resultOf := func() (string, string) {
		var b bytes.Buffer
		var note string
		if _, err := a.Export(ctx, ExportRequest{What: "reconciliation", Format: "csv", Notice: func(s string) { note = s }}, &b); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(b.String(), "\n") {
			if strings.Contains(line, "p-late") {
				return strings.Split(line, ",")[0], note
			}
		}
		return "", note
	}
	if _, err := a.RunReconcile(ctx, RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	if got, note := resultOf(); got != domain.ResultMissingAtProvider || strings.Contains(note, "set back") {
		t.Fatalf("ten days on: p-late is %q (%q)", got, note)
	}

	clock = at.Add(time.Hour)
	if _, note := resultOf(); !strings.Contains(note, "later than the clock's now (the clock was set back since): run reconcile first") {
		t.Errorf("with the clock set back the export says %q", note)
	}
	st, err := a.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	WriteStatus(&text, st)
	if !strings.Contains(text.String(), "made later than the clock's now, which was set back since") {
		t.Errorf("status says:\n%s", text.String())
	}
	if _, ran, err := a.ReconcileUnits(ctx, ledger.Changes{domain.PaymentUnit("p-ok"): nil}, "tester"); err != nil || ran {
		t.Errorf("the callbacks' reconcile with the clock set back: ran %v, %v", ran, err)
	}
	res, err := a.RunReconcile(ctx, RunRequest{User: "tester"})
	if err != nil || !res.Full {
		t.Fatalf("the reconcile after the clock was set back: full %v, %v", res.Full, err)
	}
	if got, note := resultOf(); got != domain.ResultPending || strings.Contains(note, "set back") {
		t.Errorf("an hour after it was booked: p-late is %q (%q)", got, note)
	}
}
