package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hookHandler calls onRecord for every record, then logs it.
type hookHandler struct {
	slog.Handler
	onRecord func(slog.Record)
}

func (h hookHandler) Handle(ctx context.Context, r slog.Record) error {
	h.onRecord(r)
	return h.Handler.Handle(ctx, r)
}
func (h hookHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return hookHandler{h.Handler.WithAttrs(as), h.onRecord}
}
func (h hookHandler) WithGroup(name string) slog.Handler {
	return hookHandler{h.Handler.WithGroup(name), h.onRecord}
}

// catchUpOnce runs job once through CatchUp (a run missed since the day
// before) and waits for it with Stop.
func catchUpOnce(t *testing.T, r *Runner, job Job) {
	t.Helper()
	now := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	if err := r.store.SaveJobRun(job.Key, now.Add(-24*time.Hour), time.Second, nil); err != nil {
		t.Fatal(err)
	}
	r.now = func() time.Time { return now }
	if err := r.Start([]Job{job}); err != nil {
		t.Fatal(err)
	}
	if started := r.CatchUp(); len(started) != 1 {
		t.Fatalf("caught up %v", started)
	}
}

// TestARunIsCountedBeforeItIsLoggedDone: whoever reads "job done" in the
// log (a person, a test) finds the run already counted by Done (the
// daemon's metrics): Done is called before the line is written.
func TestARunIsCountedBeforeItIsLoggedDone(t *testing.T) {
	l := openLedger(t)
	var done atomic.Int32
	var countedAtLog []int32
	var mu sync.Mutex
	var logs syncBuffer
	log := slog.New(hookHandler{slog.NewTextHandler(&logs, nil), func(rec slog.Record) {
		if rec.Message == "job done" {
			mu.Lock()
			countedAtLog = append(countedAtLog, done.Load())
			mu.Unlock()
		}
	}})
	r := NewRunner(context.Background(), time.UTC, log, l)
	r.Done = func(Job, time.Duration, error) { done.Add(1) }
	catchUpOnce(t, r, Job{Key: "hourly", Name: "sync", Spec: "0 * * * *", Run: func(context.Context) error { return nil }})
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(countedAtLog) != 1 || countedAtLog[0] != 1 {
		t.Fatalf("runs counted when \"job done\" was logged: %v, want [1]\n%s", countedAtLog, logs.String())
	}
}

// TestARunCutShortByAStopIsLoggedAsAStop: SIGTERM cancels the jobs'
// context; a job that returns because of it stopped, it did not fail: the
// log says so at INFO, no ERROR, and the run is not recorded (it is caught
// up at the next start).
func TestARunCutShortByAStopIsLoggedAsAStop(t *testing.T) {
	l := openLedger(t)
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := NewRunner(ctx, time.UTC, slog.New(slog.NewTextHandler(&logs, nil)), l)
	running := make(chan struct{})
	var doneErr error
	r.Done = func(_ Job, _ time.Duration, err error) { doneErr = err }
	catchUpOnce(t, r, Job{Key: "hourly", Name: "sync", Spec: "0 * * * *", Run: func(ctx context.Context) error {
		close(running)
		<-ctx.Done()
		return fmt.Errorf("sync: store page 3: %w", ctx.Err())
	}})
	<-running
	cancel()
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Contains(out, "level=ERROR") || !strings.Contains(out, `level=INFO msg="job stopped" job=sync`) {
		t.Errorf("a stopped run is not logged as a stop:\n%s", out)
	}
	if doneErr == nil {
		t.Error("Done did not hear how the run ended")
	}
	runs, err := l.JobRuns()
	if err != nil {
		t.Fatal(err)
	}
	if runs["hourly"].Error != "" || runs["hourly"].Started.After(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the stopped run was recorded: %+v", runs["hourly"])
	}
}
