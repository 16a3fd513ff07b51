package main

import (
	"context"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/door"
)

func parseStatus(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("status", "", "  reconciled status\n")
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	return statusRequest{}, nil
}

// statusRequest is a status's command line: it has nothing to say.
type statusRequest struct{}

func (statusRequest) Run(ctx context.Context, e door.Env) error {
	a, err := door.OpenApp(e, true)
	if err != nil {
		return err
	}
	st, err := a.Status(ctx)
	if err != nil {
		return err
	}
	return app.WriteStatus(e.Stdout(), st)
}
