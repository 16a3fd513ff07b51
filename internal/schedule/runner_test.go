package schedule

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reconciled/internal/ledger"
)

func openLedger(t *testing.T) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(filepath.Join(t.TempDir(), "r.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// syncBuffer is a log sink safe for the runner's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRunnerRunsRecordsSkipsAndSurvivesPanics(t *testing.T) {
	l := openLedger(t)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := NewRunner(ctx, time.UTC, log, l)

	var quick, slow, panics atomic.Int32
	release := make(chan struct{})
	jobs := []Job{
		{Key: "quick", Name: "sync", Spec: "@every 1s", Run: func(context.Context) error { quick.Add(1); return nil }},
		{Key: "slow", Name: "report", Spec: "* * * * * *", Run: func(context.Context) error { slow.Add(1); <-release; return nil }},
		{Key: "boom", Name: "export", Spec: "@every 1s", Run: func(context.Context) error { panics.Add(1); panic("kaboom") }},
	}
	if err := r.Start(jobs); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond)
	close(release)
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if quick.Load() < 2 {
		t.Errorf("quick ran %d times in 3.5 s", quick.Load())
	}
	if slow.Load() != 1 {
		t.Errorf("a job still running was started again: %d runs", slow.Load())
	}
	if panics.Load() < 2 {
		t.Errorf("after a panic the job ran %d times: the runner died?", panics.Load())
	}
	runs, err := l.JobRuns()
	if err != nil {
		t.Fatal(err)
	}
	if runs["quick"].Started.IsZero() || runs["quick"].Error != "" || runs["boom"].Error != "panic: kaboom" || runs["slow"].Started.IsZero() {
		t.Errorf("stored runs %+v", runs)
	}
	// A skipped run names its job: the journal must say which one is stuck.
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "job skipped") && !strings.Contains(line, "job=report schedule=slow") {
			t.Errorf("a skip that does not name its job: %s", line)
		}
	}
	for _, want := range []string{"job skipped", "job panicked", "kaboom"} {
		if !bytes.Contains([]byte(logs.String()), []byte(want)) {
			t.Errorf("log lacks %q", want)
		}
	}
}

func TestRunnerRejectsABadSpecAndKeepsTheOldSchedule(t *testing.T) {
	l := openLedger(t)
	r := NewRunner(context.Background(), time.UTC, slog.New(slog.DiscardHandler), l)
	var n atomic.Int32
	if err := r.Start([]Job{{Key: "a", Spec: "@every 1s", Run: func(context.Context) error { n.Add(1); return nil }}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Start([]Job{{Key: "a", Spec: "61 * * * *", Run: func(context.Context) error { return nil }}}); err == nil {
		t.Fatal("a bad spec was accepted")
	}
	time.Sleep(1500 * time.Millisecond)
	r.Stop(context.Background())
	if n.Load() == 0 {
		t.Error("the old schedule stopped after a rejected reload")
	}
}

func TestCatchUpRunsMissedSchedulesOnce(t *testing.T) {
	l := openLedger(t)
	now := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	// Daily at 07:00 Moscow (04:00 UTC): last ran yesterday, so today's run
	// was missed. Hourly: ran at 09:00, nothing missed. Never ran: no catch-up.
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.SaveJobRun("daily", time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC), time.Second, nil))
	must(l.SaveJobRun("hourly", time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), time.Second, errors.New("x")))
	var ran sync.Map
	job := func(key string) func(context.Context) error {
		return func(context.Context) error { ran.Store(key, true); return nil }
	}
	r := NewRunner(context.Background(), time.UTC, slog.New(slog.DiscardHandler), l)
	r.now = func() time.Time { return now }
	must(r.Start([]Job{
		{Key: "daily", Spec: "CRON_TZ=Europe/Moscow 0 7 * * *", Run: job("daily")},
		{Key: "hourly", Spec: "0 * * * *", Run: job("hourly")},
		{Key: "new", Spec: "0 7 * * *", Run: job("new")},
	}))
	started := r.CatchUp()
	must(r.Stop(context.Background()))
	if len(started) != 1 || started[0] != "daily" {
		t.Fatalf("caught up %v, want [daily]", started)
	}
	if _, ok := ran.Load("daily"); !ok {
		t.Error("the daily job did not run")
	}
	runs, _ := l.JobRuns()
	if !runs["daily"].Started.Equal(now) {
		t.Errorf("daily's last run is %v, want %v", runs["daily"].Started, now)
	}
}

// TestStopWaitsForARunOfAReplacedSchedule: a run that began before a
// reload replaced its schedule is still waited for at shutdown.
func TestStopWaitsForARunOfAReplacedSchedule(t *testing.T) {
	l := openLedger(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := NewRunner(ctx, time.UTC, slog.New(slog.DiscardHandler), l)
	started, finished := make(chan struct{}), make(chan struct{})
	var once sync.Once
	old := []Job{{Key: "long", Name: "report", Spec: "@every 1s", Run: func(context.Context) error {
		once.Do(func() { close(started) })
		time.Sleep(1500 * time.Millisecond)
		close(finished)
		return nil
	}}}
	if err := r.Start(old); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := r.Start([]Job{{Key: "other", Name: "sync", Spec: "@every 1h", Run: func(context.Context) error { return nil }}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
	default:
		t.Fatal("Stop returned while a run of the replaced schedule was still going")
	}
}
