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

// job is one build in the background: done is closed when it ends, err
// says how; read and total are its progress (operations), for the page
// that says "being prepared".
type job struct {
	done        chan struct{}
	err         error
	read, total atomic.Int64
}

func newJob() *job { return &job{done: make(chan struct{})} }

func (j *job) Total(n int64)     { j.total.Store(n) }
func (j *job) Add(k int)         { j.read.Add(int64(k)) }
func (j *job) Set(int64, string) {}
func (j *job) Done()             {}

// wait waits for j up to d (or ctx); true if it ended.
func (j *job) wait(ctx context.Context, d time.Duration) bool {
	if d < 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-j.done:
		return true
	case <-t.C:
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
	j := newJob()
	s.daysJob = j
	epoch := s.epoch.Load()
	go func() {
		zone := a.Config.Zone().String()
		gen, err := a.Ledger.Generation()
		made := time.Now()
		var d *analytics.Days
		if err == nil {
			d, err = a.SummaryDays(context.Background(), j)
			settle(a)
		}
		s.sumMu.Lock()
		defer s.sumMu.Unlock()
		s.daysJob = nil
		j.err = err
		close(j.done)
		if err != nil {
			s.o.Log.Error("web: the analytics could not be made", "err", err)
			return
		}
		if epoch != s.epoch.Load() {
			return // dropped meanwhile
		}
		s.days = &heldDays{zone: zone, gen: gen, d: d, made: made, entries: d.Entries()}
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
