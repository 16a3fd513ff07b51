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
	// Full recomputes every payment, not only those changed since the
	// stored result (reconcile --full).
	Full bool
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
	Refreshed                      // what the engine recomputed and stored (the last pass, after the re-checks)
	Passes    int                  // 1, or 2 when the re-checks stored something
	Recheck   syncer.RecheckResult // what the re-checks asked and learnt
	Summary   ledger.Run           // as saved: counts and amounts per result of the items in the window
}

// RunReconcile is `reconcile`: the stored result brought up to date (the
// payments changed since, or everything: RunRequest.Full), with the
// re-checks req asks for first answered (then the changed payments again),
// and the run's summary saved. The items and the re-openings a pass finds
// (each in the audit trail once) are stored in one transaction; an error
// in a re-check saves no summary.
func (a *App) RunReconcile(ctx context.Context, req RunRequest) (RunResult, error) {
	if err := req.Check(); err != nil {
		return RunResult{}, err
	}
	at := a.Now().UTC()
	// Without a window the summary is the stored result's: saved with it,
	// in one transaction (saved again below when re-checks change it).
	whole := req.From.IsZero() && req.To.IsZero()
	var run *ledger.Run
	if whole {
		run = &ledger.Run{At: at}
	}
	r, err := a.refresh(ctx, req.Full, at, req.User, run)
	if err != nil {
		return RunResult{}, err
	}
	res := RunResult{Refreshed: r, Passes: 1}
	if req.Recheck && a.Config.Reconcile.Recheck {
		refs, err := a.asks(at)
		if err != nil {
			return res, err
		}
		if len(refs) > 0 {
			if res.Recheck, err = a.recheck(ctx, refs); err != nil {
				return res, err
			}
			if res.Recheck.New+res.Recheck.Updated > 0 {
				r, err := a.refresh(ctx, false, at, req.User, nil)
				if err != nil {
					return res, err
				}
				r.Reopened = append(res.Reopened, r.Reopened...)
				res.Refreshed, res.Passes = r, 2
			}
		}
	}
	if whole {
		st := res.State
		res.Summary = ledger.Run{At: at, Items: st.Items, Counts: st.Counts, Amounts: st.Amounts}
		if res.Recheck.Asked == 0 {
			return res, nil // saved with the result
		}
	} else {
		s := newSummariser(at, req.From, req.To)
		if err := a.Ledger.ForEachItemIn(req.From, req.To, func(it *domain.Item) error { s.add(it); return nil }); err != nil {
			return res, err
		}
		res.Summary = s.run
	}
	res.Summary.Rechecked = res.Recheck.Asked
	return res, a.Ledger.SaveRun(res.Summary, nil, nil)
}

// recheck asks the Data API about refs and stores what it learns.
func (a *App) recheck(ctx context.Context, refs []reconcile.PaymentRef) (syncer.RecheckResult, error) {
	var rr syncer.RecheckResult
	client, err := a.client()
	if err != nil {
		return rr, err
	}
	s := &syncer.Syncer{Client: client, Ledger: a.Ledger, Projects: a.Config.DataAPI.Projects, Now: a.Now, Logger: a.Logger}
	sr := make([]syncer.PaymentRef, len(refs))
	for i, r := range refs {
		sr[i] = syncer.PaymentRef{ProjectID: r.ProjectID, PaymentID: r.PaymentID}
	}
	rc := a.Config.Reconcile
	rr, err = s.Recheck(ctx, sr, syncer.RecheckOptions{Max: rc.RecheckMax, Interval: rc.RecheckInterval.Duration, Every: rc.RecheckEvery.Duration})
	if err != nil {
		return rr, fmt.Errorf("re-check: %w", err)
	}
	a.Logger.Info("re-checked payments", "asked", rr.Asked, "found", rr.Found, "failed", rr.Failed,
		"skipped", rr.Skipped, "new", rr.New, "updated", rr.Updated)
	return rr, nil
}

// summariser counts items and sums their amounts per result and
// currency (ECommPay's amount where there is one, else the merchant's),
// of the items created in [from, to).
type summariser struct {
	run      ledger.Run
	from, to time.Time
}

func newSummariser(at, from, to time.Time) *summariser {
	return &summariser{run: ledger.Run{At: at, From: from, To: to, Counts: map[string]int{}, Amounts: map[string]map[string]int64{}}, from: from, to: to}
}

func (s *summariser) add(it *domain.Item) {
	if (!s.from.IsZero() && it.CreatedAt.Before(s.from)) || (!s.to.IsZero() && !it.CreatedAt.Before(s.to)) {
		return
	}
	run := &s.run
	run.Items++
	run.Counts[it.Result]++
	m := it.Amount()
	if run.Amounts[it.Result] == nil {
		run.Amounts[it.Result] = map[string]int64{}
	}
	run.Amounts[it.Result][m.Currency] += m.Amount
}
