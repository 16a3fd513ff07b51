package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/reconcile"
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

func (f itemFlags) match(k domain.ResolutionKey) bool {
	return (*f.typ == "" || k.Type == *f.typ) && (*f.project == 0 || k.ProjectID == *f.project)
}

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

// idMatches says whether an item is the one a user named: by payment id,
// or by "provider:ID" / "operation:ID" for items without one.
func idMatches(it *domain.Item, id string) bool {
	return reconcile.KeyOf(it).ID == id || it.PaymentID == id ||
		(it.ProviderPaymentID != "" && it.ProviderPaymentID == strings.TrimPrefix(id, "provider:")) ||
		(it.OperationID != 0 && strconv.FormatUint(it.OperationID, 10) == strings.TrimPrefix(id, "operation:"))
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
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	l, err := m.openLedger(cfg, false)
	if err != nil {
		return err
	}
	defer l.Close()
	rs, err := m.resolve(ctx, cfg, l, id, *reason, *note, which.match)
	if err != nil {
		return err
	}
	for _, r := range rs {
		fmt.Fprintf(m.Stdout, "resolved %s %s%s (was %s) as %s, by %s\n", r.ID, r.Type, partText(r.Part), r.Code, r.Reason, r.User)
	}
	return nil
}

// resolve accepts the open exceptions of one payment (those that which
// lets through) and stores the resolutions with their audit events.
func (m *Main) resolve(ctx context.Context, cfg *config.Config, l *ledger.Ledger, id, reason, note string, which func(domain.ResolutionKey) bool) ([]domain.Resolution, error) {
	out, err := m.app(cfg, l).Reconcile(ctx)
	if err != nil {
		return nil, err
	}
	user, now := m.user(), m.Now().UTC()
	var rs []domain.Resolution
	var events []domain.AuditEvent
	var seen []string
	for i := range out.Items {
		it := &out.Items[i]
		if !idMatches(it, id) || !which(reconcile.KeyOf(it)) {
			continue
		}
		seen = append(seen, fmt.Sprintf("%s %s: %s", it.Type, describeProject(it.ProjectID), it.Result))
		if !domain.IsException(it.Result) {
			continue
		}
		k := reconcile.KeyOf(it)
		r := domain.Resolution{ProjectID: k.ProjectID, ID: k.ID, Type: k.Type, Part: k.Part, Code: it.Code, Reason: reason, Note: note,
			User: user, At: now, Fingerprint: it.Fingerprint, Summary: it.Reason}
		rs = append(rs, r)
		events = append(events, domain.AuditEvent{At: now, User: user, Action: domain.AuditResolve, ProjectID: k.ProjectID,
			ID: k.ID, Type: k.Type, Part: k.Part, Code: it.Code, Reason: reason, Note: note, Detail: it.Reason})
	}
	if len(rs) == 0 {
		if len(seen) == 0 {
			return nil, fmt.Errorf("resolve: no item for payment %q (give the payment id, or provider:ID / operation:ID)", id)
		}
		return nil, fmt.Errorf("resolve: payment %q has no open exception: %s", id, strings.Join(seen, "; "))
	}
	return rs, l.SaveResolutions(rs, events)
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
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	l, err := m.openLedger(cfg, false)
	if err != nil {
		return err
	}
	defer l.Close()
	all, err := l.Resolutions()
	if err != nil {
		return err
	}
	user, now := m.user(), m.Now().UTC()
	// A payment id names every resolution of the payment; "operation:ID"
	// also names the one refund part it was made for, and a refund
	// resolution of its payment made before parts had keys (which holds
	// for that part, see reconcile's finish).
	var legacy domain.ResolutionKey
	if opID, err := strconv.ParseUint(strings.TrimPrefix(id, "operation:"), 10, 64); err == nil && strings.HasPrefix(id, "operation:") {
		if rec, ok, err := l.Get(opID); err != nil {
			return err
		} else if ok && domain.Builtin.RecordType(rec.OperationType) == domain.RecordRefund {
			legacy = domain.ResolutionKey{ProjectID: rec.ProjectID, ID: rec.PaymentID, Type: domain.RecordRefund}
		}
	}
	var keys []domain.ResolutionKey
	var events []domain.AuditEvent
	for k, r := range all {
		named := k.ID == id || k.Part != "" && k.Part == id || legacy.ID != "" && k == legacy
		if !named || !which.match(k) {
			continue
		}
		keys = append(keys, k)
		events = append(events, domain.AuditEvent{At: now, User: user, Action: domain.AuditUnresolve, ProjectID: k.ProjectID,
			ID: k.ID, Type: k.Type, Part: k.Part, Code: r.Code, Reason: r.Reason, Detail: fmt.Sprintf("resolved by %s at %s", r.User, r.At.Format("2006-01-02 15:04"))})
	}
	if len(keys) == 0 {
		return fmt.Errorf("unresolve: payment %q has no resolution", id)
	}
	if err := l.DeleteResolutions(keys, events); err != nil {
		return err
	}
	slices.SortFunc(keys, func(a, b domain.ResolutionKey) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Part, b.Part))
	})
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

func describeProject(p int64) string {
	if p == 0 {
		return "(no project)"
	}
	return fmt.Sprintf("of project %d", p)
}
