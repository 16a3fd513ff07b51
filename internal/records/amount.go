package records

import (
	"fmt"
	"math/big"
	"strings"

	"reconciled/internal/domain"
)

// parseAmount reads an amount cell in minor units of currency.
//
// Spaces and non-breaking spaces are thousands separators. With one kind
// of mark ('.' or ','), appearing once, it is the decimal mark; appearing
// more than once, it separates thousands ("1.000.000"). With both, the
// last one is the decimal mark and the other separates thousands
// ("1,000.50", "1.000,50"). In minor units the amount must be an integer.
// An amount in parentheses is negative, as accounting writes it: "(10.00)"
// is -10.00, "(1,234.56)" is -1234.56.
//
// spreadsheet says the cell was a number in an XLSX file, written by the
// spreadsheet in shortest form: there a value like 1000.4999999999999
// (float noise of a computed cell) is read as 1000.50 when it is within a
// billionth of it. Text cells never are: "10.001" UAH is an error.
func parseAmount(s, currency, unit string, spreadsheet bool) (int64, error) {
	if n, ok := plainAmount(s, currency, unit); ok {
		return n, nil
	}
	return readAmount(s, currency, unit, spreadsheet)
}

// plainAmount reads the amounts most lines hold, "1234.50", "-7,5",
// "1 000,50" or "12", in major units, as readAmount would: digits, the
// spaces readAmount drops, at most one mark between digits and up to the
// currency's decimals after it, nothing else; anything else is not ok
// (readAmount reads it, or says why not).
func plainAmount(s, currency, unit string) (int64, bool) {
	if unit == "minor" || s == "" {
		return 0, false
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var n int64
	digits, frac, mark := 0, 0, false
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if digits++; digits > 18 {
				return 0, false // could overflow: readAmount says so
			}
			n = n*10 + int64(c-'0')
			if mark {
				frac++
			}
			i++
		case (c == '.' || c == ',') && !mark && digits > 0:
			mark = true
			i++
		case c == ' ':
			i++
		case strings.HasPrefix(s[i:], "\u00A0"):
			i += len("\u00A0")
		case strings.HasPrefix(s[i:], "\u202F"), strings.HasPrefix(s[i:], "\u2007"):
			i += len("\u202F")
		default:
			return 0, false
		}
	}
	exp, err := domain.Exponent(currency)
	if err != nil || digits == 0 || mark && frac == 0 || frac > exp {
		return 0, false
	}
	for ; frac < exp; frac++ {
		if n > (1<<63-1)/10 {
			return 0, false
		}
		n *= 10
	}
	if neg {
		n = -n
	}
	return n, true
}

// readAmount is parseAmount for every amount.
func readAmount(s, currency, unit string, spreadsheet bool) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	orig := s
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00A0', '\u202F', '\u2007':
			return -1
		}
		return r
	}, s)
	if strings.ContainsAny(s, "()") {
		// Accounting's negative: "(10.00)" is -10.00. Nothing else may
		// stand around or inside the parentheses: "(-10.00)" and
		// "-(10.00)" say the sign twice, and neither reading is safe.
		inner := strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
		if len(inner) != len(s)-2 || inner == "" || strings.ContainsAny(inner, "()+-") {
			return 0, fmt.Errorf("%s is not an amount: an accounting negative is the number alone in parentheses, \"(10.00)\"", quoted(orig))
		}
		s = "-" + inner
	}
	exp, err := domain.Exponent(currency)
	if err != nil {
		return 0, err
	}
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	var intPart, frac string
	switch {
	case dots > 0 && commas > 0:
		mark, thousands := ".", ","
		if strings.LastIndex(s, ",") > strings.LastIndex(s, ".") {
			mark, thousands = ",", "."
		}
		if strings.Count(s, mark) > 1 {
			return 0, fmt.Errorf("%s: %q twice", quoted(orig), mark)
		}
		intPart, frac, _ = strings.Cut(s, mark)
		if !groupsOfThree(intPart, thousands) {
			return 0, fmt.Errorf("%s: %q must separate groups of three digits", quoted(orig), thousands)
		}
		intPart = strings.ReplaceAll(intPart, thousands, "")
	case dots == 1 || commas == 1:
		intPart, frac, _ = strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	case dots > 1 || commas > 1:
		sep := "."
		if commas > 1 {
			sep = ","
		}
		if !groupsOfThree(s, sep) {
			return 0, fmt.Errorf("%s: %q must separate groups of three digits", quoted(orig), sep)
		}
		intPart = strings.ReplaceAll(s, sep, "")
	default:
		intPart = s
	}
	if unit == "minor" {
		if dots+commas > 0 && frac != "" {
			return 0, fmt.Errorf("%s has a decimal mark, but amounts are in minor units (records.amount_unit)", quoted(orig))
		}
		n, err := domain.ParseMajor(intPart, "JPY") // an integer, exponent 0
		if err != nil && decimal(intPart) {
			return 0, fmt.Errorf("%s is out of range", quoted(orig))
		}
		if err != nil {
			return 0, fmt.Errorf("%s is not an amount in minor units", quoted(orig))
		}
		return n, nil
	}
	if spreadsheet && len(frac) > exp {
		if rounded, ok := roundNoise(intPart+"."+frac, exp); ok {
			intPart, frac, _ = strings.Cut(rounded, ".")
		}
	}
	if len(frac) > exp {
		return 0, fmt.Errorf("%s has %d decimals; %s has %d", quoted(orig), len(frac), currency, exp)
	}
	v := intPart
	if frac != "" {
		v += "." + frac
	}
	n, err := domain.ParseMajor(v, currency)
	if err != nil && decimal(v) {
		return 0, fmt.Errorf("%s is out of range", quoted(orig))
	}
	if err != nil {
		return 0, fmt.Errorf("%s is not an amount", quoted(orig))
	}
	return n, nil
}

// decimal says whether s is digits, with a sign and a '.' between digits
// allowed: a number ParseMajor refuses only for its size.
func decimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	i, f, _ := strings.Cut(s, ".")
	return allDigits(i) && i != "" && (f == "" && !strings.Contains(s, ".") || f != "" && allDigits(f))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// groupsOfThree checks "1,000,000"-style grouping: the first group has 1
// to 3 digits (a sign allowed), the others exactly 3.
func groupsOfThree(s, sep string) bool {
	parts := strings.Split(strings.TrimLeft(s, "+-"), sep)
	if len(parts[0]) < 1 || len(parts[0]) > 3 {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) != 3 {
			return false
		}
	}
	return true
}

// roundNoise rounds an exact decimal to exp places if that changes it by
// less than a billionth: floating-point noise from a spreadsheet, not a
// real extra digit. The arithmetic is exact (big.Rat), never float64.
func roundNoise(s string, exp int) (string, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", false
	}
	rounded := r.FloatString(exp) // rounds half away from zero
	back, _ := new(big.Rat).SetString(rounded)
	diff := new(big.Rat).Abs(new(big.Rat).Sub(r, back))
	if diff.Cmp(big.NewRat(1, 1_000_000_000)) < 0 {
		return rounded, true
	}
	return "", false
}
