package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// ChargebackRow is one chargeback as the report shows it (the caller
// reads them from the ledger).
type ChargebackRow struct {
	ID         uint64
	Project    int64
	PaymentID  string
	Amount     domain.Money
	Status     string // as ECommPay sent it
	State      domain.ChargebackState
	ReasonCode string
	Opened     time.Time
	Deadline   time.Time // zero: none given
	Decided    time.Time // when it was won or lost; zero while open
}

// ChargebackTotal counts the chargebacks of one state in one currency.
type ChargebackTotal struct {
	State    domain.ChargebackState
	Currency string
	Tally
}

// chargebacks fills the report's chargeback tables from rows: totals by
// state and currency, and the chargebacks that need a look: every open
// one, nearest deadline first (none given last), then those decided on
// the report's day.
func (r *Report) chargebacks(rows []ChargebackRow) {
	totals := map[ChargebackTotal]Tally{}
	for _, c := range rows {
		k := ChargebackTotal{State: c.State, Currency: c.Amount.Currency}
		t := totals[k]
		t.add(c.Amount.Amount)
		totals[k] = t
		decidedToday := c.State != domain.ChargebackOpen && !c.Decided.IsZero() && !c.Decided.Before(r.Date) && c.Decided.Before(r.End)
		if c.State == domain.ChargebackOpen || decidedToday {
			r.ChargebackList = append(r.ChargebackList, c)
		}
	}
	for k, t := range totals {
		k.Tally = t
		r.ChargebackTotals = append(r.ChargebackTotals, k)
	}
	slices.SortFunc(r.ChargebackTotals, func(a, b ChargebackTotal) int {
		return cmp.Or(cmp.Compare(a.State, b.State), cmp.Compare(a.Currency, b.Currency))
	})
	slices.SortFunc(r.ChargebackList, func(a, b ChargebackRow) int {
		if c := cmp.Compare(b2i(a.State != domain.ChargebackOpen), b2i(b.State != domain.ChargebackOpen)); c != 0 {
			return c
		}
		if c := cmp.Compare(b2i(a.Deadline.IsZero()), b2i(b.Deadline.IsZero())); c != 0 {
			return c
		}
		return cmp.Or(a.Deadline.Compare(b.Deadline), a.Opened.Compare(b.Opened), cmp.Compare(a.ID, b.ID))
	})
}

// OpenChargebacks is the number of open chargebacks.
func (r *Report) OpenChargebacks() int {
	n := 0
	for _, t := range r.ChargebackTotals {
		if t.State == domain.ChargebackOpen {
			n += t.Count
		}
	}
	return n
}

// chargebackTables are the report's chargeback tables; none when there
// are no chargebacks.
func (r *Report) chargebackTables(sep string) []table {
	if len(r.ChargebackTotals) == 0 {
		return nil
	}
	totals := table{
		Title: "Chargebacks",
		Cols:  []column{{"state", false}, {"currency", false}, {"chargebacks", true}, {"amount", true}},
	}
	for _, t := range r.ChargebackTotals {
		totals.Rows = append(totals.Rows, row{{Text: t.State.String(), Alert: t.State != domain.ChargebackWon}, {Text: t.Currency},
			numCell(count(t.Count)), numCell(amount(t.Amount, t.Currency, sep))})
	}
	list := table{
		Title: "Chargebacks open, nearest deadline first, and decided on " + r.Day(),
		Cols: []column{{"opened", false}, {"chargeback", true}, {"payment", false}, {"project", true}, {"amount", true},
			{"reason code", false}, {"status", false}, {"answer by / decided", false}},
	}
	rows := r.ChargebackList
	if r.ListLimit > 0 && len(rows) > r.ListLimit {
		rows = rows[:r.ListLimit]
		list.More = fmt.Sprintf("… and %d more: the XLSX form of this report lists them all.", len(r.ChargebackList)-r.ListLimit)
	}
	for _, c := range rows {
		when := r.when(c.Deadline, "no deadline given")
		if c.State != domain.ChargebackOpen {
			when = strings.TrimSpace(c.State.String() + " " + r.when(c.Decided, ""))
		}
		list.Rows = append(list.Rows, row{{Text: r.when(c.Opened, "—")}, numCell(strconv.FormatUint(c.ID, 10)), {Text: domain.Shorten(c.PaymentID)},
			numCell(strconv.FormatInt(c.Project, 10)), numCell(money(c.Amount, sep)), {Text: orNone(domain.Shorten(c.ReasonCode), "—")},
			{Text: domain.Shorten(c.Status), Alert: c.State != domain.ChargebackWon}, {Text: when}})
	}
	return []table{totals, list}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
