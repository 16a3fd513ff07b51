package main

import (
	"context"
	"fmt"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/domain"
	"reconciled/internal/door"
)

// itemFlags are the flags that narrow resolve and unresolve to one item.
type itemFlags struct {
	typ     *string
	project *int64
}

func addItemFlags(fs interface {
	String(name, value, usage string) *string
	Int64(name string, value int64, usage string) *int64
}) itemFlags {
	return itemFlags{
		typ:     fs.String("type", "", "only the item of this type: purchase, payout or refund"),
		project: fs.Int64("project", 0, "only the item of this project"),
	}
}

// check refuses a --type no item has (app.CheckItemType).
func (f itemFlags) check() error { return requestUsage(app.CheckItemType(*f.typ), nil) }

func parseResolve(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("resolve", "PAYMENT_ID --reason CODE [--note TEXT] [--type T] [--project N]", `  reconciled resolve order-1042 --reason bank-fee --note "0.50 UAH kept by the bank"
  reconciled resolve -- -2+32 --reason written-off                     # an id that starts with '-'

  reconciled resolve provider:632441 --reason written-off --type payout
  reconciled resolve operation:10100000000001151 --reason booked-later   # one refund of a payment refunded in parts
  reconciled resolve fee:10100000000000079 --reason fee-disputed         # one operation's fee_mismatch alone
  reconciled resolve chargeback:7010100000000001 --reason answered       # one chargeback alone
`)
	reason := fs.String("reason", "", "a short code for why it is accepted, e.g. bank-fee, written-off, known-duplicate")
	note := fs.String("note", "", "free text for the audit trail")
	which := addItemFlags(fs)
	id, err := p.ParseArg(fs, args, "an id") // an id may start with '-': resolve -- -2+32 --reason CODE
	if err != nil {
		return nil, err
	}
	if err := which.check(); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, cli.Usagef("resolve: give the payment id: reconciled resolve PAYMENT_ID --reason CODE")
	}
	// Refused before anything opens, as App.Resolve would refuse it.
	if err := requestUsage(app.CheckReason(*reason), nil); err != nil {
		return nil, err
	}
	return &resolveRequest{app.ResolveRequest{ID: id, Reason: *reason, Note: *note, Type: *which.typ, Project: *which.project}}, nil
}

// resolveRequest is a resolve's command line (the user is the env's).
type resolveRequest struct{ app.ResolveRequest }

func (r *resolveRequest) Run(ctx context.Context, e door.Env) error {
	a, err := door.OpenApp(e, false)
	if err != nil {
		return err
	}
	req := r.ResolveRequest
	req.User = e.User()
	rs, err := a.Resolve(ctx, req)
	if err != nil {
		return requestUsage(err, nil)
	}
	for _, r := range rs {
		// The id is the payment's as upstream sent it (chargeback:ID names
		// one the user never typed): shown cleaned, as status shows ids.
		fmt.Fprintf(e.Stdout(), "resolved %s %s%s (was %s) as %s, by %s\n", domain.CleanName(r.ID), r.Type, partText(r.Part), r.Code, r.Reason, r.User)
	}
	return nil
}

func parseUnresolve(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("unresolve", "PAYMENT_ID [--type T] [--project N]", "  reconciled unresolve order-1042\n  reconciled unresolve -- -2+32\n")
	which := addItemFlags(fs)
	id, err := p.ParseArg(fs, args, "an id")
	if err != nil {
		return nil, err
	}
	if err := which.check(); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, cli.Usagef("unresolve: give the payment id: reconciled unresolve PAYMENT_ID")
	}
	return &unresolveRequest{app.ResolveRequest{ID: id, Type: *which.typ, Project: *which.project}}, nil
}

// unresolveRequest is an unresolve's command line.
type unresolveRequest struct{ app.ResolveRequest }

func (r *unresolveRequest) Run(ctx context.Context, e door.Env) error {
	a, err := door.OpenApp(e, false)
	if err != nil {
		return err
	}
	req := r.ResolveRequest
	req.User = e.User()
	keys, err := a.Unresolve(ctx, req)
	if err != nil {
		return requestUsage(err, nil)
	}
	for _, k := range keys {
		fmt.Fprintf(e.Stdout(), "unresolved %s %s%s\n", domain.CleanName(k.ID), k.Type, partText(k.Part))
	}
	return nil
}

// partText names which refund of a payment an item is: " (operation:123)".
func partText(part string) string {
	if part == "" {
		return ""
	}
	return " (" + part + ")"
}
