package export

import "testing"

// A formula behind leading spaces is a formula to a spreadsheet that
// trims cells as it reads them: it is defused like one at the start.
func TestNeutralizeLooksPastLeadingSpaces(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2":         "'=1+2",
		" =1+2":        "' =1+2",
		"   @SUM(A1)":  "'   @SUM(A1)",
		"  -5":         "'  -5",
		"a =b":         "a =b",
		"  plain text": "  plain text",
		"   ":          "   ",
		"":             "",
		"\t=x":         "'\t=x",
	} {
		if got := Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}
