package export

import (
	"bytes"
	"strings"
	"testing"

	"reconciled/internal/domain"
)

// A card number in an item's method (free text from the books, stored by
// a release that did not mask it) is exported masked, in CSV and XLSX;
// the ids are the merchant's keys and stay as they are.
func TestReconciliationMasksCardNumbersInTheMethod(t *testing.T) {
	items := []domain.Item{{Result: "missing_at_provider", PaymentID: "4111111111111111", Type: "purchase",
		Merchant: &domain.Record{Amount: domain.Money{Amount: 100, Currency: "UAH"}, Status: "paid"},
		Method:   "card 4111111111111111", CreatedAt: t0, Reason: "no ECommPay operation"}}
	var b bytes.Buffer
	if _, err := ReconciliationCSV(&b, ItemsOf(items), ItemFilter{}, CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "card 4111111111111111") || !strings.Contains(b.String(), "card 411111******1111") {
		t.Errorf("CSV:\n%s", b.String())
	}
	if !strings.Contains(b.String(), ",4111111111111111,") {
		t.Errorf("the payment id changed:\n%s", b.String())
	}
	b.Reset()
	if _, err := ReconciliationXLSX(&b, ItemsOf(items), ItemFilter{}, XLSXOptions{}); err != nil {
		t.Fatal(err)
	}
	rows, err := openXLSX(t, b.Bytes()).GetRows("Reconciliation")
	if err != nil || len(rows) != 2 {
		t.Fatal(rows, err)
	}
	if rows[1][13] != "card 411111******1111" {
		t.Errorf("XLSX method %q", rows[1][13])
	}
}
