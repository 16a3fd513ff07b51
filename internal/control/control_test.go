package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/scratch"
)

// TestMain removes the scratch folder that received files went to, as the
// daemon does when it ends.
func TestMain(m *testing.M) {
	code := m.Run()
	scratch.Remove()
	os.Exit(code)
}

func socketPath(t *testing.T) string {
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s.sock")
}

func TestListenReplacesAStaleSocketAndRefusesALiveOne(t *testing.T) {
	path := socketPath(t)
	// A stale socket file: a listener that died without removing it.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	if _, err := Dial(path); err != ErrNoDaemon {
		t.Fatalf("dial a stale socket: %v, want ErrNoDaemon", err)
	}
	ln, err := Listen(path)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	defer ln.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o660 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "another reconciled daemon") {
		t.Errorf("second listener: %v", err)
	}
	if _, err := Dial(filepath.Join(filepath.Dir(path), "none.sock")); err != ErrNoDaemon {
		t.Errorf("dial nothing: %v", err)
	}
}

func TestRoundTripWithFilesAndCancel(t *testing.T) {
	path := socketPath(t)
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	canceled := make(chan struct{})
	srv := &Server{Log: slog.New(slog.DiscardHandler), Handler: func(ctx context.Context, c *Command) int {
		switch c.Args[0] {
		case "echo":
			data, err := os.ReadFile(c.Args[1])
			if err != nil {
				c.Stderr.Write([]byte(err.Error()))
				return 1
			}
			c.Stdout.Write([]byte("user " + c.Peer.User + "\n"))
			c.Output.Write(bytes.Repeat(data, 3)) // more than one frame
			return 0
		case "wait":
			<-ctx.Done()
			close(canceled)
			return 1
		}
		return 2
	}}
	go srv.Serve(ctx, ln)

	input := bytes.Repeat([]byte("0123456789"), 150_000) // 1.5 MB: several frames each way
	conn, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb, file bytes.Buffer
	code, err := Run(context.Background(), conn, Request{Args: []string{"echo", "in.csv"}, Input: "../../etc/in.csv", InputArg: 1, Output: true},
		bytes.NewReader(input), &out, &errb, &file)
	if err != nil || code != 0 {
		t.Fatalf("code %d err %v stderr %s", code, err, errb.String())
	}
	if !bytes.Equal(file.Bytes(), bytes.Repeat(input, 3)) || !strings.HasPrefix(out.String(), "user ") {
		t.Errorf("file %d bytes, stdout %q", file.Len(), out.String())
	}

	// The client goes away: the command's context is done.
	conn, err = Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Run(cctx, conn, Request{Args: []string{"wait"}}, nil, &out, &errb, nil); err == nil {
		t.Error("a canceled run returned no error")
	}
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the command did not see the client go")
	}
}

// TestStalledClientDoesNotHoldTheDaemon: a client that sends a request and
// never reads the output must not keep the command, nor Serve, from
// ending when the daemon stops.
func TestStalledClientDoesNotHoldTheDaemon(t *testing.T) {
	path := socketPath(t)
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	writing := make(chan struct{})
	ended := make(chan error, 1)
	srv := &Server{Log: slog.New(slog.DiscardHandler), Handler: func(ctx context.Context, c *Command) int {
		close(writing)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for {
			if _, err := c.Stdout.Write(chunk); err != nil {
				ended <- err
				return 1
			}
		}
	}}
	served := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(served) }()

	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p, _ := json.Marshal(Request{Args: []string{"export"}})
	if err := writeFrame(conn, frameRequest, p); err != nil {
		t.Fatal(err)
	}
	<-writing
	time.Sleep(200 * time.Millisecond) // the socket's buffers fill; the handler blocks
	begin := time.Now()
	stop()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5 s of the stop while a client stalled")
	}
	if err := <-ended; err == nil {
		t.Error("the handler's write did not fail")
	}
	t.Logf("stopped in %v", time.Since(begin))
}

// guardedOutput is an Output that refuses one database file.
type guardedOutput struct {
	bytes.Buffer
	refuse FileID
	told   []FileID
}

func (g *guardedOutput) Database(id FileID) error {
	g.told = append(g.told, id)
	if id == g.refuse {
		return errors.New("that is the database")
	}
	return nil
}

// TestTheDaemonTellsItsDatabase: a client whose output is an Output hears
// the daemon's database before any byte of the file, and refusing it stops
// the command in the daemon; other clients hear nothing of it.
func TestTheDaemonTellsItsDatabase(t *testing.T) {
	path := socketPath(t)
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	db := FileID{Dev: 2049, Ino: 1234}
	canceled := make(chan struct{}, 1)
	srv := &Server{Log: slog.New(slog.DiscardHandler), Database: &db, Handler: func(ctx context.Context, c *Command) int {
		c.Output.Write([]byte("copy"))
		if c.Args[0] == "wait" {
			<-ctx.Done()
			canceled <- struct{}{}
			return 1
		}
		return 0
	}}
	go srv.Serve(ctx, ln)
	run := func(args string, out io.Writer) (int, error) {
		conn, err := Dial(path)
		if err != nil {
			t.Fatal(err)
		}
		var o, e bytes.Buffer
		return Run(context.Background(), conn, Request{Args: []string{args}, Output: true}, nil, &o, &e, out)
	}

	ok := &guardedOutput{refuse: FileID{Dev: 2049, Ino: 99}}
	if code, err := run("backup", ok); code != 0 || err != nil || ok.String() != "copy" || len(ok.told) != 1 || ok.told[0] != db {
		t.Errorf("allowed: %d %v %q, told %v", code, err, ok.String(), ok.told)
	}
	refused := &guardedOutput{refuse: db}
	if _, err := run("wait", refused); err == nil || !strings.Contains(err.Error(), "that is the database") || refused.Len() != 0 {
		t.Errorf("refused: %v, %d bytes written", err, refused.Len())
	}
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the refused command went on in the daemon")
	}
	var plain bytes.Buffer // not an Output: the protocol as before
	if code, err := run("backup", &plain); code != 0 || err != nil || plain.String() != "copy" {
		t.Errorf("plain: %d %v %q", code, err, plain.String())
	}
}
