// Package fees is the merchant's contract with ECommPay: what a tariff
// says an operation should have cost, to compare with what ECommPay
// charged (/financial-reporting/operations, stored by the fee sync).
//
// A tariff is fee = max(min, min(max, amount × percent / 100 + fixed)), in
// minor units of the operation's currency, min and max 0 for none. The
// percent is an exact decimal (a string in the config: "2.5", never a
// float), held as millionths of a percent; amount × percent is computed
// on 128 bits and rounded once, half away from zero, to a minor unit:
// commercial rounding, what a PSP's invoice shows for one charge.
// Banker's rounding evens out the bias of many rounded halves in a sum;
// here each fee is checked on its own against one charge, and a charge of
// 0.5 of a minor unit rounded down would be flagged as one unit too much
// where the merchant's own spreadsheet (ROUND) says it is right.
package fees

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"

	"reconciled/internal/domain"
)

// PercentScale is how many units of Percent make one percent.
const PercentScale = 1_000_000

// Tariff is one entry of the contract: for Method's operations of Type
// (a record type: purchase, payout, refund), in Currency ("" any).
type Tariff struct {
	Method, Type, Currency string
	Percent                int64 // millionths of a percent: 2.5 % is 2_500_000
	Fixed, Min, Max        int64 // minor units; Min, Max 0: none
}

// ParsePercent reads an exact decimal percent, "2.5" or "0.125": digits,
// at most one point, at most six decimals, from 0 to 100.
func ParsePercent(s string) (int64, error) {
	whole, frac, dot := strings.Cut(strings.TrimSpace(s), ".")
	digits := func(p string) bool { return strings.Trim(p, "0123456789") == "" }
	switch {
	case whole == "" && frac == "", dot && frac == "", !digits(whole), !digits(frac):
		return 0, fmt.Errorf("%q is not a decimal number such as \"2.5\" (digits and one point)", s)
	case len(frac) > 6:
		return 0, fmt.Errorf("%q has more than six decimals", s)
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 3 {
		return 0, fmt.Errorf("%q is more than 100 percent", s)
	}
	var v int64
	for _, c := range whole + frac + strings.Repeat("0", 6-len(frac)) {
		v = v*10 + int64(c-'0')
	}
	if v > 100*PercentScale {
		return 0, fmt.Errorf("%q is more than 100 percent", s)
	}
	return v, nil
}

// FormatPercent writes a Percent as the config would: "2.5".
func FormatPercent(p int64) string {
	s := fmt.Sprintf("%d.%06d", p/PercentScale, p%PercentScale)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// Of is the fee the tariff sets on amount (minor units). The fixed part
// is added saturating (it is never negative): a sum past the largest
// amount is the largest, not a wrap to a negative fee.
func (t Tariff) Of(amount int64) int64 {
	fee := percentOf(amount, t.Percent)
	if fee > 0 && t.Fixed > math.MaxInt64-fee {
		fee = math.MaxInt64
	} else {
		fee += t.Fixed
	}
	if t.Max > 0 && fee > t.Max {
		fee = t.Max
	}
	if t.Min > 0 && fee < t.Min {
		fee = t.Min
	}
	return fee
}

// percentOf is amount × p / (100 × PercentScale), rounded half away from
// zero, exactly: |amount| < 2^63 and p ≤ 100 × PercentScale keep the
// product within 128 bits and the quotient within 64.
func percentOf(amount, p int64) int64 {
	neg := amount < 0
	a := uint64(amount)
	if neg {
		a = -a
	}
	const div = 100 * PercentScale
	hi, lo := bits.Mul64(a, uint64(p))
	q, r := bits.Div64(hi, lo, div)
	if r*2 >= div {
		q++
	}
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// Contract is a set of tariffs, checked to have no two for one method,
// type and currency.
type Contract struct {
	tariffs []Tariff
}

// ErrDuplicate means two tariffs are for the same method, type and
// currency.
var ErrDuplicate = errors.New("two tariffs for the same method, type and currency")

// NewContract checks ts: it returns the index of a tariff that repeats an
// earlier one's method, type and currency with ErrDuplicate.
func NewContract(ts []Tariff) (*Contract, int, error) {
	for i := range ts {
		for j := range i {
			if sameScope(ts[i], ts[j]) {
				return nil, i, fmt.Errorf("%w: as tariff %d", ErrDuplicate, j+1)
			}
		}
	}
	return &Contract{tariffs: ts}, -1, nil
}

func sameScope(a, b Tariff) bool {
	return strings.EqualFold(a.Method, b.Method) && a.Type == b.Type && strings.EqualFold(a.Currency, b.Currency)
}

// Find is the tariff of an operation of method and record type in
// currency: the one for that currency, else the one for any; false when
// the contract has none (the operation is counted, not flagged).
func (c *Contract) Find(method, typ, currency string) (Tariff, bool) {
	var best Tariff
	found := false
	for _, t := range c.tariffs {
		if !strings.EqualFold(t.Method, method) || t.Type != typ {
			continue
		}
		switch {
		case strings.EqualFold(t.Currency, currency):
			return t, true
		case t.Currency == "" && !found:
			best, found = t, true
		}
	}
	return best, found
}

// Expected is the fee the contract sets on an operation of method and
// record type of amount; false without a tariff.
func (c *Contract) Expected(method, typ string, amount domain.Money) (domain.Money, Tariff, bool) {
	t, ok := c.Find(method, typ, amount.Currency)
	if !ok {
		return domain.Money{}, t, false
	}
	return domain.Money{Amount: t.Of(amount.Amount), Currency: amount.Currency}, t, true
}

// Fingerprint is the contract in a stable text: the verdicts depend on it.
func (c *Contract) Fingerprint() string {
	var b strings.Builder
	for _, t := range c.tariffs {
		fmt.Fprintf(&b, "%s|%s|%s|%d|%d|%d|%d\n", strings.ToLower(t.Method), t.Type, strings.ToUpper(t.Currency), t.Percent, t.Fixed, t.Min, t.Max)
	}
	return b.String()
}

// Len is the number of tariffs.
func (c *Contract) Len() int { return len(c.tariffs) }
