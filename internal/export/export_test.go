package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func ops() []domain.Operation {
	return []domain.Operation{
		{ProjectID: 580, OperationID: 12345678901234567, PaymentID: "order-1", PaymentType: "purchase", PaymentStatus: "success",
			OperationType: "sale", OperationStatus: "success", PaymentMethod: "advcash", AccountNumber: "q***@gmail.com", CustomerID: "c1",
			CreatedAt: t0, CompletedAt: t0.Add(2 * time.Minute), SumInitial: domain.Money{Amount: 100000, Currency: "UAH"},
			SumConverted: domain.Money{Amount: 2300, Currency: "EUR"}, ProviderID: 1203, ProviderPaymentID: "b9275gfy", Code: "0", Message: "Success"},
		{ProjectID: 579, OperationID: 2, PaymentID: "=HYPERLINK(\"http://x\")", PaymentType: "payout", PaymentStatus: "processing",
			OperationType: "payout", OperationStatus: "processing", PaymentMethod: "Card partner", AccountNumber: "860012******1234", CustomerID: "-1+2",
			CreatedAt: t0.Add(time.Hour), SumInitial: domain.Money{Amount: 200, Currency: "JPY"}, SumConverted: domain.Money{Amount: -150155, Currency: "KWD"}},
	}
}

func source(list []domain.Operation) Source {
	return func(fn func(*domain.Operation) error) error {
		for i := range list {
			if err := fn(&list[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

func readCSV(t *testing.T, data []byte, comma rune) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("read back: %v\n%s", err, data)
	}
	return recs
}

func TestOperationsCSV(t *testing.T) {
	var b bytes.Buffer
	tash, _ := time.LoadLocation("Asia/Tashkent")
	withFee := ops()
	withFee[0].Fee = domain.Money{Amount: 2550, Currency: "UAH"} // 25.50 UAH charged
	n, err := OperationsCSV(&b, source(withFee), Filter{}, CSVOptions{Location: tash, Chargebacks: Chargebacks{{580, "order-1"}: "7 open; 9 lost", {579, "order-1"}: "8 open"}})
	if err != nil || n != 2 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	recs := readCSV(t, b.Bytes(), ',')
	if strings.Join(recs[0], ",") != "project_id,payment_id,payment_type,payment_status,operation_id,operation_type,operation_status,payment_method,amount,currency,converted_amount,converted_currency,account_number,customer_id,provider_id,provider_payment_id,code,message,created_at,completed_at,fee_amount,fee_currency,chargeback" {
		t.Fatalf("header %v", recs[0])
	}
	row := map[string]string{}
	for i, c := range recs[0] {
		row[c] = recs[1][i]
	}
	want := map[string]string{
		"operation_id": "12345678901234567", "amount": "1000.00", "currency": "UAH", "converted_amount": "23.00",
		"created_at": "2026-11-20 15:00:00", "completed_at": "2026-11-20 15:02:00", "provider_id": "1203",
		"fee_amount": "25.50", "fee_currency": "UAH", "chargeback": "7 open; 9 lost",
	}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s = %q, want %q", k, row[k], v)
		}
	}
	second := recs[2]
	if second[1] != `'=HYPERLINK("http://x")` || second[13] != "'-1+2" {
		t.Errorf("formula not neutralised: %q %q", second[1], second[13])
	}
	if second[8] != "200" || second[10] != "-150.155" || second[19] != "" || second[14] != "" || second[20] != "" || second[21] != "" || second[22] != "" {
		t.Errorf("amounts or empty cells: %q", second)
	}
}

func TestCSVOptionsAndFilter(t *testing.T) {
	var b bytes.Buffer
	n, err := OperationsCSV(&b, source(ops()), Filter{Methods: []string{"CARD PARTNER"}}, CSVOptions{BOM: true, Delimiter: ';'})
	if err != nil || n != 1 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("\xEF\xBB\xBF")) {
		t.Error("no BOM")
	}
	recs := readCSV(t, bytes.TrimPrefix(b.Bytes(), []byte("\xEF\xBB\xBF")), ';')
	if len(recs) != 2 || recs[1][0] != "579" {
		t.Errorf("filter/delimiter: %v", recs)
	}
	for _, f := range []Filter{{Projects: []int64{580}}, {Statuses: []string{"success"}}, {Types: []string{"sale"}}, {Currencies: []string{"uah"}}} {
		b.Reset()
		if n, _ := OperationsCSV(&b, source(ops()), f, CSVOptions{}); n != 1 {
			t.Errorf("filter %+v: %d rows, want 1", f, n)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "old"); return err }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		io.WriteString(w, strings.Repeat("partial", 100000))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Errorf("file changed by a failed write: %d bytes", len(data))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestEveryTextColumnIsNeutralised(t *testing.T) {
	op := ops()[0]
	op.OperationStatus, op.PaymentType, op.Code = "=1+1", "@SUM(A1)", "\x00=2"
	var b bytes.Buffer
	if _, err := OperationsCSV(&b, source([]domain.Operation{op}), Filter{}, CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, cell := range readCSV(t, b.Bytes(), ',')[1] {
		if cell != "" && strings.ContainsRune("=+@\t\r\x00", rune(cell[0])) {
			t.Errorf("column %s starts with %q", OperationColumns[i], cell[:1])
		}
	}
}

func TestWriteFileAtomicPanicAndMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	os.WriteFile(path, []byte("old"), 0o600)
	func() {
		defer func() { recover() }()
		WriteFileAtomic(path, func(w io.Writer) error { panic("boom") })
	}()
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a panic left %v", entries)
	}
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the old file's 0600", fi.Mode().Perm())
	}
}
