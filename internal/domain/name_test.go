package domain

import (
	"testing"
	"unicode/utf8"
)

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"books.csv":                  "books.csv",
		"\x1b[2Jbooks.csv":           "books.csv",
		"bo\x1b[31;1moks\x1b[0m.csv": "books.csv",
		"two\nlines.csv":             "two lines.csv",
		"tab\there\r.csv":            "tab here .csv",
		"\x1b]8;;http://x\x07link\x1b]8;;\x1b\\.csv": "link.csv",  // OSC hyperlink, BEL and ST ends
		"title\x1b]0;pwned":                          "title",     // an OSC never ended
		"\u009b2Jc1.csv":                             "c1.csv",    // the 8-bit CSI
		"\x1bcreset.csv":                             "reset.csv", // ESC c, a two-byte sequence
		"\x1b(Bcharset.csv":                          "charset.csv",
		"del\x7f.csv":                                "del .csv",
		"bell\x07\x00.csv":                           "bell  .csv",
		"evil\u202egnp.exe":                          "evilgnp.exe", // a right-to-left override
		"line\u2028sep":                              "line sep",
		"bad\xffutf8":                                "bad\uFFFDutf8",
		"книги 2026-11.csv":                          "книги 2026-11.csv",
		"  \x1b[2J  ":                                "",
		"ends with ESC\x1b":                          "ends with ESC",
		"csi cut short \x1b[12":                      "csi cut short",
		"\x1b[?25l\x1b[1;1H\x1b[2K\x1b[38;5;196mred.csv": "red.csv",
	} {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Whatever comes in, what comes out has no control character, is valid
// UTF-8 and is cleaned already.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"books.csv", "\x1b[2J", "a\x1b]0;t\x07b", "\u009b1m\u009dx\u009c", "\xff\x1b", "\u202e\u2028\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CleanName(s)
		if !isCleanName(c) || !utf8.ValidString(c) || CleanName(c) != c {
			t.Fatalf("CleanName(%q) = %q", s, c)
		}
	})
}
