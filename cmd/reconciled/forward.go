package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"reconciled/internal/app"
	"reconciled/internal/control"
	"reconciled/internal/ledger"
	"reconciled/internal/records"
)

var errCommandFailed = errors.New("the command failed")

// errRemotePath refuses a file path in a command that came through the
// control socket without the file itself: the daemon would read or write
// it with its own rights (the database's folder included).
var errRemotePath = usagef("through the daemon's control socket, files travel with the command: use the reconciled client, which sends and receives them")

// forward runs the command in the daemon if one answers on the control
// socket; ok is false when the command is to run here.
func (m *Main) forward(ctx context.Context, c command, args []string) (code int, ok bool) {
	if m.ledger != nil || c.socket == nil {
		return 0, false
	}
	name := c.name
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			return 0, false
		}
	}
	cfg, err := m.loadConfig()
	if err != nil {
		return 0, false // the command reports it
	}
	conn, err := control.Dial(cfg.SocketPath())
	if errors.Is(err, control.ErrNoDaemon) {
		return 0, false
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "reconciled: %v\n  (the daemon holds the database; ask for access to the socket's group, or stop the daemon)\n", err)
		return exitFailed, true
	}
	req := control.Request{Args: append([]string{name}, args...)}
	var input io.Reader
	if in := c.socket.file(c.socket.input, args); in != "" {
		f, err := openInput(in, cfg.Limits.MaxImportBytes)
		if err != nil {
			conn.Close()
			fmt.Fprintf(m.Stderr, "reconciled: import: %v\n", err)
			return exitFailed, true
		}
		defer f.Close()
		req.Input, req.InputArg, input = f.Name(), 1, &boundedInput{f: f, left: cfg.Limits.MaxImportBytes}
	}
	out := c.socket.file(c.socket.output, args)
	if out == "" {
		code, err := control.Run(ctx, conn, req, input, m.Stdout, m.Stderr, nil)
		return m.forwardedCode(code, err), true
	}
	req.Output = true
	defer conn.Close() // when the target is refused before Run
	// The client writes the file, as the person: the checks are made here,
	// against this config's database and the daemon's own, which it tells
	// before the first byte (guardedOutput).
	m.protectDatabase(cfg.Storage.Path)
	t := m.target(out, name == "backup")
	if name == "backup" { // the daemon cannot open the client's copy: check it here
		verify := checkCopy(out)
		t.Verify = func(tmp string) error {
			if err := verify(tmp); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			return nil
		}
	}
	err = asUsage(t.Write(func(w io.Writer) error {
		code, err = control.Run(ctx, conn, req, input, m.Stdout, m.Stderr, guardedOutput{w, t})
		if err == nil && code != 0 {
			err = errCommandFailed
		}
		return err
	}))
	if errors.Is(err, errCommandFailed) {
		return code, true
	}
	if err != nil {
		return m.forwardedCode(code, err), true
	}
	if name == "backup" {
		fmt.Fprintf(m.Stderr, "backup: %s checked\n", out)
	}
	return exitOK, true
}

// openInput opens the file import sends to the daemon, refusing what the
// daemon would (records.Check): not a regular file (a pipe would block,
// /dev/zero never end), or over limits.max_import_bytes.
func openInput(path string, max int64) (*os.File, error) {
	if _, err := records.Check(path, max); err != nil {
		return nil, err
	}
	return os.Open(path)
}

// boundedInput reads the input file up to limits.max_import_bytes and
// fails after: a file that grows while it is sent is not cut short (the
// daemon would import the part), it is not sent.
type boundedInput struct {
	f    *os.File
	left int64
}

func (b *boundedInput) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.f.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%s grew past limits.max_import_bytes while it was sent: nothing imported", b.f.Name())
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.f.Read(p)
	b.left -= int64(n)
	return n, err
}

func (m *Main) forwardedCode(code int, err error) int {
	if err != nil {
		return m.exitCode(err)
	}
	return code
}

// outputArg is the file the command name writes through the socket (-o's
// for export and report, backup's argument), "" if none.
func outputArg(name string, args []string) string {
	if c, ok := lookup(name); ok && c.socket != nil {
		return c.socket.file(c.socket.output, args)
	}
	return ""
}

// file is the file args name at where: the first argument if it is not a
// flag, or -o as the flag package reads it (the last -o counts, a flag's
// value is not a flag, and flags end at "--" or the first argument).
func (u *socketUse) file(where fileArg, args []string) string {
	switch where {
	case firstArg:
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			return args[0]
		}
	case flagO:
		out := ""
		for i := 0; i < len(args); i++ {
			a := args[i]
			if a == "--" || a == "-" || !strings.HasPrefix(a, "-") {
				break
			}
			name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
			switch {
			case name == "o" && hasValue:
				out = value
			case name == "o" && i+1 < len(args):
				out = args[i+1]
				i++
			case !hasValue && !slices.Contains(u.bools, name):
				i++ // its value
			}
		}
		return out
	}
	return ""
}

// checkCopy returns a Verify for a backup's target: it opens the copy (the
// temporary file, before it replaces anything) and checks it. Its damage
// is not the database's (which was checked before it was copied): the
// error names the file asked for and does not say to restore anything.
func checkCopy(shown string) func(tmp string) error {
	return func(tmp string) error {
		c, err := ledger.Open(tmp, ledger.Options{ReadOnly: true})
		if err == nil {
			defer c.Close()
			err = c.Check()
		}
		var de *ledger.DamagedError
		if errors.As(err, &de) {
			return fmt.Errorf("the copy for %s is not sound (the disk it was written to may be failing): %s; %s was left as it was", shown, de.What, shown)
		}
		if err != nil {
			return fmt.Errorf("the copy for %s does not open: %s; %s was left as it was", shown, strings.ReplaceAll(err.Error(), tmp, shown), shown)
		}
		return nil
	}
}

// serveControl runs a command that came through the daemon's control
// socket on a (the daemon's config, database and outbox, a logger to the
// client), as the person who sent it.
func (m *Main) serveControl(ctx context.Context, a *app.App, c *control.Command) int {
	name := c.Args[0]
	cmd, ok := lookup(name)
	if !ok || cmd.socket == nil {
		fmt.Fprintf(c.Stderr, "reconciled: %s does not run through the daemon\n", name)
		return exitUsage
	}
	jm := &Main{Stdin: strings.NewReader(""), Stdout: c.Stdout, Stderr: c.Stderr, Getenv: m.Getenv, Now: a.Now, logger: a.Logger,
		cfg: a.Config, ledger: a.Ledger, protect: a.Protect, asUser: c.Peer.User, outputSink: c.Output, inputName: c.Input, inputPath: c.InputPath, remote: true, outbox: a.Outbox}
	return jm.exitCode(cmd.run(jm, ctx, c.Args[1:]))
}
