package control

import (
	"bufio"
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
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
