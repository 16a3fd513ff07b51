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

// TestCROnlyLineEnds: a CSV whose lines end in a carriage return alone
// (Excel for Mac's "CSV (Macintosh)") was one line to encoding/csv, so the
// file was "no data lines after the header"; its lines are lines, and its
// problems name them.
func TestCROnlyLineEnds(t *testing.T) {
	text := "payment_id,type,amount,currency,status\r" +
		"o-1,purchase,1.00,UAH,paid\r" +
		"\"o\r2\",purchase,2.00,UAH,paid\r" + // a quoted line end stays in its field
		"o-3,purchase,3.00,UAH,paid\r"
	res, fe := read(t, "mac.csv", text, Options{})
	if fe != nil {
		t.Fatal(fe)
	}
	if res.Lines != 3 || len(res.Records) != 3 || res.Records[1].PaymentID != "o\n2" || res.Records[2].PaymentID != "o-3" {
		t.Fatalf("%d lines, %+v", res.Lines, res.Records)
	}
	_, fe = read(t, "mac.csv", strings.Replace(text, "3.00", "x", 1), Options{})
	if fe == nil || len(fe.Problems) != 1 || fe.Problems[0].Line != 5 {
		t.Errorf("a bad last line: %v", fe)
	}
}

// TestANULByteNamesItsLine: the problem of a file with a NUL byte is on
// the NUL's line, as its message says, not on line 1.
func TestANULByteNamesItsLine(t *testing.T) {
	_, fe := read(t, "nul.csv", "payment_id,type,amount,currency,status\no-1,purchase,1.00,UAH,paid\no-2,purch\x00ase,1.00,UAH,paid\n", Options{})
	if fe == nil || len(fe.Problems) != 1 || fe.Problems[0].Line != 3 {
		t.Fatalf("%v", fe)
	}
	if got := fe.Error(); !strings.Contains(got, "nul.csv:3: a NUL byte: ") {
		t.Errorf("%q", got)
	}
}
