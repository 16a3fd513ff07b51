package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/control"
	"reconciled/internal/records"
)

// The control socket, both ends. The client (forward) parses the command
// line with the command table's parse before it dials, sends the file its
// request reads and writes the file it writes; the daemon (serve) maps the
// request through the same table: lookup, may it be forwarded, parse, the
// files it names, run on the daemon's env.

var errCommandFailed = errors.New("the command failed")

// forward runs the command name, parsed as req, in the daemon if one
// answers on the control socket; ok is false when it is to run here.
func (m *Main) forward(ctx context.Context, name string, args []string, req request) (code int, ok bool) {
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
	creq := control.Request{Args: append([]string{name}, args...)}
	var input io.Reader
	if in, ok := req.(inputFiler); ok {
		if file, arg := in.inputFile(); file != "" {
			max := cfg.Limits.MaxImportBytes
			f, err := control.OpenInput(file, max, func(p string) error { _, err := records.Check(p, max); return err })
			if err != nil {
				conn.Close()
				fmt.Fprintf(m.Stderr, "reconciled: %s: %v\n", name, err)
				return exitFailed, true
			}
			defer f.Close()
			creq.Input, creq.InputArg, input = f.Name(), 1+arg, f
		}
	}
	out := outputOf(req)
	if out.path == "" {
		code, err := control.Run(ctx, conn, creq, input, m.Stdout, m.Stderr, nil)
		return m.forwardedCode(code, err), true
	}
	creq.Output = true
	defer conn.Close() // when the target is refused before Run
	// The client writes the file, as the person: the checks are made here,
	// against this config's database and the daemon's own, which it tells
	// before the first byte (guardedOutput); the daemon cannot open the
	// client's copy, so a backup is checked here too.
	m.protectDatabase(cfg.Storage.Path)
	t := m.target(out.path, out.private)
	if out.verify != nil {
		t.Verify = func(tmp string) error {
			if err := out.verify(tmp); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		}
	}
	err = asUsage(t.Write(func(w io.Writer) error {
		code, err = control.Run(ctx, conn, creq, input, m.Stdout, m.Stderr, guardedOutput{w, t})
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
	if out.verify != nil {
		fmt.Fprintf(m.Stderr, "%s: %s checked\n", name, out.path)
	}
	return exitOK, true
}

func (m *Main) forwardedCode(code int, err error) int {
	if err != nil {
		return m.exitCode(err)
	}
	return code
}

// serve runs a command that came through the control socket on a, an App on
// the daemon's current config, ledger and outbox whose Logger writes to
// c.Stderr, as the person who sent it.
func serve(ctx context.Context, a *app.App, c *control.Command) int {
	d := &inDaemon{a: a, c: c}
	return exitCode(c.Stderr, d.serve(ctx, c.Args))
}

// serve runs args (the command and its arguments) on d, through the
// command table.
func (d *inDaemon) serve(ctx context.Context, args []string) error {
	cmd, ok := lookup(args[0])
	if !ok || !cmd.forward {
		return cli.Usagef("%s does not run through the daemon", args[0])
	}
	req, err := cmd.parse(program(d.c.Stdout, d.c.Stderr), args[1:])
	if err != nil {
		return err
	}
	if err := d.files(req); err != nil {
		return err
	}
	return req.run(ctx, d)
}
