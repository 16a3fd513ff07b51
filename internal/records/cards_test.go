package records

import (
	"os"
	"path/filepath"
	"testing"
)

// A card number a book carries in its free text (method, customer id) is
// masked as it is read: nothing stores or exports it in full.
func TestCardNumbersInFreeTextAreMaskedAsRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "books.csv")
	text := "payment_id;type;amount;currency;status;method;customer_id\n" +
		"o-1;purchase;1,00;UAH;paid;card 4111 1111 1111 1111;holder 5500-0000-0000-0004\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Records[0]
	if r.Method != "card 4111 11** **** 1111" || r.CustomerID != "holder 5500-00**-****-0004" {
		t.Errorf("method %q, customer id %q", r.Method, r.CustomerID)
	}
	if r.PaymentID != "o-1" {
		t.Errorf("payment id %q", r.PaymentID)
	}
}
