package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestExportGolden pins the payment register's exact bytes for a fixed
// data set: a change of column, number format, time zone or quoting shows
// up here. Run with -update to accept a deliberate change.
func TestExportGolden(t *testing.T) {
	w := newWorld(t, 300, 7*time.Minute, "tz = \"Asia/Tashkent\"\n")
	if code, out, errOut := w.run(t, "sync"); code != 0 {
		t.Fatalf("sync: %s %s", out, errOut)
	}
	file := filepath.Join(w.dir, "ops.csv")
	if code, _, errOut := w.run(t, "export", "--what", "operations", "--format", "csv", "-o", file); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("..", "..", "testdata", "operations.golden.csv")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/reconciled -run Golden -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("export differs from %s; if the change is meant, run with -update and review the diff", golden)
	}
}
