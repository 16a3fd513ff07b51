package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

func TestCheckFindsNoProblemInAWholeLedger(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-ok", at, 1000)}, []domain.Record{paid("p-ok", at, 1000)})
	for _, quick := range []bool{true, false} {
		rep, err := a.Check(context.Background(), quick)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || len(rep.Checked) == 0 {
			t.Fatalf("quick %v: report %+v, want checks and no problem", quick, rep)
		}
	}
}

// WriteCheck is what `check` prints of a report: each check, then notes,
// problems and how many more, or that none was found.
func TestWriteCheckPrintsEachLineOfTheReport(t *testing.T) {
	var ok, bad strings.Builder
	WriteCheck(&ok, &ledger.Report{Checked: []string{"pages: 12", "bbolt: ok"}, Warnings: []string{"schema 2"}})
	WriteCheck(&bad, &ledger.Report{Checked: []string{"pages: 12"}, Problems: []string{"page 7 points back"}, More: 3})
	if want := "  pages: 12\n  bbolt: ok\n  note: schema 2\nno problem found\n"; ok.String() != want {
		t.Errorf("a sound file:\n%q\nwant\n%q", ok.String(), want)
	}
	if want := "  pages: 12\n  PROBLEM: page 7 points back\n  and 3 more problems\n"; bad.String() != want {
		t.Errorf("a damaged file:\n%q\nwant\n%q", bad.String(), want)
	}
}
