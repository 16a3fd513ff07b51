package web

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/ledger"
)

// emptyApp is an App over a new database: no operation, no stored
// reconciliation.
func emptyApp(t *testing.T) *app.App {
	cfg := config.Default()
	cfg.Storage.Path = filepath.Join(t.TempDir(), "reconciled.db")
	l, err := ledger.Open(cfg.Storage.Path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return app.New(app.App{Config: cfg, Ledger: l})
}

// Prepare starts the idle drop's clock even when there is no stored
// result to index (the partials made would otherwise be held for good,
// however large, until a page is asked for).
func TestPrepareStartsTheIdleClock(t *testing.T) {
	a := emptyApp(t)
	s := New(Options{App: func() *app.App { return a }})
	s.Prepare()
	s.Wait()
	s.mu.Lock()
	running := s.timer != nil
	s.mu.Unlock()
	if !running {
		t.Fatal("after Prepare with no stored result, the idle clock does not run")
	}
	s.Drop()
}

// The idle drop firing while Drop stops it (Drop holds the lock, the
// timer's func waits for it) finds no timer: it must end, not use it.
func TestIdleAfterDrop(t *testing.T) {
	a := emptyApp(t)
	s := New(Options{App: func() *app.App { return a }, IdleDrop: time.Hour})
	s.Prepare()
	s.Wait()
	s.Drop()
	s.mu.Lock()
	s.used = time.Now()
	s.mu.Unlock()
	s.idle() // what the fired timer runs once Drop let go of the lock
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		t.Error("the idle drop started a timer after Drop")
	}
}

// A build overtaken by the build of a newer result (a reconcile while it
// ran) does not replace the newer index when it ends after it.
func TestOvertakenBuildIsNotHeld(t *testing.T) {
	a := emptyApp(t)
	if _, err := a.RunReconcile(context.Background(), app.RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	s := New(Options{App: func() *app.App { return a }})
	older, newer := newJob(false), newJob(false)
	s.mu.Lock()
	s.ix = &index{key: "newer"} // the newer result's, held already
	s.building, s.ixJob = "newest", newer
	s.mu.Unlock()
	s.rebuild(context.Background(), a, "older", older, s.epoch.Load())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ix.key != "newer" || s.ixJob != newer {
		t.Errorf("the overtaken build took the place of the newer one: held %q", s.ix.key)
	}
	select {
	case <-older.done:
	default:
		t.Error("the overtaken build's waiters are not told it ended")
	}
}
