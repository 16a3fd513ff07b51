package app

import (
	"context"
	"fmt"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/syncer"
)

// SyncRequest says what a sync pulls (Check says which windows make
// sense).
type SyncRequest struct {
	Projects []int64   // none: data_api.projects
	From, To time.Time // zero From: from the watermark minus the lookback; zero To: to now
	// Progress, if set, is told the totals so far after each page, and
	// Done when the pulling ends, before the outcome is logged: a progress
	// bar is gone before the log line is written.
	Progress Progress
}

// Check refuses a window that cannot be pulled at now (a *RequestError):
// one that starts in the future, an end without a start, an end before
// the start.
func (r SyncRequest) Check(now time.Time) error {
	if !r.From.IsZero() && r.From.After(now) {
		return refuse("from", r.From.Format(time.RFC3339), "{from} {%s} is in the future")
	}
	if !r.To.IsZero() && r.From.IsZero() {
		return refuse("to", r.To.Format(time.RFC3339), "{to} needs {from}")
	}
	return CheckWindow(r.From, r.To)
}

// Sync pulls the operations req asks for from the Data API into the
// ledger, page by page (a page is one transaction: a stopped sync keeps
// what it stored), and logs its outcome. The result holds what was done
// even when the error is not nil. A window that makes no sense (Check)
// asks the Data API nothing.
func (a *App) Sync(ctx context.Context, req SyncRequest) (syncer.Result, error) {
	if err := req.Check(a.Now()); err != nil {
		return syncer.Result{}, err
	}
	cfg := a.Config
	client, err := a.client()
	if err != nil {
		return syncer.Result{}, err
	}
	s := &syncer.Syncer{
		Client:   client,
		Ledger:   a.Ledger,
		Projects: cfg.DataAPI.Projects,
		Lookback: cfg.DataAPI.Lookback.Duration,
		Now:      a.Now,
		Logger:   a.Logger,
		// Words the config gives a meaning are not worth a warning.
		Vocabulary:  cfg.Vocabulary(),
		Fees:        cfg.Fees.Sync,
		Chargebacks: cfg.Chargebacks.Sync, ChargebackLookback: cfg.Chargebacks.Lookback.Duration,
		Balances: cfg.Balances.Sync,
	}
	if p := req.Progress; p != nil {
		s.Progress = func(r syncer.Result) {
			p.Set(int64(r.Operations+r.Fees.Records), SyncProgress(r)) // the fee pass moves it on too
		}
	}
	if cfg.DataAPI.Start != "" {
		s.Start, _ = domain.ParseDay(cfg.DataAPI.Start, cfg.Zone())
	}
	projects := req.Projects
	if len(projects) == 0 {
		projects = cfg.DataAPI.Projects
	}
	args := []any{"projects", projects}
	if !req.From.IsZero() {
		args = append(args, "from", req.From, "to", req.To)
	}
	a.Logger.Info("sync started", args...)
	res, err := s.Run(ctx, syncer.Options{Projects: req.Projects, From: req.From, To: req.To})
	if req.Progress != nil {
		req.Progress.Done()
	}
	switch {
	case syncer.Stopped(ctx, err):
		a.Logger.Info("sync stopped", "reason", "stopped by a signal or Ctrl-C; what was stored is kept", "pages", res.Pages, "operations", res.Operations)
		return res, fmt.Errorf("sync: %w", err)
	case err != nil:
		a.Logger.Error("sync failed", "err", err)
		return res, fmt.Errorf("sync: %w", err)
	}
	a.Logger.Info("sync done", "pages", res.Pages, "operations", res.Operations, "new", res.New,
		"updated", res.Updated, "unchanged", res.Unchanged, "bytes", res.Bytes, "elapsed", res.Elapsed)
	return res, nil
}

// client is the Data API's client on the config's credentials (resolved
// here if the front door has not), the config's warnings logged first.
func (a *App) client() (*dataapi.Client, error) {
	cfg, err := a.Config.WithSecrets(config.NeedDataAPI)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings() {
		a.Logger.Warn("config warning", "problem", w.Error())
	}
	return dataapi.New(dataapi.Options{
		BaseURL:  cfg.DataAPI.BaseURL,
		Token:    cfg.DataAPI.Token.Value(),
		Secret:   []byte(cfg.DataAPI.Secret.Value()),
		PageSize: cfg.DataAPI.PageSize,
		Fields:   cfg.DataAPI.Fields,
		Timeout:  cfg.DataAPI.Timeout.Duration,
		Retry:    dataapi.Retry{MaxAttempts: cfg.DataAPI.MaxAttempts},
		Logger:   a.Logger,
	})
}
