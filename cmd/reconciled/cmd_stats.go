package main

import (
	"context"

	"reconciled/internal/app"
	"reconciled/internal/export"
	"reconciled/internal/progress"
)

// statsRequest is a stats' command line.
type statsRequest struct {
	from, to timeFlag
	by       string
	filter   export.Filter
}

func parseStats(f flagOut, args []string) (request, error) {
	fs := newFlagSet(f, "stats", "[--from T --to T] [--by day|method|status|currency|project] [filters]", `  reconciled stats
  reconciled stats --from 2026-11-01 --to 2026-12-01 --by method
  reconciled stats --by currency --method advcash
`)
	var r statsRequest
	var projects int64ListFlag
	var methods, currencies listFlag
	fs.StringVar(&r.by, "by", "day", "the grouped table: day, method, status, currency or project")
	fs.Var(&r.from, "from", "operations created at or after (in data_api.tz)")
	fs.Var(&r.to, "to", "operations created before")
	fs.Var(&projects, "project", "project id(s)")
	fs.Var(&methods, "method", "payment method(s)")
	fs.Var(&currencies, "currency", "currency code(s)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := app.CheckSummaryTable(r.by); err != nil {
		return nil, requestUsage(err, nil)
	}
	r.filter = export.Filter{Projects: projects, Methods: methods, Currencies: currencies}
	return &r, nil
}

func (r *statsRequest) run(ctx context.Context, e env) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if err := resolveWindow(cfg, &r.from, &r.to); err != nil {
		return err
	}
	a, err := e.open(cfg, true)
	if err != nil {
		return err
	}
	s, err := a.Summary(ctx, app.SummaryRequest{From: r.from.t, To: r.to.t, Filter: r.filter, Progress: progress.New(e.stderr(), "stats")})
	if err != nil {
		return err
	}
	app.WriteStats(e.stdout(), s, r.by)
	return nil
}
