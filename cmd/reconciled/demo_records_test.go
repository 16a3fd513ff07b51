package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"reconciled"
	"reconciled/internal/demo"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
)

// demoRecords builds testdata/demo-records.csv from the demo's fake data:
// the merchant's books agree with ECommPay except where a discrepancy is
// planted, by operation index, so that every result code appears.
func demoRecords(t *testing.T) []byte {
	f, err := fakeapi.New(fakeapi.Config{Token: demo.Token, Secret: []byte("x"), Seed: 1, Count: 5000,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	cols := []string{"payment_id", "type", "amount", "currency", "status", "created_at", "provider_payment_id", "operation_id", "project_id", "customer_id", "method"}
	for i, c := range cols {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(reconciled.DemoColumns[c])
	}
	b.WriteString("\r\n")
	word := func(table map[string]string, canonical string) string {
		for w, c := range table {
			if c == canonical {
				return w
			}
		}
		t.Fatalf("no word for %s", canonical)
		return ""
	}
	line := func(paymentID, typ string, m domain.Money, status, created, ppid string, opid uint64, project int64, customer, method string) {
		amount, _ := domain.FormatMajor(m.Amount, m.Currency)
		intPart, frac, _ := strings.Cut(amount, ".")
		for k := len(intPart) - 3; k > 0; k -= 3 { // thousands with a space, as accounting exports write them
			intPart = intPart[:k] + " " + intPart[k:]
		}
		if frac != "" {
			amount = intPart + "," + frac
		}
		op := ""
		if opid != 0 {
			op = fmt.Sprint(opid)
		}
		fmt.Fprintf(&b, "%s;%s;%s;%s;%s;%s;%s;%s;%d;%s;%s\r\n", paymentID, word(reconciled.DemoTypes, typ), amount, m.Currency,
			word(reconciled.DemoStatuses, status), created, ppid, op, project, customer, method)
	}
	ops := f.Operations(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	// What each payment holds, to plant cases of ECommPay's rarer
	// operations: the n-th payment refunded in parts, taken back, …
	type facts struct{ refunds, reverses, cancels, n int }
	pay := map[string]*facts{}
	kinds := map[string]int{} // payments seen so far of each case
	for _, op := range ops {
		if pay[op.PaymentID] == nil {
			pay[op.PaymentID] = &facts{}
		}
		switch domain.Builtin.Type(op.OperationType).Kind {
		case domain.KindRefund:
			pay[op.PaymentID].refunds++
		case domain.KindRefundReverse:
			pay[op.PaymentID].reverses++
		case domain.KindRelease:
			pay[op.PaymentID].cancels++
		}
	}
	instance := func(kind, payment string) int {
		p := pay[payment]
		if p.n == 0 {
			kinds[kind]++
			p.n = kinds[kind]
		}
		return p.n
	}
	declined, refundParts := 0, map[string]int{}
	for _, bl := range booksOf(ops) {
		i, op, typ, status := bl.i, bl.op, bl.typ, bl.status
		p := pay[op.PaymentID]
		switch {
		case status == domain.RecordFailed && domain.Builtin.Type(op.OperationType).Kind == domain.KindPurchase:
			if declined++; declined%40 == 1 {
				status = domain.RecordPaid // planted: status_mismatch
			}
		case typ == domain.RecordPurchase && strings.Contains(op.PaymentStatus, "refunded"):
			status = domain.RecordRefunded
		case !domain.Builtin.Known(domain.FieldOperationStatus, op.OperationStatus):
			status = domain.RecordPaid // the shop took ECommPay's "awaiting review" for paid: pending, then overdue
		}
		m := op.SumInitial
		paymentID, ppid, opid := op.PaymentID, "", uint64(0)
		switch {
		case typ == domain.RecordRefund && p.refunds > 1:
			// A sale refunded in parts: the 1st, 4th, … payment has both
			// parts booked; the 2nd, 5th, … only the second
			// (missing_in_records for the first); the 3rd, 6th, … both,
			// with ECommPay's operation ids.
			refundParts[op.PaymentID]++
			switch instance("parts", op.PaymentID) % 3 {
			case 2:
				if refundParts[op.PaymentID] == 1 {
					continue // planted: missing_in_records, "refund 1 of 2"
				}
			case 0:
				opid = op.OperationID // matched by operation_id
			}
		case typ == domain.RecordRefund && p.reverses > 0:
			// A refund taken back: every other shop still books it as paid.
			if instance("reverse", op.PaymentID)%2 == 0 {
				status = domain.RecordPaid // planted: status_mismatch, "taken back"
			}
		case typ == domain.RecordPurchase && p.cancels > 0:
			// An authorisation released: every other shop books it as paid.
			if instance("cancel", op.PaymentID)%2 == 0 {
				status = domain.RecordPaid // planted: status_mismatch, "released the authorisation"
			}
		case i%500 == 7:
			m.Amount += 100 // planted: amount_mismatch
		case i%500 == 11:
			m.Currency = map[bool]string{true: "USD", false: "EUR"}[m.Currency != "USD"] // planted: currency_mismatch
		case i%500 == 17 && op.OperationStatus == domain.StatusSuccess:
			continue // planted: missing_in_records
		case i%700 == 23 && op.ProviderPaymentID != "":
			paymentID, ppid = "", op.ProviderPaymentID // matched by provider_payment_id
		case i%700 == 29:
			paymentID, opid = "", op.OperationID // matched by operation_id
		}
		line(paymentID, typ, m, status, "", ppid, opid, op.ProjectID, op.CustomerID, op.PaymentMethod)
		if i%500 == 19 {
			line(paymentID, typ, m, status, "", ppid, opid, op.ProjectID, op.CustomerID, op.PaymentMethod) // planted: duplicate
		}
	}
	// Payments the merchant booked that ECommPay never saw: missing_at_provider.
	for k := 1; k <= 3; k++ {
		line(fmt.Sprintf("adv-order-lost-%d", k), domain.RecordPurchase, domain.Money{Amount: int64(125000 * k), Currency: "UAH"},
			domain.RecordPaid, fmt.Sprintf("%02d.01.2026 10:00:00", 10+k), "", 0, 580, "cust-lost", "advcash")
	}
	out, err := charmap.Windows1251.NewEncoder().String(b.String())
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

// TestDemoRecords keeps testdata/demo-records.csv in step with the fake:
// run with -update to rewrite it.
func TestDemoRecords(t *testing.T) {
	want := demoRecords(t)
	path := filepath.Join("..", "..", "testdata", "demo-records.csv")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(reconciled.DemoRecords, want) {
		t.Fatalf("%s is not what the fake's data gives now; run go test ./cmd/reconciled -run DemoRecords -update (and rebuild)", path)
	}
}
