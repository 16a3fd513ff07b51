package export

import (
	"bytes"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
)

func openXLSX(t *testing.T, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestOperationsXLSX(t *testing.T) {
	tash, _ := time.LoadLocation("Asia/Tashkent")
	list := ops()
	list[0].Fee = domain.Money{Amount: 2550, Currency: "UAH"}
	big := list[0]
	big.OperationID, big.SumInitial = 3, domain.Money{Amount: math.MaxInt64, Currency: "EUR"} // 19 digits: no double holds them
	list = append(list, big)
	for _, buffered := range []bool{false, true} {
		var b bytes.Buffer
		n, err := OperationsXLSX(&b, source(list), Filter{}, XLSXOptions{Location: tash, BufferedZip: buffered}, nil)
		if err != nil || n != 3 {
			t.Fatalf("n=%d err=%v", n, err)
		}
		f := openXLSX(t, b.Bytes())
		if got := f.GetSheetList(); len(got) != 1 || got[0] != "Operations" {
			t.Fatalf("sheets %v", got)
		}
		get := func(cell string, raw bool) string {
			v, err := f.GetCellValue("Operations", cell, excelize.Options{RawCellValue: raw})
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if get("U2", true) != "25.5" || get("U2", false) != "25.50" || get("V2", false) != "UAH" || get("U3", false) != "" || get("V3", false) != "" {
			t.Errorf("fee: %q (%q) %q; none: %q %q", get("U2", true), get("U2", false), get("V2", false), get("U3", false), get("V3", false))
		}
		for cell, want := range map[string]string{"A1": "project_id", "I1": "amount", "T1": "completed_at", "U1": "fee_amount", "V1": "fee_currency"} {
			if got := get(cell, false); got != want {
				t.Errorf("%s = %q, want %q", cell, got, want)
			}
		}
		// Amounts: numbers in major units, shown with the currency's decimals.
		if get("I2", true) != "1000" || get("I2", false) != "1,000.00" || get("K2", false) != "23.00" {
			t.Errorf("UAH amount raw %q shown %q, converted %q", get("I2", true), get("I2", false), get("K2", false))
		}
		if get("I3", false) != "200" || get("K3", false) != "-150.155" {
			t.Errorf("JPY %q, KWD %q", get("I3", false), get("K3", false))
		}
		if typ, _ := f.GetCellType("Operations", "I2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Errorf("amount cell type %v", typ)
		}
		if get("I4", false) != "92233720368547758.07" {
			t.Errorf("a 19-digit amount lost digits: %q", get("I4", false))
		}
		// Ids keep all 17 digits; times are date cells in the export's zone.
		if get("E2", false) != "12345678901234567" {
			t.Errorf("operation id %q", get("E2", false))
		}
		if get("S2", false) != "2026-11-20 15:00:00" {
			t.Errorf("created_at shown %q", get("S2", false))
		}
		if raw := get("S2", true); raw == "" || raw[0] < '0' || raw[0] > '9' {
			t.Errorf("created_at is not a date number: %q", raw)
		} else if v, _ := strconv.ParseFloat(raw, 64); v < 46000 || v > 47000 {
			t.Errorf("created_at serial %v", v)
		}
		// A text cell that looks like a formula is a string, kept as it is.
		if formula, _ := f.GetCellFormula("Operations", "B3"); formula != "" || get("B3", false) != `=HYPERLINK("http://x")` {
			t.Errorf("payment id B3: formula %q, value %q", formula, get("B3", false))
		}
		if typ, _ := f.GetCellType("Operations", "B3"); typ != excelize.CellTypeInlineString {
			t.Errorf("payment id B3 has cell type %v", typ)
		}
		// Bold, frozen header; a table (autofilter) over the data; widths.
		styleID, _ := f.GetCellStyle("Operations", "A1")
		if st, _ := f.GetStyle(styleID); st == nil || st.Font == nil || !st.Font.Bold {
			t.Error("header is not bold")
		}
		if p, _ := f.GetPanes("Operations"); !p.Freeze || p.YSplit != 1 {
			t.Errorf("panes %+v", p)
		}
		if tables, _ := f.GetTables("Operations"); len(tables) != 1 || tables[0].Range != "A1:W4" {
			t.Errorf("tables %+v", tables)
		}
		if w, _ := f.GetColWidth("Operations", "M"); w < 30 {
			t.Errorf("account_number width %v", w)
		}
	}
}

func TestReconciliationXLSX(t *testing.T) {
	o := ops()
	items := []domain.Item{{Result: "amount_mismatch", MatchedBy: "payment_id", PaymentID: "order-1", Type: "purchase",
		Merchant: &domain.Record{Amount: domain.Money{Amount: 100050, Currency: "UAH"}, Status: "paid"}, Provider: &o[0],
		OperationID: o[0].OperationID, ProjectID: 580, CreatedAt: t0, Reason: "=not a formula in XLSX"}}
	var b bytes.Buffer
	if n, err := ReconciliationXLSX(&b, ItemsOf(items), ItemFilter{}, XLSXOptions{}); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	f := openXLSX(t, b.Bytes())
	rows, err := f.GetRows("Reconciliation")
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %v %v", rows, err)
	}
	if rows[1][0] != "amount_mismatch" || rows[1][4] != "1,000.50" || rows[1][7] != "1,000.00" || rows[1][15] != "=not a formula in XLSX" {
		t.Errorf("row %q", rows[1])
	}
}

func excelizeRaw() excelize.Options { return excelize.Options{RawCellValue: true} }
