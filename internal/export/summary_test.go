package export

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/analytics"
	"reconciled/internal/fakeapi"
)

func fakeSummary(t *testing.T) *analytics.Summary {
	t.Helper()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	f, err := fakeapi.New(fakeapi.Config{Token: "t", Secret: []byte("s"), Seed: 9, Start: start, Count: 3000, Step: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	b := analytics.NewBuilder(time.UTC)
	all := f.Operations(start.Add(20 * 24 * time.Hour))
	for i := range all {
		b.Add(&all[i])
	}
	return b.Summary(start, start.Add(20*24*time.Hour))
}

func TestSummaryXLSX(t *testing.T) {
	s := fakeSummary(t)
	var b bytes.Buffer
	if err := SummaryXLSX(&b, s, XLSXOptions{}); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, b.Bytes())
	want := []string{"By day", "By method", "By status", "By currency", "By project", "Approval", "Declines", "Volume", "Time to final", "Settlement", "Net per day", "Charts"}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets %v", got)
	}
	rows, _ := f.GetRows("By day")
	if len(rows) != len(s.ByDay)+1 || rows[1][0] != s.ByDay[0].Key {
		t.Fatalf("By day: %d rows, first %v", len(rows), rows[1])
	}
	rate, _ := s.ByDay[0].ApprovalRate()
	if got, _ := f.GetCellValue("By day", "F2", excelizeRaw()); got == "" || got[0] != '0' {
		t.Errorf("approval rate cell %q (want a fraction like %v)", got, rate)
	}
	decl, _ := f.GetRows("Declines")
	if len(decl) < 3 || decl[1][0] != s.Declines[0].Code {
		t.Errorf("declines %v", decl)
	}
	// Native charts: two drawn from the By day sheet, one a currency from
	// Net per day (chart_test.go).
	z, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	charts := 0
	for _, file := range z.File {
		if strings.HasPrefix(file.Name, "xl/charts/chart") && strings.HasSuffix(file.Name, ".xml") {
			charts++
		}
	}
	currencies := map[string]bool{}
	for _, r := range s.Settlement {
		currencies[r.Currency] = true
	}
	if want := 2 + len(currencies); charts != want {
		t.Errorf("%d charts in the workbook, want %d", charts, want)
	}
}

func TestSummaryCSV(t *testing.T) {
	s := fakeSummary(t)
	var b bytes.Buffer
	n, err := SummaryCSV(&b, s, "method", CSVOptions{})
	if err != nil || n != 2 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "method" || rows[0][5] != "approval_rate" || rows[1][0] != "Card partner" || len(rows[0]) != 6+len(Currencies(s)) {
		t.Errorf("csv %v", rows[:2])
	}
	if _, err := SummaryCSV(&b, s, "weekday", CSVOptions{}); err == nil {
		t.Error("unknown table accepted")
	}
}
