package domain

import (
	"strings"
	"unicode/utf8"
)

// MaskAccount hides the customer's instrument before it is stored, logged or
// exported, so that no full card or account number ever leaves the Data API
// response:
//
//   - values the provider already masked ("411111******1111") or elided
//     ("1743-3223…543") are kept as they are;
//   - an e-mail (an e-wallet account) keeps the first character of its local
//     part and its domain: "q***@gmail.com";
//   - 12 or more digits (a PAN, an account number) keep the first six and the
//     last four digits, the rest become '*';
//   - anything else of 8 or more characters keeps its first and last four.
func MaskAccount(s string) string {
	if s == "" || strings.Contains(s, "*") || strings.Contains(s, "...") || strings.Contains(s, "…") {
		return s
	}
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		_, size := utf8.DecodeRuneInString(s)
		return s[:size] + "***" + s[at:]
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == ' ' || c == '-':
		default:
			digits = -1 << 30
		}
	}
	if digits >= 12 {
		return maskDigits(s, digits)
	}
	r := []rune(s)
	if len(r) >= 8 {
		return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
	}
	return strings.Repeat("*", len(r))
}

func maskDigits(s string, n int) string {
	b := []byte(s)
	seen := 0
	for i, c := range b {
		if c < '0' || c > '9' {
			continue
		}
		if seen >= 6 && seen < n-4 {
			b[i] = '*'
		}
		seen++
	}
	return string(b)
}
