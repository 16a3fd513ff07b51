package records

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"

	"reconciled/internal/domain"
)

const canonicalHeader_ = "payment_id,type,amount,currency,status,created_at,provider_payment_id,operation_id,project_id,customer_id,method\n"

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func read(t *testing.T, name, text string, o Options) (*Result, *FileError) {
	t.Helper()
	res, err := ReadFile(write(t, name, []byte(text)), o)
	if err == nil {
		return res, nil
	}
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %T: %v", err, err)
	}
	return nil, fe
}

func TestCanonicalCSV(t *testing.T) {
	res, fe := read(t, "r.csv", canonicalHeader_+
		"order-1,purchase,1000.00,UAH,paid,2026-11-20 10:00:00,prov-1,12345678901234567,580,c1,advcash\n"+
		"order-2,refund,-5.5,EUR,refunded,2026-11-20T10:00:00+03:00,,,,,\n", Options{})
	if fe != nil {
		t.Fatal(fe)
	}
	if res.Encoding != "utf-8" || res.Separator != ',' || res.Lines != 2 || len(res.Records) != 2 {
		t.Fatalf("%+v", res)
	}
	r := res.Records[0]
	want := domain.Record{Source: DefaultSource, PaymentID: "order-1", Type: "purchase", Amount: domain.Money{Amount: 100000, Currency: "UAH"},
		Status: "paid", CreatedAt: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), ProviderPaymentID: "prov-1",
		OperationID: 12345678901234567, ProjectID: 580, CustomerID: "c1", Method: "advcash", Origin: "r.csv:2"}
	if r != want {
		t.Errorf("record\n got %+v\nwant %+v", r, want)
	}
	if r2 := res.Records[1]; r2.Amount.Amount != 550 || !r2.CreatedAt.Equal(time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("second record %+v", r2)
	}
}

// Every quirk of real exports, as table tests: each file must give one
// record of 1 000,50 UAH (or the noted amount).
func TestImportQuirks(t *testing.T) {
	cp1251 := func(s string) string {
		b, err := charmap.Windows1251.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, text string
		o          Options
		amount     int64
		encoding   string
		sep        rune
	}{
		{"semicolon and decimal comma", "payment_id;type;amount;currency;status\no1;purchase;1000,50;UAH;paid\n", Options{}, 100050, "utf-8", ';'},
		{"tab", "payment_id\ttype\tamount\tcurrency\tstatus\no1\tpurchase\t1000.50\tUAH\tpaid\n", Options{}, 100050, "utf-8", '\t'},
		{"BOM", "\uFEFFpayment_id,type,amount,currency,status\no1,purchase,1000.50,UAH,paid\n", Options{}, 100050, "utf-8 with BOM", ','},
		{"space thousands", "payment_id;type;amount;currency;status\no1;purchase;1 000,50;UAH;paid\n", Options{}, 100050, "utf-8", ';'},
		{"nbsp thousands", "payment_id;type;amount;currency;status\no1;purchase;1\u00a0000,50;UAH;paid\n", Options{}, 100050, "utf-8", ';'},
		{"narrow nbsp", "payment_id;type;amount;currency;status\no1;purchase;1\u202f000,50;UAH;paid\n", Options{}, 100050, "utf-8", ';'},
		{"comma thousands dot decimal", "payment_id,type,amount,currency,status\no1,purchase,\"1,000.50\",UAH,paid\n", Options{}, 100050, "utf-8", ','},
		{"dot thousands comma decimal", "payment_id;type;amount;currency;status\no1;purchase;1.000,50;UAH;paid\n", Options{}, 100050, "utf-8", ';'},
		{"dot thousands no decimals", "payment_id;type;amount;currency;status\no1;purchase;1.000.000;JPY;paid\n", Options{}, 1000000, "utf-8", ';'},
		{"minor units", "payment_id;type;amount;currency;status\no1;purchase;100050;UAH;paid\n", Options{AmountUnit: "minor"}, 100050, "utf-8", ';'},
		{"CRLF", "payment_id,type,amount,currency,status\r\no1,purchase,1000.50,UAH,paid\r\n", Options{}, 100050, "utf-8", ','},
		{"lower-case currency, odd case words", "payment_id,type,amount,currency,status\no1,PURCHASE,1000.5,uah,Paid\n", Options{}, 100050, "utf-8", ','},
		{"windows-1251 with remapped columns and words",
			cp1251("Номер заказа;Вид;Сумма;Валюта;Статус\nо1;Оплата;1 000,50;UAH;Оплачен\n"),
			Options{
				Columns:  map[string]string{"payment_id": "Номер заказа", "type": "Вид", "amount": "Сумма", "currency": "Валюта", "status": "Статус"},
				Statuses: map[string]string{"оплачен": "paid"},
				Types:    map[string]string{"Оплата": "purchase"},
			}, 100050, "windows-1251", ';'},
		{"KWD three decimals", "payment_id,type,amount,currency,status\no1,purchase,150.155,KWD,paid\n", Options{}, 150155, "utf-8", ','},
		{"JPY no decimals", "payment_id,type,amount,currency,status\no1,purchase,200,JPY,paid\n", Options{}, 200, "utf-8", ','},
		{"extra columns ignored", "id,payment_id,type,amount,note,currency,status\n7,o1,purchase,1000.50,\"a, b\",UAH,paid\n", Options{}, 100050, "utf-8", ','},
		{"empty lines skipped", "payment_id,type,amount,currency,status\n\no1,purchase,1000.50,UAH,paid\n\n", Options{}, 100050, "utf-8", ','},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, fe := read(t, "r.csv", tt.text, tt.o)
			if fe != nil {
				t.Fatal(fe)
			}
			if len(res.Records) != 1 || res.Records[0].Amount.Amount != tt.amount || res.Encoding != tt.encoding || res.Separator != tt.sep {
				t.Fatalf("got %+v", res)
			}
			if r := res.Records[0]; r.Type != "purchase" || r.Status != "paid" || !strings.HasPrefix(r.PaymentID, "o") && r.PaymentID != "о1" {
				t.Errorf("record %+v", r)
			}
		})
	}
}

func TestBadFileIsRejectedWholeWithEveryLine(t *testing.T) {
	_, fe := read(t, "bad.csv", "payment_id;type;amount;currency;status;created_at;operation_id\n"+
		"o1;purchase;1000,50;UAH;paid;2026-11-20;\n"+ // good
		"o2;purchase;10,001;UAH;paid;;\n"+ // 3 decimals
		"o3;gift;10;UAH;paid;;\n"+ // type
		"o4;purchase;10;XYZ;paid;;\n"+ // currency
		"o5;purchase;10;UAH;maybe;;\n"+ // status
		"o6;purchase;10;UAH;paid;yesterday;\n"+ // time
		";purchase;10;UAH;paid;;\n"+ // no id
		"o8;purchase;1.2.3;UAH;paid;;\n"+ // grouping
		"o9;purchase;10;UAH;paid;;1.5e16\n"+ // op id through float
		"o10;purchase;-10;UAH;paid;;\n"+ // negative purchase
		"o11;purchase;10;UAH\n", // short line
		Options{})
	if fe == nil {
		t.Fatal("accepted")
	}
	want := []string{
		"bad.csv:3 column amount: \"10,001\" has 3 decimals; UAH has 2",
		"bad.csv:4 column type: \"gift\" is none of purchase, payout, refund",
		"bad.csv:5 column currency: \"XYZ\" is not an ISO 4217 currency code",
		"bad.csv:6 column status: \"maybe\" is none of paid, failed, pending, refunded",
		"bad.csv:7 column created_at: \"yesterday\" is not a time",
		"bad.csv:8 column payment_id: empty",
		"bad.csv:9 column amount: \"1.2.3\"",
		"bad.csv:10 column operation_id: \"1.5e16\" is not an operation id",
		"bad.csv:11 column amount: \"-10\" is negative for a purchase",
		"bad.csv:12: 4 fields, the header has 7",
	}
	msg := fe.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in\n%s", w, msg)
		}
	}
	if len(fe.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(fe.Problems), len(want), msg)
	}
}

func TestHeaderProblems(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{"payment_id,type,currency,status\no1,purchase,UAH,paid\n", "column amount: missing from the header"},
		{"order,type,amount,currency,status\no1,purchase,1,UAH,paid\n", "column payment_id: missing from the header, as are provider_payment_id and operation_id"},
		{"payment_id,type,amount,amount,currency,status\no1,purchase,1,2,UAH,paid\n", "column amount: the header has it twice"},
		{"payment_id type amount\n", "no ',', ';' or tab"},
		{"payment_id,type,amount,currency,status\n", "no data lines"},
		{"payment_id,type,amount,currency,status\n\"o1,purchase,1,UAH,paid\n", "bad.csv:2"},
	} {
		_, fe := read(t, "bad.csv", tt.text, Options{})
		if fe == nil || !strings.Contains(fe.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q", tt.text, fe, tt.want)
		}
	}
	_, fe := read(t, "bad.csv", "Сумма,type,currency,status\n", Options{Columns: map[string]string{"amount": "Summa"}})
	if fe == nil || !strings.Contains(fe.Error(), `expected as "Summa", from [records.columns]`) {
		t.Errorf("remapped missing column: %v", fe)
	}
}

func TestProblemsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("payment_id,type,amount,currency,status\n")
	for i := 0; i < 50; i++ {
		b.WriteString("o,purchase,1,UAH,nope\n")
	}
	_, fe := read(t, "many.csv", b.String(), Options{MaxErrors: 10})
	if fe == nil || len(fe.Problems) != 10 || fe.More != 40 || !strings.Contains(fe.Error(), "and 40 more") {
		t.Fatalf("%v", fe)
	}
}

func TestXLSX(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", "Orders")
	rows := [][]any{
		{"payment_id", "type", "amount", "currency", "status", "created_at", "operation_id"},
		{"o1", "purchase", 1000.5, "UAH", "paid", time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC), "12345678901234567"},
		{"o2", "payout", "1 000,50", "UAH", "paid", "2026-11-20 10:30:00", nil},
		{"o3", "purchase", 0.1 + 0.2, "EUR", "paid", nil, nil}, // 0.30000000000000004
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Orders", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 22}) // m/d/yy h:mm: the shown text must not matter
	f.SetCellStyle("Orders", "F2", "F2", style)
	f.NewSheet("Other")
	path := filepath.Join(t.TempDir(), "r.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	res, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 3 {
		t.Fatalf("%+v", res)
	}
	want := []int64{100050, 100050, 30}
	for i, r := range res.Records {
		if r.Amount.Amount != want[i] {
			t.Errorf("row %d amount %d, want %d", i+2, r.Amount.Amount, want[i])
		}
	}
	if r := res.Records[0]; !r.CreatedAt.Equal(time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)) || r.OperationID != 12345678901234567 || r.Origin != "r.xlsx row 2" {
		t.Errorf("row 2: %+v", r)
	}
	if _, err := ReadFile(path, Options{Sheet: "Missing"}); err == nil || !strings.Contains(err.Error(), `no sheet "Missing"`) {
		t.Errorf("missing sheet: %v", err)
	}
	if _, err := ReadFile(path, Options{Sheet: "Other"}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty sheet: %v", err)
	}
	// A real extra decimal in a number cell is still an error.
	f.SetCellValue("Orders", "C2", 10.001)
	f.Save()
	_, err = ReadFile(path, Options{})
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), `r.xlsx sheet "Orders" row 2 column amount: "10.001" has 3 decimals`) {
		t.Errorf("10.001 UAH in a number cell: %v", err)
	}
}

func TestUnsupportedExtension(t *testing.T) {
	if _, err := ReadFile(write(t, "r.xls", []byte("x")), Options{}); err == nil || !strings.Contains(err.Error(), ".xlsx") {
		t.Errorf("%v", err)
	}
}
