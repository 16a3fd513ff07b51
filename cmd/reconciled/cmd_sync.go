package main

import (
	"context"
	"fmt"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/config"
	"reconciled/internal/door"
	"reconciled/internal/progress"
)

// syncRequest is a sync's command line.
type syncRequest struct {
	from, to cli.Time
	projects cli.Int64s
}

func parseSync(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("sync", "[--from T --to T] [--project N]", `  reconciled sync                       # from the watermark minus lookback to now
  reconciled sync --from 2026-11-01     # re-pull from a date (in data_api.tz)
  reconciled sync --project 580 --from "2026-11-20 10:00:00" --to "2026-11-20 12:00:00"
`)
	r := syncRequest{projects: cli.Int64s{Noun: "project id"}}
	fs.Var(&r.from, "from", "start of the window (default: watermark - lookback)")
	fs.Var(&r.to, "to", "end of the window (default: now)")
	fs.Var(&r.projects, "project", "project id, repeatable or comma-separated (default: data_api.projects)")
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *syncRequest) Run(ctx context.Context, e door.Env) error {
	cfg, err := e.Config()
	if err != nil {
		return err
	}
	if cfg, err = cfg.WithSecrets(config.NeedDataAPI); err != nil {
		return err
	}
	if err := resolveWindow(cfg, &r.from, &r.to); err != nil {
		return err
	}
	req := app.SyncRequest{Projects: r.projects.List, From: r.from.T, To: r.to.T}
	if err := req.Check(e.Now()); err != nil {
		return requestUsage(err, map[string]string{"from": r.from.Raw, "to": r.to.Raw})
	}
	a, err := e.Open(cfg, false)
	if err != nil {
		return err
	}
	req.Progress = progress.New(e.Stderr(), "sync")
	res, err := a.Sync(ctx, req)
	fmt.Fprintln(e.Stdout(), app.SyncLine(res))
	return err
}
