package app

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/reconcile"
)

// The stored reconciliation (internal/ledger's result.go draws it). A
// reconcile brings it up to date: it recomputes the payments marked
// changed since and those whose deadline has passed (incremental), or
// everything — the first time, when the verdict settings changed since
// (tolerance, status map, limits, the words' meanings), when --full asks,
// when the clock was set back to before the stored result's time, or when
// so much changed that one pass over everything is cheaper.
// Export, report, status and the daemon's jobs read the stored items; an
// export or report of a result that is behind the data says so.

// incrementalLimit is the number of units past which an incremental run
// gives way to a full one: reading each unit's data by its keys costs
// more than one pass over everything long before every payment changed.
// A writer that changes more than that lists none (a bulk mark).
const incrementalLimit = ledger.BulkMark

// verdictKey fingerprints the settings the verdicts depend on: a stored
// result computed with other settings is recomputed whole.
func verdictKey(c reconcile.Config, limits []reconcile.Limit, base reconcile.Limit) string {
	v := c.Vocabulary
	if v == nil {
		v = domain.Builtin
	}
	s := fmt.Sprintf("tolerance %d\nstatus map %v\nlimits %v %v\nvocabulary %+v\n", c.AmountTolerance, c.StatusMap, base, limits, *v)
	if c.Fees != nil && c.Fees.Len() > 0 { // a key of before fees, for a config without tariffs
		s += fmt.Sprintf("fees %d\n%s", c.FeeTolerance, c.Fees.Fingerprint())
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}

// Refreshed is what one refresh of the stored result did.
type Refreshed struct {
	Full bool // everything was recomputed
	// Units is how many units (payment ids, mostly) with data were
	// recomputed; Changed were marked changed (by a sync, an import or a
	// resolution), Due had a deadline passed.
	Units, Changed, Due int
	Items               int // items the recomputation made
	// FeesChecked and FeesUnchecked count the successful operations
	// recomputed that carry a charged fee: compared with their tariff, or
	// with none to compare with (counted, not flagged).
	FeesChecked, FeesUnchecked int
	State                      ledger.ResultState
	Reopened                   []domain.Resolution // found re-opened by this run (the data changed since)
}

// refresh brings the stored result up to date at the time at (full: all
// of it recomputed) and stores it with the re-openings it found, each in
// the audit trail once, in one transaction.
//
// A run, when given, is saved in the same transaction as the last run,
// with the result's counts and amounts.
func (a *App) refresh(ctx context.Context, full bool, at time.Time, user string, saveRun *ledger.Run) (Refreshed, error) {
	defer a.Ledger.LockResult()()
	cfg := a.engine
	cfg.Now = at
	key := a.verdictKey
	var r Refreshed
	if !full {
		g, err := a.Ledger.Gather(at, nil, reconcile.FormsGroup(cfg.Vocabulary), incrementalLimit)
		if err != nil {
			return r, err
		}
		if !g.NoResult && at.Before(g.At) {
			a.Logger.Warn("the clock is before the stored reconciliation's time (it was set back): everything is recomputed",
				"now", at, "stored", g.At)
		}
		if a.incremental(g, at) {
			r = Refreshed{Units: g.Held, Changed: g.Changed, Due: g.Due}
			w := ledger.ResultWrite{Units: g.Units, Seq: g.Seq, Gen: g.Gen, At: at, Config: key, Run: saveRun}
			if len(g.Units) > 0 {
				res, err := a.Ledger.Resolutions()
				if err != nil {
					return r, err
				}
				in := reconcile.Input{Operations: g.Ops, Records: inputRecords(g.Records), Resolutions: res, Chargebacks: g.Chargebacks}
				out := reconcile.Run(in, cfg)
				w.Items, w.Places, w.Links, w.Fallbacks = out.Items, out.Places, out.Links, out.Fallbacks
				w.Ops, w.Records = in.Operations, in.Records
				r.Items = len(out.Items)
				r.FeesChecked, r.FeesUnchecked = out.FeesChecked, out.FeesUnchecked
				w.Reopened, w.Events = reopenings(out.Reopened, at, user)
				r.Reopened = w.Reopened
			}
			r.State, err = a.Ledger.WriteResult(w)
			return r, err
		}
	}
	// Collections twice as often as GOGC's default while the full
	// recompute holds its input: the engine's tables and groups hold no
	// pointer, so a collection marks little of them, and the heap then
	// stays at one and a half times what is live, not twice.
	defer collectMore(fullGCPercent)()
	fw, err := a.Ledger.BeginFull()
	if err != nil {
		return r, err
	}
	// Abort after Finish does nothing; after a panic in the engine (the
	// daemon's jobs recover) it ends the committing goroutine.
	defer fw.Abort()
	in, err := LoadInput(ctx, a.Ledger)
	if err != nil {
		return r, err
	}
	defer paceHeap()() // of the input alone: before the writer's bookkeeping
	fw.Expect(in.OpTable.Len(), in.RecordTable.Len())
	out, err := reconcile.Stream(in, cfg, fw.Add)
	if err != nil {
		return r, err
	}
	// The million operations and records go before the units' entries are
	// built: given back now, they would otherwise add to that peak.
	in = reconcile.Input{}
	debug.FreeOSMemory()
	w := ledger.ResultWrite{Links: out.Links, Fallbacks: out.Fallbacks, At: at, Config: key, Run: saveRun}
	r = Refreshed{Full: true, FeesChecked: out.FeesChecked, FeesUnchecked: out.FeesUnchecked}
	w.Reopened, w.Events = reopenings(out.Reopened, at, user)
	r.Reopened = w.Reopened
	r.State, err = fw.Finish(w)
	r.Units, r.Items = r.State.Recomputed, r.State.Items
	return r, err
}

// incremental says whether what g gathered at the time at updates the
// stored result: one is stored, of the config's verdict settings, the
// closure is within the limit, and the clock was not set back since it
// (a deadline the stored verdicts saw passed may not have passed now, and
// no index says which items those are: rare, NTP or a person moved it).
func (a *App) incremental(g ledger.Gathered, at time.Time) bool {
	return !g.NoResult && !g.TooMany && g.ConfigSeen == a.verdictKey && !at.Before(g.At)
}

// fullGCPercent is the GOGC of a full recompute (refresh).
const fullGCPercent = 50

// collectMore sets GOGC to percent until the returned func, unless it is
// lower already or off (GOGC set so by whoever runs the process).
func collectMore(percent int) (restore func()) {
	prev := debug.SetGCPercent(percent)
	if prev >= 0 && prev <= percent || prev < 0 {
		debug.SetGCPercent(prev)
		return func() {}
	}
	return func() { debug.SetGCPercent(prev) }
}

// paceHeap holds the heap of a full recompute, its input just read, to
// about twice that input until the returned func: the engine's indexes
// and the writer's bookkeeping add about half as much again, and a
// collection paced by GOGC alone let the heap grow to twice all of it.
// At a million operations the peak went from 1.45 to 1.1 GB for no more
// wall time (BENCHMARKS.md, issue 13). A soft limit: the heap may pass
// it, collections then take no more than half the CPU. A lower limit
// already set (GOMEMLIMIT) stays. Since the engine reads tables
// (reconcile/input.go) the input is about 230 MB at that size, and what
// the engine and the writer add is about as much again: the limit is then
// near what is live, and collectMore's GOGC 50 does most of the pacing.
func paceHeap() (restore func()) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	limit := int64(max(2*ms.HeapAlloc, 256<<20))
	prev := debug.SetMemoryLimit(-1)
	if prev <= limit {
		return func() {}
	}
	debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(prev) }
}

// reopenings are the resolutions out found re-opened that no run
// reported yet, stamped at, and their audit events.
func reopenings(found []domain.Resolution, at time.Time, user string) ([]domain.Resolution, []domain.AuditEvent) {
	var rs []domain.Resolution
	var events []domain.AuditEvent
	for _, r := range found {
		if !r.ReopenedAt.IsZero() {
			continue // reported already
		}
		r.ReopenedAt = at
		rs = append(rs, r)
		events = append(events, domain.AuditEvent{At: r.ReopenedAt, User: user, Action: domain.AuditReopen,
			ProjectID: r.ProjectID, ID: r.ID, Type: r.Type, Part: r.Part, Code: r.Code, Reason: r.Reason, Detail: "the data changed since it was resolved"})
	}
	return rs, events
}

// inputRecords are stored records as the engine reads them: a record
// without a time counts from its import.
func inputRecords(srs []ledger.StoredRecord) []domain.Record {
	out := make([]domain.Record, len(srs))
	for i := range srs {
		out[i] = srs[i].Record
		if out[i].CreatedAt.IsZero() {
			out[i].CreatedAt = srs[i].FirstSeen
		}
	}
	return out
}

// Stored says which stored reconciliation a reader gets, and how far it
// is behind the data.
type Stored struct {
	State  ledger.ResultState
	Behind ledger.Behind
	None   bool // no result stored: the items were computed for this reader, not saved
	// OtherSettings says the result was computed with verdict settings
	// other than the config's: the next reconcile recomputes everything.
	OtherSettings bool
	// Ahead says the result was computed at a later time than the
	// clock's now (the clock was set back since): it may call overdue
	// what is pending now; the next reconcile recomputes everything.
	Ahead bool
}

// Note says it in a line for a person: which reconciliation, and what is
// not in it.
func (s Stored) Note(loc *time.Location) string {
	if s.None {
		return "no reconciliation is stored yet: computed now from what is stored, not saved (run reconcile to store one)"
	}
	n := "from the reconciliation of " + s.State.At.In(loc).Format("2006-01-02 15:04:05 MST")
	if s.OtherSettings {
		return n + ", made with other verdict settings than the config's (tolerance, status map, limits or meanings): run reconcile first"
	}
	if s.Ahead {
		return n + ", later than the clock's now (the clock was set back since): run reconcile first"
	}
	if b := s.Behind; b.Changed+b.Due > 0 || b.Bulk {
		n += fmt.Sprintf("; since then %s and %d deadlines passed, which it does not show: run reconcile first", changedText(b), b.Due)
	}
	return n
}

// changedText says how many payments changed since the stored result.
func changedText(b ledger.Behind) string {
	if b.Bulk {
		return fmt.Sprintf("more than %d payments changed", ledger.BulkMark)
	}
	return fmt.Sprintf("%d payments changed", b.Changed)
}

// stored reads the stored result's state and how far it is behind.
func (a *App) stored() (Stored, error) {
	st, ok, err := a.Ledger.Result()
	if err != nil || !ok {
		return Stored{None: true}, err
	}
	s := Stored{State: st}
	s.Behind, err = a.Ledger.Behind(a.Now())
	s.OtherSettings = st.Config != a.verdictKey
	s.Ahead = a.Now().Before(st.At)
	return s, err
}

// eachItem streams the stored items created in [from, to) (zero is open)
// to fn, or, with none stored, all the items of a run on what is stored
// (not saved).
func (a *App) eachItem(ctx context.Context, from, to time.Time) (func(fn func(*domain.Item) error) error, Stored, error) {
	s, err := a.stored()
	if err != nil {
		return nil, s, err
	}
	if !s.None {
		return func(fn func(*domain.Item) error) error { return a.Ledger.ForEachItemIn(from, to, fn) }, s, nil
	}
	out, err := a.Reconcile(ctx)
	if err != nil {
		return nil, s, err
	}
	return func(fn func(*domain.Item) error) error {
		for i := range out.Items {
			if err := fn(&out.Items[i]); err != nil {
				return err
			}
		}
		return nil
	}, s, nil
}

// Items returns every stored item (or, with none stored, a run's), in
// the engine's order, each its own copy.
func (a *App) Items(ctx context.Context) ([]domain.Item, Stored, error) {
	each, s, err := a.eachItem(ctx, time.Time{}, time.Time{})
	if err != nil {
		return nil, s, err
	}
	var out []domain.Item
	err = each(func(it *domain.Item) error {
		c := *it
		if it.Merchant != nil {
			m := *it.Merchant
			c.Merchant = &m
		}
		if it.Provider != nil {
			p := *it.Provider
			c.Provider = &p
		}
		out = append(out, c)
		return nil
	})
	return out, s, err
}

// asks are the payments the stored items want re-checked at now, in the
// engine's order, once each.
func (a *App) asks(now time.Time) ([]reconcile.PaymentRef, error) {
	items, err := a.Ledger.Asks(now)
	if err != nil {
		return nil, err
	}
	refs := make([]reconcile.PaymentRef, len(items))
	for i, it := range items {
		refs[i] = reconcile.PaymentRef{ProjectID: it.ProjectID, PaymentID: it.PaymentID, Method: it.AskMethod, Type: it.Type}
	}
	slices.SortFunc(refs, func(a, b reconcile.PaymentRef) int {
		return cmp.Or(cmp.Compare(a.PaymentID, b.PaymentID), cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Method, b.Method))
	})
	return slices.Compact(refs), nil
}

// itemsOf returns the items of the units us as a run over everything at
// now would make them, reading only what they rest on (and what changed
// since the stored result); with no units, or no result stored, from a
// run over everything. Nothing is saved.
func (a *App) itemsOf(ctx context.Context, us []domain.Unit, now time.Time) ([]domain.Item, error) {
	cfg := a.engine
	cfg.Now = now
	var g ledger.Gathered
	var err error
	if us != nil {
		if g, err = a.Ledger.Gather(now, us, reconcile.FormsGroup(cfg.Vocabulary), incrementalLimit); err != nil {
			return nil, err
		}
	}
	var in reconcile.Input
	if us == nil || g.NoResult || g.TooMany {
		if in, err = LoadInput(ctx, a.Ledger); err != nil {
			return nil, err
		}
	} else {
		if in.Resolutions, err = a.Ledger.Resolutions(); err != nil {
			return nil, err
		}
		in.Operations, in.Records, in.Chargebacks = g.Ops, inputRecords(g.Records), g.Chargebacks
	}
	out, err := reconcile.Stream(in, cfg, nil) // over everything: may be refused (ErrTooLarge)
	return out.Items, err
}

// keepCurrent brings a stored result up to date after a resolution
// changed (resolve, unresolve: the user means to see it), as a reconcile
// would; with none stored, the next reconcile makes one.
func (a *App) keepCurrent(ctx context.Context, user string) error {
	_, _, err := a.ReconcileChanged(ctx, user)
	return err
}

// ReconcileUnits brings the stored result up to date for the units
// changes names (with the operations of each that changed: what
// UpsertCallbacks returns) and the payments their verdicts depend on,
// and nothing else: what else changed stays marked for the next
// reconcile, and the marks of writes that changed only these are
// consumed. It is what the daemon runs after callbacks stored operations,
// so that status, export and the report see their verdicts within
// seconds without recomputing a sync's pages at every callback. It never
// recomputes everything: with no result stored, one of other settings, or
// a closure past the incremental limit, it does nothing (false), and the
// next reconcile does it. user is who the audit trail names for a
// re-opening.
func (a *App) ReconcileUnits(ctx context.Context, changes ledger.Changes, user string) (Refreshed, bool, error) {
	if len(changes) == 0 {
		return Refreshed{}, false, nil
	}
	defer a.Ledger.LockResult()()
	at := a.Now().UTC()
	cfg := a.engine
	cfg.Now = at
	g, err := a.Ledger.GatherUnits(at, changes, reconcile.FormsGroup(cfg.Vocabulary), incrementalLimit)
	if err != nil || !a.incremental(g, at) {
		return Refreshed{}, false, err
	}
	r := Refreshed{Units: g.Held, Changed: len(changes)}
	res, err := a.Ledger.Resolutions()
	if err != nil {
		return r, false, err
	}
	in := reconcile.Input{Operations: g.Ops, Records: inputRecords(g.Records), Resolutions: res, Chargebacks: g.Chargebacks}
	out := reconcile.Run(in, cfg)
	w := ledger.ResultWrite{Units: g.Units, Marks: g.Marks, Gen: g.Gen, At: at, Config: a.verdictKey,
		Items: out.Items, Places: out.Places, Links: out.Links, Fallbacks: out.Fallbacks, Ops: in.Operations, Records: in.Records}
	r.Items = len(out.Items)
	r.FeesChecked, r.FeesUnchecked = out.FeesChecked, out.FeesUnchecked
	w.Reopened, w.Events = reopenings(out.Reopened, at, user)
	r.Reopened = w.Reopened
	r.State, err = a.Ledger.WriteResult(w)
	return r, err == nil, err
}

// ReconcileChanged brings the stored result up to date with what changed
// since it was stored (the units writers marked, the deadlines passed),
// as resolve does and as a reconcile would, without re-checks and
// without a run summary: what the daemon does soon after callbacks stored
// operations, so that status, export and the report see their verdicts.
// With no result stored it does nothing (false): the first reconcile
// makes one. user is who the audit trail names for a re-opening.
func (a *App) ReconcileChanged(ctx context.Context, user string) (Refreshed, bool, error) {
	if _, ok, err := a.Ledger.Result(); err != nil || !ok {
		return Refreshed{}, false, err
	}
	r, err := a.refresh(ctx, false, a.Now().UTC(), user, nil)
	return r, err == nil, err
}
