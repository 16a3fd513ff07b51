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
// the reason says so. Items come in an order that depends on the data
// only (payments by their first operation id, then records without an
// operation by payment id), so that the same data always gives the same
// export.
package reconcile

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
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

// The engine groups by (payment id, project) with index lists rather than
// maps of slices: at a million operations and a million records that is
// the difference between seconds and tens of seconds, and a gigabyte.

// group is one payment: its operations and records by type, as singly
// linked lists through opNext and recNext (-1 ends a list).
type group struct {
	id         string
	project    int64
	firstOp    uint64 // the lowest operation id: groups come out in this order
	nextSameID int32  // the group of the same payment id in another project
	opHead     [3]int32
	recHead    [3]int32
}

// typeIndex: purchase 0, payout 1, refund 2 (domain.RecordTypes' order).
func typeIndex(t string) int {
	switch t {
	case domain.RecordPurchase:
		return 0
	case domain.RecordPayout:
		return 1
	case domain.RecordRefund:
		return 2
	}
	return -1
}

// byTypeName visits the types in name order: payout, purchase, refund.
var byTypeName = [3]int{1, 0, 2}

const (
	byNone uint8 = iota
	byPayment
	byProvider
	byOperation
)

var byName = [...]string{byNone: "", byPayment: domain.ByPaymentID, byProvider: domain.ByProviderPaymentID, byOperation: domain.ByOperationID}

// Run reconciles.
func Run(in Input, cfg Config) Output {
	if cfg.StatusMap == nil {
		cfg.StatusMap = DefaultStatusMap
	}
	if cfg.Limits.table == nil {
		cfg.Limits = NewLimits(DefaultLimit, nil)
	}
	e := &engine{cfg: cfg, res: in.Resolutions, in: &in}
	ops, recs := in.Operations, in.Records

	groups := make([]group, 0, len(ops))
	firstOfID := make(map[string]int32, len(ops))
	e.opNext = make([]int32, len(ops))
	for i := range ops {
		op := &ops[i]
		ti := typeIndex(domain.RecordType(op.OperationType))
		if ti < 0 {
			continue
		}
		g := e.groupOf(&groups, firstOfID, op.PaymentID, op.ProjectID)
		if f := &groups[g].firstOp; *f == 0 || op.OperationID < *f {
			*f = op.OperationID
		}
		e.opNext[i] = groups[g].opHead[ti]
		groups[g].opHead[ti] = int32(i)
	}
	var byProviderID map[string]int32
	var byOperationID map[uint64]int32
	lazyIndexes := func() {
		if byProviderID != nil {
			return
		}
		byProviderID = map[string]int32{}
		byOperationID = map[uint64]int32{}
		for i := range ops {
			if typeIndex(domain.RecordType(ops[i].OperationType)) < 0 {
				continue
			}
			if ops[i].ProviderPaymentID != "" {
				byProviderID[ops[i].ProviderPaymentID] = int32(i)
			}
			byOperationID[ops[i].OperationID] = int32(i)
		}
	}
	// findGroup returns the group of a payment id: in project, or the
	// lowest project when project is 0.
	findGroup := func(id string, project int64) int32 {
		best := int32(-1)
		for g, ok := firstOfID[id]; ok && g >= 0; g = groups[g].nextSameID {
			if project != 0 && groups[g].project == project {
				return g
			}
			if project == 0 && (best < 0 || groups[g].project < groups[best].project) {
				best = g
			}
		}
		return best
	}

	e.recNext = make([]int32, len(recs))
	e.recBy = make([]uint8, len(recs))
	type orphanKey struct {
		project int64
		id      string
		typ     string
	}
	orphans := map[orphanKey][]int32{}
	for i := range recs {
		r := &recs[i]
		ti := typeIndex(r.Type)
		g, by := int32(-1), byNone
		if r.PaymentID != "" {
			g, by = findGroup(r.PaymentID, r.ProjectID), byPayment
		}
		if g < 0 && (r.ProviderPaymentID != "" || r.OperationID != 0) {
			lazyIndexes()
			if oi, ok := byProviderID[r.ProviderPaymentID]; ok && r.ProviderPaymentID != "" {
				g, by = findGroup(ops[oi].PaymentID, ops[oi].ProjectID), byProvider
			} else if oi, ok := byOperationID[r.OperationID]; ok && r.OperationID != 0 {
				g, by = findGroup(ops[oi].PaymentID, ops[oi].ProjectID), byOperation
			}
			if g >= 0 && r.ProjectID != 0 && groups[g].project != r.ProjectID {
				g = -1
			}
		}
		if g < 0 || ti < 0 {
			k := orphanKey{r.ProjectID, r.ID(), r.Type}
			orphans[k] = append(orphans[k], int32(i))
			continue
		}
		e.recBy[i] = by
		e.recNext[i] = groups[g].recHead[ti]
		groups[g].recHead[ti] = int32(i)
	}

	// Items in a stable order that does not depend on the order of the
	// input: payments by their first operation id (about the order they
	// happened in), types by name, then the records that found no
	// operation, by payment id, project and type. Sorting by operation id
	// (an integer) rather than by payment id (a string) took a second off
	// a million payments.
	order := make([]int32, len(groups))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(groups[a].firstOp, groups[b].firstOp) })
	okeys := make([]orphanKey, 0, len(orphans))
	for k := range orphans {
		okeys = append(okeys, k)
	}
	slices.SortFunc(okeys, func(a, b orphanKey) int {
		return cmp.Or(strings.Compare(orphanPaymentID(recs, orphans[a]), orphanPaymentID(recs, orphans[b])),
			cmp.Compare(a.project, b.project), strings.Compare(a.typ, b.typ), strings.Compare(a.id, b.id))
	})
	out := Output{Items: make([]domain.Item, 0, len(ops)+len(okeys))}
	var opBuf, recBuf []int32
	for _, gi := range order {
		g := &groups[gi]
		for _, ti := range byTypeName {
			opBuf, recBuf = opBuf[:0], recBuf[:0]
			for i := g.opHead[ti]; i >= 0; i = e.opNext[i] {
				opBuf = append(opBuf, i)
			}
			for i := g.recHead[ti]; i >= 0; i = e.recNext[i] {
				recBuf = append(recBuf, i)
			}
			if len(opBuf) == 0 && len(recBuf) == 0 {
				continue
			}
			if it, ok := e.item(g.project, domain.RecordTypes[ti], opBuf, recBuf); ok {
				out.Items = append(out.Items, it)
			}
		}
	}
	for _, k := range okeys {
		if it, ok := e.item(k.project, k.typ, nil, orphans[k]); ok {
			out.Items = append(out.Items, it)
		}
	}
	out.Recheck, out.Reopened = e.recheck, e.reopened
	slices.SortFunc(out.Recheck, func(a, b PaymentRef) int {
		return cmp.Or(cmp.Compare(a.PaymentID, b.PaymentID), cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Type, b.Type))
	})
	slices.SortFunc(out.Reopened, func(a, b Resolution) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Type, b.Type))
	})
	return out
}

// groupOf finds or adds the group of (id, project).
func (e *engine) groupOf(groups *[]group, firstOfID map[string]int32, id string, project int64) int32 {
	first, ok := firstOfID[id]
	if ok {
		for g := first; g >= 0; g = (*groups)[g].nextSameID {
			if (*groups)[g].project == project {
				return g
			}
		}
	} else {
		first = -1
	}
	*groups = append(*groups, group{id: id, project: project, nextSameID: first,
		opHead: [3]int32{-1, -1, -1}, recHead: [3]int32{-1, -1, -1}})
	g := int32(len(*groups) - 1)
	firstOfID[id] = g
	return g
}

// orphanPaymentID is the payment id an orphan item shows: its records'.
func orphanPaymentID(recs []domain.Record, idx []int32) string { return recs[idx[0]].PaymentID }

type engine struct {
	cfg      Config
	res      map[ResolutionKey]Resolution
	in       *Input
	opNext   []int32
	recNext  []int32
	recBy    []uint8
	recheck  []PaymentRef
	reopened []Resolution
}

// item judges one (payment, type) from its operations and records
// (indexes into the input).
func (e *engine) item(project int64, typ string, opIdx, recIdx []int32) (domain.Item, bool) {
	allOps, allRecs := e.in.Operations, e.in.Records
	ops := make([]*domain.Operation, 0, len(opIdx))
	for _, i := range opIdx {
		ops = append(ops, &allOps[i])
	}
	recs := make([]*domain.Record, 0, len(recIdx))
	matchedBy := byNone
	for _, i := range recIdx {
		recs = append(recs, &allRecs[i])
		matchedBy = max(matchedBy, byBest(e.recBy[i]))
	}
	slices.SortFunc(ops, func(a, b *domain.Operation) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.OperationID, b.OperationID))
	})
	slices.SortFunc(recs, func(a, b *domain.Record) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Origin, b.Origin))
	})
	it := domain.Item{Type: typ, ProjectID: project}
	var succeeded []*domain.Operation
	for _, op := range ops {
		if op.OperationStatus == domain.StatusSuccess {
			succeeded = append(succeeded, op)
		}
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
		rec = recs[0]
		it.MatchedBy = byName[unrank(matchedBy)]
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
		for i, r := range recs {
			origins[i] = r.Origin
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
		// The commonest exception of a book not imported yet: appended, not
		// fmt'd (a million of them made three million garbage objects).
		b := make([]byte, 0, 96)
		b = append(b, "ECommPay "...)
		b = append(b, op.OperationType...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, op.OperationID, 10)
		b = append(b, " of "...)
		b = op.SumInitial.Append(b)
		b = append(b, " succeeded at "...)
		b = appendStamp(b, op.CompletedAt)
		b = append(b, "; no merchant record"...)
		it.Reason = string(b)
	case op == nil:
		e.judgeTime(&it, rec.Method, typ, rec.CreatedAt, true, domain.ResultMissingAtProvider,
			fmt.Sprintf("no ECommPay operation for the merchant's %s record of %s", rec.Status, rec.Amount))
	case rec.Amount.Currency != op.SumInitial.Currency:
		it.Result = domain.ResultCurrencyMismatch
		it.Reason = fmt.Sprintf("currency: merchant %s, ECommPay %s (operation %d)", rec.Amount, op.SumInitial, op.OperationID)
	case !op.Final():
		e.judgeTime(&it, op.PaymentMethod, typ, op.CreatedAt, true, domain.ResultOverdue,
			fmt.Sprintf("ECommPay operation %d is %s", op.OperationID, op.OperationStatus)+e.alsoDiffers(op, rec))
	case !rec.Final():
		e.judgeTime(&it, op.PaymentMethod, typ, earliest(rec.CreatedAt, op.CreatedAt), false, domain.ResultOverdue,
			fmt.Sprintf("the merchant's record is pending; ECommPay operation %d is %s", op.OperationID, op.OperationStatus)+e.alsoDiffers(op, rec))
	case !e.statusAgrees(rec, op, typ):
		it.Result = domain.ResultStatusMismatch
		it.Reason = fmt.Sprintf("status: merchant %s, ECommPay %s", rec.Status, describeStatus(op)) + e.alsoDiffers(op, rec)
	case abs(rec.Amount.Amount-op.SumInitial.Amount) > e.cfg.AmountTolerance:
		it.Result = domain.ResultAmountMismatch
		it.Reason = amountReason(rec, op, e.cfg.AmountTolerance)
	default:
		it.Result = domain.ResultMatched
		it.Reason = "amount, currency and status agree"
	}
	it.Code = it.Result
	if domain.IsException(it.Result) {
		it.Fingerprint = fingerprint(&it, ops, recs)
		e.applyResolution(&it)
	}
	return it, true
}

// judgeTime makes an item pending within the method's limit time and
// late (overdue or missing_at_provider) past it. Past the base time, when
// ECommPay's side is what is missing or unfinished (askProvider), it asks
// for a re-check.
func (e *engine) judgeTime(it *domain.Item, method, typ string, since time.Time, askProvider bool, late, what string) {
	lim, desc := e.cfg.Limits.For(method, typ)
	age := e.cfg.Now.Sub(since)
	if since.IsZero() {
		age = 0
	}
	if askProvider && age > lim.Base && it.PaymentID != "" {
		e.recheck = append(e.recheck, PaymentRef{ProjectID: it.ProjectID, PaymentID: it.PaymentID, Method: method, Type: typ})
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
	if it.Fingerprint == r.Fingerprint {
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

// fingerprint sums up what an exception's verdict rests on: its code and
// both sides' ids, amounts, currencies and statuses. A resolution holds
// while the fingerprint stays the same.
func fingerprint(it *domain.Item, ops []*domain.Operation, recs []*domain.Record) string {
	// The bytes hashed are those of fmt's "%s|%s|%d|%s\n" lines (stored
	// resolutions hold fingerprints: they must not change), appended by
	// hand: a million exceptions made ten million garbage objects with
	// fmt, and the daemon keeps the runtime's span metadata of its peak.
	var arr [512]byte
	b := arr[:0]
	b = append(b, it.Code...)
	b = append(b, '|')
	b = append(b, it.Type...)
	b = append(b, '|')
	b = strconv.AppendInt(b, it.ProjectID, 10)
	b = append(b, '|')
	b = append(b, it.PaymentID...)
	b = append(b, '\n')
	for _, op := range ops {
		b = append(b, "op|"...)
		b = strconv.AppendUint(b, op.OperationID, 10)
		for _, f := range [...]string{op.OperationType, op.OperationStatus, op.PaymentStatus} {
			b = append(b, '|')
			b = append(b, f...)
		}
		b = append(b, '|')
		b = strconv.AppendInt(b, op.SumInitial.Amount, 10)
		b = append(b, '|')
		b = append(b, op.SumInitial.Currency...)
		b = append(b, '\n')
	}
	for _, r := range recs {
		b = append(b, "rec|"...)
		b = append(b, r.Source...)
		b = append(b, '|')
		b = append(b, r.ID()...)
		b = append(b, '|')
		b = strconv.AppendInt(b, r.Amount.Amount, 10)
		b = append(b, '|')
		b = append(b, r.Amount.Currency...)
		b = append(b, '|')
		b = append(b, r.Status...)
		b = append(b, '\n')
	}
	sum := sha256.Sum256(b)
	var out [24]byte
	hex.Encode(out[:], sum[:12])
	return string(out[:])
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

// byBest ranks how a record was matched: by payment id beats provider id
// beats operation id.
func byBest(by uint8) uint8 {
	switch by {
	case byPayment:
		return 3
	case byProvider:
		return 2
	case byOperation:
		return 1
	}
	return 0
}

func unrank(r uint8) uint8 {
	switch r {
	case 3:
		return byPayment
	case 2:
		return byProvider
	case 1:
		return byOperation
	}
	return byNone
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

func stamp(t time.Time) string { return string(appendStamp(nil, t)) }

func appendStamp(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "an unknown time"...)
	}
	return t.UTC().AppendFormat(b, "2006-01-02 15:04 UTC")
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
