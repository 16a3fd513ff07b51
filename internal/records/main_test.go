package records

import (
	"os"
	"testing"

	"reconciled/internal/scratch"
)

// TestMain removes the scratch folder the XLSX readers made, as the command
// does when it ends.
func TestMain(m *testing.M) {
	code := m.Run()
	scratch.Remove()
	os.Exit(code)
}
