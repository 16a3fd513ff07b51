package main

import (
	"context"
	"io"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/control"
	"reconciled/internal/daemon"
	"reconciled/internal/door"
	"reconciled/internal/ledger"
)

func parseRun(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("run", "", `  reconciled run                               # in the foreground; logs to standard error
  systemctl start reconciled                   # as a service: see deploy/reconciled.service
`)
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	return process((*Main).runDaemon), nil
}

// runDaemon is `reconciled run`: the daemon (internal/daemon) on the config
// with every credential and the database opened here; the commands of its
// control socket run through the command table (serve).
func (m *Main) runDaemon(ctx context.Context) error {
	path, err := m.findConfig()
	if err != nil {
		return err
	}
	cfg, err := m.loadConfigAll() // its jobs and the commands it runs use every credential
	if err != nil {
		return err
	}
	l, err := ledger.Open(cfg.Storage.Path, ledger.Options{Logger: m.log()})
	if err != nil {
		return err
	}
	defer l.Close()
	door.Protect(&m.protect, cfg.Storage.Path, door.DatabaseWhat) // the daemon tells clients this file
	return daemon.New(daemon.Options{ConfigPath: path, Config: cfg, Ledger: l, Getenv: m.Getenv, Now: m.Now,
		Log: m.log, SetLog: m.setLogger, Protect: m.protect, Serve: serve}).Run(ctx)
}

// serve runs a command that came through the control socket (the daemon's
// Options.Serve) through the command table, and explains its error to the
// client.
func serve(ctx context.Context, a *app.App, c *control.Command) int {
	return exitCode(c.Stderr, door.Serve(ctx, a, c, table))
}

// table is the command table as the daemon's side of the socket reads it.
func table(name string) (door.Command, bool) {
	c, ok := lookup(name)
	parse := func(stdout, stderr io.Writer, args []string) (door.Request, error) {
		return c.parse(program(stdout, stderr), args)
	}
	return door.Command{Parse: parse, Forward: c.forward}, ok
}
