package main

import (
	"os"
	"testing"

	"github.com/creack/pty"
)

// openPTY opens a pseudo-terminal: the controller, and the terminal a
// program writes to (as internal/progress's tests do).
func openPTY(t *testing.T) (controller, terminal *os.File) {
	t.Helper()
	c, term, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); term.Close() })
	return c, term
}
