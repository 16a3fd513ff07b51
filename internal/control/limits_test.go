package control

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reconciled/internal/scratch"
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

// signalWriter collects what is written and closes wrote at the first
// write.
type signalWriter struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{}
}

func newSignalWriter() *signalWriter { return &signalWriter{wrote: make(chan struct{})} }

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() == 0 {
		close(w.wrote)
	}
	return w.b.Write(p)
}
func (w *signalWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.b.String() }

// TestCommandsWaitInLine: beyond MaxRunning a command waits for its turn
// and its client is told so; beyond MaxWaiting one is refused at once; a
// client that gives up while waiting leaves the line; raised limits let
// the waiting ones go.
func TestCommandsWaitInLine(t *testing.T) {
	entered := make(chan string, 10)
	release := map[string]chan struct{}{"hold": make(chan struct{}), "hold2": make(chan struct{})}
	var quick atomic.Int32
	left := make(chan struct{}, 1)
	log := slog.New(logHook{func(msg string) {
		if strings.HasPrefix(msg, "control socket: command left the line") {
			left <- struct{}{}
		}
	}})
	srv := &Server{Log: log, Handler: func(ctx context.Context, c *Command) int {
		entered <- c.Args[0]
		if ch, ok := release[c.Args[0]]; ok {
			<-ch
			return 0
		}
		quick.Add(1)
		return 0
	}}
	srv.SetLimits(Limits{MaxRunning: 1, MaxWaiting: 1})
	path := serve(t, srv)
	ctx := context.Background()
	run := func(name string, stderr io.Writer) <-chan int {
		done := make(chan int, 1)
		go func() {
			code, _, err := call(t, ctx, path, Request{Args: []string{name}}, nil, stderr)
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			done <- code
		}()
		return done
	}

	holding := run("hold", io.Discard)
	if got := <-entered; got != "hold" {
		t.Fatalf("entered %s", got)
	}
	second := newSignalWriter()
	waited := run("quick", second)
	<-second.wrote
	if got := second.String(); !strings.Contains(got, "waiting for the daemon: 1 command running (limits.max_commands = 1), 0 ahead of this one") {
		t.Errorf("the waiting client was told %q", got)
	}
	var third bytes.Buffer
	if code, _, err := call(t, ctx, path, Request{Args: []string{"quick"}}, nil, &third); err != nil || code != 1 ||
		!strings.Contains(third.String(), "the daemon is busy: 1 command running and 1 waiting (limits.max_commands = 1, limits.max_queued = 1)") {
		t.Errorf("with the line full: exit %d, %v, %q", code, err, third.String())
	}
	if quick.Load() != 0 {
		t.Fatal("a command ran beyond max_commands")
	}
	close(release["hold"])
	if code := <-holding; code != 0 {
		t.Errorf("hold: exit %d", code)
	}
	if code := <-waited; code != 0 || quick.Load() != 1 {
		t.Errorf("the waiting command: exit %d, ran %d", code, quick.Load())
	}
	<-entered // quick
	// As below: hold's and quick's connections out of the door.
	waitOpen(t, srv, 0)

	// Gone while waiting: out of the line.
	holding = run("hold2", io.Discard)
	<-entered
	gone := newSignalWriter()
	gctx, giveUp := context.WithCancel(ctx)
	gave := make(chan error, 1)
	go func() {
		_, _, err := call(t, gctx, path, Request{Args: []string{"quick"}}, nil, gone)
		gave <- err
	}()
	<-gone.wrote
	giveUp()
	if err := <-gave; err == nil {
		t.Error("a client that gave up got no error")
	}
	<-left
	// Out of the line is not yet out of the door: its connection gives its
	// place back (leave) as serve returns, a moment after the log line;
	// a client coming in between is refused, busy (seen on a loaded CI).
	waitOpen(t, srv, 1) // hold2's
	next := newSignalWriter()
	waited = run("quick", next)
	<-next.wrote
	if got := next.String(); !strings.Contains(got, "0 ahead of this one") {
		t.Errorf("after one gave up, the next was told %q", got)
	}
	srv.SetLimits(Limits{MaxRunning: 2, MaxWaiting: 1})
	if code := <-waited; code != 0 {
		t.Errorf("after the limit was raised: exit %d", code)
	}
	close(release["hold2"])
	<-holding
	if n := quick.Load(); n != 2 {
		t.Errorf("quick ran %d times, want 2 (the one that gave up never)", n)
	}
}

// waitOpen waits until srv holds n connections open (let in, not yet let
// go).
func waitOpen(t *testing.T, srv *Server, n int) {
	t.Helper()
	open := func() int {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.open
	}
	for deadline := time.Now().Add(30 * time.Second); open() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open, want %d", open(), n)
		}
	}
}

// logHook is a log handler that hands each message to fn.
type logHook struct{ fn func(msg string) }

func (h logHook) Enabled(context.Context, slog.Level) bool      { return true }
func (h logHook) Handle(_ context.Context, r slog.Record) error { h.fn(r.Message); return nil }
func (h logHook) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h logHook) WithGroup(string) slog.Handler                 { return h }

// TestConnectionsCountInTheLine: a connection takes its place in the line
// as it is accepted, not once its request has come, so that clients that
// connect and send nothing, or half a request, cannot make the daemon
// hold a request buffer each without bound. One more than MaxRunning +
// MaxWaiting is told the daemon is busy at once; a place is free again
// when its connection ends.
func TestConnectionsCountInTheLine(t *testing.T) {
	var ran atomic.Int32
	srv := &Server{Log: slog.New(slog.DiscardHandler), Handler: func(ctx context.Context, c *Command) int { ran.Add(1); return 0 }}
	srv.SetLimits(Limits{MaxRunning: 1, MaxWaiting: 1})
	path := serve(t, srv)
	var idle []*net.UnixConn
	for range 2 {
		c, err := Dial(path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// The second says it sends a request of a megabyte, and sends none of it.
	if _, err := idle[1].Write([]byte{frameRequest, 0, 0x10, 0, 0}); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	code, _, err := call(t, context.Background(), path, Request{Args: []string{"status"}}, nil, &errb)
	if err != nil || code != 1 || !strings.Contains(errb.String(), "the daemon is busy: 0 commands running and 2 waiting (limits.max_commands = 1, limits.max_queued = 1)") {
		t.Errorf("with two connections open that sent no request: exit %d, %v, %q", code, err, errb.String())
	}
	if ran.Load() != 0 {
		t.Fatal("a command ran beyond max_commands + max_queued connections")
	}
	// A frame that is not a request ends the first connection: the daemon
	// closes it, and its place is free before it does.
	if _, err := idle[0].Write([]byte{frameExit, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if n, err := idle[0].Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after a wrong frame: read %d, %v; want the daemon to close", n, err)
	}
	errb.Reset()
	if code, _, err := call(t, context.Background(), path, Request{Args: []string{"status"}}, nil, &errb); err != nil || code != 0 || ran.Load() != 1 {
		t.Errorf("with a place free: exit %d, %v, %q", code, err, errb.String())
	}
}

// TestDaemonThatCannotTakeTheFileFails: the daemon's own failure to store
// the file it is sent (its temporary folder unusable, a full disk) is a
// command that failed, exit 1, not bad usage (2): nothing in what the
// person typed was wrong, and README's exit statuses say so.
func TestDaemonThatCannotTakeTheFileFails(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int32
	srv := &Server{Log: slog.New(slog.DiscardHandler), Handler: func(ctx context.Context, c *Command) int { ran.Add(1); return 0 }}
	path := serve(t, srv)
	scratch.Remove() // the next scratch folder is made under TMPDIR
	t.Setenv("TMPDIR", notADir)
	t.Cleanup(scratch.Remove)
	req := Request{Args: []string{"import", "books.csv"}, Input: "books.csv", InputArg: 1}
	var errb bytes.Buffer
	code, _, err := call(t, context.Background(), path, req, bytes.NewReader([]byte("payment_id\n")), &errb)
	if err != nil || code != 1 || !strings.Contains(errb.String(), "the daemon could not take the file") {
		t.Errorf("exit %d, %v, stderr %q; want exit 1 saying the daemon could not take the file", code, err, errb.String())
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("the command ran %d times without its file", n)
	}
}
