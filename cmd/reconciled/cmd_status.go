package main

import (
	"context"

	"reconciled/internal/app"
	"reconciled/internal/cli"
)

func parseStatus(p *cli.Program, args []string) (request, error) {
	fs := p.FlagSet("status", "", "  reconciled status\n")
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	return statusRequest{}, nil
}

// statusRequest is a status's command line: it has nothing to say.
type statusRequest struct{}

func (statusRequest) run(ctx context.Context, e env) error {
	a, err := openApp(e, true)
	if err != nil {
		return err
	}
	st, err := a.Status(ctx)
	if err != nil {
		return err
	}
	return app.WriteStatus(e.stdout(), st)
}
