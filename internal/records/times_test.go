package records

import (
	"strings"
	"testing"
)

// An amount past domain.MaxAmount is refused too (the stored result's
// sums per result and currency would wrap). A time the stored result cannot hold (its items' times are nanoseconds
// since 1970: 1677 to 2262) is a problem of its line, not an item created
// in another century; 1969 and every ordinary year are fine.
func TestTimesOutsideWhatIsStoredAreRefused(t *testing.T) {
	_, fe := read(t, "far.csv", "payment_id;type;amount;currency;status;created_at\n"+
		"o1;purchase;10;UAH;paid;9999-12-31 23:59:59\n"+
		"o2;purchase;10;UAH;paid;1500-01-01 00:00:00\n"+
		"o3;purchase;10;UAH;paid;1969-12-31 23:59:59\n"+
		"o4;purchase;10;UAH;paid;2199-12-31 23:59:59\n"+
		"o5;refund;-20000000000000;UAH;refunded;\n"+ // 2*10^15 minor units: the stored sums could wrap
		"o6;purchase;10000000000000;UAH;paid;\n", // 10^15: taken
		Options{})
	if fe == nil {
		t.Fatal("accepted")
	}
	want := []string{
		"far.csv:2 column created_at: 9999-12-31T23:59:59Z is not between 1700 and 2199",
		"far.csv:3 column created_at: 1500-01-01T00:00:00Z is not between 1700 and 2199",
		"far.csv:6 column amount: amount -2000000000000000 is not within ±1000000000000000 minor units",
	}
	for _, w := range want {
		if !strings.Contains(fe.Error(), w) {
			t.Errorf("missing %q in\n%s", w, fe.Error())
		}
	}
	if len(fe.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(fe.Problems), len(want), fe.Error())
	}
}
