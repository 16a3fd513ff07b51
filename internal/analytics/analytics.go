// Package analytics computes what the Dashboard's Analytics tab shows, from
// stored operations: totals by day, payment method, status, currency and
// project; the approval rate by method and day; the most frequent decline
// codes; the volume per currency; and the time operations take to reach a
// final status.
//
// A Builder takes operations one at a time (an export of a million
// operations never holds them all) and Summary finishes the tables. Counts
// are operations; amounts are sums of sum_initial in minor units, per
// currency, of successful operations only (what actually moved).
package analytics

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"time"

	"reconciled/internal/domain"
)

// Totals are the counts and volumes of a group of operations.
type Totals struct {
	Operations int
	Success    int
	Decline    int              // a final failure: decline, internal error, expired, …
	Pending    int              // not final yet
	Volume     map[string]int64 // successful amounts by currency, minor units
}

// ApprovalRate is Success / (Success + Decline), and false when there is
// nothing final to rate. It is a ratio for people to read, not money.
func (t Totals) ApprovalRate() (float64, bool) {
	n := t.Success + t.Decline
	if n == 0 {
		return 0, false
	}
	return float64(t.Success) / float64(n), true
}

func (t *Totals) add(op *domain.Operation) {
	t.Operations++
	switch domain.Builtin.Outcome(op) {
	case domain.OutcomeSuccess:
		t.Success++
		if !domain.Builtin.Type(op.OperationType).Kind.MovesMoney() {
			return // an auth, a cancel: nothing moved
		}
		if t.Volume == nil {
			t.Volume = map[string]int64{}
		}
		t.Volume[op.SumInitial.Currency] += op.SumInitial.Amount
	case domain.OutcomePending:
		t.Pending++
	default:
		t.Decline++
	}
}

// Row is a group's key and totals.
type Row struct {
	Key string
	Totals
}

// Approval is the approval of one method on one day.
type Approval struct {
	Method, Day string
	Totals
}

// Decline is one decline code, with the message most seen with it.
type Decline struct {
	Code, Message string
	Count         int
}

// Volume is the successful volume of one currency, by record type.
type Volume struct {
	Currency                       string
	Purchases, Payouts, Refunds    int64 // minor units
	NPurchases, NPayouts, NRefunds int
}

// TimeToFinal is how long one method's operations took to become final.
type TimeToFinal struct {
	Method      string
	Count       int
	Median, P95 time.Duration
}

// Summary is every table.
type Summary struct {
	From, To    time.Time
	Total       Totals
	ByDay       []Row // key: YYYY-MM-DD in the builder's zone
	ByMethod    []Row
	ByStatus    []Row // operation status
	ByCurrency  []Row
	ByProject   []Row
	Approval    []Approval // by method, then day
	Declines    []Decline  // most frequent first
	Volume      []Volume   // by currency
	TimeToFinal []TimeToFinal
	Settlement  []Settlement // by day, project, currency
}

// Settlement is what moved on one day (of creation, in the builder's
// zone) in one project and currency, in minor units: the gross of the
// successful purchases, refunds (less refunds taken back) and payouts,
// the fees ECommPay charged (the stored fee of each operation, whatever
// its status, and commission operations), chargebacks (AddChargeback),
// and the net owed to the merchant: purchases - refunds - payouts - fees -
// chargebacks. Never summed across currencies.
type Settlement struct {
	Day                 string
	Project             int64
	Currency            string
	Purchases, Refunds  int64
	Payouts, Fees       int64
	Chargebacks         int64 // opened that day and not won (AddChargeback)
	Net                 int64
	Operations, Charged int // the operations that moved money; those a fee was charged on
}

type settlementKey struct {
	day      string
	project  int64
	currency string
}

// Builder accumulates operations.
type Builder struct {
	loc       *time.Location
	total     Totals
	groups    [5]map[string]*Totals
	approval  map[[2]string]*Totals
	declines  map[string]*declineAcc
	volume    map[string]*Volume
	durations map[string]map[int64]int // seconds → how many, by method (exact to merge)
	settle    map[settlementKey]*Settlement
}

type declineAcc struct {
	count    int
	messages map[string]int
}

const (
	gDay = iota
	gMethod
	gStatus
	gCurrency
	gProject
)

// NewBuilder starts a summary whose days are in loc.
func NewBuilder(loc *time.Location) *Builder {
	if loc == nil {
		loc = time.UTC
	}
	b := &Builder{loc: loc, approval: map[[2]string]*Totals{}, declines: map[string]*declineAcc{},
		volume: map[string]*Volume{}, durations: map[string]map[int64]int{}, settle: map[settlementKey]*Settlement{}}
	for i := range b.groups {
		b.groups[i] = map[string]*Totals{}
	}
	return b
}

// Add counts one operation.
func (b *Builder) Add(op *domain.Operation) {
	b.total.add(op)
	day := op.CreatedAt.In(b.loc).Format(time.DateOnly)
	keys := [5]string{day, op.PaymentMethod, op.OperationStatus, op.SumInitial.Currency, strconv.FormatInt(op.ProjectID, 10)}
	for i, k := range keys {
		t := b.groups[i][k]
		if t == nil {
			t = &Totals{}
			b.groups[i][k] = t
		}
		t.add(op)
	}
	ak := [2]string{op.PaymentMethod, day}
	if b.approval[ak] == nil {
		b.approval[ak] = &Totals{}
	}
	b.approval[ak].add(op)
	if domain.Builtin.Outcome(op) == domain.OutcomeFailure && op.Code != "" && op.Code != "0" {
		d := b.declines[op.Code]
		if d == nil {
			d = &declineAcc{messages: map[string]int{}}
			b.declines[op.Code] = d
		}
		d.count++
		d.messages[domain.MaskCardNumbers(op.Message)]++ // stored unmasked by an earlier release, maybe
	}
	if kind := domain.Builtin.Type(op.OperationType).Kind; domain.Builtin.Outcome(op) == domain.OutcomeSuccess && kind.MovesMoney() && kind != domain.KindFee {
		v := b.volume[op.SumInitial.Currency]
		if v == nil {
			v = &Volume{Currency: op.SumInitial.Currency}
			b.volume[op.SumInitial.Currency] = v
		}
		switch kind {
		case domain.KindPurchase:
			v.Purchases += op.SumInitial.Amount
			v.NPurchases++
		case domain.KindPayout:
			v.Payouts += op.SumInitial.Amount
			v.NPayouts++
		case domain.KindRefund:
			v.Refunds += op.SumInitial.Amount
			v.NRefunds++
		case domain.KindRefundReverse:
			// A refund taken back: the money is the merchant's again.
			v.Refunds -= op.SumInitial.Amount
		}
	}
	b.settlement(op, day)
	if op.Final() && !op.CompletedAt.IsZero() && !op.CompletedAt.Before(op.CreatedAt) {
		d := b.durations[op.PaymentMethod]
		if d == nil {
			d = map[int64]int{}
			b.durations[op.PaymentMethod] = d
		}
		d[int64(op.CompletedAt.Sub(op.CreatedAt)/time.Second)]++
	}
}

// AddChargeback counts a chargeback in the settlement of the day it was
// opened: its amount is taken back from the merchant unless it is won (a
// won one counts nothing, whenever it was decided: the settlement says
// what is owed as the chargebacks stand now). The other tables count
// operations only.
func (b *Builder) AddChargeback(cb *domain.Chargeback) {
	if s, _ := cb.State(); s == domain.ChargebackWon {
		return
	}
	k := settlementKey{cb.CreatedAt.In(b.loc).Format(time.DateOnly), cb.ProjectID, cb.Amount.Currency}
	r := b.settle[k]
	if r == nil {
		r = &Settlement{Day: k.day, Project: k.project, Currency: k.currency}
		b.settle[k] = r
	}
	r.Chargebacks = domain.AddAmounts(r.Chargebacks, cb.Amount.Amount)
}

// settlement counts op in its day's settlement: its amount if it moved
// money, its fee in the fee's currency.
func (b *Builder) settlement(op *domain.Operation, day string) {
	row := func(currency string) *Settlement {
		k := settlementKey{day, op.ProjectID, currency}
		r := b.settle[k]
		if r == nil {
			r = &Settlement{Day: day, Project: op.ProjectID, Currency: currency}
			b.settle[k] = r
		}
		return r
	}
	if kind := domain.Builtin.Type(op.OperationType).Kind; domain.Builtin.Outcome(op) == domain.OutcomeSuccess && kind.MovesMoney() {
		r := row(op.SumInitial.Currency)
		r.Operations++
		switch a := op.SumInitial.Amount; kind {
		case domain.KindPurchase:
			r.Purchases = domain.AddAmounts(r.Purchases, a)
		case domain.KindRefund:
			r.Refunds = domain.AddAmounts(r.Refunds, a)
		case domain.KindRefundReverse:
			r.Refunds = domain.SubAmounts(r.Refunds, a) // taken back: the merchant's again
		case domain.KindPayout:
			r.Payouts = domain.AddAmounts(r.Payouts, a)
		case domain.KindFee:
			r.Fees = domain.AddAmounts(r.Fees, a) // a commission charged as an operation of its own
		}
	}
	if op.Fee.Currency != "" {
		r := row(op.Fee.Currency)
		r.Fees = domain.AddAmounts(r.Fees, op.Fee.Amount)
		r.Charged++
	}
}

// Summary finishes the tables, every one in a stable order.
func (b *Builder) Summary(from, to time.Time) *Summary {
	s := &Summary{From: from, To: to, Total: b.total}
	rows := func(m map[string]*Totals, byKey func(a, b string) int) []Row {
		out := make([]Row, 0, len(m))
		for _, k := range slices.SortedFunc(maps.Keys(m), byKey) {
			out = append(out, Row{Key: k, Totals: *m[k]})
		}
		return out
	}
	s.ByDay = rows(b.groups[gDay], cmp.Compare[string])
	s.ByMethod = rows(b.groups[gMethod], cmp.Compare[string])
	s.ByStatus = rows(b.groups[gStatus], cmp.Compare[string])
	s.ByCurrency = rows(b.groups[gCurrency], cmp.Compare[string])
	s.ByProject = rows(b.groups[gProject], func(x, y string) int {
		a, _ := strconv.ParseInt(x, 10, 64)
		c, _ := strconv.ParseInt(y, 10, 64)
		return cmp.Compare(a, c)
	})
	for _, k := range slices.SortedFunc(maps.Keys(b.approval), func(x, y [2]string) int {
		return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1]))
	}) {
		s.Approval = append(s.Approval, Approval{Method: k[0], Day: k[1], Totals: *b.approval[k]})
	}
	for code, d := range b.declines {
		msg, best := "", -1
		for m, n := range d.messages {
			if n > best || n == best && m < msg {
				msg, best = m, n
			}
		}
		s.Declines = append(s.Declines, Decline{Code: code, Message: msg, Count: d.count})
	}
	slices.SortFunc(s.Declines, func(x, y Decline) int { return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Code, y.Code)) })
	for _, cur := range slices.Sorted(maps.Keys(b.volume)) {
		s.Volume = append(s.Volume, *b.volume[cur])
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.settle), func(x, y settlementKey) int {
		return cmp.Or(cmp.Compare(x.day, y.day), cmp.Compare(x.project, y.project), cmp.Compare(x.currency, y.currency))
	}) {
		r := *b.settle[k]
		r.Net = r.Purchases
		for _, out := range []int64{r.Refunds, r.Payouts, r.Fees, r.Chargebacks} {
			r.Net = domain.SubAmounts(r.Net, out) // stops at the limits (AddAmounts): never a net of the wrong sign
		}
		s.Settlement = append(s.Settlement, r)
	}
	for _, method := range slices.Sorted(maps.Keys(b.durations)) {
		d := b.durations[method]
		values := slices.Sorted(maps.Keys(d))
		n := 0
		for _, v := range values {
			n += d[v]
		}
		s.TimeToFinal = append(s.TimeToFinal, TimeToFinal{Method: method, Count: n,
			Median: time.Duration(percentile(values, d, n, 50)) * time.Second, P95: time.Duration(percentile(values, d, n, 95)) * time.Second})
	}
	return s
}

// percentile is the nearest-rank percentile of n values, given as their
// distinct values (sorted) and how many of each.
func percentile(values []int64, count map[int64]int, n, p int) int64 {
	if n == 0 {
		return 0
	}
	rank := (p*n + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	seen := 0
	for _, v := range values {
		if seen += count[v]; seen >= rank {
			return v
		}
	}
	return values[len(values)-1]
}
