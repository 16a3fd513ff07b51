package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
)

// child starts the test binary as `reconciled --config … args`. The fake
// clock is fixed (the fake API's data does not change), so a child's own
// clock does not matter beyond the window's end.
func (w *world) child(t testing.TB, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--config", w.config}, args...)...)
	cmd.Env = append(os.Environ(), "RECONCILED_TEST_CHILD=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// waitServed waits until the fake has sent n more operations.
func waitServed(t *testing.T, f *fakeapi.Server, from, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for f.Served() < from+n {
		if time.Now().After(deadline) {
			t.Fatalf("the child did not fetch %d operations in 30s", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSyncKilledAnywhereLosesAndDuplicatesNothing kills a sync with
// SIGKILL at random points, several times, then lets one finish: the
// database must then hold exactly the API's operations, and be consistent
// after every kill.
func TestSyncKilledAnywhereLosesAndDuplicatesNothing(t *testing.T) {
	// The child's clock is real, so the fake's data ends in the past: every
	// run covers it all.
	// A short lookback, so that each run goes on from where the last one
	// moved the watermark (one chunk is a day: 2880 operations).
	w := newWorld(t, 12000, 30*time.Second, "page_size = 250\nlookback = \"1h\"\n")
	w.setNow(time.Now())
	w.fake.SetFaults(fakeapi.Faults{Delay: 5 * time.Millisecond})
	rng := rand.New(rand.NewPCG(1, 2))
	for kill := 1; kill <= 6; kill++ {
		cmd, out := w.child(t, "sync")
		waitServed(t, w.fake, w.fake.Served(), 250+rng.IntN(4000))
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond) // land anywhere: in a fetch, a decode or a commit
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Logf("kill %d: the child had finished already (%v): %s", kill, err, out)
		}
		l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("after kill %d: %v", kill, err)
		}
		if err := l.Check(); err != nil {
			t.Fatalf("after kill %d the database is inconsistent: %v", kill, err)
		}
		c, _ := l.Counts()
		t.Logf("kill %d: %d operations stored, %d served", kill, c[580].Operations+c[579].Operations, w.fake.Served())
		l.Close()
	}
	cmd, out := w.child(t, "sync")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final sync: %v\n%s", err, out)
	}
	w.mirror(t)
	cmd, out = w.child(t, "sync")
	if err := cmd.Wait(); err != nil || !strings.Contains(out.String(), " 0 new, 0 updated") {
		t.Fatalf("sync after the full one: %v\n%s", err, out)
	}
}

// TestDatabaseHeldByAnotherProcess: while one reconciled syncs, another
// fails within a few seconds and says why, instead of hanging.
func TestDatabaseHeldByAnotherProcess(t *testing.T) {
	w := newWorld(t, 4000, 30*time.Second, "page_size = 100\n")
	w.setNow(time.Now())
	w.fake.SetFaults(fakeapi.Faults{Delay: 200 * time.Millisecond}) // a slow sync that holds the file
	cmd, _ := w.child(t, "sync")
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitServed(t, w.fake, 0, 100)
	begin := time.Now()
	code, _, errOut := w.run(t, "status")
	if code != 1 || !strings.Contains(errOut, "held by another reconciled process") {
		t.Fatalf("status while a sync runs: exit %d\n%s", code, errOut)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("took %v to give up", d)
	}
}

// TestInterruptedExportLeavesNoPartialFile interrupts XLSX and CSV exports
// with SIGINT (Ctrl-C) while they write: the command fails, the file it was
// replacing is untouched, and no temporary file is left.
func TestInterruptedExportLeavesNoPartialFile(t *testing.T) {
	w := opsWorldT(t, 60_000)
	for _, format := range []string{"xlsx", "csv"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "ops."+format)
		old := []byte("yesterday's export\n")
		if err := os.WriteFile(path, old, 0o640); err != nil {
			t.Fatal(err)
		}
		cmd, out := w.child(t, "export", "--what", "operations", "--format", format, "-o", path)
		deadline := time.Now().Add(30 * time.Second)
		for {
			tmp, _ := filepath.Glob(filepath.Join(dir, ".ops."+format+".reconciled-*.tmp"))
			if len(tmp) > 0 {
				if fi, err := os.Stat(tmp[0]); err == nil && fi.Size() > 0 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no temporary file began in 30s: %s", format, out)
			}
			time.Sleep(time.Millisecond)
		}
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		if err == nil {
			t.Errorf("%s: an interrupted export exited 0: %s", format, out)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, old) {
			t.Errorf("%s: the previous file changed to %d bytes", format, len(got))
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 1 {
			t.Errorf("%s: left %v", format, left)
		}
		if hidden, _ := filepath.Glob(filepath.Join(dir, ".*")); len(hidden) != 0 {
			t.Errorf("%s: left %v", format, hidden)
		}
	}
}

// TestFeeSyncKilledAnywhereLosesNothing is the kill test with fees.sync:
// killed anywhere in either stream (or let finish, when the run is shorter
// than the point drawn), the runs after store every fee once and the
// database stays consistent.
func TestFeeSyncKilledAnywhereLosesNothing(t *testing.T) {
	w := newWorld(t, 8000, 30*time.Second, "page_size = 250\nlookback = \"1h\"\n")
	appendConfig(t, w, "[fees]\nsync = true\n")
	w.setNow(time.Now())
	w.fake.SetFaults(fakeapi.Faults{Delay: 5 * time.Millisecond})
	rng := rand.New(rand.NewPCG(3, 4))
	killed := 0
	killedInFees := 0
	for kill := 1; kill <= 8; kill++ {
		cmd, out := w.child(t, "sync")
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		target := w.fake.Served() + 250 + rng.IntN(5000) // operations or fees: both count
		var err error
	wait:
		for {
			select {
			case err = <-done:
				break wait
			case <-time.After(time.Millisecond):
				if w.fake.Served() >= target {
					time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond) // anywhere: a fetch, a decode, a commit
					cmd.Process.Signal(syscall.SIGKILL)
					err = <-done
					break wait
				}
			}
		}
		ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
		wasKilled := ok && ws.Signaled()
		if wasKilled {
			killed++
		} else if err != nil {
			t.Fatalf("run %d failed: %v\n%s", kill, err, out)
		}
		l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("after run %d: %v", kill, err)
		}
		if err := l.Check(); err != nil {
			t.Fatalf("after run %d the database is inconsistent: %v", kill, err)
		}
		st, _ := l.SyncState(580)
		if wasKilled && st.Watermark.After(w.now.Add(-time.Hour)) {
			killedInFees++ // the operations were done: it died in the fees
		}
		l.Close()
	}
	if killed < 4 || killedInFees == 0 {
		t.Fatalf("%d of 8 runs were killed, %d of them in the fees: the test did not test", killed, killedInFees)
	}
	cmd, out := w.child(t, "sync")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final sync: %v\n%s", err, out)
	}
	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range w.fake.Operations(w.now) {
		fee, _, ok, err := l.Fee(op.OperationID)
		if err != nil || !ok || fee != fakeapi.FeeOf(&op) {
			t.Fatalf("operation %d: fee %+v %v %v, want %+v", op.OperationID, fee, ok, err, fakeapi.FeeOf(&op))
		}
	}
	l.Close()
	w.mirrorWith(t, true)
	cmd, out = w.child(t, "sync")
	if err := cmd.Wait(); err != nil || !strings.Contains(out.String(), "records: 0 new, 0 updated") {
		t.Fatalf("sync after the full one: %v\n%s", err, out)
	}
}
