package progress

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestProgressOnlyOnATerminalAfterASecond: a bar is drawn on a terminal
// once work has gone on for a second, not before, and never on a pipe.
func TestProgressOnlyOnATerminalAfterASecond(t *testing.T) {
	controller, term, err := pty.Open() // a pseudo-terminal: the controller, and the terminal written to
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { controller.Close(); term.Close() })
	var got bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&got, controller); close(copied) }()

	p := New(term, "export")
	p.Total(4096)
	p.Add(1024) // at once: no bar yet
	if p.bar != nil {
		t.Fatal("a bar was drawn before a second had passed")
	}
	time.Sleep(1100 * time.Millisecond)
	p.Add(1024) // the bar appears
	time.Sleep(150 * time.Millisecond)
	p.Add(1024) // and moves (it redraws at most every 100 ms)
	p.Done()
	term.Close()
	controller.SetReadDeadline(time.Now().Add(2 * time.Second))
	<-copied
	if s := got.String(); !strings.Contains(s, "export") || !strings.Contains(s, "3072/4096") {
		t.Errorf("terminal got %q, want a bar at 3072/4096", s)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p = New(w, "export")
	p.Total(4096)
	time.Sleep(1100 * time.Millisecond)
	p.Add(2048)
	p.Done()
	w.Close()
	if b, _ := io.ReadAll(r); len(b) != 0 {
		t.Errorf("a pipe got %q", b)
	}
}
