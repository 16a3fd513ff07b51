// Package report builds the daily reconciliation report: what changed
// since the previous report and the open exceptions that need a person
// first (changes.go), what the day's reconciliation looks like by result
// code and currency, every open exception with its reason and age, the
// overdue operations by payment method and the health of the sync per
// project.
//
// Build computes the content from the current reconciliation; HTML, Text
// and Subject render it for a mail (export.ReportXLSX writes the attached
// workbook). Alert (alerts.go) is the other mail drawn the same way: the
// new exceptions one alert check found ([alerts]). Amounts are int64
// minor units per ISO 4217 currency, as
// everywhere in reconciled: they are never summed across currencies and
// never pass through a float.
//
// The package reads no database: the sync state and the unknown words come
// in as plain values (SyncState, domain.WordCount) that the caller reads
// from the ledger, so report (and export, which writes its workbook) links
// no bbolt.
package report

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// Input is what a report is built from.
type Input struct {
	// Date is the report's day: midnight in Location. Another time of day
	// stands for its calendar day in Location; a zero Date is Now's day.
	Date time.Time
	// Location is the zone of the day and of the times shown; nil is UTC.
	Location *time.Location
	// Now is when the report is made: ages are measured to it. A zero Now
	// is time.Now().
	Now time.Time
	// Items is the whole current reconciliation.
	Items []domain.Item
	// Sync is the sync state of every project.
	Sync []SyncState
	// Unknown are the types and statuses of stored operations that
	// reconciled's vocabulary (with the config's meanings) does not know.
	Unknown []domain.WordCount
	// Basis says which stored reconciliation Items are, and what it does
	// not show yet ("from the reconciliation of …"); "" says nothing.
	Basis string
	// Settlement is the net settlement of the report's day, per project
	// and currency (the caller computes it from the stored operations).
	Settlement []SettlementRow
	// Chargebacks are every stored chargeback (chargebacks.go).
	Chargebacks []ChargebackRow
	// Balances are each project's latest balances from /balance/get
	// (balances.go); none: the report has no balances table.
	Balances []BalanceReading
	// Previous is what the previous report saw (changes.go); nil: this is
	// the first report, and every open exception counts as new.
	Previous *Previous
}

// SettlementRow is one project's and currency's net settlement of a day,
// in minor units (analytics.Settlement, which the report does not import).
type SettlementRow struct {
	Project                                        int64
	Currency                                       string
	Purchases, Refunds, Payouts, Fees, Chargebacks int64
	Net                                            int64
}

// SyncState is what the report shows of one project's sync. The report
// reads no database: the caller fills it in (from the ledger's sync state
// and counts, in the daemon and the report command).
type SyncState struct {
	Project int64
	// Watermark: every operation created up to here has been pulled.
	Watermark   time.Time
	LastAttempt time.Time
	LastSuccess time.Time
	LastError   string
	LastErrorAt time.Time
	// Failing: the last attempt failed (the ledger's rule, an error newer
	// than the last success, is the caller's to apply).
	Failing    bool
	Operations int64 // operations stored
	NotFinal   int64 // of them, not in a final status yet
}

// Tally is a number of items and the sum of their amounts, in minor units
// of one currency.
type Tally struct {
	Count  int
	Amount int64
}

func (t *Tally) add(amount int64) {
	t.Count++
	t.Amount = domain.AddAmounts(t.Amount, amount) // shown, never taken apart: stops at the limits
}

// Sum is a Tally in a named currency.
type Sum struct {
	Currency string // ISO 4217 code; "" for an item with no amount
	Tally
}

// CodeRow is one result code in one currency: the items created on the
// report's day, and all the items of the reconciliation.
type CodeRow struct {
	Code     string // result code; "" in Report.Totals (all codes)
	Currency string
	Day      Tally
	ToDate   Tally
}

// Side is one side of an exception: the merchant's record or ECommPay's
// operation.
type Side struct {
	Amount domain.Money
	Status string // the record's status, or the operation's operation_status
}

// Exception is one open exception: an item that needs a person.
type Exception struct {
	Result            string
	PaymentID         string
	Type              string // purchase, payout or refund
	ProjectID         int64
	OperationID       uint64
	ProviderPaymentID string
	Method            string
	CreatedAt         time.Time
	Age               time.Duration // Report.Now - CreatedAt
	Bucket            int           // index in Report.Ageing
	Amount            domain.Money  // the amount the report counts (see Build)
	Merchant          *Side         // nil when the merchant has no record
	Provider          *Side         // nil when ECommPay has no operation
	Reason            string
	Key               domain.ResolutionKey // domain.KeyOf: what the next report knows it by
	New               bool                 // not open with this code at the previous report (changes.go)
}

// Ref names the exception's payment: its payment id, else
// "provider:…", else "operation:…" (as resolve and the audit trail do).
func (e *Exception) Ref() string {
	switch {
	case e.PaymentID != "":
		return e.PaymentID
	case e.ProviderPaymentID != "":
		return "provider:" + e.ProviderPaymentID
	case e.OperationID != 0:
		return "operation:" + strconv.FormatUint(e.OperationID, 10)
	}
	return ""
}

// Bucket is an age range of open exceptions: ages in (From, To]; the first
// bucket also holds ages of zero and below (a clock ahead of Now), the last
// has no upper bound (To is 0).
type Bucket struct {
	Label    string
	From, To time.Duration
	Count    int
	Sums     []Sum // per currency, in currency order
}

// ageing are the buckets' bounds. A day is 24 hours of age, not a
// calendar day. An age of exactly 1, 3 or 7 days falls in the younger
// bucket ("0–1 day" ends with the first day), so "over 7 days" means more
// than 168 hours.
var ageing = []Bucket{
	{Label: "0–1 day", From: 0, To: 24 * time.Hour},
	{Label: "1–3 days", From: 24 * time.Hour, To: 72 * time.Hour},
	{Label: "3–7 days", From: 72 * time.Hour, To: 168 * time.Hour},
	{Label: "over 7 days", From: 168 * time.Hour},
}

// bucketOf returns the index of the ageing bucket of age.
func bucketOf(age time.Duration) int {
	for i, b := range ageing {
		if b.To == 0 || age <= b.To {
			return i
		}
	}
	return len(ageing) - 1
}

// MethodRow is the overdue operations of one payment method.
type MethodRow struct {
	Method string // "" when neither side names one
	Count  int
	Sums   []Sum // per currency, in currency order
}

// Sync health of a project.
const (
	HealthOK      = "ok"           // the last sync succeeded and the report's day is pulled
	HealthBehind  = "behind"       // the last sync succeeded, but the day is over and not pulled to its end
	HealthFailing = "failing"      // the last sync ended with an error
	HealthNever   = "never synced" // no sync has ended yet
)

// SyncRow is one project's sync state and what it means for the report.
type SyncRow struct {
	SyncState
	Health string // HealthOK, HealthBehind, HealthFailing or HealthNever
}

// Report is the content of a daily reconciliation report.
type Report struct {
	Date     time.Time // the report's day: [Date, End) in Location
	End      time.Time // the next midnight (23 or 25 hours later on a DST change)
	Location *time.Location
	Now      time.Time
	Basis    string // Input.Basis

	Items    int // items in the reconciliation
	DayItems int // of them, created on the report's day

	// ByCode counts items by result code (in domain.Results order; codes
	// it does not know come after, by name) and currency; Totals per
	// currency, all codes together.
	ByCode []CodeRow
	Totals []CodeRow

	Open    []Exception // oldest first
	Ageing  []Bucket    // always the four buckets, youngest first
	Overdue []MethodRow // by method name, no method last
	Sync    []SyncRow   // by project id
	// Unknown are ECommPay words no one has given a meaning yet: stored
	// as they came, read as not final. The most frequent MaxUnknown;
	// UnknownMore counts the others (a hostile or broken upstream could
	// send a new word with every operation).
	Unknown     []domain.WordCount
	UnknownMore int

	Settlement []SettlementRow // Input.Settlement

	// ChargebackTotals count the chargebacks by state and currency;
	// ChargebackList holds the open ones, nearest deadline first, then
	// those decided on the report's day.
	ChargebackTotals []ChargebackTotal
	ChargebackList   []ChargebackRow
	// Balances are Input.Balances, by project.
	Balances []BalanceReading

	// ListLimit caps the open exceptions HTML and Text list (0: all of
	// them); they then say how many more the XLSX form holds.
	ListLimit int

	// What changed since the previous report (changes.go): Previous is
	// its day and time (no Open; nil for the first report), Changes the
	// counts per kind and currency, Closed the exceptions it saw that are
	// not open now, the largest first per currency.
	Previous *Previous
	Changes  []ChangeRow
	Closed   []Closed
}

// OverdueCount is the number of open exceptions that are overdue.
func (r *Report) OverdueCount() int {
	n := 0
	for _, m := range r.Overdue {
		n += m.Count
	}
	return n
}

// Build computes the report. It does not change in.Items or in.Sync.
func Build(in Input) *Report {
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	day := in.Date
	if day.IsZero() {
		day = now
	}
	d := day.In(loc)
	start := domain.DayStart(d.Year(), d.Month(), d.Day(), loc)
	end := domain.DayStart(d.Year(), d.Month(), d.Day()+1, loc)
	r := &Report{Date: start, End: end, Location: loc, Now: now, Items: len(in.Items), Basis: in.Basis, Settlement: in.Settlement}
	r.chargebacks(in.Chargebacks)
	r.Balances = sortedBalances(in.Balances)

	type key struct{ code, currency string }
	byCode := map[key]*CodeRow{}
	totals := map[string]*CodeRow{}
	buckets := make([]map[string]*Tally, len(ageing))
	for i := range buckets {
		buckets[i] = map[string]*Tally{}
	}
	overdue := map[string]map[string]*Tally{}
	var seen map[domain.ResolutionKey]Seen // what the previous report saw open
	var results map[domain.ResolutionKey]string
	if in.Previous != nil {
		seen = make(map[domain.ResolutionKey]Seen, len(in.Previous.Open))
		for _, s := range in.Previous.Open {
			seen[s.Key] = s
		}
		results = make(map[domain.ResolutionKey]string, len(seen))
	}

	// Sized first: grown by append, the list of a million items' open
	// exceptions was most of what Build allocates.
	open := 0
	for i := range in.Items {
		if domain.IsException(in.Items[i].Result) {
			open++
		}
	}
	r.Open = make([]Exception, 0, open)
	for i := range in.Items {
		it := &in.Items[i]
		m := it.Amount()
		if len(seen) > 0 {
			if k := domain.KeyOf(it); hasKey(seen, k) {
				results[k] = it.Result
			}
		}
		onDay := !it.CreatedAt.Before(start) && it.CreatedAt.Before(end)
		k := key{it.Result, m.Currency}
		row := byCode[k]
		if row == nil {
			row = &CodeRow{Code: it.Result, Currency: m.Currency}
			byCode[k] = row
		}
		tot := totals[m.Currency]
		if tot == nil {
			tot = &CodeRow{Currency: m.Currency}
			totals[m.Currency] = tot
		}
		row.ToDate.add(m.Amount)
		tot.ToDate.add(m.Amount)
		if onDay {
			r.DayItems++
			row.Day.add(m.Amount)
			tot.Day.add(m.Amount)
		}
		if !domain.IsException(it.Result) {
			continue
		}
		e := exception(it, m, now)
		r.Open = append(r.Open, e)
		tally(buckets[e.Bucket], m).add(m.Amount)
		if it.Result == domain.ResultOverdue {
			if overdue[it.Method] == nil {
				overdue[it.Method] = map[string]*Tally{}
			}
			tally(overdue[it.Method], m).add(m.Amount)
		}
	}

	order := map[string]int{}
	for i, c := range domain.Results {
		order[c] = i + 1
	}
	r.ByCode = derefSorted(byCode, func(a, b *CodeRow) int {
		oa, ob := order[a.Code], order[b.Code]
		if oa == 0 {
			oa = len(order) + 1
		}
		if ob == 0 {
			ob = len(order) + 1
		}
		return cmp.Or(cmp.Compare(oa, ob), strings.Compare(a.Code, b.Code), strings.Compare(a.Currency, b.Currency))
	})
	r.Totals = derefSorted(totals, func(a, b *CodeRow) int { return strings.Compare(a.Currency, b.Currency) })

	slices.SortStableFunc(r.Open, func(a, b Exception) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.PaymentID, b.PaymentID), strings.Compare(a.Type, b.Type),
			cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.OperationID, b.OperationID),
			strings.Compare(a.ProviderPaymentID, b.ProviderPaymentID))
	})

	r.Ageing = make([]Bucket, len(ageing))
	for i, b := range ageing {
		b.Sums = sums(buckets[i])
		for _, s := range b.Sums {
			b.Count += s.Count
		}
		r.Ageing[i] = b
	}

	for _, method := range slices.Sorted(maps.Keys(overdue)) {
		row := MethodRow{Method: method, Sums: sums(overdue[method])}
		for _, s := range row.Sums {
			row.Count += s.Count
		}
		r.Overdue = append(r.Overdue, row)
	}
	if len(r.Overdue) > 0 && r.Overdue[0].Method == "" { // no method last
		r.Overdue = append(r.Overdue[1:], r.Overdue[0])
	}

	for _, s := range in.Sync {
		r.Sync = append(r.Sync, SyncRow{SyncState: s, Health: health(s, end, now)})
	}
	slices.SortStableFunc(r.Sync, func(a, b SyncRow) int { return cmp.Compare(a.Project, b.Project) })
	r.Unknown, r.UnknownMore = TopUnknown(in.Unknown)
	r.changes(in.Previous, seen, results)
	return r
}

// MaxUnknown is how many unknown words a report or status lists.
const MaxUnknown = 20

// TopUnknown sorts words by how many operations have them (most first) and
// keeps MaxUnknown of them; it returns how many it left out.
func TopUnknown(words []domain.WordCount) ([]domain.WordCount, int) {
	top := slices.Clone(words)
	slices.SortStableFunc(top, func(a, b domain.WordCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Field, b.Field), strings.Compare(a.Word, b.Word))
	})
	if len(top) > MaxUnknown {
		return top[:MaxUnknown], len(top) - MaxUnknown
	}
	return top, 0
}

// DescribeUnknown says what one unknown word is, as the report and status
// show it: "2 operations in an unknown status "awaiting foo"".
func DescribeUnknown(w domain.WordCount) string {
	n := strconv.FormatInt(w.Count, 10) + " operations"
	if w.Count == 1 {
		n = "1 operation"
	}
	word := strconv.Quote(domain.Shorten(w.Word))
	switch w.Field {
	case domain.FieldOperationType:
		return n + " of an unknown type " + word
	case domain.FieldPaymentStatus:
		return n + " in an unknown payment status " + word
	}
	return n + " in an unknown status " + word
}

// UnknownKey is the config table that gives a word of field f a meaning.
func UnknownKey(f domain.Field) string {
	switch f {
	case domain.FieldOperationType:
		return "[reconcile.operation_types]"
	case domain.FieldPaymentStatus:
		return "[reconcile.payment_statuses]"
	}
	return "[reconcile.operation_statuses]"
}

func exception(it *domain.Item, m domain.Money, now time.Time) Exception {
	age := now.Sub(it.CreatedAt)
	e := Exception{
		Result: it.Result, PaymentID: it.PaymentID, Type: it.Type, ProjectID: it.ProjectID, OperationID: it.OperationID,
		ProviderPaymentID: it.ProviderPaymentID, Method: it.Method, CreatedAt: it.CreatedAt, Age: age, Bucket: bucketOf(age),
		Amount: m, Reason: it.Reason, Key: domain.KeyOf(it),
	}
	if rec := it.Merchant; rec != nil {
		e.Merchant = &Side{Amount: rec.Amount, Status: rec.Status}
	}
	if op := it.Provider; op != nil {
		e.Provider = &Side{Amount: op.SumInitial, Status: op.OperationStatus}
	}
	return e
}

func hasKey(m map[domain.ResolutionKey]Seen, k domain.ResolutionKey) bool {
	_, ok := m[k]
	return ok
}

func tally(byCur map[string]*Tally, m domain.Money) *Tally {
	t := byCur[m.Currency]
	if t == nil {
		t = &Tally{}
		byCur[m.Currency] = t
	}
	return t
}

func sums(byCur map[string]*Tally) []Sum {
	var out []Sum
	for _, c := range slices.Sorted(maps.Keys(byCur)) {
		out = append(out, Sum{Currency: c, Tally: *byCur[c]})
	}
	return out
}

func derefSorted[K comparable, V any](m map[K]*V, cmp func(a, b *V) int) []V {
	ptrs := slices.Collect(maps.Values(m))
	slices.SortFunc(ptrs, cmp)
	out := make([]V, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}

// health judges a project's sync for a report whose day ends at end. A
// day that is not over yet cannot be pulled to its end: that is no lag.
func health(s SyncState, end, now time.Time) string {
	switch {
	case s.LastSuccess.IsZero() && s.LastErrorAt.IsZero():
		return HealthNever
	case s.Failing:
		return HealthFailing
	case s.Watermark.Before(end) && !now.Before(end):
		return HealthBehind
	}
	return HealthOK
}
