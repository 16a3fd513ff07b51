package app

import (
	"context"
	"fmt"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/reconcile"
	"reconciled/internal/syncer"
)

// RunRequest says how a saved reconciliation runs.
type RunRequest struct {
	// Recheck asks the Data API first about the payments the engine is
	// unsure of (overdue, missing), when reconcile.recheck is on too.
	Recheck bool
	// From and To bound the creation time of the items the saved summary
	// counts, [From, To); zero is open. All data is still matched.
	From, To time.Time
	User     string // who runs it: the audit trail's re-openings name them
}

// Check refuses a summary window that ends before it starts (a
// *RequestError): it would count nothing and read as "no items".
func (r RunRequest) Check() error { return CheckWindow(r.From, r.To) }

// RunResult is a saved reconciliation.
type RunResult struct {
	Output   reconcile.Output     // every item, from all data
	Recheck  syncer.RecheckResult // what the re-checks asked and learnt
	Summary  ledger.Run           // as saved: counts and amounts per result of the items in the window
	Reopened []domain.Resolution  // resolutions this run found re-opened (the data changed since)
}

// RunReconcile is `reconcile`: the engine on what is stored, with the
// re-checks req asks for (then the engine again on what they learnt), and
// the run saved: its summary, and the resolutions it found re-opened, each
// in the audit trail once, in one transaction. On an error nothing is saved.
func (a *App) RunReconcile(ctx context.Context, req RunRequest) (RunResult, error) {
	if err := req.Check(); err != nil {
		return RunResult{}, err
	}
	out, rc, err := a.reconcileRechecked(ctx, req.Recheck)
	if err != nil {
		return RunResult{}, err
	}
	res := RunResult{Output: out, Recheck: rc}
	at := a.Now().UTC()
	res.Summary = summarise(inWindow(out.Items, req.From, req.To), at, req.From, req.To)
	res.Summary.Rechecked = rc.Asked
	var events []domain.AuditEvent
	for _, r := range out.Reopened {
		if !r.ReopenedAt.IsZero() {
			continue // reported already
		}
		r.ReopenedAt = at
		res.Reopened = append(res.Reopened, r)
		events = append(events, domain.AuditEvent{At: r.ReopenedAt, User: req.User, Action: domain.AuditReopen,
			ProjectID: r.ProjectID, ID: r.ID, Type: r.Type, Part: r.Part, Code: r.Code, Reason: r.Reason, Detail: "the data changed since it was resolved"})
	}
	return res, a.Ledger.SaveRun(res.Summary, res.Reopened, events)
}

// reconcileRechecked runs the engine on what the ledger holds. With
// recheck (and reconcile.recheck on), the payments the engine is unsure
// of are asked for at the Data API first, and the engine runs again if
// that stored anything.
func (a *App) reconcileRechecked(ctx context.Context, recheck bool) (reconcile.Output, syncer.RecheckResult, error) {
	var rr syncer.RecheckResult
	out, err := a.Reconcile(ctx)
	if err != nil || !recheck || !a.Config.Reconcile.Recheck || len(out.Recheck) == 0 {
		return out, rr, err
	}
	client, err := a.client()
	if err != nil {
		return out, rr, err
	}
	s := &syncer.Syncer{Client: client, Ledger: a.Ledger, Projects: a.Config.DataAPI.Projects, Now: a.Now, Logger: a.Logger}
	refs := make([]syncer.PaymentRef, len(out.Recheck))
	for i, r := range out.Recheck {
		refs[i] = syncer.PaymentRef{ProjectID: r.ProjectID, PaymentID: r.PaymentID}
	}
	rc := a.Config.Reconcile
	rr, err = s.Recheck(ctx, refs, syncer.RecheckOptions{Max: rc.RecheckMax, Interval: rc.RecheckInterval.Duration, Every: rc.RecheckEvery.Duration})
	if err != nil {
		return out, rr, fmt.Errorf("re-check: %w", err)
	}
	a.Logger.Info("re-checked payments", "asked", rr.Asked, "found", rr.Found, "failed", rr.Failed,
		"skipped", rr.Skipped, "new", rr.New, "updated", rr.Updated)
	if rr.New+rr.Updated == 0 {
		return out, rr, nil
	}
	out, err = a.Reconcile(ctx)
	return out, rr, err
}

func inWindow(items []domain.Item, from, to time.Time) []domain.Item {
	if from.IsZero() && to.IsZero() {
		return items
	}
	var out []domain.Item
	for _, it := range items {
		if (!from.IsZero() && it.CreatedAt.Before(from)) || (!to.IsZero() && !it.CreatedAt.Before(to)) {
			continue
		}
		out = append(out, it)
	}
	return out
}

// summarise counts items and sums their amounts per result and currency:
// ECommPay's amount where there is one, else the merchant's.
func summarise(items []domain.Item, at, from, to time.Time) ledger.Run {
	run := ledger.Run{At: at, From: from, To: to, Items: len(items), Counts: map[string]int{}, Amounts: map[string]map[string]int64{}}
	for _, it := range items {
		run.Counts[it.Result]++
		var m domain.Money
		switch {
		case it.Provider != nil:
			m = it.Provider.SumInitial
		case it.Merchant != nil:
			m = it.Merchant.Amount
		}
		if run.Amounts[it.Result] == nil {
			run.Amounts[it.Result] = map[string]int64{}
		}
		run.Amounts[it.Result][m.Currency] += m.Amount
	}
	return run
}
