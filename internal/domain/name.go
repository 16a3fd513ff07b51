package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanName is a name from outside (a file's, an import's --source) fit to
// store and to show on a terminal: ANSI escape sequences are removed whole
// (an import named "\x1b[2J…" cleared the screen of everyone who ran
// status), every other control character (C0, DEL, C1, line and paragraph
// separators) becomes a space, bidirectional overrides and marks are
// removed (they make "evil\u202egnp.exe" show as "evilexe.png"), invalid
// UTF-8 becomes U+FFFD, and spaces around are trimmed.
func CleanName(s string) string {
	if isCleanName(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b: // ESC: a sequence
			i += escapeLen(s[i+1:]) + 1
			continue
		case r == 0x9b: // the 8-bit CSI
			i += csiLen(s[i+n:]) + n
			continue
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // 8-bit DCS, SOS, OSC, PM, APC
			i += stringLen(s[i+n:]) + n
			continue
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case isBidiControl(r):
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return strings.TrimSpace(b.String())
}

func isCleanName(s string) bool {
	for _, r := range s {
		if r < 0x20 || r >= 0x7f && r <= 0x9f || r == '\u2028' || r == '\u2029' || isBidiControl(r) {
			return false
		}
	}
	return utf8.ValidString(s) && strings.TrimSpace(s) == s
}

func isBidiControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}

// escapeLen is the length of the escape sequence after an ESC (ECMA-48):
// CSI ("[" parameters, intermediates, a final byte), the strings OSC, DCS,
// SOS, PM and APC (up to BEL or ST, or the end), or intermediates and a
// final byte ("c", "(B").
func escapeLen(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '[':
		return 1 + csiLen(s[1:])
	case ']', 'P', 'X', '^', '_':
		return 1 + stringLen(s[1:])
	}
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// csiLen is the length of a control sequence's parameters, intermediates
// and final byte; it stops short at anything else.
func csiLen(s string) int {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// stringLen is the length of a control string with its terminator: BEL,
// ESC \ or the 8-bit ST; a string never ended runs to the end.
func stringLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
	}
	return len(s)
}
