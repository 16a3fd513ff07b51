// Package reconcile is the reconciliation engine: a pure function from the
// stored ECommPay operations, the merchant's records and the manual
// resolutions (and a clock) to one verdict per (payment, type).
//
// Every operation of a payment (sale, refund, reversal, payout, …) is
// grouped under its payment and compared, per (payment, type), with the
// merchant records of that payment and type. A record finds its payment by
// payment_id, else provider_payment_id, else operation_id. Each item gets
// exactly one result code, the first that applies:
//
//  1. duplicate: more than one record, or more than one successful
//     operation;
//  2. missing_in_records: a successful operation and no record (an
//     operation that failed or is still running, with no record, is no
//     item: nothing to reconcile yet);
//  3. pending / missing_at_provider: a record and no operation, within or
//     past the method's limit time;
//  4. currency_mismatch: the record's currency is not the operation's
//     sum_initial currency;
//  5. pending / overdue: either side is not final, within or past the
//     method's limit time;
//  6. status_mismatch: both final, statuses disagree;
//  7. amount_mismatch: amounts differ by more than the tolerance;
//  8. matched.
//
// A resolved exception shows "resolved" while its data stays as it was
// when it was resolved; when the data changes, the resolution re-opens and
// the reason says so. Items come sorted by payment id, type, project and
// operation id, so that the same data always gives the same export.
package reconcile

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// Config tunes the engine.
type Config struct {
	AmountTolerance int64               // minor units
	StatusMap       map[string][]string // merchant status → ECommPay operation statuses; default DefaultStatusMap
	Limits          Limits
	Now             time.Time
}

// DefaultStatusMap says which ECommPay operation statuses agree with each
// merchant status. "refunded" on a purchase also needs the payment's status
// to be refunded (or partly, or reversed).
var DefaultStatusMap = map[string][]string{
	domain.RecordPaid:     {domain.StatusSuccess},
	domain.RecordRefunded: {domain.StatusSuccess},
	domain.RecordFailed:   {domain.StatusDecline, domain.StatusError, domain.StatusCanceled, domain.StatusCancelled},
}

// Resolution and its key live in domain: the ledger stores them.
type (
	Resolution    = domain.Resolution
	ResolutionKey = domain.ResolutionKey
)

// KeyOf is an item's resolution key.
func KeyOf(it *domain.Item) ResolutionKey { return domain.KeyOf(it) }

// Input is everything the engine looks at.
type Input struct {
	Operations  []domain.Operation
	Records     []domain.Record // a zero CreatedAt is filled by the caller (first seen)
	Resolutions map[ResolutionKey]Resolution
}

// Output is the engine's verdict.
type Output struct {
	Items []domain.Item
	// Recheck lists payments worth asking ECommPay about before their
	// verdict stands: overdue, missing at the provider, or pending past
	// the method's base time.
	Recheck []PaymentRef
	// Reopened lists resolutions whose data changed.
	Reopened []Resolution
}

// PaymentRef names a payment for /operations/get-by-payment. A ProjectID
// of 0 means the record did not say: every project may be asked.
type PaymentRef struct {
	ProjectID int64
	PaymentID string
	Method    string
	Type      string
}

type paymentKey struct {
	project int64
	id      string
}

type payment struct {
	key paymentKey
	ops [3][]*domain.Operation // by record type index
	rec [3][]matchedRecord
}

type matchedRecord struct {
	r  *domain.Record
	by string
}

var typeIndex = map[string]int{domain.RecordPurchase: 0, domain.RecordPayout: 1, domain.RecordRefund: 2}

// Run reconciles.
func Run(in Input, cfg Config) Output {
	if cfg.StatusMap == nil {
		cfg.StatusMap = DefaultStatusMap
	}
	if cfg.Limits.table == nil {
		cfg.Limits = NewLimits(DefaultLimit, nil)
	}
	e := &engine{cfg: cfg, res: in.Resolutions}

	payments := make(map[paymentKey]*payment, len(in.Operations))
	byPaymentID := make(map[string][]*payment, len(in.Operations))
	for i := range in.Operations {
		op := &in.Operations[i]
		ti, ok := typeIndex[domain.RecordType(op.OperationType)]
		if !ok {
			continue
		}
		k := paymentKey{op.ProjectID, op.PaymentID}
		p := payments[k]
		if p == nil {
			p = &payment{key: k}
			payments[k] = p
			byPaymentID[k.id] = append(byPaymentID[k.id], p)
		}
		p.ops[ti] = append(p.ops[ti], op)
	}
	var byProvider map[string]*payment
	var byOperation map[uint64]*payment
	lazyIndexes := func() {
		if byProvider != nil {
			return
		}
		byProvider = map[string]*payment{}
		byOperation = map[uint64]*payment{}
		for _, p := range payments {
			for _, ops := range p.ops {
				for _, op := range ops {
					if op.ProviderPaymentID != "" {
						byProvider[op.ProviderPaymentID] = p
					}
					byOperation[op.OperationID] = p
				}
			}
		}
	}

	// Records without a payment, grouped by (project, id, type).
	type orphanKey struct {
		project int64
		id      string
		typ     string
	}
	orphans := map[orphanKey][]*domain.Record{}
	for i := range in.Records {
		r := &in.Records[i]
		ti := typeIndex[r.Type]
		var p *payment
		by := ""
		if r.PaymentID != "" {
			for _, c := range byPaymentID[r.PaymentID] {
				if r.ProjectID == 0 || r.ProjectID == c.key.project {
					// Lowest project first, whatever the map's order.
					if p == nil || c.key.project < p.key.project {
						p = c
					}
				}
			}
			by = domain.ByPaymentID
		}
		if p == nil && r.ProviderPaymentID != "" {
			lazyIndexes()
			p, by = byProvider[r.ProviderPaymentID], domain.ByProviderPaymentID
		}
		if p == nil && r.OperationID != 0 {
			lazyIndexes()
			p, by = byOperation[r.OperationID], domain.ByOperationID
		}
		if p != nil && (r.ProjectID == 0 || r.ProjectID == p.key.project) {
			p.rec[ti] = append(p.rec[ti], matchedRecord{r, by})
			continue
		}
		k := orphanKey{r.ProjectID, r.ID(), r.Type}
		orphans[k] = append(orphans[k], r)
	}

	out := Output{Items: make([]domain.Item, 0, len(payments)+len(orphans))}
	for _, p := range payments {
		for ti, typ := range domain.RecordTypes {
			if len(p.ops[ti]) == 0 && len(p.rec[ti]) == 0 {
				continue
			}
			if it, ok := e.item(p.key, typ, p.ops[ti], p.rec[ti]); ok {
				out.Items = append(out.Items, it)
			}
		}
	}
	for k, recs := range orphans {
		mr := make([]matchedRecord, len(recs))
		for i, r := range recs {
			mr[i] = matchedRecord{r: r}
		}
		if it, ok := e.item(paymentKey{k.project, k.id}, k.typ, nil, mr); ok {
			out.Items = append(out.Items, it)
		}
	}
	slices.SortFunc(out.Items, compareItems)
	out.Recheck, out.Reopened = e.recheck, e.reopened
	slices.SortFunc(out.Recheck, func(a, b PaymentRef) int {
		return cmp.Or(cmp.Compare(a.PaymentID, b.PaymentID), cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Type, b.Type))
	})
	slices.SortFunc(out.Reopened, func(a, b Resolution) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Type, b.Type))
	})
	return out
}

func compareItems(a, b domain.Item) int {
	if c := cmp.Compare(a.PaymentID, b.PaymentID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ProjectID, b.ProjectID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.OperationID, b.OperationID); c != 0 {
		return c
	}
	return cmp.Compare(origin(a), origin(b))
}

func origin(it domain.Item) string {
	if it.Merchant != nil {
		return it.Merchant.Origin
	}
	return ""
}

type engine struct {
	cfg      Config
	res      map[ResolutionKey]Resolution
	recheck  []PaymentRef
	reopened []Resolution
}

// item judges one (payment, type). ok is false when there is nothing to
// reconcile (an operation that did not succeed, with no record).
func (e *engine) item(k paymentKey, typ string, ops []*domain.Operation, recs []matchedRecord) (domain.Item, bool) {
	slices.SortFunc(ops, func(a, b *domain.Operation) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.OperationID, b.OperationID))
	})
	slices.SortFunc(recs, func(a, b matchedRecord) int {
		return cmp.Or(cmp.Compare(a.r.Source, b.r.Source), cmp.Compare(a.r.Origin, b.r.Origin))
	})
	it := domain.Item{Type: typ, ProjectID: k.project}
	var succeeded []*domain.Operation
	for _, op := range ops {
		it.Operations = append(it.Operations, op)
		if op.OperationStatus == domain.StatusSuccess {
			succeeded = append(succeeded, op)
		}
	}
	for _, m := range recs {
		it.Records = append(it.Records, m.r)
	}
	// The operation compared: the successful one, else the latest.
	var op *domain.Operation
	switch {
	case len(succeeded) > 0:
		op = succeeded[0]
	case len(ops) > 0:
		op = ops[len(ops)-1]
	}
	var rec *domain.Record
	if len(recs) > 0 {
		rec = recs[0].r
		it.MatchedBy = bestMatch(recs)
	}
	if op == nil && rec == nil {
		return it, false
	}
	it.Provider, it.Merchant = op, rec
	fill(&it, op, rec)

	switch {
	case len(recs) > 1:
		it.Result = domain.ResultDuplicate
		origins := make([]string, len(recs))
		for i, m := range recs {
			origins[i] = m.r.Origin
		}
		it.Reason = fmt.Sprintf("%d merchant records for one payment and type: %s", len(recs), strings.Join(origins, ", "))
	case len(succeeded) > 1:
		it.Result = domain.ResultDuplicate
		ids := make([]string, len(succeeded))
		for i, s := range succeeded {
			ids[i] = fmt.Sprint(s.OperationID)
		}
		it.Reason = fmt.Sprintf("%d successful ECommPay %s operations for one payment: %s", len(succeeded), op.OperationType, strings.Join(ids, ", "))
	case rec == nil:
		if len(succeeded) == 0 {
			return it, false
		}
		it.Result = domain.ResultMissingInRecords
		it.Reason = fmt.Sprintf("ECommPay %s %d of %s succeeded at %s; no merchant record", op.OperationType, op.OperationID, op.SumInitial, stamp(op.CompletedAt))
	case op == nil:
		e.judgeTime(&it, rec.Method, typ, rec.CreatedAt, k, true, domain.ResultMissingAtProvider,
			fmt.Sprintf("no ECommPay operation for the merchant's %s record of %s", rec.Status, rec.Amount))
	case rec.Amount.Currency != op.SumInitial.Currency:
		it.Result = domain.ResultCurrencyMismatch
		it.Reason = fmt.Sprintf("currency: merchant %s, ECommPay %s (operation %d)", rec.Amount, op.SumInitial, op.OperationID)
	case !op.Final():
		e.judgeTime(&it, op.PaymentMethod, typ, op.CreatedAt, k, true, domain.ResultOverdue,
			fmt.Sprintf("ECommPay operation %d is %s", op.OperationID, op.OperationStatus)+e.alsoDiffers(op, rec))
	case !rec.Final():
		e.judgeTime(&it, op.PaymentMethod, typ, earliest(rec.CreatedAt, op.CreatedAt), k, false, domain.ResultOverdue,
			fmt.Sprintf("the merchant's record is pending; ECommPay operation %d is %s", op.OperationID, op.OperationStatus)+e.alsoDiffers(op, rec))
	case !e.statusAgrees(rec, op, typ):
		it.Result = domain.ResultStatusMismatch
		it.Reason = fmt.Sprintf("status: merchant %s, ECommPay %s", rec.Status, describeStatus(op)) + e.alsoDiffers(op, rec)
	case abs(rec.Amount.Amount-op.SumInitial.Amount) > e.cfg.AmountTolerance:
		it.Result = domain.ResultAmountMismatch
		it.Reason = amountReason(rec, op, e.cfg.AmountTolerance)
	default:
		it.Result = domain.ResultMatched
		it.Reason = fmt.Sprintf("%s %s on both sides (operation %d)", rec.Status, op.SumInitial, op.OperationID)
	}
	it.Code = it.Result
	e.applyResolution(&it)
	return it, true
}

// judgeTime makes an item pending within the method's limit time and
// late (overdue or missing_at_provider) past it. Past the base time, when
// ECommPay's side is what is missing or unfinished (askProvider), it asks
// for a re-check.
func (e *engine) judgeTime(it *domain.Item, method, typ string, since time.Time, k paymentKey, askProvider bool, late, what string) {
	lim, desc := e.cfg.Limits.For(method, typ)
	age := e.cfg.Now.Sub(since)
	if since.IsZero() {
		age = 0
	}
	if askProvider && age > lim.Base && it.PaymentID != "" {
		e.recheck = append(e.recheck, PaymentRef{ProjectID: k.project, PaymentID: it.PaymentID, Method: method, Type: typ})
	}
	if age <= lim.Limit {
		it.Result = domain.ResultPending
		it.Reason = fmt.Sprintf("%s, %s after %s; the limit for %s is %s", what, round(age), stamp(since), desc, round(lim.Limit))
		return
	}
	it.Result = late
	it.Reason = fmt.Sprintf("%s, %s after %s, past the %s limit for %s", what, round(age), stamp(since), round(lim.Limit), desc)
}

// statusAgrees compares a final record with a final operation.
func (e *engine) statusAgrees(rec *domain.Record, op *domain.Operation, typ string) bool {
	if !slices.Contains(e.cfg.StatusMap[rec.Status], op.OperationStatus) {
		return false
	}
	if rec.Status == domain.RecordRefunded && typ == domain.RecordPurchase {
		switch op.PaymentStatus {
		case domain.StatusRefunded, domain.StatusPartiallyRefunded, domain.StatusReversed, domain.StatusPartiallyReversed:
			return true
		}
		return false
	}
	return true
}

// alsoDiffers notes an amount difference on an item whose code is about
// something else.
func (e *engine) alsoDiffers(op *domain.Operation, rec *domain.Record) string {
	if d := abs(rec.Amount.Amount - op.SumInitial.Amount); d > e.cfg.AmountTolerance && rec.Amount.Currency == op.SumInitial.Currency {
		return "; amounts differ too: " + amountReason(rec, op, e.cfg.AmountTolerance)
	}
	return ""
}

func amountReason(rec *domain.Record, op *domain.Operation, tol int64) string {
	d := domain.Money{Amount: rec.Amount.Amount - op.SumInitial.Amount, Currency: rec.Amount.Currency}
	return fmt.Sprintf("amount: merchant %s, ECommPay %s (operation %d), difference %s, tolerance %s",
		rec.Amount, op.SumInitial, op.OperationID, d, domain.Money{Amount: tol, Currency: rec.Amount.Currency})
}

func describeStatus(op *domain.Operation) string {
	s := op.OperationStatus
	if op.Code != "" && op.Code != "0" {
		s += fmt.Sprintf(" (code %s %s)", op.Code, op.Message)
	}
	if op.PaymentStatus != "" && op.PaymentStatus != op.OperationStatus {
		s += ", payment " + op.PaymentStatus
	}
	return s
}

// applyResolution turns an exception into "resolved" while its data is as
// it was when resolved, and re-opens the resolution when it is not.
func (e *engine) applyResolution(it *domain.Item) {
	r, ok := e.res[KeyOf(it)]
	if !ok {
		return
	}
	if Fingerprint(it) == r.Fingerprint {
		it.Result = domain.ResultResolved
		it.Reason = fmt.Sprintf("resolved by %s at %s as %s%s; was %s: %s", r.User, stamp(r.At), r.Reason, note(r.Note), r.Code, it.Reason)
		return
	}
	it.Reason = fmt.Sprintf("re-opened: the data changed since %s resolved it at %s as %s (was %s: %s); now: %s",
		r.User, stamp(r.At), r.Reason, r.Code, r.Summary, it.Reason)
	e.reopened = append(e.reopened, r)
}

func note(n string) string {
	if n == "" {
		return ""
	}
	return " (" + n + ")"
}

// Fingerprint sums up what an item's verdict rests on: its code and both
// sides' ids, amounts, currencies and statuses. A resolution holds while
// the fingerprint stays the same.
func Fingerprint(it *domain.Item) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%d|%s\n", it.Code, it.Type, it.ProjectID, it.PaymentID)
	for _, op := range it.Operations {
		fmt.Fprintf(h, "op|%d|%s|%s|%s|%d|%s\n", op.OperationID, op.OperationType, op.OperationStatus, op.PaymentStatus, op.SumInitial.Amount, op.SumInitial.Currency)
	}
	for _, r := range it.Records {
		fmt.Fprintf(h, "rec|%s|%s|%d|%s|%s\n", r.Source, r.ID(), r.Amount.Amount, r.Amount.Currency, r.Status)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// fill copies the ids of an item from whichever side has them.
func fill(it *domain.Item, op *domain.Operation, rec *domain.Record) {
	if op != nil {
		it.PaymentID, it.OperationID, it.ProviderPaymentID = op.PaymentID, op.OperationID, op.ProviderPaymentID
		it.ProjectID, it.Method, it.CreatedAt = op.ProjectID, op.PaymentMethod, op.CreatedAt
	}
	if rec == nil {
		return
	}
	if it.PaymentID == "" {
		it.PaymentID = rec.PaymentID
	}
	if it.OperationID == 0 {
		it.OperationID = rec.OperationID
	}
	if it.ProviderPaymentID == "" {
		it.ProviderPaymentID = rec.ProviderPaymentID
	}
	if it.ProjectID == 0 {
		it.ProjectID = rec.ProjectID
	}
	if it.Method == "" {
		it.Method = rec.Method
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = rec.CreatedAt
	}
}

func bestMatch(recs []matchedRecord) string {
	best := ""
	rank := map[string]int{domain.ByPaymentID: 3, domain.ByProviderPaymentID: 2, domain.ByOperationID: 1}
	for _, m := range recs {
		if rank[m.by] > rank[best] {
			best = m.by
		}
	}
	return best
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// round shows a duration the way a person reads it: "36d", "5h", "20m".
func round(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= time.Hour:
		if m := int(d.Minutes()) % 60; m != 0 && d < 10*time.Hour {
			return fmt.Sprintf("%dh%dm", int(d.Hours()), m)
		}
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	default:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
}
