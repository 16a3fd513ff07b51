package app

import (
	"context"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/reconcile"
)

// engineConfig builds the engine's settings from the config, without the
// time (EngineConfig sets it), and their fingerprint (verdictKey).
func engineConfig(cfg *config.Config) (reconcile.Config, string) {
	r := cfg.Reconcile
	var extra []reconcile.Limit
	for _, l := range r.Limits {
		extra = append(extra, reconcile.Limit{Method: l.Method, Type: l.Type, Base: l.Base.Duration, Limit: l.Limit.Duration})
	}
	base := reconcile.Limit{Base: r.DefaultBase.Duration, Limit: r.DefaultLimit.Duration}
	c := reconcile.Config{
		AmountTolerance: r.AmountTolerance,
		StatusMap:       r.StatusMap,
		Vocabulary:      cfg.Vocabulary(),
		Limits:          reconcile.NewLimits(base, extra),
		Fees:            cfg.Contract(),
		FeeTolerance:    cfg.Fees.Tolerance,
	}
	return c, verdictKey(c, extra, base)
}

// EngineConfig is the engine's settings (tolerance, status map,
// vocabulary, limits), as of now.
func (a *App) EngineConfig() reconcile.Config {
	c := a.engine
	c.Now = a.Now().UTC()
	return c
}

// Reconcile runs the engine on what the ledger holds now, asking the Data
// API nothing: the same data gives the same items. It saves no run.
func (a *App) Reconcile(ctx context.Context) (reconcile.Output, error) {
	in, err := LoadInput(ctx, a.Ledger)
	if err != nil {
		return reconcile.Output{}, err
	}
	return reconcile.Stream(in, a.EngineConfig(), nil) // may be refused (ErrTooLarge), not panic
}

// LoadInput reads everything the engine looks at from the ledger: the
// operations and the records in two read transactions at once, without
// what it never reads (account numbers, customer ids: the ledger's lean
// reads), into the engine's compact tables (reconcile.OpTable), so that
// a million of each take less memory.
func LoadInput(ctx context.Context, l *ledger.Ledger) (reconcile.Input, error) {
	var in reconcile.Input
	total := int64(0)
	if n, err := l.Counts(); err == nil {
		for _, c := range n {
			total += c.Operations
		}
	}
	in.OpTable = reconcile.NewOpTable(int(total))
	opsErr := make(chan error, 1)
	go func() {
		opsErr <- l.ForEachByIDLean(ctx, func(op *domain.Operation) error {
			in.OpTable.Add(op)
			return nil
		})
	}()
	n, err := l.RecordCount()
	if err != nil {
		n = 0
	}
	in.RecordTable = reconcile.NewRecordTable(n)
	err = l.ForEachRecordLean(func(r *ledger.StoredRecord) error {
		rec := &r.Record
		if rec.CreatedAt.IsZero() {
			rec.CreatedAt = r.FirstSeen // a record without a time counts from its import
		}
		in.RecordTable.Add(rec)
		return nil
	})
	if err2 := <-opsErr; err == nil {
		err = err2
	}
	if err != nil {
		return in, err
	}
	if err := l.ForEachChargeback(func(sc *ledger.StoredChargeback) error {
		in.Chargebacks = append(in.Chargebacks, sc.Chargeback)
		return nil
	}); err != nil {
		return in, err
	}
	in.Resolutions, err = l.Resolutions()
	return in, err
}
