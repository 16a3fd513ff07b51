package main

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/reconcile"
	"reconciled/internal/syncer"
)

// engineConfig builds the engine's settings from the config.
func engineConfig(cfg *config.Config, now time.Time) reconcile.Config {
	r := cfg.Reconcile
	var extra []reconcile.Limit
	for _, l := range r.Limits {
		extra = append(extra, reconcile.Limit{Method: l.Method, Type: l.Type, Base: l.Base.Duration, Limit: l.Limit.Duration})
	}
	return reconcile.Config{
		AmountTolerance: r.AmountTolerance,
		StatusMap:       r.StatusMap,
		Vocabulary:      cfg.Vocabulary(),
		Limits:          reconcile.NewLimits(reconcile.Limit{Base: r.DefaultBase.Duration, Limit: r.DefaultLimit.Duration}, extra),
		Now:             now.UTC(),
	}
}

// loadInput reads everything the engine looks at from the ledger: the
// operations and the records in two read transactions at once.
func loadInput(ctx context.Context, l *ledger.Ledger) (reconcile.Input, error) {
	var in reconcile.Input
	if n, err := l.Counts(); err == nil {
		total := int64(0)
		for _, c := range n {
			total += c.Operations
		}
		in.Operations = make([]domain.Operation, 0, total)
	}
	opsErr := make(chan error, 1)
	go func() {
		opsErr <- l.ForEachByID(ctx, func(op *domain.Operation) error {
			in.Operations = append(in.Operations, *op)
			return nil
		})
	}()
	if n, err := l.RecordCount(); err == nil {
		in.Records = make([]domain.Record, 0, n)
	}
	err := l.ForEachRecord(func(r *ledger.StoredRecord) error {
		rec := r.Record
		if rec.CreatedAt.IsZero() {
			rec.CreatedAt = r.FirstSeen // a record without a time counts from its import
		}
		in.Records = append(in.Records, rec)
		return nil
	})
	if err2 := <-opsErr; err == nil {
		err = err2
	}
	if err != nil {
		return in, err
	}
	in.Resolutions, err = l.Resolutions()
	return in, err
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
	in, err := loadInput(ctx, l)
	if err != nil {
		return reconcileRun{}, err
	}
	ecfg := engineConfig(cfg, m.Now())
	run := reconcileRun{out: reconcile.Run(in, ecfg)}
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
	if in, err = loadInput(ctx, l); err != nil {
		return run, err
	}
	run.out = reconcile.Run(in, ecfg)
	return run, nil
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
