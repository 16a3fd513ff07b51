package main

import (
	"context"
	"fmt"
	"os"
	"os/user"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/ledger"
	"reconciled/internal/reconcile"
	"reconciled/internal/syncer"
)

// app is the App of this command: cfg, the ledger l it opened (or the
// daemon's it was lent), the command's clock, logger and (in the daemon)
// outbox.
func (m *Main) app(cfg *config.Config, l *ledger.Ledger) *app.App {
	return app.New(app.App{Config: cfg, Ledger: l, Now: m.Now, Logger: m.log(), Outbox: m.outbox})
}

// reconcileRun is one reconciliation with its re-checks.
type reconcileRun struct {
	out     reconcile.Output
	recheck syncer.RecheckResult
}

// runReconcile reconciles what the ledger holds. With recheck, payments
// the engine is unsure of are asked for at the Data API first, and the
// engine runs again on what was learnt.
func (m *Main) runReconcile(ctx context.Context, cfg *config.Config, l *ledger.Ledger, recheck bool) (reconcileRun, error) {
	a := m.app(cfg, l)
	out, err := a.Reconcile(ctx)
	if err != nil {
		return reconcileRun{}, err
	}
	run := reconcileRun{out: out}
	if !recheck || !cfg.Reconcile.Recheck || len(run.out.Recheck) == 0 {
		return run, nil
	}
	client, err := newClient(cfg, m)
	if err != nil {
		return run, err
	}
	s := &syncer.Syncer{Client: client, Ledger: l, Projects: cfg.DataAPI.Projects, Now: m.Now, Logger: m.log()}
	refs := make([]syncer.PaymentRef, len(run.out.Recheck))
	for i, r := range run.out.Recheck {
		refs[i] = syncer.PaymentRef{ProjectID: r.ProjectID, PaymentID: r.PaymentID}
	}
	rc := cfg.Reconcile
	run.recheck, err = s.Recheck(ctx, refs, syncer.RecheckOptions{Max: rc.RecheckMax, Interval: rc.RecheckInterval.Duration, Every: rc.RecheckEvery.Duration})
	if err != nil {
		return run, fmt.Errorf("re-check: %w", err)
	}
	m.log().Info("re-checked payments", "asked", run.recheck.Asked, "found", run.recheck.Found, "failed", run.recheck.Failed,
		"skipped", run.recheck.Skipped, "new", run.recheck.New, "updated", run.recheck.Updated)
	if run.recheck.New+run.recheck.Updated == 0 {
		return run, nil
	}
	run.out, err = a.Reconcile(ctx)
	return run, err
}

// currentUser names the person running the command, for the audit trail.
func currentUser(getenv func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := getenv("USER"); u != "" {
		return u
	}
	return fmt.Sprintf("uid %d", os.Getuid())
}
