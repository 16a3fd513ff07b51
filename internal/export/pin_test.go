package export

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
)

// The register's files are pinned byte for byte: the CSVs whole, the
// workbook as every cell read back with excelize (type, stored value, value
// shown, style) and every part of its archive uncompressed. They were
// written by the writers as they were before the export was made faster
// (issue 13), and every change since must leave them as they are. `go test
// ./internal/export -update` rewrites them: only for a change of the files
// made on purpose.

var update = flag.Bool("update", false, "rewrite the golden files of internal/export")

// pinnedOps exercise every column's formatting: quoting, neutralisation,
// masking, currencies of 0 to 4 decimals, unknown and missing currencies,
// the extremes of int64, zero and pre-1900 times, times with nanoseconds
// and across daylight saving changes, text XML cannot hold, a cell longer
// than a spreadsheet holds.
func pinnedOps() []domain.Operation {
	ny := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	list := ops()
	list = append(list,
		domain.Operation{ProjectID: 1, OperationID: 3, PaymentID: "a,b;c\td", PaymentType: "purchase", PaymentStatus: "success",
			OperationType: "sale", OperationStatus: "success", PaymentMethod: "card", AccountNumber: "4111111111111111",
			CustomerID: `say "hi"`, CreatedAt: ny("2026-03-08T06:59:59.999999999Z"), CompletedAt: ny("2026-03-08T07:00:00.5Z"),
			SumInitial: domain.Money{Amount: 1, Currency: "USD"}, SumConverted: domain.Money{Amount: 1, Currency: "USD"},
			ProviderID: -3, ProviderPaymentID: "+380501234567", Code: "@1", Message: "card 4111 1111 1111 1111 declined\nsee line 2\r\nend"},
		domain.Operation{ProjectID: math.MaxInt64, OperationID: math.MaxUint64, PaymentID: " leading space", PaymentType: "\tpurchase",
			PaymentStatus: "\rsuccess", OperationType: "\x00sale", OperationStatus: "-1", PaymentMethod: "Банковская карта",
			AccountNumber: "4111111111111111*", CustomerID: `\.`, CreatedAt: ny("2026-11-01T05:30:00Z"), CompletedAt: ny("2026-11-01T06:30:00Z"),
			SumInitial: domain.Money{Amount: math.MinInt64, Currency: "BHD"}, SumConverted: domain.Money{Amount: math.MaxInt64, Currency: "CLF"},
			ProviderID: math.MaxInt64, ProviderPaymentID: "<b>&amp;</b>", Code: "'quoted", Message: "Оплата ✓ \x01\x0b bad \xff\xfe bytes"},
		domain.Operation{OperationID: 4}, // nothing but an id
		domain.Operation{ProjectID: -7, OperationID: 5, PaymentID: "old", AccountNumber: "Иван Петров", CustomerID: "\u00a0nbsp",
			CreatedAt: time.Date(1899, 12, 31, 23, 59, 59, 0, time.UTC), CompletedAt: time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
			SumInitial: domain.Money{Amount: 0, Currency: "EUR"}, SumConverted: domain.Money{Amount: -5, Currency: "ZZZ"},
			Message: strings.Repeat("ab", 17000) + "end"},
		domain.Operation{ProjectID: 580, OperationID: 6, PaymentID: "q@x", AccountNumber: "user@mail.example", CustomerID: "=cmd|' /C calc'!A0",
			CreatedAt: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), SumInitial: domain.Money{Amount: 999999999999999, Currency: "EUR"},
			SumConverted: domain.Money{Amount: 1000000000000000, Currency: "EUR"}, Message: "ends with a space "},
	)
	return list
}

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the writer wrote before:\n%s", name, firstDifference(got, want))
	}
}

// firstDifference shows where two outputs part.
func firstDifference(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	show := func(b []byte) string { return fmt.Sprintf("%q", b[max(0, i-80):min(len(b), i+80)]) }
	return fmt.Sprintf("byte %d (got %d bytes, want %d)\n got: %s\nwant: %s", i, len(got), len(want), show(got), show(want))
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestOperationsCSVBytesArePinned(t *testing.T) {
	for _, c := range []struct {
		golden string
		o      CSVOptions
	}{
		{"operations.golden.csv", CSVOptions{}},
		{"operations-tashkent-semicolon-bom.golden.csv", CSVOptions{Delimiter: ';', BOM: true, Location: zone(t, "Asia/Tashkent")}},
		{"operations-newyork-tab.golden.csv", CSVOptions{Delimiter: '\t', Location: zone(t, "America/New_York")}},
		{"operations-berlin-wide-delimiter.golden.csv", CSVOptions{Delimiter: '¦', Location: zone(t, "Europe/Berlin")}},
	} {
		var b bytes.Buffer
		n, err := OperationsCSV(&b, source(pinnedOps()), Filter{}, c.o)
		if err != nil || n != len(pinnedOps()) {
			t.Fatalf("%s: n=%d err=%v", c.golden, n, err)
		}
		golden(t, c.golden, b.Bytes())
	}
}

func TestOperationsXLSXIsPinned(t *testing.T) {
	for _, c := range []struct {
		golden string
		o      XLSXOptions
	}{
		{"operations.golden.xlsx.txt", XLSXOptions{}},
		{"operations-newyork.golden.xlsx.txt", XLSXOptions{Location: zone(t, "America/New_York")}},
		{"operations-newyork-buffered.golden.xlsx.txt", XLSXOptions{Location: zone(t, "America/New_York"), BufferedZip: true}},
	} {
		var b bytes.Buffer
		n, err := OperationsXLSX(&b, source(pinnedOps()), Filter{}, c.o, nil)
		if err != nil || n != len(pinnedOps()) {
			t.Fatalf("%s: n=%d err=%v", c.golden, n, err)
		}
		golden(t, c.golden, dumpXLSX(t, b.Bytes()))
	}
}

// dumpXLSX describes a workbook as text: every sheet's settings and cells
// as excelize reads them, then every part of the archive (its name, size
// and the SHA-256 of its uncompressed bytes).
func dumpXLSX(t *testing.T, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	f := openXLSX(t, data)
	for _, sheet := range f.GetSheetList() {
		fmt.Fprintf(&out, "sheet %q\n", sheet)
		dim, _ := f.GetSheetDimension(sheet)
		panes, _ := f.GetPanes(sheet)
		fmt.Fprintf(&out, "dimension %q panes freeze=%v ysplit=%d topleft=%s\n", dim, panes.Freeze, panes.YSplit, panes.TopLeftCell)
		tables, _ := f.GetTables(sheet)
		for _, tb := range tables {
			fmt.Fprintf(&out, "table %s %s %s\n", tb.Name, tb.Range, tb.StyleName)
		}
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for r := range rows {
			for c := range OperationColumns {
				ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if r == 0 {
					col, _ := excelize.ColumnNumberToName(c + 1)
					w, _ := f.GetColWidth(sheet, col)
					fmt.Fprintf(&out, "col %s width %v\n", col, w)
				}
				typ, _ := f.GetCellType(sheet, ref)
				raw, _ := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
				shown, _ := f.GetCellValue(sheet, ref)
				sid, _ := f.GetCellStyle(sheet, ref)
				style := "-"
				if st, _ := f.GetStyle(sid); st != nil {
					custom := ""
					if st.CustomNumFmt != nil {
						custom = *st.CustomNumFmt
					}
					bold := st.Font != nil && st.Font.Bold
					style = fmt.Sprintf("numfmt=%d custom=%q bold=%v fill=%v", st.NumFmt, custom, bold, st.Fill.Color)
				}
				if len(raw) > 200 {
					raw = fmt.Sprintf("%s… (%d bytes, sha256 %x)", raw[:40], len(raw), sha256.Sum256([]byte(raw)))
				}
				if len(shown) > 200 {
					shown = fmt.Sprintf("%s… (%d bytes, sha256 %x)", shown[:40], len(shown), sha256.Sum256([]byte(shown)))
				}
				fmt.Fprintf(&out, "%s type=%d style=%d %s raw=%q shown=%q\n", ref, typ, sid, style, raw, shown)
			}
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range zr.File {
		rc, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		part, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "part %s %d bytes sha256 %x modified %s\n", e.Name, len(part), sha256.Sum256(part), e.Modified.UTC().Format(time.RFC3339))
	}
	return out.Bytes()
}
