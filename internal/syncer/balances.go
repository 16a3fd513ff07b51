package syncer

import (
	"context"
	"errors"

	"reconciled/internal/ledger"
)

// BalanceResult sums up the balance reads of a run (Syncer.Balances).
type BalanceResult struct {
	// Read are the projects whose balances were read and stored.
	Read []int64
	// Failed are those whose read failed: the error is recorded in the
	// project's reading (status shows it), the previous balances stay.
	Failed []int64
}

// readBalances reads each project's balances from /balance/get, one
// project a request (the answer names no project), and stores each
// reading in a transaction of its own, with the time it was read. A read
// that fails is recorded and logged and does not fail the run: the
// operations and fees are what a sync is for, and the balances of the read
// before stay, with their time. Only damage of the ledger is an error, and
// a stop (SIGTERM, Ctrl-C) ends the reads without recording a failure.
func (s *Syncer) readBalances(ctx context.Context, projects []int64, res *Result) error {
	for _, p := range projects {
		bs, err := s.Client.Balances(ctx, []int64{p})
		if Stopped(ctx, err) {
			return nil
		}
		at := s.Now()
		if err == nil {
			if err = s.Ledger.StoreBalances(p, bs, at); err == nil {
				res.Balances.Read = append(res.Balances.Read, p)
				s.Logger.Debug("balances stored", "project", p, "balances", len(bs))
				continue
			}
			if errors.Is(err, ledger.ErrDamaged) {
				return err
			}
		}
		res.Balances.Failed = append(res.Balances.Failed, p)
		s.Logger.Warn("balances not read: the last reading stays", "project", p, "err", err)
		if rerr := s.Ledger.RecordBalanceError(p, at, err); rerr != nil {
			return rerr
		}
	}
	return nil
}
