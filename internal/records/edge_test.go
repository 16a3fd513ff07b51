package records

import (
	"strings"
	"testing"
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
