package main

import (
	"context"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/door"
	"reconciled/internal/export"
	"reconciled/internal/progress"
)

// statsRequest is a stats' command line.
type statsRequest struct {
	from, to cli.Time
	by       string
	filter   export.Filter
}

func parseStats(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("stats", "[--from T --to T] [--by day|method|status|currency|project|settlement] [filters]", `  reconciled stats
  reconciled stats --from 2026-11-01 --to 2026-12-01 --by method
  reconciled stats --by currency --method advcash
`)
	var r statsRequest
	projects := cli.Int64s{Noun: "project id"}
	var methods, currencies cli.List
	fs.StringVar(&r.by, "by", "day", "the grouped table: day, method, status, currency or project; or settlement (net per day, project and currency)")
	fs.Var(&r.from, "from", "operations created at or after (in data_api.tz)")
	fs.Var(&r.to, "to", "operations created before")
	fs.Var(&projects, "project", "project id(s)")
	fs.Var(&methods, "method", "payment method(s)")
	fs.Var(&currencies, "currency", "currency code(s)")
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	if err := app.CheckStatsTable(r.by); err != nil {
		return nil, requestUsage(err, nil)
	}
	r.filter = export.Filter{Projects: projects.List, Methods: methods, Currencies: currencies}
	return &r, nil
}

func (r *statsRequest) Run(ctx context.Context, e door.Env) error {
	cfg, err := e.Config()
	if err != nil {
		return err
	}
	if err := resolveWindow(cfg, &r.from, &r.to); err != nil {
		return err
	}
	a, err := e.Open(cfg, true)
	if err != nil {
		return err
	}
	s, err := a.Summary(ctx, app.SummaryRequest{From: r.from.T, To: r.to.T, Filter: r.filter, Progress: progress.New(e.Stderr(), "stats")})
	if err != nil {
		return err
	}
	app.WriteStats(e.Stdout(), s, r.by)
	return nil
}
