package export

import (
	"bytes"
	"encoding/csv"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"reconciled/internal/doccheck"
	"reconciled/internal/domain"
	"reconciled/internal/report"
)

// The column lists of docs/exports.md are the headers the writers write:
// a column added, renamed or moved in the code and not in the reference
// (or the other way round) fails here. Each list is read from the file a
// writer made, not from the variables it is made of.

// csvHeader is the first row of a CSV the writer wrote.
func csvHeader(t *testing.T, write func(w io.Writer) error) []string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	h, err := csv.NewReader(&b).Read()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// xlsxSheets are the sheets of a workbook the writer wrote, in order, each
// with its header row.
func xlsxSheets(t *testing.T, write func(w io.Writer) error) ([]string, map[string][]string) {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, b.Bytes())
	headers := map[string][]string{}
	for _, name := range f.GetSheetList() {
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 0 {
			headers[name] = rows[0]
		}
	}
	return f.GetSheetList(), headers
}

// expand replaces the placeholders of a documented column: BY (the table
// a summary groups by), DAY (the report's day), CUR, which stands for
// one column per currency, and CUR with PROJECT, one column per line of
// the net settlement (a currency in a project).
func expand(cols []string, by, day string, currencies []string, lines ...netLine) []string {
	var out []string
	for _, c := range cols {
		c = strings.ReplaceAll(strings.ReplaceAll(c, "BY", by), "DAY", day)
		if strings.Contains(c, "PROJECT") {
			for _, l := range lines {
				out = append(out, strings.ReplaceAll(strings.ReplaceAll(c, "CUR", l.currency), "PROJECT", strconv.FormatInt(l.project, 10)))
			}
			continue
		}
		if !strings.Contains(c, "CUR") {
			out = append(out, c)
			continue
		}
		for _, cur := range currencies {
			out = append(out, strings.ReplaceAll(c, "CUR", cur))
		}
	}
	return out
}

func docColumns(t *testing.T, doc, name string) []string {
	t.Helper()
	return doccheck.Column(doccheck.Table(t, doc, "columns: "+name), 0)
}

// checkSheets compares a workbook with the documented sheets: their names
// in order, and each one's header, the code spans of its cell before a
// ": " that explains them (a sheet documented without columns, such as
// Charts, has no header to compare; one documented as "the columns above"
// has those of csvCols).
func checkSheets(t *testing.T, doc, name string, sheets []string, headers map[string][]string, csvCols []string, by func(sheet string) string, day string, curs []string, lines ...netLine) {
	t.Helper()
	rows := doccheck.Table(t, doc, "sheets: "+name)
	if got := doccheck.Column(rows, 0); !slices.Equal(got, sheets) {
		t.Errorf("docs/exports.md: %s has sheets\n%q\nthe writer makes\n%q", name, got, sheets)
		return
	}
	for _, r := range rows {
		sheet, _ := doccheck.Code(r[0])
		list, _, _ := strings.Cut(r[1], ": ") // what follows explains
		want := doccheck.Codes(list)
		switch {
		case strings.Contains(r[1], "the columns above"):
			want = csvCols
		case len(want) == 0:
			continue
		}
		b := ""
		if by != nil {
			b = by(sheet)
		}
		if want = expand(want, b, day, curs, lines...); !slices.Equal(headers[sheet], want) {
			t.Errorf("docs/exports.md: %s sheet %q has the columns\n%q\nthe writer writes\n%q", name, sheet, want, headers[sheet])
		}
	}
}

func TestReferenceListsTheColumnsOfEveryExport(t *testing.T) {
	doc := doccheck.Read(t, "exports.md")
	noOps := func(func(*domain.Operation) error) error { return nil }

	t.Run("operations", func(t *testing.T) {
		want := docColumns(t, doc, "operations")
		got := csvHeader(t, func(w io.Writer) error { _, err := OperationsCSV(w, noOps, Filter{}, CSVOptions{}); return err })
		if !slices.Equal(got, want) {
			t.Errorf("docs/exports.md: the register's columns\n%q\nthe CSV writes\n%q", want, got)
		}
		sheets, headers := xlsxSheets(t, func(w io.Writer) error {
			_, err := OperationsXLSX(w, noOps, Filter{}, XLSXOptions{}, nil)
			return err
		})
		checkSheets(t, doc, "operations.xlsx", sheets, headers, want, nil, "", nil)
	})

	t.Run("reconciliation", func(t *testing.T) {
		want := docColumns(t, doc, "reconciliation")
		got := csvHeader(t, func(w io.Writer) error {
			_, err := ReconciliationCSV(w, ItemsOf(nil), ItemFilter{}, CSVOptions{})
			return err
		})
		if !slices.Equal(got, want) {
			t.Errorf("docs/exports.md: the reconciliation's columns\n%q\nthe CSV writes\n%q", want, got)
		}
		sheets, headers := xlsxSheets(t, func(w io.Writer) error {
			_, err := ReconciliationXLSX(w, ItemsOf(nil), ItemFilter{}, XLSXOptions{})
			return err
		})
		checkSheets(t, doc, "reconciliation.xlsx", sheets, headers, want, nil, "", nil)
	})

	t.Run("audit", func(t *testing.T) {
		want := docColumns(t, doc, "audit")
		got := csvHeader(t, func(w io.Writer) error { _, err := AuditCSV(w, nil, CSVOptions{}); return err })
		if !slices.Equal(got, want) {
			t.Errorf("docs/exports.md: the audit trail's columns\n%q\nthe CSV writes\n%q", want, got)
		}
	})

	t.Run("settlement", func(t *testing.T) {
		want := docColumns(t, doc, "settlement")
		s := fakeSummary(t)
		got := csvHeader(t, func(w io.Writer) error { _, err := SettlementCSV(w, s, CSVOptions{}); return err })
		if !slices.Equal(got, want) {
			t.Errorf("docs/exports.md: the settlement's columns\n%q\nthe CSV writes\n%q", want, got)
		}
		sheets, headers := xlsxSheets(t, func(w io.Writer) error { _, err := SettlementXLSX(w, s, XLSXOptions{}); return err })
		checkSheets(t, doc, "settlement.xlsx", sheets, headers, want, nil, "", nil)
	})

	t.Run("summary", func(t *testing.T) {
		s := fakeSummary(t)
		curs := Currencies(s)
		if len(curs) < 2 {
			t.Fatalf("the summary has currencies %v; the test needs two to see one column per currency", curs)
		}
		if got := doccheck.Column(doccheck.Table(t, doc, "summary tables"), 0); !slices.Equal(got, SummaryTables) {
			t.Errorf("docs/exports.md: the summary's tables %v, --by takes %v", got, SummaryTables)
		}
		for _, by := range SummaryTables {
			want := expand(docColumns(t, doc, "summary.csv"), by, "", curs)
			got := csvHeader(t, func(w io.Writer) error { _, err := SummaryCSV(w, s, by, CSVOptions{}); return err })
			if !slices.Equal(got, want) {
				t.Errorf("docs/exports.md: the summary by %s has the columns\n%q\nthe CSV writes\n%q", by, want, got)
			}
		}
		sheets, headers := xlsxSheets(t, func(w io.Writer) error { return SummaryXLSX(w, s, XLSXOptions{}) })
		byOf := func(sheet string) string { return strings.ToLower(strings.TrimPrefix(sheet, "By ")) }
		// The lines of the net settlement, from its rows.
		_, net := expectedNet(s.Settlement)
		lines := slices.SortedFunc(maps.Keys(net), compareLines)
		checkSheets(t, doc, "summary.xlsx", sheets, headers, nil, byOf, "", curs, lines...)
	})

	t.Run("report", func(t *testing.T) {
		day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
		r := report.Build(report.Input{Date: day, Now: day.Add(30 * time.Hour),
			Items:   []domain.Item{{Result: domain.ResultOverdue, PaymentID: "p1", Type: domain.RecordPurchase, CreatedAt: day}},
			Sync:    []report.SyncState{{Project: 580}},
			Unknown: []domain.WordCount{{Field: domain.FieldOperationStatus, Word: "awaiting review", Count: 2}},
			Chargebacks: []report.ChargebackRow{{ID: 5, Project: 579, PaymentID: "p1", Amount: domain.Money{Amount: 100, Currency: "UZS"},
				Status: "open", Opened: day}}})
		r.Balances = []report.BalanceReading{{Project: 580}} // the sheet is made once balances were read
		sheets, headers := xlsxSheets(t, func(w io.Writer) error { return ReportXLSX(w, r, XLSXOptions{}) })
		checkSheets(t, doc, "report.xlsx", sheets, headers, nil, nil, r.Day(), nil)
	})
}
