package main

import (
	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/ledger"
)

// app is the App of this command: cfg, the ledger l it opened (or the
// daemon's it was lent), the command's clock, logger, outbox (its own,
// built where it opened l, or the daemon's) and protected files.
func (m *Main) app(cfg *config.Config, l *ledger.Ledger) *app.App {
	return app.New(app.App{Config: cfg, Ledger: l, Now: m.Now, Logger: m.log(), Outbox: m.outbox, Protect: m.protect})
}

// openApp loads the config and opens its database (read-only or not) for
// a command's one App; closeLedger closes that database, or the daemon's
// handle a command run inside it was lent.
func (m *Main) openApp(readOnly bool) (a *app.App, closeLedger func() error, err error) {
	cfg, err := m.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	l, err := m.openLedger(cfg, readOnly)
	if err != nil {
		return nil, nil, err
	}
	return m.app(cfg, l), l.Close, nil
}
