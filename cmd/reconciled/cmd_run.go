package main

import (
	"context"

	"reconciled/internal/cli"
	"reconciled/internal/daemon"
)

func parseRun(p *cli.Program, args []string) (request, error) {
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
	l, err := m.openLedger(cfg, false)
	if err != nil {
		return err
	}
	defer l.Close()
	return daemon.New(daemon.Options{ConfigPath: path, Config: cfg, Ledger: l, Getenv: m.Getenv, Now: m.Now,
		Log: m.log, SetLog: m.setLogger, Protect: m.protect, Serve: serve}).Run(ctx)
}
