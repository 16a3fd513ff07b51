package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
)

// The reconciliation export of unchanged data is byte-identical when made
// seconds or days later, as long as no item's deadline passes in between:
// every item here is final, long past its limit, or days from it.
func TestReconciliationExportDoesNotChangeWithTheClock(t *testing.T) {
	w := newWorld(t, 600, 5*time.Minute, "")
	w.now = w.now.Add(40 * 24 * time.Hour) // every operation final, and old
	w.mustRun(t, "sync", "--from", start.Format(time.DateOnly))
	var resolved string
	file := w.recordsFor(t, "books.csv", func(i int, op domain.Operation, f []string) []string {
		switch i % 37 {
		case 3:
			f[2] = "7,00" // amount_mismatch
			if resolved == "" {
				resolved = op.PaymentID
			}
		case 5:
			return nil // missing_in_records
		case 8:
			f[4] = "failed" // status_mismatch
		case 11:
			f[4] = "pending" // overdue: the merchant's side is not final
		}
		return f
	})
	// Records without an operation: one long past its limit, one an hour
	// old (pending, the 3-day default limit days away).
	books, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	books = bytes.Replace(books, []byte("payment_id;type;amount;currency;status\n"),
		[]byte("payment_id;type;amount;currency;status;created_at\n"), 1)
	books = bytes.ReplaceAll(books, []byte("\n"), []byte(";\n"))
	books = bytes.Replace(books, []byte("created_at;\n"), []byte("created_at\n"), 1)
	books = append(books, []byte("gone-1;purchase;5,00;EUR;paid;"+start.Format(time.DateTime)+"\n"+
		"fresh-1;purchase;6,00;EUR;paid;"+w.now.Add(-time.Hour).Format(time.DateTime)+"\n")...)
	if err := os.WriteFile(file, books, 0o600); err != nil {
		t.Fatal(err)
	}
	w.mustRun(t, "import", file)
	w.mustRun(t, "resolve", resolved, "--reason", "known-fee")

	export := func(name string) (csvText string, xlsx []byte) {
		csvText = w.mustRun(t, "export", "--what", "reconciliation", "--format", "csv")
		path := filepath.Join(w.dir, name)
		w.mustRun(t, "export", "--what", "reconciliation", "--format", "xlsx", "-o", path)
		xlsx, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return csvText, xlsx
	}
	wantCSV, wantXLSX := export("first.xlsx")
	for _, code := range []string{"matched", "amount_mismatch", "missing_in_records", "status_mismatch", "overdue",
		"missing_at_provider", "pending", "resolved"} {
		if !strings.Contains(wantCSV, "\n"+code+",") {
			t.Fatalf("no %s item: the test would prove little\n%s", code, wantCSV)
		}
	}
	t0 := w.now
	for _, shift := range []time.Duration{5 * time.Second, 2 * 24 * time.Hour} {
		w.now = t0.Add(shift)
		gotCSV, gotXLSX := export("later.xlsx")
		if gotCSV != wantCSV {
			t.Errorf("+%v: the CSV export changed:\n%s", shift, firstDiff(wantCSV, gotCSV))
		}
		if !bytes.Equal(gotXLSX, wantXLSX) {
			t.Errorf("+%v: the XLSX export changed (%d bytes, was %d)", shift, len(gotXLSX), len(wantXLSX))
			if a, b := xlsxCells(t, wantXLSX), xlsxCells(t, gotXLSX); a != b {
				t.Errorf("+%v: its cells changed:\n%s", shift, firstDiff(a, b))
			}
		}
	}
}

// xlsxCells is every sheet's cells as text, a row a line.
func xlsxCells(t *testing.T, data []byte) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			b.WriteString(sheet + "|" + strings.Join(r, "|") + "\n")
		}
	}
	return b.String()
}
