package app

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"reconciled/internal/domain"
	"reconciled/internal/reconcile"
)

// ResolveRequest names the item(s) to accept or to reopen and why.
type ResolveRequest struct {
	// ID is the payment id, or "provider:ID" / "operation:ID" for items
	// without one (operation:ID also names one refund of a payment
	// refunded in parts), or "fee:ID" for one operation's fee_mismatch,
	// or "chargeback:ID" for one chargeback.
	ID string
	// Reason is a short code (CheckReason), Note free
	// text for the audit trail; both unused by Unresolve.
	Reason, Note string
	// Type ("" any; CheckItemType) and Project (0 any) narrow ID to one item.
	Type    string
	Project int64
	User    string // who, for the audit trail
}

// reasonCode is what a resolution's reason looks like: a short code.
var reasonCode = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// CheckReason refuses a reason that is not a short code (a
// *RequestError): Resolve does, and a front door that wants to refuse it
// before it opens anything.
func CheckReason(reason string) error {
	if !reasonCode.MatchString(reason) {
		return refuse("reason", reason, "resolve: {reason} {%q}: give a short code of lower-case letters, digits, '-', '_' or '.', e.g. bank-fee")
	}
	return nil
}

// CheckItemType refuses a Type no item has (a *RequestError): it would
// match nothing and read as "no open exception". "" is any.
func CheckItemType(typ string) error {
	if typ != "" && !slices.Contains(domain.RecordTypes, typ) {
		return refuse("type", typ, "{type} {%q}: use purchase, payout or refund")
	}
	return nil
}

func (r ResolveRequest) match(k domain.ResolutionKey) bool {
	return (r.Type == "" || k.Type == r.Type) && (r.Project == 0 || k.ProjectID == r.Project)
}

// Resolve accepts the open exceptions of one payment (those req narrows
// to) as the engine judges what is stored now, and stores the resolutions
// with their audit events in one transaction. It returns what it stored. A
// type no item has, or a reason that is not a short code, is refused first
// (a *RequestError).
func (a *App) Resolve(ctx context.Context, req ResolveRequest) ([]domain.Resolution, error) {
	if err := CheckItemType(req.Type); err != nil {
		return nil, err
	}
	if err := CheckReason(req.Reason); err != nil {
		return nil, err
	}
	// A person's note may quote a card number: stored (and shown in the
	// resolved item's reason, the audit, every export) masked.
	req.Note = domain.MaskCardNumbers(req.Note)
	now := a.Now().UTC()
	cbID, isCB := chargebackID(req.ID)
	if isCB {
		// One chargeback's item, of its payment's unit: said so when it
		// is none, without a run over everything to find nothing.
		req.ID = domain.ChargebackPart(cbID)
		cb, ok, err := a.Ledger.Chargeback(cbID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("resolve: no chargeback %d is stored", cbID)
		}
		if s, _ := cb.State(); s == domain.ChargebackWon { // a known word: safe to show
			return nil, fmt.Errorf("resolve: chargeback %d is won (status %s): no exception to resolve", cbID, cb.Status)
		}
	}
	us, err := a.unitsNamed(req.ID)
	if err != nil {
		return nil, err
	}
	items, err := a.itemsOf(ctx, us, now)
	if err != nil {
		return nil, err
	}
	if !isCB && !slices.ContainsFunc(items, func(it domain.Item) bool { return idMatches(&it, req.ID) }) {
		// An id only a record of another payment carries: read everything.
		if items, err = a.itemsOf(ctx, nil, now); err != nil {
			return nil, err
		}
	}
	var rs []domain.Resolution
	var events []domain.AuditEvent
	var seen []string
	for i := range items {
		it := &items[i]
		if !idMatches(it, req.ID) || !req.match(reconcile.KeyOf(it)) {
			continue
		}
		seen = append(seen, fmt.Sprintf("%s %s: %s", it.Type, describeProject(it.ProjectID), it.Result))
		if !domain.IsException(it.Result) {
			continue
		}
		k := reconcile.KeyOf(it)
		r := domain.Resolution{ProjectID: k.ProjectID, ID: k.ID, Type: k.Type, Part: k.Part, Code: it.Code, Reason: req.Reason, Note: req.Note,
			User: req.User, At: now, Fingerprint: it.Fingerprint, Summary: it.Reason}
		rs = append(rs, r)
		events = append(events, domain.AuditEvent{At: now, User: req.User, Action: domain.AuditResolve, ProjectID: k.ProjectID,
			ID: k.ID, Type: k.Type, Part: k.Part, Code: it.Code, Reason: req.Reason, Note: req.Note, Detail: it.Reason})
	}
	if len(rs) == 0 {
		if len(seen) == 0 {
			return nil, fmt.Errorf("resolve: no item for payment %q (give the payment id, or provider:ID / operation:ID, or fee:ID for one fee_mismatch, or chargeback:ID for one chargeback)", req.ID)
		}
		return nil, fmt.Errorf("resolve: payment %q has no open exception: %s", req.ID, strings.Join(seen, "; "))
	}
	if err := a.Ledger.SaveResolutions(rs, events); err != nil {
		return nil, err
	}
	return rs, a.keepCurrent(ctx, req.User)
}

// Unresolve deletes the resolutions req names, with an audit event each,
// and returns their keys by type, project and part. A type no item has is
// refused first (CheckItemType).
func (a *App) Unresolve(ctx context.Context, req ResolveRequest) ([]domain.ResolutionKey, error) {
	if err := CheckItemType(req.Type); err != nil {
		return nil, err
	}
	l := a.Ledger
	all, err := l.Resolutions()
	if err != nil {
		return nil, err
	}
	now := a.Now().UTC()
	id := req.ID
	if n, ok := chargebackID(id); ok {
		id = domain.ChargebackPart(n) // as its part is written
	}
	// A payment id names every resolution of the payment; "operation:ID"
	// also names the one refund part it was made for, and a refund
	// resolution of its payment made before parts had keys (which holds
	// for that part, see reconcile's finish).
	var legacy domain.ResolutionKey
	if opID, err := strconv.ParseUint(strings.TrimPrefix(id, "operation:"), 10, 64); err == nil && strings.HasPrefix(id, "operation:") {
		if rec, ok, err := l.Get(opID); err != nil {
			return nil, err
		} else if ok && domain.Builtin.RecordType(rec.OperationType) == domain.RecordRefund {
			legacy = domain.ResolutionKey{ProjectID: rec.ProjectID, ID: rec.PaymentID, Type: domain.RecordRefund}
		}
	}
	var keys []domain.ResolutionKey
	var events []domain.AuditEvent
	for k, r := range all {
		named := k.ID == id || k.Part != "" && k.Part == id || legacy.ID != "" && k == legacy
		if !named || !req.match(k) {
			continue
		}
		keys = append(keys, k)
		events = append(events, domain.AuditEvent{At: now, User: req.User, Action: domain.AuditUnresolve, ProjectID: k.ProjectID,
			ID: k.ID, Type: k.Type, Part: k.Part, Code: r.Code, Reason: r.Reason, Detail: fmt.Sprintf("resolved by %s at %s", r.User, r.At.Format("2006-01-02 15:04"))})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("unresolve: payment %q has no resolution", id)
	}
	if err := l.DeleteResolutions(keys, events); err != nil {
		return nil, err
	}
	if err := a.keepCurrent(ctx, req.User); err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b domain.ResolutionKey) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Part, b.Part))
	})
	return keys, nil
}

// unitsNamed are the units whose items idMatches may accept for id: its
// payment's, its records', and the payments of the operations it names.
func (a *App) unitsNamed(id string) ([]domain.Unit, error) {
	us := domain.ResolutionUnits(id)
	p := strings.TrimPrefix(id, "provider:")
	us = append(us, domain.ProviderUnit(p))
	ops, err := a.Ledger.ByProviderPaymentID(p)
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		us = append(us, domain.PaymentUnit(op.PaymentID))
	}
	if n, ok := chargebackID(id); ok {
		cb, ok, err := a.Ledger.Chargeback(n)
		if err != nil {
			return nil, err
		}
		if ok {
			us = append(us, domain.PaymentUnit(cb.PaymentID))
		}
		return us, nil
	}
	if n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(id, "fee:"), "operation:"), 10, 64); err == nil {
		us = append(us, domain.OperationUnit(n))
		op, ok, err := a.Ledger.Get(n)
		if err != nil {
			return nil, err
		}
		if ok {
			us = append(us, domain.PaymentUnit(op.PaymentID))
		}
	}
	return us, nil
}

// idMatches says whether an item is the one a user named: by payment id,
// or by "provider:ID" / "operation:ID" for items without one, or
// "fee:ID" for the fee_mismatch of operation ID alone, "chargeback:ID"
// for one chargeback's item. Those are named by their part or their
// payment, never by "operation:ID" or a provider id: those are not what
// Unresolve takes them back by.
func idMatches(it *domain.Item, id string) bool {
	if ownPart(id) { // the item of one fee or chargeback, and nothing else
		return it.Part == id
	}
	if ownPart(it.Part) { // named by its part or its payment, as Unresolve takes it back
		return reconcile.KeyOf(it).ID == id || it.PaymentID == id
	}
	return reconcile.KeyOf(it).ID == id || it.PaymentID == id ||
		(it.ProviderPaymentID != "" && it.ProviderPaymentID == strings.TrimPrefix(id, "provider:")) ||
		(it.OperationID != 0 && strconv.FormatUint(it.OperationID, 10) == strings.TrimPrefix(id, "operation:"))
}

// chargebackID reads "chargeback:ID" (leading zeros too: the part is
// then written without them).
func chargebackID(id string) (uint64, bool) {
	rest, ok := strings.CutPrefix(id, "chargeback:")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	return n, err == nil
}

// ownPart says whether a part names an item apart from its payment's
// verdict: a fee_mismatch ("fee:ID") or a chargeback ("chargeback:ID").
func ownPart(p string) bool {
	return strings.HasPrefix(p, "fee:") || strings.HasPrefix(p, "chargeback:")
}

func describeProject(p int64) string {
	if p == 0 {
		return "(no project)"
	}
	return fmt.Sprintf("of project %d", p)
}
