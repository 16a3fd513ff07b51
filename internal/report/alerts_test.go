package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

func alertFixture() *Alert {
	at := time.Date(2026, 11, 21, 9, 5, 0, 0, time.UTC)
	eur := func(n int64) domain.Money { return domain.Money{Amount: n, Currency: "EUR"} }
	declined := domain.Item{Result: domain.ResultStatusMismatch, PaymentID: "order-<b>1042</b>", Type: domain.RecordPurchase, ProjectID: 580,
		OperationID: 9001, Method: "card", CreatedAt: at,
		Reason:   `ECommPay says decline (code 20 "<script>alert(1)</script> card 4111 1111 1111 1111"), the books say paid`,
		Merchant: &domain.Record{Amount: eur(125000), Status: domain.RecordPaid},
		Provider: &domain.Operation{OperationType: "sale", OperationStatus: "decline", SumInitial: eur(125000)}}
	short := domain.Item{Result: domain.ResultAmountMismatch, PaymentID: "order-7", Type: domain.RecordPurchase, ProjectID: 580,
		Method: "advcash", CreatedAt: at.Add(-time.Hour), Reason: "amounts differ by 0.50 EUR",
		Merchant: &domain.Record{Amount: eur(1000), Status: domain.RecordPaid},
		Provider: &domain.Operation{OperationType: "sale", OperationStatus: "success", SumInitial: eur(950)}}
	missing := domain.Item{Result: domain.ResultMissingInRecords, PaymentID: "p-3", Type: domain.RecordRefund, ProjectID: 579,
		Method: "card", CreatedAt: at, Reason: "no record\x1b[2J of the refund",
		Provider: &domain.Operation{OperationType: "refund", OperationStatus: "success", SumInitial: domain.Money{Amount: 5000, Currency: "JPY"}}}
	return &Alert{Now: at.Add(10 * time.Minute), Location: time.UTC, Interval: 15 * time.Minute,
		Items: []domain.Item{declined, missing, short}, Total: 7,
		Counts: map[string]int{domain.ResultStatusMismatch: 3, domain.ResultAmountMismatch: 1, domain.ResultMissingInRecords: 3}}
}

// An alert's subject counts the new exceptions by code, in the order
// summaries show codes.
func TestAlertSubject(t *testing.T) {
	a := alertFixture()
	if got, want := a.Subject(), "reconciled: 7 new exceptions (1 amount_mismatch, 3 status_mismatch, 3 missing_in_records)"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	a.Items, a.Total, a.Counts = a.Items[:1], 1, map[string]int{domain.ResultStatusMismatch: 1}
	if got, want := a.Subject(), "reconciled: 1 new exception (status_mismatch)"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
}

// The HTML form escapes what comes from outside (a payment id, a reason
// quoting the provider's message), and neither form shows a card number
// in full; both list each exception with both sides' amounts and
// currency, and say how many more there are and how to list them.
func TestAlertBodies(t *testing.T) {
	a := alertFixture()
	var html, text bytes.Buffer
	if err := a.HTML(&html); err != nil {
		t.Fatal(err)
	}
	if err := a.Text(&text); err != nil {
		t.Fatal(err)
	}
	h, tx := html.String(), text.String()
	for _, bad := range []string{"<script>", "<b>1042", "4111 1111 1111 1111", "\x1b"} {
		if strings.Contains(h, bad) {
			t.Errorf("the HTML holds %q:\n%s", bad, h)
		}
	}
	for _, bad := range []string{"4111 1111 1111 1111", "\x1b"} {
		if strings.Contains(tx, bad) {
			t.Errorf("the text holds %q:\n%s", bad, tx)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "order-&lt;b&gt;1042&lt;/b&gt;", "4111 11** **** 1111"} {
		if !strings.Contains(h, want) {
			t.Errorf("the HTML lacks %q:\n%s", want, h)
		}
	}
	hint := "reconciled export --what reconciliation --format csv --result amount_mismatch,status_mismatch,missing_in_records -o exceptions.csv"
	for _, want := range []string{"order-<b>1042</b>", "<script>alert(1)</script>", "1 250.00 EUR paid", "1 250.00 EUR decline",
		"9.50 EUR success", "5 000 JPY success", "missing_in_records", "advcash", "580", "2026-11-21 09:05",
		"and 4 more", hint, "at most one mail every 15m"} {
		if !strings.Contains(tx, want) {
			t.Errorf("the text lacks %q:\n%s", want, tx)
		}
	}
	if !strings.Contains(h, "and 4 more") || !strings.Contains(h, hint) || strings.Contains(h, "<img") || strings.Contains(h, "src=") {
		t.Errorf("the HTML's end:\n%s", h)
	}
	// Listed by code as summaries order them, then by time.
	if i, j, k := strings.Index(tx, "order-7"), strings.Index(tx, "order-<b>"), strings.Index(tx, "p-3"); !(i < j && j < k) {
		t.Errorf("the order: amount_mismatch at %d, status_mismatch at %d, missing_in_records at %d:\n%s", i, j, k, tx)
	}
}
