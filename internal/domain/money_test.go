package domain

import (
	"math"
	"testing"
)

// AddAmounts and SubAmounts are exact inside int64 and stop at its limits
// outside it, on both sides.
func TestAmountSumsStopAtTheLimits(t *testing.T) {
	const hi, lo = math.MaxInt64, math.MinInt64
	for _, c := range []struct{ a, b, sum, diff int64 }{
		{1, 2, 3, -1},
		{hi, 1, hi, hi - 1},
		{hi, hi, hi, 0},
		{lo, -1, lo, lo + 1},
		{lo, lo, lo, 0},
		{0, lo, lo, hi},
		{-1, lo, lo, hi},
		{-2, lo, lo, hi - 1},
		{hi, lo, -1, hi},
		{lo, hi, -1, lo},
	} {
		if got := AddAmounts(c.a, c.b); got != c.sum {
			t.Errorf("AddAmounts(%d, %d) = %d, want %d", c.a, c.b, got, c.sum)
		}
		if got := SubAmounts(c.a, c.b); got != c.diff {
			t.Errorf("SubAmounts(%d, %d) = %d, want %d", c.a, c.b, got, c.diff)
		}
	}
}
