package control

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A daemon that goes away after taking a request (SIGTERM while an
// import commits) may have done it: the client says so instead of a bare
// EOF, so that nobody runs the import again without looking.
func TestADaemonThatWentAwayMayHaveDoneIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r := bufio.NewReader(c)
		readFrame(r) // the request, then gone
		c.Close()
	}()
	conn, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	code, err := Run(context.Background(), conn, Request{Args: []string{"status"}}, nil, io.Discard, io.Discard, nil)
	if code != 1 || err == nil || !strings.Contains(err.Error(), "what it did may be stored; see status") {
		t.Errorf("exit %d, %v", code, err)
	}
}

// A command under way when the daemon stops ends (its context is done)
// and still tells its client how: an import whose commit finished as
// SIGTERM came says it was stored, with its exit status, instead of the
// client hearing the connection close.
func TestACommandEndingAsTheDaemonStopsIsTold(t *testing.T) {
	path := socketPath(t)
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	running := make(chan struct{})
	srv := &Server{Log: slog.New(slog.DiscardHandler), Handler: func(ctx context.Context, c *Command) int {
		close(running)
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // the commit under way finishes
		fmt.Fprintln(c.Stdout, "import: 3 new")
		return 0
	}}
	served := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(served) }()
	conn, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	go func() { <-running; stop() }()
	var out bytes.Buffer
	code, err := Run(context.Background(), conn, Request{Args: []string{"import"}}, nil, &out, io.Discard, nil)
	if code != 0 || err != nil || out.String() != "import: 3 new\n" {
		t.Errorf("exit %d, %v, %q", code, err, out.String())
	}
	<-served
}
