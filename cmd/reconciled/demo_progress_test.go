package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestDemoSaysOnATerminalWhatItImports: on a terminal the demo's import
// says what it reads and stores, as `import` does; on a pipe it says
// nothing of the sort.
func TestDemoSaysOnATerminalWhatItImports(t *testing.T) {
	controller, term, err := pty.Open() // a pseudo-terminal: the controller, and the terminal written to
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { controller.Close(); term.Close() })
	var got bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&got, controller); close(copied) }()
	dir := filepath.Join(t.TempDir(), "demo")
	m := &Main{Stdout: io.Discard, Stderr: term, Getenv: func(string) string { return "" }, Now: time.Now}
	if code := m.Run(context.Background(), []string{"demo", "--dir", dir, "--operations", "50"}); code != 0 {
		t.Fatalf("demo on a terminal: exit %d", code)
	}
	term.Close()
	controller.SetReadDeadline(time.Now().Add(2 * time.Second))
	<-copied
	records := filepath.Join(dir, "merchant-records.csv")
	for _, want := range []string{"reading " + records + "…", "storing 4977 records…"} {
		if !strings.Contains(got.String(), want) {
			t.Errorf("the terminal got %q, want %q", got.String(), want)
		}
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m = &Main{Stdout: io.Discard, Stderr: w, Getenv: func(string) string { return "" }, Now: time.Now}
	code := m.Run(context.Background(), []string{"demo", "--dir", dir, "--operations", "50"})
	w.Close()
	b, _ := io.ReadAll(r)
	if code != 0 || strings.Contains(string(b), "reading") || strings.Contains(string(b), "storing") {
		t.Errorf("demo on a pipe: exit %d, it got %q", code, b)
	}
}
