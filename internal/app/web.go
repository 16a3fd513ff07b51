package app

import (
	"context"
	"slices"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// The read-only calls of the web view (internal/web), beside Status,
// Summary and Export, which it calls as the commands do, and SummaryDays
// (export.go), the analytics it holds.

// StoredResult says which stored reconciliation a reader gets (none, or
// its state) and how far it is behind the data.
func (a *App) StoredResult() (Stored, error) { return a.stored() }

// Payment is everything stored about one payment id.
type Payment struct {
	ID string
	// Operations are ECommPay's operations of the payment, of every
	// project, each with its status history and who reported it.
	Operations []ledger.Record
	// Records are the merchant's records of the payment (by its id, and by
	// the provider payment and operation ids of its operations), each with
	// its status history.
	Records []ledger.StoredRecord
	// Items are the stored verdicts of the payment's unit (none when no
	// reconciliation is stored).
	Items       []domain.Item
	Resolutions []domain.Resolution // of its items, by time
	Audit       []domain.AuditEvent // of its id, oldest first
	Chargebacks []ledger.StoredChargeback
	Stored      Stored
}

// Found reports whether anything is stored about the payment.
func (p *Payment) Found() bool {
	return len(p.Operations)+len(p.Records)+len(p.Items)+len(p.Resolutions)+len(p.Audit)+len(p.Chargebacks) > 0
}

// Payment reads what is stored about the payment id: a few keyed
// reads, never a pass over everything (but the audit trail and the
// resolutions, which people write by hand).
func (a *App) Payment(ctx context.Context, id string) (*Payment, error) {
	l := a.Ledger
	p := &Payment{ID: id}
	var err error
	if p.Stored, err = a.stored(); err != nil {
		return nil, err
	}
	states, err := l.SyncStates()
	if err != nil {
		return nil, err
	}
	projects := slices.Clone(a.Config.DataAPI.Projects)
	for _, s := range states {
		projects = append(projects, s.Project)
	}
	slices.Sort(projects)
	seen := map[uint64]bool{}
	for _, pr := range slices.Compact(projects) {
		recs, err := l.ByPayment(pr, id)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if !seen[r.OperationID] {
				seen[r.OperationID] = true
				p.Operations = append(p.Operations, r)
			}
		}
	}
	var opIDs []uint64
	if p.Items, opIDs, err = l.UnitItems(domain.PaymentUnit(id)); err != nil {
		return nil, err
	}
	for _, oid := range opIDs { // a project no longer listed
		if seen[oid] {
			continue
		}
		r, ok, err := l.Get(oid)
		if err != nil {
			return nil, err
		}
		if ok {
			seen[oid] = true
			p.Operations = append(p.Operations, r)
		}
	}
	recSeen := map[string]bool{}
	addRecords := func(payment, provider string, op uint64) error {
		rs, err := l.RecordsOf(payment, provider, op)
		for _, r := range rs {
			k := r.Source + "\x00" + r.ID() + "\x00" + r.Type + "\x00" + r.Origin
			if !recSeen[k] {
				recSeen[k] = true
				p.Records = append(p.Records, r)
			}
		}
		return err
	}
	if err := addRecords(id, "", 0); err != nil {
		return nil, err
	}
	for _, op := range p.Operations {
		if err := addRecords("", op.ProviderPaymentID, op.OperationID); err != nil {
			return nil, err
		}
	}
	keys := map[domain.ResolutionKey]bool{}
	for i := range p.Items {
		keys[domain.KeyOf(&p.Items[i])] = true
	}
	res, err := l.Resolutions()
	if err != nil {
		return nil, err
	}
	for k, r := range res {
		if k.ID == id || keys[k] {
			p.Resolutions = append(p.Resolutions, r)
		}
	}
	slices.SortFunc(p.Resolutions, func(x, y domain.Resolution) int { return x.At.Compare(y.At) })
	events, err := l.Audit()
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if e.ID == id || keys[domain.ResolutionKey{ProjectID: e.ProjectID, ID: e.ID, Type: e.Type, Part: e.Part}] {
			p.Audit = append(p.Audit, e)
		}
	}
	if p.Chargebacks, err = l.ChargebacksOf(id); err != nil {
		return nil, err
	}
	return p, ctx.Err()
}
