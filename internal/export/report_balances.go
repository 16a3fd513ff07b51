package export

import (
	"reconciled/internal/domain"
	"reconciled/internal/report"
)

// reportBalances is the report's "Balances" sheet: every balance of every
// project as /balance/get last reported it, one row each (a project
// whose reading holds none, one row without a balance), with the time
// read and, when the last read failed, its time and error. Never a total:
// balances of different names or projects are not added.
func (b *book) reportBalances(r *report.Report) error {
	s, err := b.sheet("Balances", []column{{"project id", 12}, {"balance", 20}, {"kind", 10}, {"currency", 10}, {"amount", 20},
		{"read at", 20}, {"last error at", 20}, {"last error", 60}})
	if err != nil {
		return err
	}
	for _, p := range r.Balances {
		var errAt any
		errText := ""
		if p.Failing {
			errAt, errText = b.dateCell(p.LastErrorAt), p.LastError
		}
		if len(p.Balances) == 0 {
			if err := s.write([]any{p.Project, nil, nil, nil, nil, b.dateCell(p.ReadAt), errAt, errText}); err != nil {
				return err
			}
		}
		for _, x := range p.Balances {
			if err := s.write([]any{p.Project, domain.Shorten(x.Name), report.BalanceKind(x), x.Currency, b.money(x.Money),
				b.dateCell(p.ReadAt), errAt, errText}); err != nil {
				return err
			}
		}
	}
	return s.finish()
}
