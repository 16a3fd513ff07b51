package control

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// OpenInput asks its check first and opens nothing the check refuses (a
// named pipe would block the open, /dev/zero never end).
func TestOpenInputChecksBeforeItOpens(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nothing.csv") // an open would fail with ENOENT
	refused := errors.New("refused by the check")
	var asked []string
	in, err := OpenInput(missing, 10, func(path string) error { asked = append(asked, path); return refused })
	if in != nil || err != refused || len(asked) != 1 || asked[0] != missing {
		t.Fatalf("got %v, %v after asking %q; want the check's error, asked about %s", in, err, asked, missing)
	}
	if _, err := OpenInput(missing, 10, func(string) error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file the check passes is opened: err %v", err)
	}
}

// The input is read up to its limit; a file that grew past it while it was
// sent is not cut short (the daemon would import the part): it fails, the
// daemon is not told the file ended, and the command does not run.
func TestInputThatGrowsPastItsLimitIsNotSent(t *testing.T) {
	var ran atomic.Int32
	var got atomic.Int64
	srv := &Server{Log: slog.New(slog.DiscardHandler), Handler: func(ctx context.Context, c *Command) int {
		ran.Add(1)
		if fi, err := os.Stat(c.InputPath); err == nil {
			got.Store(fi.Size())
		}
		return 0
	}}
	srv.SetLimits(Limits{MaxInput: 1 << 20})
	path := serve(t, srv)
	file := filepath.Join(t.TempDir(), "books.csv")
	if err := os.WriteFile(file, bytes.Repeat([]byte("x"), 300<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	req := Request{Args: []string{"import", "books.csv"}, Input: "books.csv", InputArg: 1}
	open := func() *Input {
		in, err := OpenInput(file, 300<<10, func(string) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close() })
		return in
	}

	in := open()
	if in.Name() != file {
		t.Errorf("Name() = %q, want %q", in.Name(), file)
	}
	if code, _, err := call(t, context.Background(), path, req, in, io.Discard); err != nil || code != 0 || ran.Load() != 1 || got.Load() != 300<<10 {
		t.Fatalf("at its limit: exit %d, %v, ran %d times on %d bytes", code, err, ran.Load(), got.Load())
	}

	in = open()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("y"))
	f.Close()
	code, _, err := call(t, context.Background(), path, req, in, io.Discard)
	want := file + " grew past limits.max_import_bytes while it was sent: nothing imported"
	if err == nil || err.Error() != want || code != 1 {
		t.Fatalf("grown: exit %d, err %v; want exit 1 and %q", code, err, want)
	}
	if n := ran.Load(); n != 1 {
		t.Fatalf("the command ran on a file cut short (%d runs)", n)
	}
}
