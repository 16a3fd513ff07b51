package main

import (
	"context"

	"reconciled/internal/app"
)

func (m *Main) runStatus(ctx context.Context, args []string) error {
	fs := m.newFlagSet("status", "", "  reconciled status\n")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, closeLedger, err := m.openApp(true)
	if err != nil {
		return err
	}
	defer closeLedger()
	st, err := a.Status(ctx)
	if err != nil {
		return err
	}
	return app.WriteStatus(m.Stdout, st)
}
