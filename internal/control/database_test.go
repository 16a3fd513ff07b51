package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDatabaseFileOnTheWire: the database a client names is its file's
// device and inode, or "none"; anything else is not a request.
func TestDatabaseFileOnTheWire(t *testing.T) {
	for _, c := range []struct {
		req  Request
		wire string
	}{
		{Request{Args: []string{"status"}, DatabaseFile: &DatabaseFile{ID: &FileID{Dev: 2049, Ino: 1234}}}, `{"args":["status"],"database_file":{"dev":2049,"ino":1234}}`},
		{Request{Args: []string{"status"}, DatabaseFile: &DatabaseFile{}}, `{"args":["status"],"database_file":"none"}`},
		{Request{Args: []string{"status"}}, `{"args":["status"]}`}, // as an older client sends it
	} {
		p, err := json.Marshal(c.req)
		if err != nil || string(p) != c.wire {
			t.Errorf("%+v: %s, %v; want %s", c.req, p, err, c.wire)
		}
		var back Request
		if err := json.Unmarshal([]byte(c.wire), &back); err != nil {
			t.Fatalf("%s: %v", c.wire, err)
		}
		if p, _ := json.Marshal(back); string(p) != c.wire {
			t.Errorf("%s read back as %s", c.wire, p)
		}
	}
	var r Request
	for _, bad := range []string{`{"args":["x"],"database_file":"mine"}`, `{"args":["x"],"database_file":7}`} {
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("%s was read", bad)
		}
	}
}

// TestTheDaemonRunsOnlyOnItsDatabase: a request naming another database
// file than the daemon's, or none, is refused (exit 2, the daemon's path,
// an *OtherDatabaseError) before its input file is taken and before it
// waits in line, and nothing runs; the daemon's own file runs, and so does
// a request naming none (an older client) or one to a server that does not
// know its database.
func TestTheDaemonRunsOnlyOnItsDatabase(t *testing.T) {
	db := FileID{Dev: 2049, Ino: 1234}
	var ran atomic.Int32
	hold, holding := make(chan struct{}), make(chan struct{})
	srv := &Server{Log: slog.New(slog.DiscardHandler), Database: &db, DatabasePath: "/var/lib/reconciled/reconciled.db", Handler: func(ctx context.Context, c *Command) int {
		if c.Args[0] == "hold" {
			close(holding)
			<-hold
			return 0
		}
		ran.Add(1)
		return 0
	}}
	srv.SetLimits(Limits{MaxRunning: 1, MaxWaiting: 4, MaxInput: 1000})
	path := serve(t, srv)
	ctx := context.Background()
	held := make(chan int, 1)
	go func() {
		code, _, _ := call(t, ctx, path, Request{Args: []string{"hold"}}, nil, io.Discard)
		held <- code
	}()
	<-holding // the one place to run is taken: a command let through would wait

	for _, named := range []*DatabaseFile{{ID: &FileID{Dev: 2049, Ino: 99}}, {ID: &FileID{Dev: 7, Ino: 1234}}, {}} {
		for _, c := range []struct {
			req   Request
			input io.Reader
		}{
			{Request{Args: []string{"status"}, DatabaseFile: named}, nil},
			{Request{Args: []string{"import", "books.csv"}, Input: "books.csv", InputArg: 1, DatabaseFile: named}, zeros{}}, // endless, over MaxInput
		} {
			// A command let through would wait in line, and say so on its
			// stderr: the client gives up at that.
			var stdout bytes.Buffer
			stderr := newSignalWriter()
			gctx, giveUp := context.WithCancel(ctx)
			go func() {
				select {
				case <-stderr.wrote:
					giveUp()
				case <-gctx.Done():
				}
			}()
			conn, err := Dial(path)
			if err != nil {
				t.Fatal(err)
			}
			code, err := Run(gctx, conn, c.req, c.input, &stdout, stderr, nil)
			giveUp()
			var other *OtherDatabaseError
			if code != 2 || !errors.As(err, &other) || other.Path != "/var/lib/reconciled/reconciled.db" || stdout.Len() != 0 || stderr.String() != "" {
				t.Errorf("%v naming %+v: exit %d, %v, stdout %q, stderr %q", c.req.Args, named.ID, code, err, stdout.String(), stderr.String())
			}
		}
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("%d refused commands ran", n)
	}
	close(hold)
	if code := <-held; code != 0 {
		t.Fatalf("hold: exit %d", code)
	}

	for _, named := range []*DatabaseFile{{ID: &FileID{Dev: 2049, Ino: 1234}}, nil} {
		var errb bytes.Buffer
		req := Request{Args: []string{"import", "books.csv"}, Input: "books.csv", InputArg: 1, DatabaseFile: named}
		if code, _, err := call(t, ctx, path, req, strings.NewReader("payment_id\n"), &errb); code != 0 || err != nil {
			t.Errorf("naming %+v: exit %d, %v, %s", named, code, err, errb.String())
		}
	}
	if n := ran.Load(); n != 2 {
		t.Errorf("ran %d commands, want 2", n)
	}

	unknown := &Server{Log: slog.New(slog.DiscardHandler), Handler: func(ctx context.Context, c *Command) int { return 0 }}
	if code, _, err := call(t, ctx, serve(t, unknown), Request{Args: []string{"status"}, DatabaseFile: &DatabaseFile{}}, nil, io.Discard); code != 0 || err != nil {
		t.Errorf("a server told no database: exit %d, %v", code, err)
	}
}
