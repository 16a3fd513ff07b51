package export

import (
	"bytes"
	"slices"
	"strconv"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
	"reconciled/internal/report"
)

func TestReportXLSX(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, loc)
	now := time.Date(2026, 11, 24, 7, 0, 0, 0, loc)
	money := func(a int64, c string) domain.Money { return domain.Money{Amount: a, Currency: c} }
	items := []domain.Item{
		{Result: domain.ResultMatched, PaymentID: "m1", Type: "purchase", CreatedAt: day.Add(time.Hour),
			Provider: &domain.Operation{SumInitial: money(100000, "UAH"), OperationStatus: "success"}},
		{Result: domain.ResultAmountMismatch, PaymentID: "=a1", Type: "purchase", ProjectID: 580, Method: "card",
			OperationID: 12345678901234567, CreatedAt: day.Add(12 * time.Hour), Reason: "amounts differ",
			Merchant: &domain.Record{Amount: money(150255, "KWD"), Status: "paid"},
			Provider: &domain.Operation{SumInitial: money(150155, "KWD"), OperationStatus: "success"}},
		{Result: domain.ResultOverdue, PaymentID: "o1", Type: "payout", Method: "card", CreatedAt: now.Add(-10 * 24 * time.Hour),
			Provider: &domain.Operation{SumInitial: money(200, "JPY"), OperationStatus: "processing"}},
	}
	sync := []report.SyncState{{Project: 580, LastSuccess: now.Add(-time.Hour), Watermark: now.Add(-time.Hour),
		LastError: "timeout", LastErrorAt: now.Add(-2 * time.Hour), Operations: 42, NotFinal: 3}}
	r := report.Build(report.Input{Date: day, Location: loc, Now: now, Items: items, Sync: sync})

	var b bytes.Buffer
	if err := ReportXLSX(&b, r, XLSXOptions{}); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, b.Bytes())
	if got, want := f.GetSheetList(), []string{"Summary", "Open exceptions", "Ageing", "Overdue by method", "Sync", "Settlement"}; !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	get := func(sheet, cell string, raw bool) string {
		t.Helper()
		v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: raw})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	isNumber := func(sheet, cell string) {
		t.Helper()
		if typ, _ := f.GetCellType(sheet, cell); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Errorf("%s!%s has cell type %v", sheet, cell, typ)
		}
		if _, err := strconv.ParseFloat(get(sheet, cell, true), 64); err != nil {
			t.Errorf("%s!%s is not a number: %q", sheet, cell, get(sheet, cell, true))
		}
	}
	isDate := func(sheet, cell, shown string) {
		t.Helper()
		isNumber(sheet, cell)
		if got := get(sheet, cell, false); got != shown {
			t.Errorf("%s!%s shown %q, want %q", sheet, cell, got, shown)
		}
		id, _ := f.GetCellStyle(sheet, cell)
		if st, _ := f.GetStyle(id); st == nil || st.CustomNumFmt == nil || *st.CustomNumFmt != "yyyy-mm-dd hh:mm:ss" {
			t.Errorf("%s!%s is not formatted as a date: %+v", sheet, cell, st)
		}
	}

	// Summary: result, currency, the day's items and amount, then to date;
	// codes in domain.Results order.
	rows, _ := f.GetRows("Summary")
	if len(rows) != 4 || rows[0][2] != "items on 2026-11-23" || rows[0][5] != "amount to date" {
		t.Fatalf("summary %q", rows)
	}
	if got := rows[1][:4]; !slices.Equal(got, []string{"matched", "UAH", "1", "1,000.00"}) {
		t.Errorf("summary row %q", got)
	}
	if get("Summary", "D2", true) != "1000" {
		t.Errorf("UAH amount raw %q", get("Summary", "D2", true))
	}
	isNumber("Summary", "D2")
	if get("Summary", "D3", false) != "150.155" || get("Summary", "B3", false) != "KWD" {
		t.Errorf("KWD amount %q", get("Summary", "D3", false))
	}
	isNumber("Summary", "D3")
	if get("Summary", "D4", false) != "0" || get("Summary", "F4", false) != "200" || get("Summary", "A4", false) != "overdue" {
		t.Errorf("JPY overdue row %q", rows[3])
	}

	// Open exceptions: oldest first, dates in the report's zone, both sides.
	if get("Open exceptions", "E2", false) != "o1" || get("Open exceptions", "E3", false) != "=a1" {
		t.Errorf("open exceptions order: %q, %q", get("Open exceptions", "E2", false), get("Open exceptions", "E3", false))
	}
	if formula, _ := f.GetCellFormula("Open exceptions", "E3"); formula != "" {
		t.Errorf("a payment id became a formula %q", formula)
	}
	isDate("Open exceptions", "A3", "2026-11-23 12:00:00")
	if v, _ := strconv.ParseFloat(get("Open exceptions", "A3", true), 64); v < 46349 || v > 46350 {
		t.Errorf("created at serial %v", v)
	}
	if get("Open exceptions", "B3", false) != "0.8" || get("Open exceptions", "C2", false) != "over 7 days" {
		t.Errorf("age %q, bucket %q", get("Open exceptions", "B3", false), get("Open exceptions", "C2", false))
	}
	isNumber("Open exceptions", "B3")
	if get("Open exceptions", "I3", false) != "150.255" || get("Open exceptions", "L3", false) != "150.155" ||
		get("Open exceptions", "K3", false) != "paid" || get("Open exceptions", "O3", false) != "12345678901234567" {
		t.Errorf("exception row %q", get("Open exceptions", "I3", false))
	}
	isNumber("Open exceptions", "L3")
	if get("Open exceptions", "I2", false) != "" || get("Open exceptions", "L2", false) != "200" {
		t.Errorf("no merchant side: %q / %q", get("Open exceptions", "I2", false), get("Open exceptions", "L2", false))
	}

	// Ageing: every bucket, an empty one with 0 items.
	ageing, _ := f.GetRows("Ageing")
	var labels []string
	for _, row := range ageing[1:] {
		labels = append(labels, row[0])
	}
	if !slices.Equal(labels, []string{"0–1 day", "1–3 days", "3–7 days", "over 7 days"}) {
		t.Errorf("ageing %q", ageing)
	}
	if got := ageing[1]; got[1] != "KWD" || got[2] != "1" || got[3] != "150.155" {
		t.Errorf("0–1 day %q", got)
	}
	if got := ageing[2]; len(got) < 3 || got[2] != "0" {
		t.Errorf("1–3 days %q", got)
	}

	if got, _ := f.GetRows("Overdue by method"); len(got) != 2 || !slices.Equal(got[1], []string{"card", "JPY", "1", "200"}) {
		t.Errorf("overdue %q", got)
	}
	isNumber("Overdue by method", "D2")

	// Sync: dates in the zone, counts as numbers.
	isDate("Sync", "C2", "2026-11-24 06:00:00")
	isDate("Sync", "E2", "2026-11-24 05:00:00")
	if get("Sync", "A2", false) != "580" || get("Sync", "B2", false) != report.HealthOK || get("Sync", "F2", false) != "timeout" ||
		get("Sync", "H2", false) != "42" || get("Sync", "I2", false) != "3" || get("Sync", "D2", false) != "" {
		rows, _ := f.GetRows("Sync")
		t.Errorf("sync %q", rows)
	}
	isNumber("Sync", "H2")

	// Every sheet: bold frozen header, a table over the rows.
	for _, sheet := range f.GetSheetList() {
		if p, _ := f.GetPanes(sheet); !p.Freeze || p.YSplit != 1 {
			t.Errorf("%s panes %+v", sheet, p)
		}
		if tables, _ := f.GetTables(sheet); len(tables) != 1 {
			t.Errorf("%s tables %+v", sheet, tables)
		}
	}
}

func TestReportXLSXEmpty(t *testing.T) {
	r := report.Build(report.Input{Date: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Now: time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC)})
	var b bytes.Buffer
	if err := ReportXLSX(&b, r, XLSXOptions{Location: time.UTC}); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, b.Bytes())
	if got := len(f.GetSheetList()); got != 6 {
		t.Errorf("%d sheets", got)
	}
	if rows, _ := f.GetRows("Open exceptions"); len(rows) != 1 || rows[0][0] != "created at" {
		t.Errorf("open exceptions %q", rows)
	}
}
