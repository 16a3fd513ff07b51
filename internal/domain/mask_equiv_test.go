package domain

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
)

// referenceMaskCardNumbers is MaskCardNumbers as it was before its ASCII
// path (issue 13): every text through its runes.
func referenceMaskCardNumbers(s string) string {
	digits := 0
	for _, c := range s {
		if isCardDigit(c) {
			digits++
		}
	}
	if digits < cardMinDigits {
		return s
	}
	r := []rune(s)
	changed := false
	for i := 0; i < len(r); {
		if !isCardDigit(r[i]) && !isMaskRune(r[i]) {
			i++
			continue
		}
		// A run from i to end (exclusive), n digits in it, seg the most
		// in one stretch without a mask character.
		end, n, seg, longest := i, 0, 0, 0
		for j := i; j < len(r); j++ {
			switch c := r[j]; {
			case isCardDigit(c):
				n++
				seg++
				longest = max(longest, seg)
				end = j + 1
			case isMaskRune(c):
				seg = 0
				end = j + 1
			case isCardSeparator(c) && end == j && j+1 < len(r) && (isCardDigit(r[j+1]) || isMaskRune(r[j+1])):
				// one separator between digits
			default:
				j = len(r)
			}
		}
		// Beside a letter, digits on both sides of a mask are an elided
		// alphanumeric id ("70DF717221...0007172214EADA5"), not a number.
		beside := i > 0 && unicode.IsLetter(r[i-1]) || end < len(r) && unicode.IsLetter(r[end])
		if longest >= cardMinDigits || n >= cardMinDigits && !beside {
			seen := 0
			for k := i; k < end; k++ {
				if !isCardDigit(r[k]) {
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
	if !changed {
		return s
	}
	return string(r)
}

// MaskCardNumbers masks an ASCII text as bytes and any other as runes;
// both must be what the rune path alone made, for texts built of what
// matters to it: digits of two scripts, separators, mask characters,
// letters of two scripts.
func TestMaskCardNumbersIsTheReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	ascii := []string{"0", "1", "4", "9", "5", "0", "7", " ", "-", "\t", "*", ".", "a", "F", "x", "@", ",", "/", "_"}
	other := append(append([]string(nil), ascii...), "…", "•", "８", "٣", "\u00a0", "\u2009", "–", "\u2212", "Ж", "é")
	for i := range 100_000 {
		alphabet := ascii
		if i%3 == 0 {
			alphabet = other
		}
		var b strings.Builder
		for range rng.IntN(40) {
			if rng.IntN(3) == 0 { // a stretch of digits
				for range rng.IntN(20) {
					b.WriteByte(byte('0' + rng.IntN(10)))
				}
			}
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		s := b.String()
		if got, want := MaskCardNumbers(s), referenceMaskCardNumbers(s); got != want {
			t.Fatalf("MaskCardNumbers(%q) = %q, want %q", s, got, want)
		}
	}
}
