package records

import (
	"slices"
	"testing"

	"reconciled/internal/doccheck"
)

// The canonical columns docs/commands.md gives for import are the ones the
// reader knows, in the same order.
func TestReferenceListsTheCanonicalColumns(t *testing.T) {
	got := doccheck.Column(doccheck.Table(t, doccheck.Read(t, "commands.md"), "columns: records"), 0)
	if !slices.Equal(got, Columns) {
		t.Errorf("docs/commands.md lists the record columns\n%v\nthe reader's are\n%v", got, Columns)
	}
}
