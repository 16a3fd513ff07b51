package app

import (
	"context"
	"fmt"
	"io"

	"reconciled/internal/ledger"
)

// Check reads the database through and reports what it found: quick is
// the file's structure only (header, pages, bbolt's check), otherwise
// every record, index and count too. A report with problems is no error;
// the front door says what it means (check's exit code, restore hint).
func (a *App) Check(ctx context.Context, quick bool) (*ledger.Report, error) {
	return a.Ledger.Verify(ctx, quick)
}

// WriteCheck writes rep as `check` shows it: each check, the notes, the
// problems and how many more, or that none was found.
func WriteCheck(w io.Writer, rep *ledger.Report) {
	for _, c := range rep.Checked {
		fmt.Fprintf(w, "  %s\n", c)
	}
	for _, n := range rep.Warnings {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  PROBLEM: %s\n", p)
	}
	if rep.More > 0 {
		fmt.Fprintf(w, "  and %d more problems\n", rep.More)
	}
	if rep.OK() {
		fmt.Fprintln(w, "no problem found")
	}
}
