package syncer

import (
	"context"
	"log/slog"
	"time"

	"reconciled/internal/ledger"
)

// PaymentRef names a payment to re-check; ProjectID 0 means any of the
// Syncer's projects.
type PaymentRef struct {
	ProjectID int64
	PaymentID string
}

// RecheckOptions bound a re-check.
type RecheckOptions struct {
	Max      int           // payments asked at most (each project asked counts)
	Interval time.Duration // at least this long between two calls
	Every    time.Duration // a payment asked within this long is not asked again
}

// RecheckResult says what a re-check did.
type RecheckResult struct {
	Asked, Found, Skipped, Failed int
	ledger.PageStats
}

// Recheck asks /operations/get-by-payment about each payment and stores
// what it learns, one transaction per payment. A call that fails is
// logged and counted, and the others go on; only cancellation stops it.
func (s *Syncer) Recheck(ctx context.Context, refs []PaymentRef, o RecheckOptions) (RecheckResult, error) {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	var res RecheckResult
	var last time.Time
	for _, ref := range refs {
		projects := []int64{ref.ProjectID}
		if ref.ProjectID == 0 {
			projects = s.Projects
		}
		for _, p := range projects {
			if res.Asked >= o.Max {
				res.Skipped++
				continue
			}
			if at, err := s.Ledger.LastRecheck(p, ref.PaymentID); err != nil {
				return res, err
			} else if !at.IsZero() && s.Now().Sub(at) < o.Every {
				res.Skipped++
				continue
			}
			if wait := o.Interval - time.Since(last); !last.IsZero() && wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return res, ctx.Err()
				case <-t.C:
				}
			}
			last = time.Now()
			res.Asked++
			ops, err := s.Client.OperationsByPayment(ctx, p, ref.PaymentID)
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			if err != nil {
				res.Failed++
				s.Logger.Warn("re-check failed", "project", p, "payment", ref.PaymentID, "err", err)
				continue
			}
			if len(ops) > 0 {
				res.Found++
				st, err := s.Ledger.UpsertPage(ops, s.Now())
				if err != nil {
					return res, err
				}
				res.PageStats.Add(st)
			}
			if err := s.Ledger.NoteRecheck(p, ref.PaymentID, s.Now()); err != nil {
				return res, err
			}
			s.Logger.Debug("re-checked", "project", p, "payment", ref.PaymentID, "operations", len(ops))
		}
	}
	return res, nil
}
