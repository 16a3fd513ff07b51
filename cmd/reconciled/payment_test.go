package main

import (
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// `payment` shows one payment whole: its verdict, each status ECommPay's
// operation was seen in with who reported it (sync, then a callback), the
// record with the file and line it came from; masked and cleaned. An id
// nothing is stored about is exit 1, saying so.
func TestPaymentShowsOnePayment(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	l, err := ledger.Open(w.db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := w.now.Add(-time.Hour).UTC().Truncate(time.Second)
	op := domain.Operation{ProjectID: 580, OperationID: 10000000000000031, PaymentID: "order-31", PaymentType: "purchase",
		PaymentStatus: "processing", OperationType: "sale", OperationStatus: "processing", PaymentMethod: "card",
		CreatedAt: at, SumInitial: domain.Money{Amount: 150000, Currency: "UAH"}, SumConverted: domain.Money{Amount: 150000, Currency: "UAH"}}
	if _, err := l.UpsertPage([]domain.Operation{op}, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	declined := op
	declined.OperationStatus, declined.PaymentStatus, declined.Code, declined.Message = "decline", "decline", "100", "Card 4111111111111111 declined \x1b[31m"
	declined.CompletedAt = at.Add(2 * time.Minute)
	if _, _, err := l.UpsertCallbacks([]domain.Operation{declined}, at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	rec := domain.Record{Source: "records", PaymentID: "order-31", Type: "purchase", Amount: op.SumInitial, Status: "paid", CreatedAt: at,
		Method: "card 5555555555554444", Origin: "books.csv:7"}
	if _, err := l.ImportRecords([]domain.Record{rec}, ledger.Import{At: at, File: "books.csv", Source: "records"}, at.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if before := w.mustRun(t, "payment", "order-31"); !strings.HasPrefix(before, "payment order-31 (no reconciliation is stored yet: run reconcile for its verdicts)\n") {
		t.Errorf("before any reconcile:\n%s", before)
	}
	w.mustRun(t, "reconcile", "--no-recheck")

	out := w.mustRun(t, "payment", "order-31")
	for _, want := range []string{
		"payment order-31 (from the reconciliation of ",
		"status_mismatch",
		"operation 10000000000000031 · sale · project 580 · 1\u202f500.00 UAH",
		"processing        processing      -     -",
		"sync\n",
		"decline           decline         100",
		"callback\n",
		"books.csv:7",
		"paid (since ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("payment lacks %q:\n%s", want, out)
		}
	}
	if c := fullCard(out); c != "" || strings.ContainsRune(out, 0x1b) {
		t.Errorf("payment shows a card number in full (%q) or a control character:\n%s", c, out)
	}
	code, _, errOut := w.run(t, "payment", "order-nobody-made")
	if code != 1 || !strings.Contains(errOut, `nothing is stored about payment id "order-nobody-made"`) {
		t.Errorf("an unknown id: exit %d, %q", code, errOut)
	}
	if code, _, _ := w.run(t, "payment"); code != 2 {
		t.Errorf("no id: exit %d, want 2", code)
	}
}
