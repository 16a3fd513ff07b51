package analytics

import (
	"maps"
	"slices"
	"time"

	"reconciled/internal/domain"
)

// Merge adds what o counted to b, as if b had been given o's operations
// and chargebacks too: every table is a sum of counts (the decline
// messages' counts, the time to final's counts per distinct duration), so
// the merge is exact. Both must count days in the same zone. The
// settlement's amounts are added as AddAmounts adds them, stopping at the
// limits: only sums past ±9.2e18 minor units could differ from one
// builder fed everything.
func (b *Builder) Merge(o *Builder) {
	b.total.merge(&o.total)
	for i := range b.groups {
		mergeTotals(b.groups[i], o.groups[i])
	}
	mergeTotals(b.approval, o.approval)
	for code, od := range o.declines {
		d := b.declines[code]
		if d == nil {
			d = &declineAcc{messages: map[string]int{}}
			b.declines[code] = d
		}
		d.count += od.count
		for m, n := range od.messages {
			d.messages[m] += n
		}
	}
	for cur, ov := range o.volume {
		v := b.volume[cur]
		if v == nil {
			v = &Volume{Currency: cur}
			b.volume[cur] = v
		}
		v.Purchases += ov.Purchases
		v.Payouts += ov.Payouts
		v.Refunds += ov.Refunds
		v.NPurchases += ov.NPurchases
		v.NPayouts += ov.NPayouts
		v.NRefunds += ov.NRefunds
	}
	for k, or := range o.settle {
		r := b.settle[k]
		if r == nil {
			r = &Settlement{Day: k.day, Project: k.project, Currency: k.currency}
			b.settle[k] = r
		}
		r.Purchases = domain.AddAmounts(r.Purchases, or.Purchases)
		r.Refunds = domain.AddAmounts(r.Refunds, or.Refunds)
		r.Payouts = domain.AddAmounts(r.Payouts, or.Payouts)
		r.Fees = domain.AddAmounts(r.Fees, or.Fees)
		r.Chargebacks = domain.AddAmounts(r.Chargebacks, or.Chargebacks)
		r.Operations += or.Operations
		r.Charged += or.Charged
	}
	for method, od := range o.durations {
		d := b.durations[method]
		if d == nil {
			d = make(map[int64]int, len(od))
			b.durations[method] = d
		}
		for v, n := range od {
			d[v] += n
		}
	}
}

func (t *Totals) merge(o *Totals) {
	t.Operations += o.Operations
	t.Success += o.Success
	t.Decline += o.Decline
	t.Pending += o.Pending
	for cur, v := range o.Volume {
		if t.Volume == nil {
			t.Volume = map[string]int64{}
		}
		t.Volume[cur] += v
	}
}

func mergeTotals[K comparable](into, from map[K]*Totals) {
	for k, o := range from {
		t := into[k]
		if t == nil {
			t = &Totals{}
			into[k] = t
		}
		t.merge(o)
	}
}

// entries is how many keys b's tables hold (a measure of its memory).
func (b *Builder) entries() int {
	n := len(b.approval) + len(b.volume) + len(b.settle)
	for _, g := range b.groups {
		n += len(g)
	}
	for _, d := range b.declines {
		n += 1 + len(d.messages)
	}
	for _, d := range b.durations {
		n += 1 + len(d)
	}
	return n
}

// Days are the analytics as one partial Builder per day (of creation, in
// the zone), so that the summary of a window of whole days is the merge
// of its days' partials: exact, the same Summary as one Builder given the
// window's operations (the property test says so). One pass over every
// operation makes them; a window's summary is then a merge of a few
// hundred small tables instead of a pass over the window's operations.
type Days struct {
	loc  *time.Location
	days map[string]*Builder // by YYYY-MM-DD in loc
}

// NewDays starts the partials of days in loc.
func NewDays(loc *time.Location) *Days {
	if loc == nil {
		loc = time.UTC
	}
	return &Days{loc: loc, days: map[string]*Builder{}}
}

func (d *Days) day(t time.Time) *Builder {
	k := t.In(d.loc).Format(time.DateOnly)
	b := d.days[k]
	if b == nil {
		b = NewBuilder(d.loc)
		d.days[k] = b
	}
	return b
}

// Add counts op in its day.
func (d *Days) Add(op *domain.Operation) { d.day(op.CreatedAt).Add(op) }

// AddChargeback counts cb in the day it was opened.
func (d *Days) AddChargeback(cb *domain.Chargeback) { d.day(cb.CreatedAt).AddChargeback(cb) }

// Entries is how many keys the partials hold, all days together (each
// some 100 bytes of maps): what holding them costs.
func (d *Days) Entries() int {
	n := 0
	for _, b := range d.days {
		n += b.entries()
	}
	return n
}

// WholeDays reports whether [from, to) starts and ends at a day's start
// (domain.DayStart) in the zone (a zero from or to is open: every day before, or after).
func (d *Days) WholeDays(from, to time.Time) bool {
	midnight := func(t time.Time) bool {
		if t.IsZero() {
			return true
		}
		y, m, dd := t.In(d.loc).Date()
		return domain.DayStart(y, m, dd, d.loc).Equal(t)
	}
	return midnight(from) && midnight(to)
}

// Summary is the summary of the days of [from, to), which must be whole
// days of the zone (WholeDays; false otherwise): the merge of their
// partials.
func (d *Days) Summary(from, to time.Time) (*Summary, bool) {
	if !d.WholeDays(from, to) {
		return nil, false
	}
	first, end := "", ""
	if !from.IsZero() {
		first = from.In(d.loc).Format(time.DateOnly)
	}
	if !to.IsZero() && to.In(d.loc).Year() <= 9999 { // past it the key has five digits and sorts before every day
		end = to.In(d.loc).Format(time.DateOnly)
	}
	b := NewBuilder(d.loc)
	for _, k := range slices.Sorted(maps.Keys(d.days)) { // keys sort as days do
		if k >= first && (end == "" || k < end) {
			b.Merge(d.days[k])
		}
	}
	return b.Summary(from, to), true
}
