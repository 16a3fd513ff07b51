package control

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

// serve starts srv on a new socket and returns its path.
func serve(t *testing.T, srv *Server) string {
	t.Helper()
	path := socketPath(t)
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(served) }()
	t.Cleanup(func() { stop(); <-served })
	return path
}

// call runs args on the server at path.
func call(t *testing.T, ctx context.Context, path string, req Request, input io.Reader, stderr io.Writer) (int, string, error) {
	t.Helper()
	conn, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := Run(ctx, conn, req, input, &out, stderr, nil)
	return code, out.String(), err
}

// zeros is an endless input.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestInputOverTheLimitIsRefused: the daemon stops taking a file at
// MaxInput bytes and says why; the client hears it even while it was still
// sending (an endless input included), and the command does not run.
func TestInputOverTheLimitIsRefused(t *testing.T) {
	var ran atomic.Int32
	srv := &Server{Log: slog.New(slog.DiscardHandler), Handler: func(ctx context.Context, c *Command) int { ran.Add(1); return 0 }}
	srv.SetLimits(Limits{MaxInput: 1000})
	path := serve(t, srv)
	req := Request{Args: []string{"import", "books.csv"}, Input: "books.csv", InputArg: 1}
	for _, input := range []io.Reader{bytes.NewReader(make([]byte, 1001)), io.LimitReader(zeros{}, 64<<20), zeros{}} {
		var errb bytes.Buffer
		code, _, err := call(t, context.Background(), path, req, input, &errb)
		if err != nil || code != 1 || !strings.Contains(errb.String(), "books.csv is over the daemon's limits.max_import_bytes (1000 bytes)") {
			t.Errorf("over the limit: exit %d, %v, stderr %q", code, err, errb.String())
		}
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("the command ran %d times with a file over the limit", n)
	}
	var errb bytes.Buffer
	if code, _, err := call(t, context.Background(), path, req, bytes.NewReader(make([]byte, 1000)), &errb); err != nil || code != 0 || ran.Load() != 1 {
		t.Errorf("at the limit: exit %d, %v, %s", code, err, errb.String())
	}
}
