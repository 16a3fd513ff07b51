package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaskAccount hides the customer's instrument before it is stored, logged or
// exported, so that no full card or account number ever leaves the Data API
// response:
//
//   - values the provider already masked ("411111******1111") or elided
//     ("1743-3223…543") are kept as they are, but for any card number in
//     them that still shows 13 or more digits (MaskCardNumbers):
//     "4111111111111111*" is not masked for ending in '*';
//   - an e-mail (an e-wallet account) keeps the first character of its local
//     part and its domain: "q***@gmail.com";
//   - 12 or more digits (a PAN, an account number) keep the first six and the
//     last four digits, the rest become '*';
//   - anything else of 8 or more characters keeps its first and last four.
func MaskAccount(s string) string {
	if s == "" {
		return s
	}
	if strings.Contains(s, "*") || strings.Contains(s, "...") || strings.Contains(s, "…") {
		return MaskCardNumbers(s)
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

// cardMinDigits is the length of the shortest card number (ISO/IEC 7812:
// 13 to 19 digits).
const cardMinDigits = 13

// MaskCardNumbers masks every card number in a text (an account number, an
// operation's message) to its first six and last four digits: each run of
// 13 or more digits (of any script), which may be split by single spaces
// or dashes (of any kind: no-break and thin spaces, tabs, en dashes) and
// hold mask characters ('*', '.', '…', '•') between its digits; a run
// directly beside a letter only if 13 digits come without a mask between
// them (an elided hex card id shows digits on both sides of its "...").
// No Luhn check: a 13–19-digit number is taken for a card number, and
// masking one that was not (a long reference in a message) is the safe
// error. Longer runs are masked too (two card numbers side by side).
// Text with fewer than 13 digits in all is returned as it is, unallocated.
func MaskCardNumbers(s string) string {
	// Most texts are ASCII (a masked card, "Success"): their bytes are
	// their runes, so they are counted and masked as bytes, without the
	// copy into runes (an export masks a million of them).
	digits, ascii := 0, true
	for i := 0; i < len(s) && ascii; i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			ascii = false
		case c >= '0' && c <= '9':
			digits++
		}
	}
	if ascii {
		if digits < cardMinDigits {
			return s
		}
		b := []byte(s)
		if !maskCardRuns(b) {
			return s
		}
		return string(b)
	}
	digits = 0
	for _, c := range s {
		if isCardDigit(c) {
			digits++
		}
	}
	if digits < cardMinDigits {
		return s
	}
	r := []rune(s)
	if !maskCardRuns(r) {
		return s
	}
	return string(r)
}

// maskCardRuns masks the card numbers of a text given as its runes, or as
// its bytes when they are all ASCII (the same thing then), and reports
// whether it changed any.
func maskCardRuns[T byte | rune](r []T) (changed bool) {
	for i := 0; i < len(r); {
		if !isCardDigit(rune(r[i])) && !isMaskRune(rune(r[i])) {
			i++
			continue
		}
		// A run from i to end (exclusive), n digits in it, seg the most
		// in one stretch without a mask character.
		end, n, seg, longest := i, 0, 0, 0
		for j := i; j < len(r); j++ {
			switch c := rune(r[j]); {
			case isCardDigit(c):
				n++
				seg++
				longest = max(longest, seg)
				end = j + 1
			case isMaskRune(c):
				seg = 0
				end = j + 1
			case isCardSeparator(c) && end == j && j+1 < len(r) && (isCardDigit(rune(r[j+1])) || isMaskRune(rune(r[j+1]))):
				// one separator between digits
			default:
				j = len(r)
			}
		}
		// Beside a letter, digits on both sides of a mask are an elided
		// alphanumeric id ("70DF717221...0007172214EADA5"), not a number.
		beside := i > 0 && unicode.IsLetter(rune(r[i-1])) || end < len(r) && unicode.IsLetter(rune(r[end]))
		if longest >= cardMinDigits || n >= cardMinDigits && !beside {
			seen := 0
			for k := i; k < end; k++ {
				if !isCardDigit(rune(r[k])) {
					continue
				}
				if seen >= 6 && seen < n-4 {
					r[k] = '*'
				}
				seen++
			}
			changed = true
		}
		i = max(end, i+1)
	}
	return changed
}

// isCardDigit reports whether r is a decimal digit, of any script: a card
// number typed with full-width digits is a card number all the same.
func isCardDigit(r rune) bool {
	return r >= '0' && r <= '9' || r >= utf8.RuneSelf && unicode.IsDigit(r)
}

// isCardSeparator reports whether r may stand between the digit groups of a
// card number: a space of any width (no-break, thin; a tab), a dash of any
// kind (hyphen, en dash, minus sign). One at a time.
func isCardSeparator(r rune) bool {
	return r == ' ' || r == '-' || r == '\t' || r == '\u2212' || r >= utf8.RuneSelf && (unicode.Is(unicode.Zs, r) || unicode.Is(unicode.Pd, r))
}

// isMaskRune reports whether r stands for a digit a provider hid.
func isMaskRune(r rune) bool { return r == '*' || r == '.' || r == '…' || r == '•' }
