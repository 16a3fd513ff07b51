package domain

import (
	"slices"
	"testing"

	"reconciled/internal/doccheck"
)

// docs/results.md lists every result code, and no other, each marked an
// exception exactly when IsException says so; and every matched_by value.
func TestReferenceListsEveryResultCode(t *testing.T) {
	doc := doccheck.Read(t, "results.md")
	rows := doccheck.Table(t, doc, "results")
	codes := doccheck.Column(rows, 0)
	for _, code := range Results {
		if !slices.Contains(codes, code) {
			t.Errorf("docs/results.md does not list %s", code)
		}
	}
	for i, code := range codes {
		if !slices.Contains(Results, code) {
			t.Errorf("docs/results.md lists %q, which is no result code", code)
			continue
		}
		want := "no"
		if IsException(code) {
			want = "yes"
		}
		if rows[i][1] != want {
			t.Errorf("docs/results.md: %s exception %q, want %q", code, rows[i][1], want)
		}
	}
	by := doccheck.Column(doccheck.Table(t, doc, "matched_by"), 0)
	if want := []string{ByPaymentID, ByProviderPaymentID, ByOperationID}; !slices.Equal(by, want) {
		t.Errorf("docs/results.md matched_by values %v, want %v", by, want)
	}
}
