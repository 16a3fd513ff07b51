package app

import (
	"context"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/report"
)

// Status is what `status` shows: the database, each project's sync, the
// words no one gave a meaning, the merchant's books, the last
// reconciliation, the schedules' last runs and the mail outbox.
type Status struct {
	Database string // the file
	Size     int64  // its size in bytes
	Projects []ledger.SyncState
	// Operations and NotFinal are the projects' sums.
	Operations, NotFinal int64
	// Unknown are the stored types and statuses the vocabulary, with the
	// config's meanings, does not know, most operations first.
	Unknown []domain.WordCount
	Records int            // merchant records stored
	Import  *ledger.Import // the last import; nil: none yet
	// LastRun is the last saved reconciliation; nil: none yet.
	// Exceptions counts its items whose result is an exception.
	LastRun    *ledger.Run
	Exceptions int
	// Result is the stored reconciliation (nil: none yet), Behind how far
	// it is behind the data.
	Result *ledger.ResultState
	Behind ledger.Behind
	// ResultOtherSettings says it was computed with verdict settings
	// other than the config's.
	ResultOtherSettings bool
	// ResultAhead says it was computed later than the clock's now (the
	// clock was set back since).
	ResultAhead bool
	// Chargebacks are the stored chargebacks, as the report shows them.
	Chargebacks []report.ChargebackRow
	Schedules   map[string]ledger.JobRun // by the schedule's last-run key
	Mail        []ledger.Mail            // the outbox, given-up and sent ones too

	// Balances are each project's latest balances (/balance/get);
	// BalancesSync is balances.sync.
	Balances     []ledger.BalanceReading
	BalancesSync bool
}

// Status reads the state of the ledger. It changes nothing.
func (a *App) Status(ctx context.Context) (*Status, error) {
	l := a.Ledger
	s := &Status{Database: l.Path(), Size: l.Size()}
	var err error
	if s.Projects, err = l.SyncStates(); err != nil {
		return nil, err
	}
	for _, p := range s.Projects {
		s.Operations += p.Operations
		s.NotFinal += p.NotFinal
	}
	words, err := l.WordCounts()
	if err != nil {
		return nil, err
	}
	s.Unknown = ledger.Unknown(words, a.engine.Vocabulary)
	if s.Records, err = l.RecordCount(); err != nil {
		return nil, err
	}
	imports, err := l.Imports()
	if err != nil {
		return nil, err
	}
	if len(imports) > 0 {
		s.Import = &imports[len(imports)-1]
	}
	run, ok, err := l.LastRun()
	if err != nil {
		return nil, err
	}
	if ok {
		s.LastRun = &run
		for code, c := range run.Counts {
			if domain.IsException(code) {
				s.Exceptions += c
			}
		}
	}
	stored, err := a.stored()
	if err != nil {
		return nil, err
	}
	if !stored.None {
		s.Result, s.Behind, s.ResultOtherSettings, s.ResultAhead = &stored.State, stored.Behind, stored.OtherSettings, stored.Ahead
	}
	if s.Chargebacks, err = a.reportChargebacks(); err != nil {
		return nil, err
	}
	if s.Schedules, err = l.JobRuns(); err != nil {
		return nil, err
	}
	if s.Mail, err = l.Outbox(false); err != nil {
		return nil, err
	}
	if s.Balances, err = l.Balances(); err != nil {
		return nil, err
	}
	s.BalancesSync = a.Config.Balances.Sync
	return s, nil
}
