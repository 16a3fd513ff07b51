package main

import (
	"context"

	"reconciled/internal/daemon"
)

// runDaemon is `reconciled run`: the daemon (internal/daemon) on the config
// with every credential and the database opened here; the commands of its
// control socket run through serveControl.
func (m *Main) runDaemon(ctx context.Context, args []string) error {
	fs := m.newFlagSet("run", "", `  reconciled run                               # in the foreground; logs to standard error
  systemctl start reconciled                   # as a service: see deploy/reconciled.service
`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
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
	m.outbox = nil // the daemon builds the process's outbox, on the [mail] of the config it reloads
	return daemon.New(daemon.Options{ConfigPath: path, Config: cfg, Ledger: l, Getenv: m.Getenv, Now: m.Now,
		Log: m.log, SetLog: m.setLogger, Protect: m.protect, Serve: m.serveControl}).Run(ctx)
}
