package app

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
	"reconciled/internal/reconcile"
)

// TestIncrementalReconcileIsTheRunFromScratch applies random sequences of
// syncs, callbacks (each followed by the reconcile of what they changed,
// as the daemon runs it), imports, resolutions, config changes and clock
// advances (and, one in five, a clock set back) to one ledger and, after each step, reconciles (incrementally, when nothing
// forces a full run) and compares the stored result with a run of the
// engine from scratch on the same data at the same time: the exports of
// both, byte for byte, the summary, and the payments wanted re-checked.
//
// The data is drawn from small pools (a dozen payment ids, a few
// provider ids shared between payments, two projects, records without a
// payment id) so that the ways one payment's verdict depends on another
// — a record found by provider id or operation id, an operation with a
// lower id taking a provider id, an orphan record whose payment arrives —
// all happen often.
//
// Some steps write without a reconcile after them, so that marks pile up;
// in one seed of three a transaction of more than 3 units writes a bulk
// mark (as one of more than 200,000 does), so that bulk marks sit between
// listed ones. In one seed of four the result's units and items are
// stored in blocks of a few entries, so that a change splits, shrinks and
// deletes them, and in another in blocks of one entry each, so that every
// unit whose entry goes empties its block (a block left behind is a stale
// entry, which only check sees, and only when it names an item).
func TestIncrementalReconcileIsTheRunFromScratch(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	if *incrementalSeeds > 0 {
		seeds = *incrementalSeeds
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			if seed%3 == 2 {
				defer ledger.SetBulkMarkForTests(3)()
			}
			switch seed % 4 {
			case 1: // units in blocks of a few entries: blocks split, shrink and go
				defer ledger.SetBlockBytesForTests(100)()
			case 3: // an entry a block: each unit's going empties its block
				defer ledger.SetBlockBytesForTests(1)()
			}
			incrementalWorld(t, uint64(seed), 30)
		})
	}
}

// -incremental.seeds runs the property test with more seeds than the 60
// of a plain run (go test ./internal/app -run Incremental
// -incremental.seeds 5000), for a change to the engine or the closure.
var incrementalSeeds = flag.Int("incremental.seeds", 0, "seeds of TestIncrementalReconcileIsTheRunFromScratch (0: 60, 10 with -short)")

type randWorld struct {
	t       *testing.T
	r       *rand.Rand
	a       *App
	l       *ledger.Ledger
	clock   time.Time
	nextOp  uint64
	ops     map[uint64]domain.Operation
	cbs     []domain.Chargeback
	configs []*config.Config
	cfg     int
	log     []string // the steps so far, for a failure's message
}

func incrementalWorld(t *testing.T, seed uint64, steps int) {
	w := &randWorld{t: t, r: rand.New(rand.NewPCG(seed, 13)), clock: time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC),
		nextOp: 1000, ops: map[uint64]domain.Operation{}}
	base := testApp(t, nil, nil)
	w.l = base.Ledger
	strict := base.Config
	loose := *strict
	loose.Reconcile.AmountTolerance = 150
	loose.Reconcile.DefaultLimit.Duration = 6 * time.Hour
	loose.Reconcile.DefaultBase.Duration = time.Hour
	charged := *strict // and the fees compared with a contract
	charged.Fees.Tolerance = 1
	charged.Fees.Tariffs = []config.Tariff{{Method: "card", Type: "purchase", Percent: "2.5", Min: 20},
		{Method: "card", Type: "refund", Currency: "EUR", Fixed: 10}}
	w.configs = []*config.Config{strict, &loose, &charged}
	w.use(0)
	ctx := context.Background()
	for step := range steps {
		switch k := w.r.IntN(14); {
		case k < 3:
			w.sync()
		case k >= 12:
			w.callbacks(ctx)
		case k < 6:
			w.importBooks()
		case k < 7:
			w.chargeFees()
		case k < 8:
			w.chargeBack()
		case k < 9:
			w.resolve(ctx)
		case k < 10:
			w.use(w.r.IntN(len(w.configs)))
			w.log = append(w.log, fmt.Sprintf("config %d", w.cfg))
		default:
			d := time.Duration(w.r.IntN(48)) * 30 * time.Minute
			if w.r.IntN(5) == 0 { // set back (a clock corrected by NTP, by hand)
				d = -d
			}
			w.clock = w.clock.Add(d)
			w.log = append(w.log, fmt.Sprintf("clock +%s", d))
		}
		if step < steps-1 && w.r.IntN(4) == 0 {
			continue // another write before the next reconcile
		}
		full := w.r.IntN(12) == 0
		res, err := w.a.RunReconcile(ctx, RunRequest{User: "tester", Full: full})
		if err != nil {
			t.Fatalf("step %d (%s): reconcile: %v", step, strings.Join(w.log, "; "), err)
		}
		w.log = append(w.log, fmt.Sprintf("reconcile (full %v: %v, %d units)", full, res.Full, res.Units))
		w.compare(ctx, step, res)
	}
}

// use switches to configs[i], as a restart with another config would.
func (w *randWorld) use(i int) {
	w.cfg = i
	w.a = New(App{Config: w.configs[i], Ledger: w.l, Now: func() time.Time { return w.clock }})
}

var (
	pickPayments  = []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11", "p12"}
	pickProviders = []string{"", "", "v1", "v2", "v3", "v4"}
	pickStatuses  = []string{"success", "success", "success", "decline", "processing", "awaiting 3ds result", "odd status"}
	pickTypes     = []string{"sale", "sale", "sale", "refund", "refund", "auth", "capture", "cancel", "reversal",
		"refund reverse", "payout", "commission", "mystery"}
)

func (w *randWorld) pick(s []string) string { return s[w.r.IntN(len(s))] }

// sync stores a page: new operations, and changed ones (status, provider
// id, payment id, amount), some with a lower id than payments already
// hold.
func (w *randWorld) sync() {
	var page []domain.Operation
	for range 1 + w.r.IntN(6) {
		var op domain.Operation
		if len(w.ops) > 0 && w.r.IntN(3) == 0 {
			ids := make([]uint64, 0, len(w.ops))
			for id := range w.ops {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			op = w.ops[ids[w.r.IntN(len(ids))]]
			switch w.r.IntN(4) {
			case 0:
				op.OperationStatus = w.pick(pickStatuses)
			case 1:
				op.ProviderPaymentID = w.pick(pickProviders)
			case 2:
				// Under another payment id than a callback (or the last
				// page) said: the sync's stands.
				op.PaymentID = w.pick(pickPayments)
			default:
				op.SumInitial.Amount += int64(w.r.IntN(300)) - 150
			}
		} else {
			id := w.nextOp
			w.nextOp++
			if w.r.IntN(8) == 0 {
				id = 1 + uint64(w.r.IntN(999)) // an older operation, synced late
			}
			at := w.clock.Add(-time.Duration(w.r.IntN(72)) * time.Hour)
			op = sale(id, w.pick(pickPayments), at, 1000*int64(1+w.r.IntN(3)))
			op.ProjectID = int64(1 + w.r.IntN(2))
			op.OperationType = w.pick(pickTypes)
			if op.PaymentID == "p12" {
				op.OperationType = "commission" // a payment the engine matches no record with
			}
			if op.OperationType == "payout" {
				op.PaymentType = "payout"
			}
			op.OperationStatus = w.pick(pickStatuses)
			op.PaymentStatus = op.OperationStatus
			op.ProviderPaymentID = w.pick(pickProviders)
		}
		page = append(page, op)
		w.ops[op.OperationID] = op
	}
	if _, err := w.l.UpsertPage(page, w.clock); err != nil {
		w.t.Fatal(err)
	}
	w.log = append(w.log, fmt.Sprintf("sync %d", len(page)))
}

// callbacks stores a group of callbacks as the receiver does, and then
// reconciles what they changed as the daemon does after them
// (ReconcileUnits): new operations (of a payment the books or the sync
// know, or of none), and known ones in another status, under another
// payment id (which the sync will contradict or confirm), or with another
// provider id, or in the other project (which changes nothing). What it
// leaves marked, and what it consumed, must keep the next reconcile's
// result the run from scratch.
func (w *randWorld) callbacks(ctx context.Context) {
	var group []domain.Operation
	for range 1 + w.r.IntN(3) {
		var op domain.Operation
		if len(w.ops) > 0 && w.r.IntN(2) == 0 {
			ids := make([]uint64, 0, len(w.ops))
			for id := range w.ops {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			op = w.ops[ids[w.r.IntN(len(ids))]]
			switch w.r.IntN(5) {
			case 0, 1:
				op.OperationStatus = w.pick(pickStatuses)
				op.PaymentStatus = op.OperationStatus
			case 2:
				op.PaymentID = w.pick(pickPayments)
			case 3:
				op.ProviderPaymentID = w.pick(pickProviders)
			default: // signed by the other project's key: changes nothing
				op.ProjectID = 3 - op.ProjectID
				op.OperationStatus = w.pick(pickStatuses)
			}
		} else {
			id := w.nextOp
			w.nextOp++
			op = sale(id, w.pick(pickPayments), w.clock.Add(-time.Duration(w.r.IntN(72))*time.Hour), 1000*int64(1+w.r.IntN(3)))
			op.ProjectID = int64(1 + w.r.IntN(2))
			op.OperationType = w.pick(pickTypes[:7])
			op.OperationStatus = w.pick(pickStatuses)
			op.PaymentStatus = op.OperationStatus
			op.ProviderPaymentID = w.pick(pickProviders)
		}
		if !op.Final() {
			op.CompletedAt = time.Time{}
		} else if op.CompletedAt.IsZero() {
			op.CompletedAt = op.CreatedAt
		}
		group = append(group, op)
	}
	out, changes, err := w.l.UpsertCallbacks(group, w.clock)
	if err != nil {
		w.t.Fatal(err)
	}
	for i, o := range out {
		if o == ledger.OutcomeNew || o == ledger.OutcomeUpdated {
			w.ops[group[i].OperationID] = group[i]
		}
	}
	w.log = append(w.log, fmt.Sprintf("callbacks %d (%v)", len(group), out))
	if _, _, err := w.a.ReconcileUnits(ctx, changes, "callbacks"); err != nil {
		w.t.Fatalf("after %s: the callbacks' reconcile: %v", strings.Join(w.log, "; "), err)
	}
	if err := w.l.Check(); err != nil {
		w.t.Fatalf("after %s: %v", strings.Join(w.log, "; "), err)
	}
}

// chargeBack stores chargebacks as the chargeback sync does: new ones of
// a payment (synced or not, in its project or another, one only the
// merchant's books name), and ones whose status is decided, or whose
// payment id, project, amount, currency or deadline changes; one page may
// hold one chargeback twice.
func (w *randWorld) chargeBack() {
	var page []domain.Chargeback
	payments := append(slices.Clone(pickPayments), "p-cb", "q-p1", "q-p2")
	for range 1 + w.r.IntN(3) {
		var cb domain.Chargeback
		if len(w.cbs) > 0 && w.r.IntN(2) == 0 {
			cb = w.cbs[w.r.IntN(len(w.cbs))]
			switch w.r.IntN(10) {
			case 0, 1:
				cb.PaymentID = w.pick(payments)
			case 2:
				cb.ProjectID = 3 - cb.ProjectID
			case 3:
				cb.Amount.Amount += int64(w.r.IntN(3)-1) * 100
			case 4:
				cb.Amount.Currency = w.pick([]string{"EUR", "USD"})
			case 5:
				cb.Deadline = w.clock.Add(time.Duration(w.r.IntN(5)) * 24 * time.Hour)
			default:
				cb.Status = w.pick(pickChargebackStatuses)
			}
		} else {
			cb = domain.Chargeback{ID: uint64(100 + len(w.cbs)), ProjectID: int64(1 + w.r.IntN(2)), PaymentID: w.pick(payments),
				Amount: domain.Money{Amount: int64(500 * (1 + w.r.IntN(4))), Currency: "EUR"}, Status: w.pick(pickChargebackStatuses),
				ReasonCode: "4837", CreatedAt: w.clock.Add(-time.Hour)}
			if w.r.IntN(2) == 0 {
				cb.Deadline = w.clock.Add(240 * time.Hour)
			}
		}
		page = append(page, cb)
		if i := slices.IndexFunc(w.cbs, func(c domain.Chargeback) bool { return c.ID == cb.ID }); i >= 0 {
			w.cbs[i] = cb
		} else {
			w.cbs = append(w.cbs, cb)
		}
	}
	if _, err := w.l.UpsertChargebacks(page, w.clock); err != nil {
		w.t.Fatal(err)
	}
	w.log = append(w.log, fmt.Sprintf("chargebacks %d", len(page)))
}

var pickChargebackStatuses = []string{"open", "open", "lost", "won", "pre_arbitration", "odd"}

// chargeFees stores fees of some known operations, as the fee sync does:
// the tariff's, one or two minor units off, in another currency, or none;
// and of an operation not synced yet.
func (w *randWorld) chargeFees() {
	ids := make([]uint64, 0, len(w.ops))
	for id := range w.ops {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var page []domain.Operation
	for range 1 + w.r.IntN(5) {
		var op domain.Operation
		if len(ids) == 0 || w.r.IntN(6) == 0 {
			op = sale(w.nextOp+uint64(w.r.IntN(3)), w.pick(pickPayments), w.clock, 1000) // its operation comes later, or never
		} else {
			op = w.ops[ids[w.r.IntN(len(ids))]]
		}
		fee := max(op.SumInitial.Amount*25/1000, 20)
		switch w.r.IntN(5) {
		case 0:
			fee++ // within the tolerance
		case 1:
			fee += 2
		case 2:
			fee -= 5
		}
		op.Fee = domain.Money{Amount: fee, Currency: "EUR"}
		if w.r.IntN(8) == 0 {
			op.Fee.Currency = "USD"
		}
		if w.r.IntN(8) == 0 {
			op.Fee = domain.Money{} // a record without a fee
		}
		page = append(page, op)
	}
	if _, err := w.l.UpsertFees(page, w.clock); err != nil {
		w.t.Fatal(err)
	}
	w.log = append(w.log, fmt.Sprintf("fees %d", len(page)))
}

// importBooks imports a file of records: by payment id mostly, some by
// provider id or operation id only, some twice, of every type and status.
func (w *randWorld) importBooks() {
	var recs []domain.Record
	types := []string{domain.RecordPurchase, domain.RecordPurchase, domain.RecordRefund, domain.RecordPayout}
	statuses := []string{domain.RecordPaid, domain.RecordPaid, domain.RecordFailed, domain.RecordPending, domain.RecordRefunded}
	for i := range 1 + w.r.IntN(6) {
		at := w.clock.Add(-time.Duration(w.r.IntN(72)) * time.Hour)
		r := paid(w.pick(pickPayments), at, 1000*int64(1+w.r.IntN(3))+int64(w.r.IntN(3)-1)*100)
		r.Type, r.Status = types[w.r.IntN(len(types))], statuses[w.r.IntN(len(statuses))]
		r.Origin = fmt.Sprintf("books-%d.csv:%d", len(w.log), i+2)
		switch w.r.IntN(7) {
		case 0:
			r.PaymentID, r.ProviderPaymentID = "", w.pick(pickProviders[2:])
		case 1:
			// An operation synced already, or one still to come.
			r.PaymentID, r.OperationID = "", w.nextOp-uint64(w.r.IntN(int(w.nextOp-999)))+uint64(w.r.IntN(3))
		case 2:
			r.ProviderPaymentID = w.pick(pickProviders)
			r.PaymentID = "q-" + r.PaymentID // a payment id ECommPay does not know
		case 3:
			// A payment id whose operations may stand for no record
			// type (a commission): then found by provider id.
			r.ProviderPaymentID = w.pick(pickProviders[2:])
		}
		if w.r.IntN(4) == 0 {
			r.ProjectID = int64(1 + w.r.IntN(2))
		}
		if w.r.IntN(6) == 0 {
			r.CreatedAt = time.Time{} // counts from its import
		}
		recs = append(recs, r)
		if w.r.IntN(7) == 0 {
			recs = append(recs, r) // the same line twice
		}
	}
	if _, err := w.l.ImportRecords(recs, ledger.Import{At: w.clock, User: "tester", File: "books.csv", Format: "csv", Lines: len(recs)}, w.clock); err != nil {
		w.t.Fatal(err)
	}
	w.log = append(w.log, fmt.Sprintf("import %d", len(recs)))
}

// resolve accepts one open exception, or takes a resolution back.
func (w *randWorld) resolve(ctx context.Context) {
	out, err := w.a.Reconcile(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := w.l.Resolutions()
	if err != nil {
		w.t.Fatal(err)
	}
	if len(res) > 0 && w.r.IntN(3) == 0 {
		keys := make([]domain.ResolutionKey, 0, len(res))
		for k := range res {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b domain.ResolutionKey) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		k := keys[w.r.IntN(len(keys))]
		if err := w.l.DeleteResolutions([]domain.ResolutionKey{k}, nil); err != nil {
			w.t.Fatal(err)
		}
		w.log = append(w.log, "unresolve "+k.ID)
		return
	}
	var open []domain.Item
	for _, it := range out.Items {
		if domain.IsException(it.Result) {
			open = append(open, it)
		}
	}
	if len(open) == 0 {
		return
	}
	it := open[w.r.IntN(len(open))]
	k := reconcile.KeyOf(&it)
	r := domain.Resolution{ProjectID: k.ProjectID, ID: k.ID, Type: k.Type, Part: k.Part, Code: it.Code, Reason: "test",
		User: "tester", At: w.clock, Fingerprint: it.Fingerprint, Summary: it.Reason}
	if err := w.l.SaveResolutions([]domain.Resolution{r}, nil); err != nil {
		w.t.Fatal(err)
	}
	w.log = append(w.log, "resolve "+k.ID)
}

// compare checks the stored result against a run from scratch.
func (w *randWorld) compare(ctx context.Context, step int, res RunResult) {
	t := w.t
	t.Helper()
	if err := w.l.Check(); err != nil { // the stored result's own invariants too
		t.Fatalf("step %d, after %s:\n%v", step, strings.Join(w.log, "; "), err)
	}
	in, err := LoadInput(ctx, w.l)
	if err != nil {
		t.Fatal(err)
	}
	cfg := w.a.EngineConfig()
	if !cfg.Now.Equal(w.clock) {
		t.Fatalf("engine clock %s, want %s", cfg.Now, w.clock)
	}
	fresh := reconcile.Run(in, cfg)
	var want, got bytes.Buffer
	if _, err := export.ReconciliationCSV(&want, export.ItemsOf(fresh.Items), export.ItemFilter{}, export.CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := export.ReconciliationCSV(&got, w.l.ForEachItem, export.ItemFilter{}, export.CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("step %d, after %s:\nstored result differs from a run from scratch:\n%s", step, strings.Join(w.log, "; "),
			lineDiff(got.String(), want.String()))
	}
	// The engine's compact input (LoadInput's tables) against the
	// operations and records themselves, as the engine read them before.
	var fromSlices bytes.Buffer
	olds := reconcile.Run(loadSlices(ctx, t, w.l), cfg)
	if _, err := export.ReconciliationCSV(&fromSlices, export.ItemsOf(olds.Items), export.ItemFilter{}, export.CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	if fromSlices.String() != want.String() {
		t.Fatalf("step %d, after %s:\nthe engine over its tables differs from the engine over the slices:\n%s", step, strings.Join(w.log, "; "),
			lineDiff(want.String(), fromSlices.String()))
	}
	sum := newSummariser(res.Summary.At, time.Time{}, time.Time{})
	for i := range fresh.Items {
		sum.add(&fresh.Items[i])
	}
	if fmt.Sprint(sum.run.Counts, sum.run.Amounts, sum.run.Items) != fmt.Sprint(res.Summary.Counts, res.Summary.Amounts, res.Summary.Items) {
		t.Fatalf("step %d, after %s:\nsummary %v %v %d, from scratch %v %v %d", step, strings.Join(w.log, "; "),
			res.Summary.Counts, res.Summary.Amounts, res.Summary.Items, sum.run.Counts, sum.run.Amounts, sum.run.Items)
	}
	asks, err := w.a.asks(w.clock)
	if err != nil {
		t.Fatal(err)
	}
	wantAsks := slices.Clone(fresh.Recheck)
	slices.SortFunc(wantAsks, func(a, b reconcile.PaymentRef) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	slices.SortFunc(asks, func(a, b reconcile.PaymentRef) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	if fmt.Sprint(slices.Compact(wantAsks)) != fmt.Sprint(asks) {
		t.Fatalf("step %d, after %s:\nre-checks %v, from scratch %v", step, strings.Join(w.log, "; "), asks, slices.Compact(wantAsks))
	}
}

// lineDiff shows the lines of a and b that differ.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d:\n  stored:  %s\n  scratch: %s", i+1, x, y))
		}
	}
	return strings.Join(out, "\n")
}

// A record whose payment id ECommPay does not know falls back to its
// provider id, which finds the lowest operation carrying it. When that
// operation changes its provider id, the next lowest takes the record:
// the incremental run must recompute the record's payment although
// nothing of it changed and the operation now names another provider id
// (the property test's seed 1800 of 2,000 found it).
func TestIncrementalFollowsTheProviderIDAnOperationGaveUp(t *testing.T) {
	at := time.Date(2026, 11, 8, 18, 0, 0, 0, time.UTC)
	auth := sale(1010, "p7", at, 1000)
	auth.ProjectID, auth.OperationType, auth.ProviderPaymentID = 1, "auth", "v1"
	other := sale(1011, "p5", at, 2000)
	other.ProjectID, other.ProviderPaymentID = 2, "v1"
	rec := paid("p3", at, 1900)
	rec.Type, rec.Status, rec.ProviderPaymentID, rec.ProjectID = domain.RecordPayout, domain.RecordRefunded, "v1", 2
	base := testApp(t, []domain.Operation{auth, other}, []domain.Record{rec})
	w := &randWorld{t: t, a: base, l: base.Ledger, clock: at.Add(24 * time.Hour)}
	w.use0(base.Config)
	ctx := context.Background()
	res, err := w.a.RunReconcile(ctx, RunRequest{User: "tester", Full: true})
	if err != nil {
		t.Fatal(err)
	}
	w.compare(ctx, 0, res)
	auth.ProviderPaymentID = "v4"
	if _, err := w.l.UpsertPage([]domain.Operation{auth}, w.clock); err != nil {
		t.Fatal(err)
	}
	if res, err = w.a.RunReconcile(ctx, RunRequest{User: "tester"}); err != nil || res.Full {
		t.Fatalf("%+v %v", res, err)
	}
	w.log = append(w.log, "operation 1010 gives provider id v1 up")
	w.compare(ctx, 1, res)
}

// use0 makes the world's App one on cfg at the world's clock.
func (w *randWorld) use0(cfg *config.Config) {
	w.configs = []*config.Config{cfg}
	w.use(0)
}

// loadSlices is LoadInput as it was before the engine's tables: the
// operations and records as domain values.
func loadSlices(ctx context.Context, t *testing.T, l *ledger.Ledger) reconcile.Input {
	t.Helper()
	var in reconcile.Input
	err := l.ForEachByIDLean(ctx, func(op *domain.Operation) error {
		in.Operations = append(in.Operations, *op)
		return nil
	})
	if err == nil {
		err = l.ForEachRecordLean(func(r *ledger.StoredRecord) error {
			rec := r.Record
			if rec.CreatedAt.IsZero() {
				rec.CreatedAt = r.FirstSeen
			}
			in.Records = append(in.Records, rec)
			return nil
		})
	}
	if err == nil {
		err = l.ForEachChargeback(func(sc *ledger.StoredChargeback) error {
			in.Chargebacks = append(in.Chargebacks, sc.Chargeback)
			return nil
		})
	}
	if err == nil {
		in.Resolutions, err = l.Resolutions()
	}
	if err != nil {
		t.Fatal(err)
	}
	return in
}
