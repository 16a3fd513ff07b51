package main

import (
	"context"
	"fmt"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/syncer"
)

func (m *Main) runSync(ctx context.Context, args []string) error {
	fs := m.newFlagSet("sync", "[--from T --to T] [--project N]", `  reconciled sync                       # from the watermark minus lookback to now
  reconciled sync --from 2026-11-01     # re-pull from a date (in data_api.tz)
  reconciled sync --project 580 --from "2026-11-20 10:00:00" --to "2026-11-20 12:00:00"
`)
	var from, to timeFlag
	var projects int64ListFlag
	fs.Var(&from, "from", "start of the window (default: watermark - lookback)")
	fs.Var(&to, "to", "end of the window (default: now)")
	fs.Var(&projects, "project", "project id, repeatable or comma-separated (default: data_api.projects)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	if cfg, err = cfg.WithSecrets(config.NeedDataAPI); err != nil {
		return err
	}
	if err := resolveWindow(cfg, &from, &to); err != nil {
		return err
	}
	if !from.t.IsZero() && from.t.After(m.Now()) {
		return usagef("--from %s is in the future", from.raw)
	}
	if !to.t.IsZero() && from.t.IsZero() {
		return usagef("--to needs --from")
	}
	if !to.t.IsZero() && !to.t.After(from.t) {
		return usagef("--to must be after --from")
	}
	l, err := m.openLedger(cfg, false)
	if err != nil {
		return err
	}
	defer l.Close()
	res, err := m.sync(ctx, m.app(cfg, l), app.SyncRequest{Projects: projects, From: from.t, To: to.t})
	fmt.Fprintln(m.Stdout, app.SyncLine(res))
	return err
}

// sync runs one sync of a with progress on a terminal.
func (m *Main) sync(ctx context.Context, a *app.App, req app.SyncRequest) (syncer.Result, error) {
	p := m.newProgress("sync", -1)
	req.Progress = func(r syncer.Result) {
		p.set(int64(r.Operations), app.SyncProgress(r))
	}
	req.Done = p.done
	return a.Sync(ctx, req)
}
