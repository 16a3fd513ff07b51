// Package syncer pulls operations from the Data API into the ledger.
//
// A sync covers [from, to] per project, where from is the project's
// watermark minus the lookback (late status changes land inside it) and to
// is now. The window is walked in chunks of a day; each chunk is paged
// through /operations/get, every page stored in its own write transaction,
// and only when a chunk is complete does the watermark move to its end. A
// sync killed at any moment therefore leaves the watermark behind what is
// stored, never ahead: the next run pulls the same operations again and the
// idempotent upsert makes that harmless. Nothing is lost and nothing is
// counted twice.
//
// Fetching and storing overlap: the next page is fetched (and its signature
// checked) while the previous one is written.
//
// After the operations (and the fees), a run with Balances reads each
// project's balances (balances.go): a failed read is recorded beside the
// last reading and does not fail the run.
package syncer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// DefaultChunk is how much of the window one step pulls before the
// watermark moves.
const DefaultChunk = 24 * time.Hour

// Syncer pulls operations. Client and Ledger are required.
type Syncer struct {
	Client   *dataapi.Client
	Ledger   *ledger.Ledger
	Projects []int64       // default projects of a run
	Lookback time.Duration // re-pulled before the watermark
	Start    time.Time     // where the first sync of a project begins; zero: now - Lookback
	Chunk    time.Duration // default DefaultChunk
	Now      func() time.Time
	Logger   *slog.Logger
	// Vocabulary decides which types and statuses are worth a warning
	// (those it does not know); nil: domain.Builtin.
	Vocabulary *domain.Vocabulary
	// Progress, if set, is called after every stored page with the totals
	// so far.
	Progress func(Result)
	// Fees: a run also pulls /financial-reporting/operations and stores
	// the fee of each operation (config fees.sync), with a watermark of
	// its own, after the operations.
	Fees bool
	// Chargebacks: a run also pulls /chargeback/list (config
	// chargebacks.sync), with a watermark of its own, looking back
	// ChargebackLookback (a dispute changes status weeks after it opened,
	// and which time the API's interval selects on is not stated).
	Chargebacks        bool
	ChargebackLookback time.Duration
	// Balances: a run then reads each project's balances from
	// /balance/get and stores them (config balances.sync; balances.go).
	Balances bool
}

// ChargebackChunk is how much of the window one request of the chargeback
// sync covers: chargebacks are few, and their lookback is long.
const ChargebackChunk = 31 * 24 * time.Hour

// Options narrow one run.
type Options struct {
	Projects []int64   // default Syncer.Projects
	From, To time.Time // an explicit window; zero From: from the watermark
}

// Result sums up a run.
type Result struct {
	Pages      int
	Operations int // rows received, repeats included
	ledger.PageStats
	Bytes   int64
	Elapsed time.Duration
	// Missing counts the operations stored without a parameter that was
	// asked for and did not come (stored empty), by field path.
	Missing map[string]int
	// Unknown counts the operations received with a type or status the
	// vocabulary does not know (stored as they came, read as not final),
	// for at most MaxUnknownWords words; UnknownOther counts the
	// operations of the words past those.
	Unknown      map[ledger.WordKey]int
	UnknownOther int
	// Fees is what the fee sync did (Syncer.Fees).
	Fees FeeResult
	// Chargebacks is what the chargeback sync did (Syncer.Chargebacks).
	Chargebacks ChargebackResult
	// Balances is what the balance reads did (Syncer.Balances).
	Balances BalanceResult
}

// ChargebackResult sums up the chargeback sync of a run.
type ChargebackResult struct {
	Pages, Records int
	ledger.ChargebackStats
}

// FeeResult sums up the fee sync of a run.
type FeeResult struct {
	Pages, Records int
	ledger.FeeStats
}

// stream is what a run pulls into the ledger: the operations, or their
// fees. Both page, sign, retry, keep a watermark and look back alike.
type stream struct {
	name      string
	watermark func(ledger.SyncState) time.Time
	fetch     func(ctx context.Context, q dataapi.Query, fn func(*dataapi.Page) error) error
	store     func(p *dataapi.Page, res *Result) error
	advance   func(projects []int64, t time.Time) error
	record    func(projects []int64, at time.Time, err error) error
	lookback  time.Duration // zero: Syncer.Lookback
	chunk     time.Duration // zero: Syncer.Chunk
}

func (s *Syncer) operations() stream {
	return stream{
		name:      "operations",
		watermark: func(st ledger.SyncState) time.Time { return st.Watermark },
		fetch:     s.Client.Operations,
		store: func(p *dataapi.Page, res *Result) error {
			st, err := s.Ledger.UpsertPage(p.Operations, s.Now())
			if err != nil {
				return err
			}
			res.Pages++
			res.Operations += len(p.Operations)
			s.note(res, p)
			res.Bytes += int64(p.Bytes)
			res.PageStats.Add(st)
			s.Logger.Debug("page stored", "projects", p.Projects, "offset", p.Offset, "rows", len(p.Operations),
				"new", st.New, "updated", st.Updated, "unchanged", st.Unchanged)
			return nil
		},
		advance: s.Ledger.AdvanceWatermark,
		record:  s.Ledger.RecordSync,
	}
}

func (s *Syncer) fees() stream {
	return stream{
		name:      "fees",
		watermark: func(st ledger.SyncState) time.Time { return st.Fees.Watermark },
		fetch:     s.Client.FinancialOperations,
		store: func(p *dataapi.Page, res *Result) error {
			st, err := s.Ledger.UpsertFees(p.Operations, s.Now())
			if err != nil {
				return err
			}
			f := &res.Fees
			f.Pages++
			f.Records += len(p.Operations)
			f.New, f.Updated, f.Unchanged, f.Unreported = f.New+st.New, f.Updated+st.Updated, f.Unchanged+st.Unchanged, f.Unreported+st.Unreported
			res.Bytes += int64(p.Bytes)
			s.Logger.Debug("fees stored", "projects", p.Projects, "offset", p.Offset, "rows", len(p.Operations),
				"new", st.New, "updated", st.Updated, "unchanged", st.Unchanged, "unreported", st.Unreported)
			return nil
		},
		advance: s.Ledger.AdvanceFeeWatermark,
		record:  s.Ledger.RecordFeeSync,
	}
}

func (s *Syncer) chargebacks() stream {
	return stream{
		name:      "chargebacks",
		watermark: func(st ledger.SyncState) time.Time { return st.Chargebacks.Watermark },
		fetch:     s.Client.Chargebacks,
		store: func(p *dataapi.Page, res *Result) error {
			st, err := s.Ledger.UpsertChargebacks(p.Chargebacks, s.Now())
			if err != nil {
				return err
			}
			c := &res.Chargebacks
			c.Pages++
			c.Records += len(p.Chargebacks)
			c.New, c.Updated, c.Unchanged = c.New+st.New, c.Updated+st.Updated, c.Unchanged+st.Unchanged
			res.Bytes += int64(p.Bytes)
			s.Logger.Debug("chargebacks stored", "projects", p.Projects, "offset", p.Offset, "rows", len(p.Chargebacks),
				"new", st.New, "updated", st.Updated, "unchanged", st.Unchanged)
			return nil
		},
		advance:  s.Ledger.AdvanceChargebackWatermark,
		record:   s.Ledger.RecordChargebackSync,
		lookback: max(s.ChargebackLookback, s.Lookback),
		chunk:    max(ChargebackChunk, s.Chunk),
	}
}

// MaxUnknownWords bounds the words a Result tells apart: a broken upstream
// could send a new one with every operation.
const MaxUnknownWords = 1000

// maxWarnings is how many unknown words a run warns of, the most frequent
// first; one more line says how many others there were.
const maxWarnings = 20

// Run syncs once. On error or cancellation what was stored stays stored,
// and the error is recorded in each project's sync state.
func (s *Syncer) Run(ctx context.Context, o Options) (Result, error) {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Chunk <= 0 {
		s.Chunk = DefaultChunk
	}
	projects := o.Projects
	if len(projects) == 0 {
		projects = s.Projects
	}
	if len(projects) == 0 {
		return Result{}, errors.New("no projects to sync")
	}
	var res Result
	begin := time.Now()
	err := s.run(ctx, o, projects, s.operations(), &res, begin)
	if s.Fees && ctx.Err() == nil {
		err = errors.Join(err, s.run(ctx, o, projects, s.fees(), &res, begin))
	}
	if s.Chargebacks && ctx.Err() == nil {
		err = errors.Join(err, s.run(ctx, o, projects, s.chargebacks(), &res, begin))
	}
	if s.Balances && ctx.Err() == nil {
		err = errors.Join(err, s.readBalances(ctx, projects, &res))
	}
	res.Elapsed = time.Since(begin)
	s.warn(&res)
	return res, err
}

// run pulls one stream for projects.
func (s *Syncer) run(ctx context.Context, o Options, projects []int64, st stream, res *Result, begin time.Time) error {
	now := s.Now().UTC().Truncate(time.Second)
	to := now
	if !o.To.IsZero() && o.To.Before(now) {
		// Never past now: the watermark would move over operations that
		// do not exist yet, and they would never be pulled.
		to = o.To.UTC().Truncate(time.Second)
	}

	lookback, chunk := cmp.Or(st.lookback, s.Lookback), cmp.Or(st.chunk, s.Chunk)
	// Projects that start at the same time are pulled together. A project
	// never synced starts at Start, or now - lookback.
	firstStart := now.Add(-lookback)
	if !s.Start.IsZero() {
		firstStart = s.Start.UTC()
	}
	groups := map[time.Time][]int64{}
	covered := map[int64]time.Time{} // where each project's coverage ends
	for _, p := range projects {
		state, err := s.Ledger.SyncState(p)
		if err != nil {
			return err
		}
		mark := st.watermark(state)
		covered[p] = mark
		if mark.IsZero() {
			covered[p] = firstStart
		}
		from := o.From.UTC()
		switch {
		case !o.From.IsZero():
		case !mark.IsZero():
			from = mark.Add(-lookback)
		default:
			from = firstStart
		}
		groups[from] = append(groups[from], p)
	}

	var errs []error
	for _, from := range slices.SortedFunc(maps.Keys(groups), time.Time.Compare) {
		group := groups[from]
		if !to.After(from) {
			s.Logger.Warn("nothing to sync: the window is empty", "projects", group, "from", from, "to", to)
			continue
		}
		// An explicit window moves the watermark only if it continues
		// what is covered; one that starts later would leave a gap.
		advance := true
		for _, p := range group {
			if from.After(covered[p]) {
				advance = false
				s.Logger.Warn("the window starts after what is synced: the watermark stays", "project", p, "synced_to", covered[p], "from", from)
			}
		}
		s.Logger.Info("sync window", "of", st.name, "projects", group, "from", from, "to", to, "moves_watermark", advance)
		err := s.pullGroup(ctx, st, group, from, to, chunk, advance, res, begin)
		// A sync stopped by SIGTERM or Ctrl-C did not fail: it is not
		// recorded as the projects' last error (status, the report's sync
		// health); what it stored is kept and the watermark says how far.
		if !Stopped(ctx, err) {
			if rerr := st.record(group, s.Now(), err); rerr != nil && err == nil {
				err = rerr
			}
		}
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			// Other projects may still sync (one project refused by the
			// API must not stop the rest).
		}
	}
	return errors.Join(errs...)
}

// warn logs what a run met that is worth a warning.
func (s *Syncer) warn(res *Result) {
	for path, n := range res.Missing {
		s.Logger.Warn("operations came without a parameter that was asked for: stored empty", "field", path, "operations", n,
			"hint", "the Data API did not send what data_api.fields asks for")
	}
	words := slices.SortedFunc(maps.Keys(res.Unknown), func(a, b ledger.WordKey) int {
		return cmp.Or(cmp.Compare(res.Unknown[b], res.Unknown[a]), cmp.Compare(a.Field, b.Field), strings.Compare(a.Word, b.Word))
	})
	for i, w := range words {
		if i == maxWarnings {
			s.Logger.Warn("ECommPay sent more words reconciled does not know", "more_words", len(words)-maxWarnings,
				"operations_of_words_not_counted_apart", res.UnknownOther, "hint", "reconciled status lists them")
			break
		}
		s.Logger.Warn("ECommPay sent a word reconciled does not know: stored as it came, read as not final",
			"field", w.Field.String(), "word", domain.Shorten(w.Word), "operations", res.Unknown[w], "hint", "give it a meaning in [reconcile] (see config.example.toml)")
	}
	if n := res.Fees.Unreported; n > 0 {
		s.Logger.Warn("records of /financial-reporting/operations came without a fee: none stored for them", "records", n)
	}
}

// Stopped reports whether err is ctx's cancellation: a stop (SIGTERM,
// Ctrl-C), not a failure.
func Stopped(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled)
}

// note counts what a stored page had that is worth a warning.
func (s *Syncer) note(res *Result, p *dataapi.Page) {
	for path, n := range p.Missing {
		if res.Missing == nil {
			res.Missing = map[string]int{}
		}
		res.Missing[path] += n
	}
	v := s.Vocabulary
	if v == nil {
		v = domain.Builtin
	}
	for i := range p.Operations {
		for _, f := range domain.Fields {
			if w := f.Word(&p.Operations[i]); !v.Known(f, w) {
				if res.Unknown == nil {
					res.Unknown = map[ledger.WordKey]int{}
				}
				k := ledger.WordKey{Field: f, Word: w}
				if _, ok := res.Unknown[k]; !ok && len(res.Unknown) >= MaxUnknownWords {
					res.UnknownOther++
					continue
				}
				res.Unknown[k]++
			}
		}
	}
}

func (s *Syncer) pullGroup(ctx context.Context, st stream, group []int64, from, to time.Time, chunk time.Duration, advance bool, res *Result, begin time.Time) error {
	for c := from; c.Before(to); c = c.Add(chunk) {
		end := c.Add(chunk)
		if end.After(to) {
			end = to
		}
		s.Logger.Debug("sync window", "projects", group, "from", c, "to", end)
		if err := s.pullWindow(ctx, st, dataapi.Query{Projects: group, From: c, To: end}, res, begin); err != nil {
			return err
		}
		if advance {
			if err := st.advance(group, end); err != nil {
				return err
			}
		}
	}
	return nil
}

// pullWindow fetches the pages of q in one goroutine and stores them in
// this one, one transaction per page.
func (s *Syncer) pullWindow(ctx context.Context, st stream, q dataapi.Query, res *Result, begin time.Time) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan *dataapi.Page, 2)
	fetchErr := make(chan error, 1)
	go func() {
		defer close(pages)
		fetchErr <- st.fetch(ctx, q, func(p *dataapi.Page) error {
			select {
			case pages <- p:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var storeErr error
	for p := range pages {
		if storeErr != nil {
			continue // drain so the fetcher can finish
		}
		if err := st.store(p, res); err != nil {
			storeErr = fmt.Errorf("%s of projects %v, offset %d: %w", st.name, p.Projects, p.Offset, err)
			cancel()
			continue
		}
		if s.Progress != nil {
			r := *res
			r.Elapsed = time.Since(begin)
			s.Progress(r)
		}
	}
	if storeErr != nil {
		return storeErr
	}
	return <-fetchErr
}
