package web

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"reconciled/internal/analytics"
	"reconciled/internal/app"
)

// DefaultFirstWait is how long a page with nothing held waits for the
// build under way before it answers "being prepared" instead (a small
// database's build is done by then; a million operations' is not, and
// the page must answer within 100 ms).
const DefaultFirstWait = 40 * time.Millisecond

// DefaultKeepIdle is how large an index, or the analytics' partials, may
// be and still be kept past the idle drop (estimated bytes).
const DefaultKeepIdle = 6 << 20

// refreshSeconds is how often a "being prepared" page reloads itself.
const refreshSeconds = 1

// Below these sizes a build is a few tens of milliseconds on an idle
// machine: a page waits for it whole instead of FirstWait, so a small
// database (the tests', a new merchant's) never shows "being prepared",
// however loaded the machine.
const (
	smallOperations = 20_000  // the analytics' partials: one pass over the operations
	smallItems      = 100_000 // the index: one pass over the stored items' keys
)

// job is one build in the background: done is closed when it ends, err
// says how; read and total are its progress (operations), for the page
// that says "being prepared"; small, that a page waits for it whole.
type job struct {
	done        chan struct{}
	err         error
	read, total atomic.Int64
	small       bool
	// Of what it was made: the generation and zone (the partials), the
	// result's key (the index); a failed job is kept with them, so that
	// the same data is not tried again at every page (failed).
	gen  uint64
	zone string
	key  string
}

// prepareError is a build that failed for the data as it is: the page
// says what could not be prepared and does not reload itself; the next
// write (the partials) or result (the index) is tried again.
type prepareError struct {
	what string
	err  error
}

func (e *prepareError) Error() string { return e.what + " could not be prepared: " + e.err.Error() }
func (e *prepareError) Unwrap() error { return e.err }

func newJob(small bool) *job { return &job{done: make(chan struct{}), small: small} }

func (j *job) Total(n int64)     { j.total.Store(n) }
func (j *job) Add(k int)         { j.read.Add(int64(k)) }
func (j *job) Set(int64, string) {}
func (j *job) Done()             {}

// wait waits for j up to d, or to its end if it is small (or until ctx
// is done); true if it ended. A negative d waits for nothing.
func (j *job) wait(ctx context.Context, d time.Duration) bool {
	if d < 0 {
		return false
	}
	var timeout <-chan time.Time
	if !j.small {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-j.done:
		return true
	case <-timeout:
	case <-ctx.Done():
	}
	return false
}

// progressText is "N of M operations read" (M when known).
func (j *job) progressText() string {
	read, total := j.read.Load(), j.total.Load()
	if total > 0 {
		return thousands(min(read, total)) + " of " + thousands(total) + " operations read"
	}
	return thousands(read) + " operations read so far"
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// heldDays are the analytics' per-day partials of the database at one
// generation, in one zone.
type heldDays struct {
	zone    string
	gen     uint64
	d       *analytics.Days
	made    time.Time
	entries int
}

// bytesPerEntry estimates what one key of the partials' tables takes
// (a map slot, its Totals and their volume map: BenchmarkWebPages'
// days-heap-MB over its entries, rounded up).
const bytesPerEntry = 160

func (h *heldDays) bytes() int { return h.entries * bytesPerEntry }

// Prepare starts building, in the background, what the pages read: the
// index of the open exceptions and the analytics' partials, so that the
// first pages after a start find them (the daemon and `reconciled web`
// call it when they start serving).
func (s *Server) Prepare() {
	a := s.o.App()
	s.mu.Lock()
	s.touchLocked() // the idle drop's clock runs even if no page is asked for
	s.mu.Unlock()
	go func() {
		if _, _, _, _, err := s.index(context.Background(), a); err != nil {
			s.o.Log.Error("web: indexing the open exceptions failed", "err", err)
		}
	}()
	s.sumMu.Lock()
	s.startDays(a)
	s.sumMu.Unlock()
}

// startDays starts making the partials of the database as it is now,
// unless that is under way (sumMu held).
func (s *Server) startDays(a *app.App) *job {
	if s.daysJob != nil {
		return s.daysJob
	}
	total := int64(-1)
	if counts, err := a.Ledger.Counts(); err == nil {
		total = 0
		for _, c := range counts {
			total += c.Operations
		}
	}
	j := newJob(total >= 0 && total <= smallOperations)
	j.total.Store(total)
	s.daysJob = j
	epoch, ctx := s.epoch.Load(), s.life.Load().ctx
	go func() {
		zone := a.Config.Zone().String()
		gen, err := a.Ledger.Generation()
		made := time.Now()
		var d *analytics.Days
		if err == nil {
			d, err = a.SummaryDays(ctx, j)
			settle(a)
		}
		s.sumMu.Lock()
		defer s.sumMu.Unlock()
		s.daysJob = nil
		j.err, j.gen, j.zone = err, gen, zone
		close(j.done)
		if err != nil {
			if epoch == s.epoch.Load() { // else stopped by Drop
				s.o.Log.Error("web: the analytics could not be made", "err", err)
				s.daysFailed = j
			}
			return
		}
		if epoch != s.epoch.Load() {
			return // dropped meanwhile
		}
		s.days = &heldDays{zone: zone, gen: gen, d: d, made: made, entries: d.Entries()}
		s.daysFailed = nil
		s.sums = nil
		s.o.Log.Info("web: made the analytics' partials", "entries", s.days.entries, "took", time.Since(made).Round(time.Millisecond))
	}()
	return j
}

// AnalyticsEntries is how many keys the analytics' partials held have
// (0: none held; a benchmark's measure of them).
func (s *Server) AnalyticsEntries() int {
	s.sumMu.Lock()
	defer s.sumMu.Unlock()
	if s.days == nil {
		return 0
	}
	return s.days.entries
}
