package records

import (
	"errors"
	"path/filepath"
	"reconciled/internal/domain"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/unicode"
)

// Accounting negatives: "(10.00)" is -10.00, with the sign rules of "-10.00":
// a refund or payout is stored by its size, a purchase is refused.
func TestAccountingNegatives(t *testing.T) {
	for _, tt := range []struct {
		line   string
		amount int64
	}{
		{"o1;refund;(10,00);UAH;refunded", 1000},
		{"o1;payout;(10.00);UAH;paid", 1000},
		{"o1;refund;(1.234,56);UAH;refunded", 123456},
		{"o1;refund;(1 234,56);UAH;refunded", 123456},
		{"o1;refund; ( 10,50 ) ;UAH;refunded", 1050},
		{"o1;refund;(200);JPY;refunded", 200},
		{"o1;purchase;(0,00);UAH;paid", 0},
	} {
		res, fe := read(t, "r.csv", "payment_id;type;amount;currency;status\n"+tt.line+"\n", Options{})
		if fe != nil {
			t.Errorf("%s: %v", tt.line, fe)
			continue
		}
		if got := res.Records[0].Amount.Amount; got != tt.amount {
			t.Errorf("%s: amount %d, want %d", tt.line, got, tt.amount)
		}
	}
	res, fe := read(t, "r.csv", "payment_id,type,amount,currency,status\no1,refund,\"(1,234.56)\",EUR,refunded\n", Options{})
	if fe != nil || res.Records[0].Amount.Amount != 123456 {
		t.Errorf("(1,234.56): %v %+v", fe, res)
	}
	res, fe = read(t, "r.csv", "payment_id;type;amount;currency;status\no1;refund;(1000);UAH;refunded\n", Options{AmountUnit: "minor"})
	if fe != nil || res.Records[0].Amount.Amount != 1000 {
		t.Errorf("(1000) in minor units: %v %+v", fe, res)
	}
	_, fe = read(t, "bad.csv", "payment_id;type;amount;currency;status\n"+
		"o1;purchase;(10,00);UAH;paid\n"+
		"o2;refund;(-10,00);UAH;refunded\n"+
		"o3;refund;-(10,00);UAH;refunded\n"+
		"o4;refund;(10,00;UAH;refunded\n"+
		"o5;refund;();UAH;refunded\n"+
		"o6;refund;(10,001);UAH;refunded\n", Options{})
	if fe == nil {
		t.Fatal("accepted")
	}
	want := []string{
		`bad.csv:2 column amount: "(10,00)" is negative for a purchase`,
		`bad.csv:3 column amount: "(-10,00)"`,
		`bad.csv:4 column amount: "-(10,00)"`,
		`bad.csv:5 column amount: "(10,00"`,
		`bad.csv:6 column amount: "()"`,
		`bad.csv:7 column amount: "(10,001)" has 3 decimals`,
	}
	for _, w := range want {
		if !strings.Contains(fe.Error(), w) {
			t.Errorf("missing %q in\n%v", w, fe)
		}
	}
	if len(fe.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(fe.Problems), len(want), fe)
	}
}

// xlsxFile writes rows (cells as excelize takes them) to a sheet "Orders".
func xlsxFile(t *testing.T, rows [][]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", "Orders")
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Orders", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "r.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// A boolean cell's raw value is 1 or 0, which read as a date serial is
// 1899-12-31: it is refused as what it is, in any column we read.
func TestXLSXBooleanCells(t *testing.T) {
	when := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	path := xlsxFile(t, [][]any{
		{"payment_id", "type", "amount", "currency", "status", "created_at", "project_id"},
		{"o1", "purchase", 10, "UAH", "paid", when, nil},
		{"o2", "purchase", 10, "UAH", "paid", true, nil},
		{"o3", "purchase", 10, "UAH", "paid", false, nil},
		{"o4", "purchase", true, "UAH", "paid", when, nil},
		{"o5", "purchase", 10, "UAH", "paid", when, true},
		{true, "purchase", 10, "UAH", "paid", when, nil},
		{"o7", "purchase", 1, "UAH", "paid", 1, 1}, // numbers 1: an amount, a project; not a date
	})
	_, err := ReadFile(path, Options{})
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("%v", err)
	}
	want := []string{
		`r.xlsx sheet "Orders" row 3 column created_at: TRUE is a boolean (yes/no) cell, not a date`,
		`r.xlsx sheet "Orders" row 4 column created_at: FALSE is a boolean (yes/no) cell, not a date`,
		`r.xlsx sheet "Orders" row 5 column amount: TRUE is a boolean (yes/no) cell, not an amount`,
		`r.xlsx sheet "Orders" row 6 column project_id: TRUE is a boolean (yes/no) cell, not a project id`,
		`r.xlsx sheet "Orders" row 7 column payment_id: TRUE is a boolean (yes/no) cell, not a payment id`,
		`r.xlsx sheet "Orders" row 8 column created_at: "1" is not a time`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	if len(fe.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(fe.Problems), len(want), err)
	}
	for i := 1; i < len(fe.Problems); i++ {
		if fe.Problems[i].Line < fe.Problems[i-1].Line {
			t.Errorf("problems out of row order:\n%v", err)
		}
	}
}

// Ids long enough to break the ledger's keys are bad lines, the value not
// echoed; MaxIDBytes bytes is still an id.
func TestOverlongIDs(t *testing.T) {
	ok := strings.Repeat("я", MaxIDBytes/2)
	if res, fe := read(t, "r.csv", "payment_id;type;amount;currency;status\n"+ok+";purchase;1;UAH;paid\n", Options{}); fe != nil || res.Records[0].PaymentID != ok {
		t.Fatalf("%d bytes: %v", len(ok), fe)
	}
	_, fe := read(t, "r.csv", "payment_id;type;amount;currency;status;provider_payment_id\n"+
		ok+"x;purchase;1;UAH;paid;\n;purchase;1;UAH;paid;"+strings.Repeat("p", 70_000)+"\n", Options{})
	if fe == nil || len(fe.Problems) != 2 || fe.Problems[0] != (Problem{Line: 2, Column: ColPaymentID, Msg: "1025 bytes long; at most 1024"}) ||
		fe.Problems[1] != (Problem{Line: 3, Column: ColProviderPaymentID, Msg: "70000 bytes long; at most 1024"}) {
		t.Fatalf("%v", fe)
	}
}

// Excel's "Unicode text" is UTF-16 little-endian with a byte order mark,
// tab between fields; other tools write big-endian. Both are read; UTF-16
// without the mark is refused with a message that says what it is.
func TestUTF16(t *testing.T) {
	text := "payment_id\ttype\tamount\tcurrency\tstatus\r\nзаказ-1\tpurchase\t1 000,50\tUAH\tpaid\r\n"
	utf16 := func(e unicode.Endianness, bom unicode.BOMPolicy, s string) string {
		b, err := unicode.UTF16(e, bom).NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tt := range []struct {
		name, data, encoding string
		sep                  rune
	}{
		{"r.txt", utf16(unicode.LittleEndian, unicode.UseBOM, text), "utf-16le with BOM", '\t'},
		{"r.csv", utf16(unicode.BigEndian, unicode.UseBOM, strings.ReplaceAll(text, "\t", ";")), "utf-16be with BOM", ';'},
	} {
		res, fe := read(t, tt.name, tt.data, Options{})
		if fe != nil {
			t.Errorf("%s: %v", tt.encoding, fe)
			continue
		}
		if res.Encoding != tt.encoding || res.Separator != tt.sep || len(res.Records) != 1 {
			t.Errorf("%s: %+v", tt.encoding, res)
			continue
		}
		if r := res.Records[0]; r.PaymentID != "заказ-1" || r.Amount.Amount != 100050 || r.Origin != tt.name+":2" {
			t.Errorf("%s: %+v", tt.encoding, r)
		}
	}
	for _, e := range []unicode.Endianness{unicode.LittleEndian, unicode.BigEndian} {
		_, fe := read(t, "r.txt", utf16(e, unicode.IgnoreBOM, text), Options{})
		if fe == nil || len(fe.Problems) != 1 || !strings.Contains(fe.Error(), "UTF-16 without a byte order mark") {
			t.Errorf("UTF-16 without BOM: %v", fe)
		}
	}
}

// A bad value is quoted shortened, with its length: a 1 MB amount made a
// 1 MB line of the problem list (50 MB for a 50 MB cell), on the terminal
// and through the daemon.
func TestLongBadValuesAreQuotedShort(t *testing.T) {
	long := strings.Repeat("7", 1<<20)
	_, fe := read(t, "r.csv", "payment_id;type;amount;currency;status;created_at;operation_id;project_id\n"+
		"o1;purchase;"+long+"x;UAH;paid;;;\n"+
		"o2;purchase;1;"+long+";paid;;;\n"+
		"o3;"+long+";1;UAH;paid;;;\n"+
		"o4;purchase;1;UAH;"+long+";;;\n"+
		"o5;purchase;1;UAH;paid;"+long+";;\n"+
		"o6;purchase;1;UAH;paid;;x"+long+";\n"+
		"o7;purchase;1;UAH;paid;;;x"+long+"\n", Options{})
	if fe == nil || len(fe.Problems) != 7 {
		t.Fatalf("want 7 problems: %v", fe)
	}
	for _, p := range fe.Problems {
		if len(p.Msg) > 300 || !strings.Contains(p.Msg, "…\" (1048") {
			t.Errorf("line %d column %s: %d bytes, %.120q…", p.Line, p.Column, len(p.Msg), p.Msg)
		}
	}
}

// A payment id the Data API may send (up to domain.MaxUpstreamIDBytes: 255
// four-byte characters, or 300 Cyrillic ones) is an id the books may hold:
// with a lower bound here the payment would be stored from ECommPay but
// refused in the books, and stay missing_in_records for ever.
func TestAnIDThatUpstreamMaySendIsAnID(t *testing.T) {
	id := strings.Repeat("я", domain.MaxUpstreamIDBytes/2)
	res, fe := read(t, "r.csv", "payment_id;type;amount;currency;status\n"+id+";purchase;1;UAH;paid\n", Options{})
	if fe != nil || res.Records[0].PaymentID != id {
		t.Fatalf("a %d-byte id the Data API may send: %v", len(id), fe)
	}
}
