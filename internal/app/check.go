package app

import (
	"context"

	"reconciled/internal/ledger"
)

// Check reads the database through and reports what it found: quick is
// the file's structure only (header, pages, bbolt's check), otherwise
// every record, index and count too. A report with problems is no error;
// the front door says what it means (check's exit code, restore hint).
func (a *App) Check(ctx context.Context, quick bool) (*ledger.Report, error) {
	return a.Ledger.Verify(ctx, quick)
}
