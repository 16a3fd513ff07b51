package domain

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/moov-io/iso4217"
)

// ErrUnknownCurrency is returned for a code that is not an alphabetic
// ISO 4217 currency code.
var ErrUnknownCurrency = errors.New("unknown ISO 4217 currency")

// Money is an amount in the currency's minor units (cents, tiyin, …).
type Money struct {
	Amount   int64
	Currency string // ISO 4217 alphabetic code, upper case
}

// String formats m in major units followed by its code, e.g. "1000.00 UAH".
// An unknown currency is shown in minor units with a marker.
func (m Money) String() string { return string(m.Append(nil)) }

// Append appends what String returns.
func (m Money) Append(dst []byte) []byte {
	exp, err := Exponent(m.Currency)
	if err != nil {
		dst = strconv.AppendInt(dst, m.Amount, 10)
		dst = append(dst, " minor "...)
		return append(dst, m.Currency...)
	}
	dst = AppendMajor(dst, m.Amount, exp)
	dst = append(dst, ' ')
	return append(dst, m.Currency...)
}

var exponents sync.Map // code -> int

// Exponent returns the number of decimals of an ISO 4217 currency: 2 for UAH,
// 0 for JPY, 3 for KWD. Only upper-case alphabetic codes are accepted.
func Exponent(currency string) (int, error) {
	if e, ok := exponents.Load(currency); ok {
		return e.(int), nil
	}
	if !isAlphaCode(currency) {
		return 0, fmt.Errorf("%w %q", ErrUnknownCurrency, currency)
	}
	cc, ok := iso4217.Lookup(currency)
	if !ok {
		return 0, fmt.Errorf("%w %q", ErrUnknownCurrency, currency)
	}
	exponents.Store(currency, int(cc.DecimalPlaces))
	return int(cc.DecimalPlaces), nil
}

func isAlphaCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// FormatMajor formats an amount of minor units in major units with exactly
// the currency's number of decimals: 100000 UAH is "1000.00", 200 JPY is
// "200", -5 EUR is "-0.05".
func FormatMajor(amount int64, currency string) (string, error) {
	exp, err := Exponent(currency)
	if err != nil {
		return "", err
	}
	return string(AppendMajor(nil, amount, exp)), nil
}

// AppendMajor appends amount, given in minor units, in major units with exp
// decimals and '.' as the decimal mark.
func AppendMajor(dst []byte, amount int64, exp int) []byte {
	neg := amount < 0
	// Work on the magnitude as uint64 so that math.MinInt64 is exact.
	u := uint64(amount)
	if neg {
		u = -u
		dst = append(dst, '-')
	}
	var digits [24]byte
	d := strconv.AppendUint(digits[:0], u, 10)
	if exp == 0 {
		return append(dst, d...)
	}
	if len(d) <= exp {
		dst = append(dst, '0', '.')
		for i := len(d); i < exp; i++ {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	}
	dst = append(dst, d[:len(d)-exp]...)
	dst = append(dst, '.')
	return append(dst, d[len(d)-exp:]...)
}

// ParseMajor parses a decimal amount in major units ("1000.00", "-0.5",
// "200") into minor units of currency. It accepts '.' as the decimal mark
// only (callers normalise locale forms first) and rejects more decimals than
// the currency has: "10.001" UAH is an error, not a rounding.
func ParseMajor(s, currency string) (int64, error) {
	exp, err := Exponent(currency)
	if err != nil {
		return 0, err
	}
	return parseDecimal(s, exp)
}

func parseDecimal(s string, exp int) (int64, error) {
	orig := s
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) || hasDot && frac == "" && intPart == "" {
		return 0, fmt.Errorf("%q is not a decimal number", orig)
	}
	if len(frac) > exp {
		return 0, fmt.Errorf("%q has %d decimals, the currency has %d", orig, len(frac), exp)
	}
	digits := intPart + frac + strings.Repeat("0", exp-len(frac))
	if digits == "" {
		digits = "0"
	}
	u, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || u > 1<<63-1 && !(neg && u == 1<<63) {
		return 0, fmt.Errorf("%q is out of range", orig)
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// AddAmounts is a + b in minor units, stopping at the int64 limits
// instead of wrapping: a sum shown as 92 233 720 368 547 758.07 is at
// least that, never a small or negative number made of large ones. For
// totals that are shown (the settlement, the chargeback totals), not for
// ones that are taken apart again (the stored result's amounts subtract
// what they added: wrapping is what keeps those exact).
func AddAmounts(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

// SubAmounts is a - b as AddAmounts adds.
func SubAmounts(a, b int64) int64 {
	if b == math.MinInt64 {
		if a >= 0 {
			return math.MaxInt64
		}
		return a - b // a < 0: a + 2^63 fits
	}
	return AddAmounts(a, -b)
}

// GroupThousands puts sep between the thousands of a decimal's integer
// part: "-1234567.89" with " " is "-1 234 567.89".
func GroupThousands(s, sep string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i := range len(intPart) {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteByte(intPart[i])
	}
	if hasDot {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// MaxAmount bounds every amount stored, in minor units, either sign:
// 10^15 (ten trillion of a currency with two decimals). The stored
// result sums its items' amounts per result and currency (status, the
// report), and two amounts of 2^62 made that sum wrap into a negative
// one; under the bound, 9,223 items of the largest amount still sum.
const MaxAmount = 1_000_000_000_000_000

// CheckAmount refuses an amount outside ±MaxAmount.
func CheckAmount(a int64) error {
	if a < -MaxAmount || a > MaxAmount {
		return fmt.Errorf("amount %d is not within ±%d minor units", a, int64(MaxAmount))
	}
	return nil
}
