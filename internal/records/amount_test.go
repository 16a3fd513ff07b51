package records

import (
	"math/rand/v2"
	"testing"
)

// plainAmount is a shortcut: whatever it reads, readAmount reads the same.
func TestPlainAmountsReadAsEveryAmount(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	alphabet := "0123456789.,- +(\u00a0\u202f\u2007\u2009"
	cases := []string{"0", "1", "12.5", "12,50", "-7,5", "-0.01", "0012.30", "1.", ".5", "1.2.3", "1,000.50", "999999999999999999",
		"9999999999999999.99", "92233720368547758.07", "-92233720368547758.08", "1.234", "1 000", "1 000,50", "1\u00a0000,5", "- 5", " -5", "1 ,5", "1, 5", "+5", "(5)", "--1", "-", "5-"}
	for range 20_000 {
		runes := []rune(alphabet)
		b := make([]rune, 1+rnd.IntN(22))
		for i := range b {
			b[i] = runes[rnd.IntN(len(runes))]
		}
		cases = append(cases, string(b))
	}
	read := 0
	for _, s := range cases {
		for _, cur := range []string{"UAH", "JPY", "KWD"} {
			n, ok := plainAmount(s, cur, "major")
			if !ok {
				continue
			}
			read++
			m, err := readAmount(s, cur, "major", false)
			if err != nil || m != n {
				t.Errorf("%q %s: plain %d, every amount %d %v", s, cur, n, m, err)
			}
			if m2, err := readAmount(s, cur, "major", true); err != nil || m2 != n {
				t.Errorf("%q %s in a number cell: plain %d, every amount %d %v", s, cur, n, m2, err)
			}
		}
		if _, ok := plainAmount(s, "UAH", "minor"); ok {
			t.Errorf("%q: read as plain in minor units", s)
		}
	}
	if read < 1000 {
		t.Errorf("only %d cases plain", read)
	}
}
