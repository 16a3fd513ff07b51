package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// childAt is child with the child's clock fixed at now: a reconcile's
// verdicts depend on its clock, and the run it is compared with must have
// the same.
func (w *world) childAt(t testing.TB, now time.Time, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--config", w.config}, args...)...)
	cmd.Env = append(os.Environ(), "RECONCILED_TEST_CHILD=1", "RECONCILED_TEST_NOW="+now.Format(time.RFC3339Nano))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// copyConfig writes a config like w's for the database db, and returns
// its file.
func (w *world) copyConfig(t *testing.T, db string) string {
	t.Helper()
	text, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(text, []byte(strconv.Quote(w.db))) {
		t.Fatalf("the config does not name %s", w.db)
	}
	path := db + ".toml"
	if err := os.WriteFile(path, bytes.Replace(text, []byte(strconv.Quote(w.db)), []byte(strconv.Quote(db)), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// exportOf is the reconciliation export of the database config names, at
// w.now (which only a database without a stored result depends on).
func (w *world) exportOf(t *testing.T, config string) string {
	t.Helper()
	code, out, errOut := w.runWith(t, config, "export", "--what", "reconciliation", "--format", "csv")
	if code != 0 {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	return out
}

// storedAt is when the stored result was computed; zero with none.
func storedAt(t *testing.T, db string) time.Time {
	t.Helper()
	l, err := ledger.Open(db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, ok, err := l.Result()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return time.Time{}
	}
	return st.At
}

// TestReconcileKilledAnywhereKeepsAWholeResult kills `reconcile
// --no-recheck` (a real process) with SIGKILL at random moments of its
// run: the first one (a full recompute, nothing stored before), and an
// incremental one and a --full one after a second books file and a sync
// changed a part of the data. After each kill the stored result is exactly the one before
// (none, the first time) or the new one — its export equals one of the
// two byte for byte, and its state says the same — the database passes
// check, and the next reconcile stores what a full recompute of a copy
// does. Half the kills land anywhere in the run, half in its writing of
// the result; a WriteResult split in two transactions (the items, then the
// state) failed it: new items under the old state.
func TestReconcileKilledAnywhereKeepsAWholeResult(t *testing.T) {
	// Operations; the last late of them are synced after the first
	// reconcile. Under the race detector a third as many: each of the
	// test's eighty processes is ten times slower there (95 s of the
	// package's 300 s), and what is killed is the same.
	n, late := 30_000, 2_000
	if underRace {
		n = 10_000
	}
	w := newWorld(t, n, time.Second, "")
	w.now = start.Add(time.Duration(n)*time.Second + 10*24*time.Hour)
	ops := w.fake.Operations(w.now)
	cut := start.Add(time.Duration(n-late) * time.Second)
	l, err := ledger.Open(w.db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var page []domain.Operation
	for i, op := range ops {
		if op.CreatedAt.Before(cut) {
			op.AccountNumber = domain.MaskAccount(op.AccountNumber)
			page = append(page, op)
		}
		if len(page) == 1000 || i == len(ops)-1 && len(page) > 0 {
			if _, err := l.UpsertPage(page, w.now); err != nil {
				t.Fatal(err)
			}
			page = page[:0]
		}
	}
	l.Close()
	w.mustRun(t, "import", w.recordsFor(t, "books.csv", func(i int, _ domain.Operation, f []string) []string {
		switch i % 41 {
		case 3:
			f[2] = "7,00"
		case 5:
			return nil
		case 8:
			f[4] = "failed"
		}
		return f
	}))

	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(13, 3))
	// killed runs reconcile from the database saved at before, with the
	// clock at: uninterrupted on a copy first (the new result, how long
	// the run takes, how long its writing takes), then killed at random
	// moments of that time, and of its writing.
	killed := func(name string, full bool, before string, at time.Time, kills int, old string, oldAt time.Time) {
		t.Helper()
		w.now = at
		// The result's commit is the file's second change, or its fourth
		// for a full recompute: the open's commit writes only the
		// header page (one change), and a full recompute starts the
		// marks first (MarkAll), a commit that writes its pages, syncs
		// them and then writes the header page (two).
		writes := 2 + 2*boolInt(full)
		start := func(db, config string) (*exec.Cmd, *bytes.Buffer, chan error, os.FileInfo) {
			fi, err := os.Stat(db)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"reconcile", "--no-recheck"}
			if full && !oldAt.IsZero() {
				args = append(args, "--full") // the first is full by itself
			}
			cmd, out := (&world{config: config}).childAt(t, at, args...)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			return cmd, out, done, fi
		}
		ref := filepath.Join(dir, name+"-ref.db")
		copyFile(t, before, ref)
		refConfig := w.copyConfig(t, ref)
		began := time.Now()
		_, out, done, fi := start(ref, refConfig)
		waitWrites(fi, ref, writes, done)
		writing := time.Now()
		if err := <-done; err != nil {
			t.Fatalf("%s: the uninterrupted reconcile: %v\n%s", name, err, out)
		}
		took, wrote := time.Since(began), time.Since(writing)
		if got := strings.Contains(out.String(), "recomputed every payment"); got != full {
			t.Fatalf("%s: the reconcile is not the kind under test (full %v):\n%s", name, got, out)
		}
		want := w.exportOf(t, refConfig)
		if !full && want == old {
			t.Fatalf("%s: the new result exports as the old one: nothing to tell apart", name)
		}
		t.Logf("%s: an uninterrupted reconcile took %v, %v of it from its writing the result on: %s", name, took.Round(time.Millisecond),
			wrote.Round(time.Millisecond), strings.TrimSpace(out.String()[strings.LastIndex(out.String(), "\n\n"):]))

		copyConfig := w.copyConfig(t, filepath.Join(dir, name+"-copy.db"))
		for kill := 1; kill <= kills; kill++ {
			copyFile(t, before, w.db)
			cmd, _, done, fi := start(w.db, w.config)
			if kill%2 == 1 {
				// Anywhere: its open, the reading, the engine, the write.
				time.Sleep(time.Duration(rng.Int64N(int64(took * 3 / 2))))
			} else {
				// Anywhere in its writing (the polling notices it late,
				// if anything).
				waitWrites(fi, w.db, writes, done)
				time.Sleep(time.Duration(rng.Int64N(int64(wrote))))
			}
			cmd.Process.Signal(syscall.SIGKILL)
			err := <-done
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				t.Logf("%s, kill %d: the reconcile had finished (%v)", name, kill, err)
			}
			if code, out, errOut := w.run(t, "check"); code != 0 {
				t.Fatalf("%s, kill %d: check fails: exit %d\n%s%s", name, kill, code, out, errOut)
			}
			got, gotAt := w.exportOf(t, w.config), storedAt(t, w.db)
			switch {
			case got == want && gotAt.Equal(at):
				t.Logf("%s, kill %d: the new result is stored", name, kill)
			case gotAt.Equal(oldAt) && (oldAt.IsZero() || got == old): // none stored: an export computes one, not stored
				t.Logf("%s, kill %d: the result before is kept", name, kill)
			default:
				t.Fatalf("%s, kill %d: the stored result (of %v) is neither the one before (of %v) nor the new one (of %v):\n"+
					"against the one before: %s\nagainst the new one: %s", name, kill, gotAt, oldAt, at, firstDiff(got, old), firstDiff(got, want))
			}
			// The next run, incremental if it can, and a full one on a
			// copy store the same.
			copyFile(t, w.db, filepath.Join(dir, name+"-copy.db"))
			w.mustRun(t, "reconcile", "--no-recheck")
			if code, out, errOut := w.runWith(t, copyConfig, "reconcile", "--no-recheck", "--full"); code != 0 {
				t.Fatalf("%s, kill %d: reconcile --full of the copy: exit %d\n%s%s", name, kill, code, out, errOut)
			}
			next, full := w.exportOf(t, w.config), w.exportOf(t, copyConfig)
			if next != full {
				t.Fatalf("%s, kill %d: the next reconcile differs from a full one:\n%s", name, kill, firstDiff(next, full))
			}
			if next != want {
				t.Fatalf("%s, kill %d: the next reconcile differs from the uninterrupted one:\n%s", name, kill, firstDiff(next, want))
			}
		}
	}

	// The first reconcile: nothing stored before (an export computes one
	// and stores nothing).
	t1 := w.now
	first := filepath.Join(dir, "first.db")
	copyFile(t, w.db, first)
	killed("first", true, first, t1, 3, "", time.Time{})
	a := w.exportOf(t, w.config) // w.db holds the first result now

	// A day later a second books file corrects a part of the first, and
	// a sync brings the operations of the last days.
	w.now = t1.Add(24 * time.Hour)
	w.mustRun(t, "import", w.recordsFor(t, "more.csv", func(i int, _ domain.Operation, f []string) []string {
		switch i % 7 {
		case 2:
			f[2] = "9,00"
		case 4:
			f[4] = "pending"
		default:
			return nil
		}
		return f
	}))
	w.mustRun(t, "sync", "--from", cut.Format(time.DateTime))
	second := filepath.Join(dir, "second.db")
	copyFile(t, w.db, second)
	killed("incremental", false, second, w.now, 6, a, t1)
	killed("full", true, second, w.now, 3, a, t1) // reconcile --full over a stored result
}

// waitWrites waits until the file path has changed n times since it was
// as fi says (its modification time or size: polled, so two changes close
// together may count as one), or until done (the writer ended) says
// something.
func waitWrites(fi os.FileInfo, path string, n int, done chan error) {
	last := fi
	for n > 0 {
		select {
		case err := <-done:
			done <- err
			return
		default:
		}
		if now, err := os.Stat(path); err == nil && (!now.ModTime().Equal(last.ModTime()) || now.Size() != last.Size()) {
			last = now
			n--
			continue
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
