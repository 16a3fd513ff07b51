package reconcile

import (
	"fmt"
	"strings"
	"time"
)

// Limit is how long a payment method takes: after Base it is worth asking
// ECommPay about a payment with no result; after Limit a payment that is
// not final is overdue (the platform itself declines it at that point).
type Limit struct {
	Method string // payment_method, compared case-insensitively; '-' and '_' read as spaces
	Type   string // record type: purchase, payout or refund
	Base   time.Duration
	Limit  time.Duration
}

// The seeds' times. ADVCash (seed 000): base 2–3 minutes for purchases and
// payouts, limit 35 days for purchases, none given for payouts. The Uzbek
// card partner (seed 001): payouts within 20 minutes, limit 24 hours;
// purchases have no times in the seed.
var seedLimits = []Limit{
	{Method: "advcash", Type: "purchase", Base: 3 * time.Minute, Limit: 35 * 24 * time.Hour},
	{Method: "advcash direct", Type: "purchase", Base: 3 * time.Minute, Limit: 35 * 24 * time.Hour},
	{Method: "advcash", Type: "payout", Base: 3 * time.Minute},
	{Method: "advcash direct", Type: "payout", Base: 3 * time.Minute},
	{Method: "card partner", Type: "payout", Base: 20 * time.Minute, Limit: 24 * time.Hour},
}

// DefaultLimit applies to every method and type the table does not name,
// and fills a Base or Limit the table leaves at zero: ask after 30 minutes,
// overdue after 3 days (the lookback of a sync).
var DefaultLimit = Limit{Base: 30 * time.Minute, Limit: 72 * time.Hour}

// Limits finds the limit of a method and type.
type Limits struct {
	table map[string]Limit
	def   Limit
}

// NewLimits builds the table: the seeds' times, then extra (from the
// config), which replace entries of the same method and type.
func NewLimits(def Limit, extra []Limit) Limits {
	l := Limits{table: map[string]Limit{}, def: def}
	for _, e := range append(append([]Limit(nil), seedLimits...), extra...) {
		l.table[limitKey(e.Method, e.Type)] = e
	}
	return l
}

func normMethod(m string) string {
	m = strings.ToLower(strings.TrimSpace(m))
	return strings.NewReplacer("-", " ", "_", " ").Replace(m)
}

func limitKey(method, typ string) string { return normMethod(method) + "/" + typ }

// For returns the limit of a method and type, and a description for
// reasons ("advcash purchase" or "default").
func (l Limits) For(method, typ string) (Limit, string) {
	e, ok := l.table[limitKey(method, typ)]
	if !ok {
		d := l.def
		return d, "default for " + describeMethod(method, typ)
	}
	if e.Base == 0 {
		e.Base = l.def.Base
	}
	if e.Limit == 0 {
		e.Limit = l.def.Limit
	}
	return e, describeMethod(method, typ)
}

func describeMethod(method, typ string) string {
	if method == "" {
		return "a " + typ + " of unknown method"
	}
	return fmt.Sprintf("%s %s", method, typ)
}

// Entries lists the table, for showing the limits in force.
func (l Limits) Entries() []Limit {
	out := make([]Limit, 0, len(l.table))
	for _, e := range l.table {
		out = append(out, e)
	}
	return out
}
