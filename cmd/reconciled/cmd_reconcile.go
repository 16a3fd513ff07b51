package main

import (
	"context"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/config"
	"reconciled/internal/door"
)

// reconcileRequest is a reconcile's command line.
type reconcileRequest struct {
	from, to  cli.Time
	noRecheck bool
	full      bool
}

func parseReconcile(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("reconcile", "[--from D --to D] [--no-recheck] [--full]", `  reconciled reconcile
  reconciled reconcile --from 2026-11-01 --to 2026-12-01
`)
	var r reconcileRequest
	fs.Var(&r.from, "from", "summarise items created at or after (in data_api.tz); all data is still matched")
	fs.Var(&r.to, "to", "summarise items created before")
	fs.BoolVar(&r.noRecheck, "no-recheck", false, "do not ask the Data API about overdue or missing payments first")
	fs.BoolVar(&r.full, "full", false, "recompute every payment, not only those changed since the stored reconciliation")
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *reconcileRequest) Run(ctx context.Context, e door.Env) error {
	cfg, err := e.Config()
	if err != nil {
		return err
	}
	if !r.noRecheck && cfg.Reconcile.Recheck {
		// The re-checks ask the Data API.
		if cfg, err = cfg.WithSecrets(config.NeedDataAPI); err != nil {
			return err
		}
	}
	if err := resolveWindow(cfg, &r.from, &r.to); err != nil {
		return err
	}
	req := app.RunRequest{Recheck: !r.noRecheck, Full: r.full, From: r.from.T, To: r.to.T, User: e.User()}
	typed := map[string]string{"from": r.from.Raw, "to": r.to.Raw}
	if err := req.Check(); err != nil { // before the database opens
		return requestUsage(err, typed)
	}
	a, err := e.Open(cfg, false)
	if err != nil {
		return err
	}
	res, err := a.RunReconcile(ctx, req)
	if err != nil {
		return requestUsage(err, typed)
	}
	app.WriteRun(e.Stdout(), res)
	return nil
}
