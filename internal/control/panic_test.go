package control

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// A command that panics inside the daemon (a bug, or a library on a
// crafted file a client sent) fails with exit 1 and says so; the daemon's
// log has the stack, and the server goes on serving the next command
// instead of the whole daemon dying with its schedules.
func TestAPanickingCommandFailsAloneAndTheServerGoesOn(t *testing.T) {
	path := socketPath(t)
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	log := newSignalWriter()
	srv := &Server{Log: slog.New(slog.NewTextHandler(log, nil)), Handler: func(ctx context.Context, c *Command) int {
		if c.Args[0] == "boom" {
			var m map[string]int
			m["x"] = 1 // assignment to entry in nil map
		}
		c.Stdout.Write([]byte("fine\n"))
		return 0
	}}
	served := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(served) }()
	run := func(name string) (int, string, string) {
		conn, err := Dial(path)
		if err != nil {
			t.Fatal(err)
		}
		var o, e bytes.Buffer
		code, err := Run(context.Background(), conn, Request{Args: []string{name}}, nil, &o, &e, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return code, o.String(), e.String()
	}
	code, _, stderr := run("boom")
	if code != 1 || !strings.Contains(stderr, "failed inside the daemon") || !strings.Contains(stderr, "nil map") {
		t.Errorf("boom: exit %d, stderr %q", code, stderr)
	}
	if code, stdout, _ := run("status"); code != 0 || stdout != "fine\n" {
		t.Errorf("after the panic: exit %d, stdout %q", code, stdout)
	}
	stop()
	<-served
	if !strings.Contains(log.String(), "panicked") || !strings.Contains(log.String(), "panic_test.go") {
		t.Errorf("the daemon's log has no panic with its stack:\n%s", log.String())
	}
}
