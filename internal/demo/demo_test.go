package demo

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/ledger"
)

var update = flag.Bool("update", false, "rewrite testdata/demo-output.golden.txt")

// at is the demo's clock in these tests: its output is then the same on
// every run but for the fake's port, the folder and the syncs' times.
var at = time.Date(2026, 3, 10, 12, 34, 56, 0, time.UTC)

func options(dir string, operations int, out *bytes.Buffer) Options {
	return Options{Dir: dir, Operations: operations, Out: out, Now: func() time.Time { return at }, User: "demo-user"}
}

// normal is the demo's output without what changes from run to run.
func normal(out, dir string) string {
	out = strings.ReplaceAll(out, dir, "DIR")
	out = regexp.MustCompile(`http://127\.0\.0\.1:\d+`).ReplaceAllString(out, "http://127.0.0.1:PORT")
	out = regexp.MustCompile(`unchanged in [0-9.]+[µm]?s`).ReplaceAllString(out, "unchanged in TIME")
	return strings.ReplaceAll(out, "  "+selfName()+" --config ", "  reconciled --config ")
}

// TestRunPrintsTheDemo pins every line the demo prints, as people read it
// in the README and CI runs it; a second run into the same folder starts
// afresh and prints the same after one line. Run with -update to accept a
// deliberate change.
func TestRunPrintsTheDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var first, second bytes.Buffer
	if err := Run(context.Background(), options(dir, 5000, &first)); err != nil {
		t.Fatalf("%v\n%s", err, first.String())
	}
	got := normal(first.String(), dir)
	golden := filepath.Join("..", "..", "testdata", "demo-output.golden.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/demo -run PrintsTheDemo -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("the demo printed\n%s\nnot %s; if the change is meant, run with -update and review the diff", got, golden)
	}

	if err := Run(context.Background(), options(dir, 5000, &second)); err != nil {
		t.Fatalf("second run: %v\n%s", err, second.String())
	}
	if again, want := normal(second.String(), dir), "removed the previous demo database DIR/reconciled.db\n"+got; again != want {
		t.Errorf("the second run printed\n%s\nwant\n%s", again, want)
	}
}

// TestRunTellsProgress: each sync starts, moves and ends; the import says
// what it reads and stores; the analytics start, move every 1,024
// operations and end.
func TestRunTellsProgress(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var out bytes.Buffer
	o := options(dir, 2100, &out)
	var got []Progress
	o.Progress = func(p Progress) { got = append(got, p) }
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var steps []string
	for _, p := range got {
		switch {
		case p.Note:
			steps = append(steps, "note "+p.Text)
		case p.Start:
			steps = append(steps, "start "+p.Step+" "+p.Text)
		case p.Done:
			steps = append(steps, "done "+p.Step)
		case len(steps) == 0 || steps[len(steps)-1] != "move "+p.Step:
			steps = append(steps, "move "+p.Step)
		}
	}
	records := filepath.Join(dir, "merchant-records.csv")
	want := []string{"start sync sync", "move sync", "done sync", "start sync sync", "move sync", "done sync",
		"note reading " + records + "…", "note storing 4977 records…", "start analytics analytics", "move analytics", "done analytics"}
	if !slices.Equal(steps, want) {
		t.Fatalf("progress went\n%q\nwant\n%q", steps, want)
	}
	var syncs, analytics []int64
	for _, p := range got {
		switch {
		case p.Start || p.Done || p.Note:
		case p.Step == "sync":
			if !strings.HasPrefix(p.Text, "sync: ") {
				t.Errorf("a sync's progress says %q", p.Text)
			}
			syncs = append(syncs, p.N)
		case p.Step == "analytics":
			analytics = append(analytics, p.N)
		}
	}
	if !slices.Contains(syncs, 2100) {
		t.Errorf("the syncs' counts %v never reach the 2100 operations of the first", syncs)
	}
	if !slices.Equal(analytics, []int64{1024, 2048}) {
		t.Errorf("the analytics moved at %v, want every 1,024 of 2100 operations", analytics)
	}
}

// TestRunLeavesForeignFoldersAlone: a folder with files the demo did not
// make is refused as bad usage, and nothing in it changes.
func TestRunLeavesForeignFoldersAlone(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "reconciled.toml")
	os.WriteFile(config, []byte("# the finance team's config\n"), 0o600)
	var out bytes.Buffer
	err := Run(context.Background(), options(dir, 10, &out))
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "not made by the demo") {
		t.Fatalf("a foreign folder: %v, want a UsageError", err)
	}
	entries, _ := os.ReadDir(dir)
	if b, _ := os.ReadFile(config); len(entries) != 1 || string(b) != "# the finance team's config\n" || out.Len() > 0 {
		t.Errorf("the folder holds %d files, the config %q; printed %q", len(entries), b, out.String())
	}
}

// TestRunNeverWritesOverItsDatabase: a file of the demo's folder that is
// the database under another name (here a symbolic link) is refused as
// bad usage, and the database stays whole.
func TestRunNeverWritesOverItsDatabase(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, marker), nil, 0o640)
	if err := os.Symlink("reconciled.db", filepath.Join(dir, "operations.csv")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := Run(context.Background(), options(dir, 50, &out))
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "export: refusing to write "+filepath.Join(dir, "operations.csv")) ||
		!strings.Contains(err.Error(), "the database (storage.path)") {
		t.Fatalf("operations.csv linked to the database: %v, want a UsageError naming the database", err)
	}
	l, err := ledger.Open(filepath.Join(dir, "reconciled.db"), ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Check(); err != nil {
		t.Errorf("the database after the refusal: %v", err)
	}
}

// TestRunRefusesACountOutOfRange: the fake's operations are 1..10,000,000;
// nothing is made for another count.
func TestRunRefusesACountOutOfRange(t *testing.T) {
	for _, n := range []int{0, -1, MaxOperations + 1} {
		dir := filepath.Join(t.TempDir(), "demo")
		var out bytes.Buffer
		if err := Run(context.Background(), options(dir, n, &out)); err == nil {
			t.Errorf("%d operations: no error", n)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) || out.Len() > 0 {
			t.Errorf("%d operations: the folder: %v; printed %q", n, err, out.String())
		}
	}
}
