package records

import (
	"strings"
	"testing"
)

// Files an adversarial review of the import made by hand (a zip written
// part by part, line ends of another system, amounts at int64's edge):
// each was read wrong before its fix.

// TestAnAmountOfInt64sMostNegativeIsRefused: -92233720368547758.08 UAH is
// the most negative int64 in kopecks; a refund's or payout's size is its
// negation, which overflows to itself: the record was stored with a
// negative size.
func TestAnAmountOfInt64sMostNegativeIsRefused(t *testing.T) {
	for _, tt := range []struct {
		amount string
		o      Options
	}{
		{"-92233720368547758.08", Options{}},
		{"(92233720368547758.08)", Options{}},
		{"-9223372036854775808", Options{AmountUnit: "minor"}},
	} {
		res, fe := read(t, "r.csv", "payment_id,type,amount,currency,status\nr-1,refund,"+tt.amount+",UAH,refunded\n", tt.o)
		if fe == nil {
			t.Errorf("%s: read as %d", tt.amount, res.Records[0].Amount.Amount)
			continue
		}
		if len(fe.Problems) != 1 || fe.Problems[0].Line != 2 || fe.Problems[0].Column != ColAmount || !strings.Contains(fe.Problems[0].Msg, "out of range") {
			t.Errorf("%s: %v", tt.amount, fe)
		}
	}
	// One kopeck less is the largest size there is.
	res, fe := read(t, "r.csv", "payment_id,type,amount,currency,status\nr-1,refund,-92233720368547758.07,UAH,refunded\n", Options{})
	if fe != nil || res.Records[0].Amount.Amount != 1<<63-1 {
		t.Errorf("-92233720368547758.07: %v %v", res, fe)
	}
}
