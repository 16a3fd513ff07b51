package export

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
	"reconciled/internal/report"
)

// The report's workbook has a Balances sheet when balances were read: a
// row per balance with its amount a number in major units, the time read
// a date, and the last read's error on the rows of a project whose last
// read failed.
func TestReportXLSXBalances(t *testing.T) {
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	read := day.Add(30 * time.Hour)
	b := func(name string, out bool, a int64, c string) domain.Balance {
		return domain.Balance{Name: name, Out: out, Money: domain.Money{Amount: a, Currency: c}}
	}
	r := report.Build(report.Input{Date: day, Now: read, Balances: []report.BalanceReading{
		{Project: 580, ReadAt: read, Balances: []domain.Balance{b("OUT", true, 1010750, "AUD"), b("IN", false, -5, "KWD")},
			LastError: "HTTP 500", LastErrorAt: read.Add(time.Hour), Failing: true},
		{Project: 579, LastError: "HTTP 403", LastErrorAt: read, Failing: true},
	}})
	var buf bytes.Buffer
	if err := ReportXLSX(&buf, r, XLSXOptions{}); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, buf.Bytes())
	if got := f.GetSheetList(); !slices.Contains(got, "Balances") {
		t.Fatalf("sheets %q", got)
	}
	rows, err := f.GetRows("Balances")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"project id", "balance", "kind", "currency", "amount", "read at", "last error at", "last error"},
		{"579", "", "", "", "", "", "2026-11-24 06:00:00", "HTTP 403"},
		{"580", "OUT", "payout", "AUD", "10,107.50", "2026-11-24 06:00:00", "2026-11-24 07:00:00", "HTTP 500"},
		{"580", "IN", "other", "KWD", "-0.005", "2026-11-24 06:00:00", "2026-11-24 07:00:00", "HTTP 500"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q", rows)
	}
	for i := range want {
		if !slices.Equal(trimRow(rows[i]), trimRow(want[i])) {
			t.Errorf("row %d: %q, want %q", i, rows[i], want[i])
		}
	}
	if v, _ := f.GetCellValue("Balances", "E3", excelize.Options{RawCellValue: true}); v != "10107.5" {
		t.Errorf("the amount is %q, not a number", v)
	}

	// No reading: no sheet.
	buf.Reset()
	if err := ReportXLSX(&buf, report.Build(report.Input{Date: day, Now: read}), XLSXOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := openXLSX(t, buf.Bytes()).GetSheetList(); slices.Contains(got, "Balances") {
		t.Errorf("sheets %q", got)
	}
}

// trimRow drops the empty cells at the end of a row, as GetRows does.
func trimRow(r []string) []string {
	for len(r) > 0 && r[len(r)-1] == "" {
		r = r[:len(r)-1]
	}
	return r
}
