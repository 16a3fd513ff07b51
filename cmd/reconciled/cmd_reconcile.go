package main

import (
	"context"

	"reconciled/internal/app"
	"reconciled/internal/config"
)

func (m *Main) runReconcileCmd(ctx context.Context, args []string) error {
	fs := m.newFlagSet("reconcile", "[--from D --to D] [--no-recheck]", `  reconciled reconcile
  reconciled reconcile --from 2026-11-01 --to 2026-12-01
`)
	var from, to timeFlag
	fs.Var(&from, "from", "summarise items created at or after (in data_api.tz); all data is still matched")
	fs.Var(&to, "to", "summarise items created before")
	noRecheck := fs.Bool("no-recheck", false, "do not ask the Data API about overdue or missing payments first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	if !*noRecheck && cfg.Reconcile.Recheck {
		// The re-checks ask the Data API.
		if cfg, err = cfg.WithSecrets(config.NeedDataAPI); err != nil {
			return err
		}
	}
	if err := resolveWindow(cfg, &from, &to); err != nil {
		return err
	}
	l, err := m.openLedger(cfg, false)
	if err != nil {
		return err
	}
	defer l.Close()
	res, err := m.app(cfg, l).RunReconcile(ctx, app.RunRequest{Recheck: !*noRecheck, From: from.t, To: to.t, User: m.user()})
	if err != nil {
		return err
	}
	app.WriteRun(m.Stdout, res)
	return nil
}
