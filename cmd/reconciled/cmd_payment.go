package main

import (
	"context"
	"fmt"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/domain"
	"reconciled/internal/door"
)

func parsePayment(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("payment", "PAYMENT_ID", "  reconciled payment order-1042\n  reconciled payment -- -2+32\n")
	id, err := p.ParseArg(fs, args, "a payment id")
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, cli.Usagef("payment: give the payment id: reconciled payment PAYMENT_ID")
	}
	return paymentRequest{id}, nil
}

// paymentRequest is a payment's command line: the id asked about.
type paymentRequest struct{ id string }

func (r paymentRequest) Run(ctx context.Context, e door.Env) error {
	a, err := door.OpenApp(e, true)
	if err != nil {
		return err
	}
	p, err := a.Payment(ctx, r.id)
	if err != nil {
		return err
	}
	if !p.Found() {
		return fmt.Errorf("nothing is stored about payment id %q", domain.MaskCardNumbers(domain.CleanName(r.id)))
	}
	return app.WritePayment(e.Stdout(), p, a.Config.Zone())
}
