package main

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"reconciled/internal/app"
)

var reReasonCode = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// itemFlags are the flags that narrow resolve and unresolve to one item.
type itemFlags struct {
	typ     *string
	project *int64
}

func (m *Main) addItemFlags(fs interface {
	String(name, value, usage string) *string
	Int64(name string, value int64, usage string) *int64
}) itemFlags {
	return itemFlags{
		typ:     fs.String("type", "", "only the item of this type: purchase, payout or refund"),
		project: fs.Int64("project", 0, "only the item of this project"),
	}
}

// check refuses a --type no item has: it would match nothing and read as
// "no open exception".
func (f itemFlags) check() error {
	if *f.typ != "" && !slices.Contains(itemTypes, *f.typ) {
		return usagef("--type %q: use purchase, payout or refund", *f.typ)
	}
	return nil
}

// itemTypes are the types an item (and so a resolution) has.
var itemTypes = []string{"purchase", "payout", "refund"}

// takeID takes the payment id that comes before the flags, or after a
// "--" there: an id may start with '-' (resolve -- -2+32 --reason CODE).
func takeID(args []string) (string, []string) {
	if len(args) > 1 && args[0] == "--" {
		return args[1], args[2:]
	}
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		return args[0], args[1:]
	}
	return "", args
}

// parseItemArgs parses the flags after the id; without one before them,
// the id may come last, after "--" (resolve --reason CODE -- -2+32). An
// id that starts with '-' given without "--" is told how.
func parseItemArgs(fs *flag.FlagSet, args []string, id *string) error {
	if *id == "" && len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && args[0] != "--" {
		name, _, _ := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		if fs.Lookup(name) == nil && name != "h" && name != "help" {
			return usagef("%s: %q is no flag; an id that starts with '-' goes after --: reconciled %s -- %s …",
				fs.Name(), args[0], fs.Name(), args[0])
		}
	}
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err)
	}
	rest := fs.Args()
	if *id == "" && len(rest) > 0 {
		*id, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), rest[0])
	}
	return nil
}

func (m *Main) runResolve(ctx context.Context, args []string) error {
	fs := m.newFlagSet("resolve", "PAYMENT_ID --reason CODE [--note TEXT] [--type T] [--project N]", `  reconciled resolve order-1042 --reason bank-fee --note "0.50 UAH kept by the bank"
  reconciled resolve -- -2+32 --reason written-off                     # an id that starts with '-'

  reconciled resolve provider:632441 --reason written-off --type payout
  reconciled resolve operation:10100000000001151 --reason booked-later   # one refund of a payment refunded in parts
`)
	id, args := takeID(args)
	reason := fs.String("reason", "", "a short code for why it is accepted, e.g. bank-fee, written-off, known-duplicate")
	note := fs.String("note", "", "free text for the audit trail")
	which := m.addItemFlags(fs)
	if err := parseItemArgs(fs, args, &id); err != nil {
		return err
	}
	if err := which.check(); err != nil {
		return err
	}
	if id == "" {
		return usagef("resolve: give the payment id: reconciled resolve PAYMENT_ID --reason CODE")
	}
	if !reReasonCode.MatchString(*reason) {
		return usagef("resolve: --reason %q: give a short code of lower-case letters, digits, '-', '_' or '.', e.g. bank-fee", *reason)
	}
	a, closeLedger, err := m.openApp(false)
	if err != nil {
		return err
	}
	defer closeLedger()
	rs, err := a.Resolve(ctx, app.ResolveRequest{ID: id, Reason: *reason, Note: *note, Type: *which.typ, Project: *which.project, User: m.user()})
	if err != nil {
		return err
	}
	for _, r := range rs {
		fmt.Fprintf(m.Stdout, "resolved %s %s%s (was %s) as %s, by %s\n", r.ID, r.Type, partText(r.Part), r.Code, r.Reason, r.User)
	}
	return nil
}

func (m *Main) runUnresolve(ctx context.Context, args []string) error {
	fs := m.newFlagSet("unresolve", "PAYMENT_ID [--type T] [--project N]", "  reconciled unresolve order-1042\n  reconciled unresolve -- -2+32\n")
	id, args := takeID(args)
	which := m.addItemFlags(fs)
	if err := parseItemArgs(fs, args, &id); err != nil {
		return err
	}
	if err := which.check(); err != nil {
		return err
	}
	if id == "" {
		return usagef("unresolve: give the payment id: reconciled unresolve PAYMENT_ID")
	}
	a, closeLedger, err := m.openApp(false)
	if err != nil {
		return err
	}
	defer closeLedger()
	keys, err := a.Unresolve(ctx, app.ResolveRequest{ID: id, Type: *which.typ, Project: *which.project, User: m.user()})
	if err != nil {
		return err
	}
	for _, k := range keys {
		fmt.Fprintf(m.Stdout, "unresolved %s %s%s\n", k.ID, k.Type, partText(k.Part))
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
