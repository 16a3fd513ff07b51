package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is one scheduled job.
type Job struct {
	// Key names the schedule across restarts and reloads: its last run is
	// stored under it. Two schedules with one key never run at once.
	Key  string
	Name string // for logs: sync, reconcile, report, export
	Spec string
	Run  func(ctx context.Context) error
}

// Store keeps the last run of each schedule (the ledger, in the daemon).
type Store interface {
	LastJobRuns() (map[string]time.Time, error)
	SaveJobRun(key string, started time.Time, took time.Duration, err error) error
}

// Runner runs jobs on their schedules. A job that is still running when
// its time comes again is skipped, with its name in the log (a lock per
// key that outlives reloads; robfig/cron's SkipIfStillRunning would log an
// anonymous "skip" first, so it is not used); a panicking job is logged and
// the runner goes on (cron.Recover, and our own recover that records it).
type Runner struct {
	ctx   context.Context // the jobs' context: done at shutdown
	loc   *time.Location
	log   *slog.Logger
	store Store
	now   func() time.Time
	// Done, if set, is called after every run (metrics), before the run is
	// logged as done.
	Done func(job Job, took time.Duration, err error)

	mu    sync.Mutex
	cron  *cron.Cron
	jobs  []Job
	locks map[string]*sync.Mutex
	// wg counts every run under way, of the current schedule or of one a
	// reload replaced; stopping (under mu) keeps new runs from starting
	// once Stop waits.
	wg       sync.WaitGroup
	stopping bool
}

// NewRunner returns a runner whose jobs get ctx and whose specs without
// CRON_TZ are read in loc.
func NewRunner(ctx context.Context, loc *time.Location, log *slog.Logger, store Store) *Runner {
	return &Runner{ctx: ctx, loc: loc, log: log, store: store, now: time.Now, locks: map[string]*sync.Mutex{}}
}

// Start schedules jobs, replacing any schedule started before (a reload).
// If a spec does not parse, nothing changes. Runs under way go on.
func (r *Runner) Start(jobs []Job) error {
	c := cron.New(cron.WithLocation(r.loc), cron.WithParser(parser),
		cron.WithChain(cron.Recover(cronLogger{r.log})))
	for _, j := range jobs {
		if _, err := Parse(j.Spec); err != nil {
			return fmt.Errorf("%s: %w", j.Key, err)
		}
		if _, err := c.AddFunc(j.Spec, func() { r.run(j) }); err != nil {
			return fmt.Errorf("%s: %w", j.Key, err)
		}
	}
	r.mu.Lock()
	old := r.cron
	r.cron, r.jobs = c, jobs
	r.mu.Unlock()
	if old != nil {
		old.Stop() // its running jobs finish on their own; the key locks keep them apart
	}
	c.Start()
	return nil
}

// CatchUp runs, once, every job whose schedule fired while the daemon was
// down: the first time after its stored last run is before now. A job that
// never ran is not caught up (nothing says it was due). It returns the keys
// it started.
func (r *Runner) CatchUp() []string {
	last, err := r.store.LastJobRuns()
	if err != nil {
		r.log.Error("catch-up: reading the last runs", "err", err)
		return nil
	}
	r.mu.Lock()
	jobs := r.jobs
	r.mu.Unlock()
	now := r.now()
	var started []string
	for _, j := range jobs {
		at, ok := last[j.Key]
		if !ok {
			continue
		}
		s, err := Parse(j.Spec)
		if err != nil {
			continue
		}
		if next := s.Next(at.In(r.loc)); !next.IsZero() && !next.After(now) {
			r.log.Info("catching up a missed run", "job", j.Name, "schedule", j.Key, "due", next, "last", at)
			if r.enter() {
				started = append(started, j.Key)
				go func() { defer r.wg.Done(); r.runEntered(j) }()
			}
		}
	}
	return started
}

// Stop stops scheduling and waits for running jobs until ctx is done.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	c := r.cron
	r.stopping = true
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		if c != nil {
			<-c.Stop().Done()
		}
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobs still running: %w", ctx.Err())
	}
}

func (r *Runner) lock(key string) *sync.Mutex {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		r.locks[key] = l
	}
	return l
}

// run runs j once, unless a run of its key is under way, and records it.
func (r *Runner) run(j Job) {
	if !r.enter() {
		return
	}
	defer r.wg.Done()
	r.runEntered(j)
}

// enter counts a run about to start in wg, unless the runner stops.
func (r *Runner) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping || r.ctx.Err() != nil {
		return false
	}
	r.wg.Add(1)
	return true
}

// runEntered is run after enter.
func (r *Runner) runEntered(j Job) {
	l := r.lock(j.Key)
	if !l.TryLock() {
		r.log.Warn("job skipped: the previous run is still going", "job", j.Name, "schedule", j.Key)
		return
	}
	defer l.Unlock()
	started := r.now()
	r.log.Info("job started", "job", j.Name, "schedule", j.Key)
	err := r.call(j)
	took := r.now().Sub(started)
	// A run the shutdown cut short stopped; it did not fail. Nor is it a
	// run: it is not recorded, so that the next start catches it up.
	stopped := err != nil && r.ctx.Err() != nil && errors.Is(err, context.Canceled)
	if r.ctx.Err() == nil || err == nil {
		if serr := r.store.SaveJobRun(j.Key, started, took, err); serr != nil {
			r.log.Error("recording the run", "job", j.Name, "err", serr)
		}
	}
	// Counted (metrics) before it is logged: whoever reads "job done" finds
	// the run counted.
	if r.Done != nil {
		r.Done(j, took, err)
	}
	switch {
	case stopped:
		r.log.Info("job stopped", "job", j.Name, "schedule", j.Key, "took", took.Round(time.Millisecond), "reason", "the daemon is stopping")
	case err != nil:
		r.log.Error("job failed", "job", j.Name, "schedule", j.Key, "took", took.Round(time.Millisecond), "err", err)
	default:
		r.log.Info("job done", "job", j.Name, "schedule", j.Key, "took", took.Round(time.Millisecond))
	}
}

// call runs the job and turns a panic into an error with its stack logged.
func (r *Runner) call(j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("job panicked", "job", j.Name, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return j.Run(r.ctx)
}

// cronLogger lets robfig/cron log through slog.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
