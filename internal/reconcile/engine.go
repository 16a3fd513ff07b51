// Package reconcile is the reconciliation engine: a pure function from the
// stored ECommPay operations, the merchant's records and the manual
// resolutions (and a clock) to verdicts, one per item.
//
// Every operation of a payment is grouped under its payment, by the record
// type its operation type stands for (domain.Vocabulary: a sale, capture,
// auth or cancel is a purchase; a refund, reversal or refund reverse a
// refund; a commission or an account verification nothing), and compared
// with the merchant records of that payment and type. A record finds its
// payment by payment_id, else provider_payment_id, else operation_id.
//
// A purchase or a payout is one item per payment. ECommPay's side of it is
// read from all its operations: the successful charge (sale, capture,
// recurring, invoice), else the latest one; without a charge, the
// authorisation (an auth not captured yet is not final, an auth cancelled
// is a failure that charged nothing). Two successful charges are a double
// charge.
//
// Refunds are items of their own, one per successful refund: a sale
// refunded in parts has several, each paired with its own record — by
// operation_id or provider_payment_id when the record carries one, else by
// amount (within the tolerance), else in time order (records and operations of agreeing
// outcome first) — and what is left on either side is missing_in_records
// or missing_at_provider, with a reason that says which part. A refund
// reverse takes back the refund it follows (of equal amount, else the
// latest): the refund no longer moved money.
//
// Each item gets exactly one result code, the first that applies:
//
//  1. duplicate: more than one record (for a refund: more than one record
//     for one refund operation, or the same record line twice), or more
//     than one successful charge;
//  2. missing_in_records: money moved at ECommPay and no record (an
//     operation that failed or is still running, with no record, is no
//     item: nothing to reconcile yet);
//  3. pending / missing_at_provider: a record and no operation, within or
//     past the method's limit time;
//  4. currency_mismatch: the record's currency is not the operation's
//     sum_initial currency;
//  5. pending / overdue: either side is not final, within or past the
//     method's limit time (an operation in a status or of a type the
//     vocabulary does not know is not final);
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
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/fees"
)

// Config tunes the engine.
type Config struct {
	AmountTolerance int64 // minor units
	// StatusMap lists, for a merchant status, the ECommPay operation
	// statuses that agree with it ([reconcile.status_map]), replacing the
	// default of that status: paid and refunded agree with an outcome of
	// success, failed with every final failure (DefaultAgreement).
	StatusMap  map[string][]string
	Vocabulary *domain.Vocabulary // what ECommPay's words mean; nil: domain.Builtin
	Limits     Limits
	Now        time.Time
	// Fees is the merchant's contract ([[fees.tariff]]): a successful
	// operation whose charged fee (Operation.Fee) differs from its
	// tariff's by more than FeeTolerance minor units is a fee_mismatch
	// item of its own. Nil or empty: fees are not checked.
	Fees         *fees.Contract
	FeeTolerance int64
}

// DefaultAgreement is the outcome of ECommPay's side that agrees with each
// final merchant status. "refunded" on a purchase also needs the payment's
// status to be refunded (or partly: more may follow).
var DefaultAgreement = map[string]domain.Outcome{
	domain.RecordPaid:     domain.OutcomeSuccess,
	domain.RecordRefunded: domain.OutcomeSuccess,
	domain.RecordFailed:   domain.OutcomeFailure,
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
	// Chargebacks are items of their payment's (chargebacks.go).
	Chargebacks []domain.Chargeback
	// OpTable and RecordTable, when set, are the operations and the
	// records instead of Operations and Records, held compactly
	// (input.go): a full recompute's million of each.
	OpTable     *OpTable
	RecordTable *RecordTable
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

	// Places says, for each item, where it is stored and what recomputes
	// it (see Place).
	Places []Place
	// Links are pairs of units whose items depend on each other: a record
	// of one that found its payment in the other by provider payment id or
	// operation id.
	Links [][2]domain.Unit
	// Fallbacks list the units of records that looked a payment up by
	// provider payment id or operation id (found or not): an operation with
	// that id, new or changed, may change their items.
	Fallbacks []Fallback
	// FeesUnchecked counts the successful operations with a charged fee
	// that no tariff covers (counted, not flagged), FeesChecked those
	// compared with their tariff.
	FeesUnchecked, FeesChecked int
}

// Place and Fallback live in domain: the ledger stores them.
type (
	Place    = domain.Place
	Fallback = domain.Fallback
)

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
//
// A group holds no pointer (its payment id is its latest operation's), so
// that the collector does not read a million of them.
type group struct {
	project    int64
	firstOp    uint64 // the lowest operation id: groups come out in this order
	nextSameID int32  // the group of the same payment id in another project
	latest     int32  // its latest operation, whose payment status is the newest
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

// Sink takes the items of one payment (of one project) or of one set of
// records without a payment, as Stream makes them: the unit that owns
// them, the items with their places, and the ids of the payment's
// operations that items are made of (none for records without a payment;
// a payment whose operations made no item yet comes with none). The
// slices are reused when it returns, and so are the operations and
// records the items point at (Item.Provider, Item.Merchant) when the
// input is tables of their own (input.go): a sink copies what it keeps.
type Sink func(owner domain.Unit, items []domain.Item, places []Place, opIDs []uint64) error

// Run reconciles. It panics with ErrTooLarge where Stream refuses the
// input (its callers hand it what an incremental run reads, far below
// the limit): an empty output would read as no items.
func Run(in Input, cfg Config) Output {
	out, err := Stream(in, cfg, nil)
	if err != nil {
		panic(err)
	}
	return out
}

// ErrTooLarge means more operations, records or chargebacks than the
// engine's lists index (int32: 2^31-1 of each, about 170 GB of rows).
// A wrapped index would end a list early and drop what follows silently.
var ErrTooLarge = errors.New("reconcile: more rows than the engine indexes")

// maxRows is the most operations, records and chargebacks Stream takes
// (each); tests lower it.
var maxRows = math.MaxInt32

// Stream is Run handing the items to sink as they are made, in Run's
// order, instead of returning them (Output.Items and Places stay empty):
// a million items need not be held at once. It stops at sink's first
// error. A nil sink is Run.
func Stream(in Input, cfg Config, sink Sink) (Output, error) {
	if cfg.Vocabulary == nil {
		cfg.Vocabulary = domain.Builtin
	}
	if cfg.Limits.table == nil {
		cfg.Limits = NewLimits(DefaultLimit, nil)
	}
	e := &engine{cfg: cfg, res: in.Resolutions, in: &in, vocab: cfg.Vocabulary, ops: in.OpTable, recs: in.RecordTable}
	if e.ops == nil {
		e.ops = NewOpTableOf(in.Operations)
	}
	if e.recs == nil {
		e.recs = NewRecordTableOf(in.Records)
	}
	e.initMemos()
	ops, recs := e.ops.rows, e.recs.rows
	if len(ops) > maxRows || len(recs) > maxRows || len(in.Chargebacks) > maxRows {
		return Output{}, fmt.Errorf("%w: %d operations, %d records and %d chargebacks, at most %d of each",
			ErrTooLarge, len(ops), len(recs), len(in.Chargebacks), maxRows)
	}

	// The operations a record without a payment id of ours may name, by
	// provider payment id and by operation id (built at the first such
	// record; for a big input, beside the grouping of the operations,
	// whose map takes one core). Sorted indexes, not maps: at a million
	// operations two maps were 0.6 s and 130 MB of a full recompute.
	var ids *idIndex
	var idsBuilt chan struct{}
	if inParallel(len(recs)) {
		idsBuilt = make(chan struct{})
		w := e.worker() // its own memos: e's change as the operations are grouped
		go func() {
			defer close(idsBuilt)
			ids = newIDIndex(e.ops, func(i int) bool { return w.rowFormsItem(int32(i), w.rowMeta(int32(i))) })
		}()
	}
	lazyIndexes := func() {
		if idsBuilt != nil {
			<-idsBuilt
		} else if ids == nil {
			ids = newIDIndex(e.ops, func(i int) bool { return e.rowFormsItem(int32(i), e.meta[i]) })
		}
	}

	groups := make([]group, 0, len(ops))
	firstOfID := make(map[string]int32, len(ops))
	e.opNext = make([]int32, len(ops))
	e.meta = make([]opMeta, len(ops))
	for i := range ops {
		op := &ops[i]
		e.meta[i] = e.rowMeta(int32(i))
		ti := typeIndex(e.recordTypeOf(e.ops.word(int32(i), wPaymentType), e.meta[i]))
		if ti < 0 {
			continue
		}
		g := e.groupOf(&groups, firstOfID, e.ops.paymentID(int32(i)), op.project)
		if f := &groups[g].firstOp; *f == 0 || op.id < *f {
			*f = op.id
		}
		if l := groups[g].latest; l < 0 || laterRow(op, &ops[l]) {
			groups[g].latest = int32(i)
		}
		e.opNext[i] = groups[g].opHead[ti]
		groups[g].opHead[ti] = int32(i)
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
	// locate is the group record i joins (-1: none) and how it found it;
	// fell says it looked by another id than its payment id. It reads
	// only, so that a big input's records are located on two goroutines.
	locate := func(i int) (g int32, by uint8, fell bool) {
		r := &recs[i]
		g, by = -1, byNone
		pid, ppid := e.recs.paymentID(int32(i)), e.recs.providerPaymentID(int32(i))
		if pid != "" {
			g, by = findGroup(pid, r.projectID), byPayment
		}
		if g < 0 && (ppid != "" || r.operationID != 0) {
			fell = true
			lazyIndexes() // built already when records are located on two goroutines
			if oi, ok := ids.provider(ppid); ok && ppid != "" {
				g, by = findGroup(e.ops.paymentID(oi), ops[oi].project), byProvider
			} else if oi, ok := ids.operation(r.operationID); ok && r.operationID != 0 {
				g, by = findGroup(e.ops.paymentID(oi), ops[oi].project), byOperation
			}
			if g >= 0 && r.projectID != 0 && groups[g].project != r.projectID {
				g = -1
			}
		}
		return g, by, fell
	}

	e.recNext = make([]int32, len(recs))
	e.recBy = make([]uint8, len(recs))
	type orphanKey struct {
		project int64
		id      string
		typ     string
	}
	orphans := map[orphanKey][]int32{}
	var fellBack []int32  // records that looked a payment up by another id
	var linked [][2]int32 // records found so, and their group
	// A big input's records are located on two goroutines first (the
	// index built ahead of them), each record's group and how into recG
	// and e.recBy, fellBack's into recFell; then linked here in order.
	var recG []int32
	var recFell []bool
	if inParallel(len(recs)) {
		lazyIndexes()
		recG, recFell = make([]int32, len(recs)), make([]bool, len(recs))
		half := len(recs) / 2
		var wg sync.WaitGroup
		part := func(from, to int) {
			for i := from; i < to; i++ {
				recG[i], e.recBy[i], recFell[i] = locate(i)
			}
		}
		wg.Go(func() { part(0, half) })
		part(half, len(recs))
		wg.Wait()
	}
	for i := range recs {
		r := &recs[i]
		typ := e.recs.word(int32(i), wType)
		ti := typeIndex(typ)
		var g int32
		var by uint8
		var fell bool
		if recG != nil {
			g, by, fell = recG[i], e.recBy[i], recFell[i]
		} else {
			g, by, fell = locate(i)
		}
		if fell {
			fellBack = append(fellBack, int32(i))
		}
		if g < 0 || ti < 0 {
			idr := e.recs.ids(int32(i))
			k := orphanKey{r.projectID, idr.ID(), typ}
			orphans[k] = append(orphans[k], int32(i))
			e.recBy[i] = byNone
			continue
		}
		e.recBy[i] = by
		if by == byProvider || by == byOperation {
			linked = append(linked, [2]int32{int32(i), g})
		}
		e.recNext[i] = groups[g].recHead[ti]
		groups[g].recHead[ti] = int32(i)
	}

	// The chargebacks of each payment (of one project): with its group,
	// or, when no operation of it is an item's, after everything.
	cbIdx := chargebackIndex(in.Chargebacks)
	var cbOfGroup map[int32][]int32
	var cbOrphans [][]int32
	for start := 0; start < len(cbIdx); {
		c0 := &in.Chargebacks[cbIdx[start]]
		end := start + 1
		for end < len(cbIdx) && in.Chargebacks[cbIdx[end]].PaymentID == c0.PaymentID && in.Chargebacks[cbIdx[end]].ProjectID == c0.ProjectID {
			end++
		}
		if g := findGroup(c0.PaymentID, c0.ProjectID); g >= 0 && groups[g].project == c0.ProjectID {
			if cbOfGroup == nil {
				cbOfGroup = map[int32][]int32{}
			}
			cbOfGroup[g] = cbIdx[start:end]
		} else {
			cbOrphans = append(cbOrphans, cbIdx[start:end])
		}
		start = end
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
		return cmp.Or(strings.Compare(e.recs.paymentID(orphans[a][0]), e.recs.paymentID(orphans[b][0])),
			cmp.Compare(a.project, b.project), strings.Compare(a.typ, b.typ), strings.Compare(a.id, b.id))
	})
	// Run holds every item; Stream one payment's at a time (sized for
	// everything, its 300 MB at a million payments were garbage at once).
	n := len(ops) + len(okeys)
	if sink != nil {
		n = 16
	}
	out := Output{Items: make([]domain.Item, 0, n), Places: make([]Place, 0, n)}
	var keyBuf []byte
	flush := func(owner domain.Unit) error {
		if sink == nil {
			return nil
		}
		err := sink(owner, out.Items, out.Places, nil)
		out.Items, out.Places = out.Items[:0], out.Places[:0]
		e.slab.reset() // nothing points at the operations and records made for these items now
		return err
	}
	pass := &groupPass{groups: groups, cbOfGroup: cbOfGroup}
	var fees feeCount
	if sink != nil && inParallel(len(order)) {
		if err := e.passParallel(pass, order, sink, &fees); err != nil {
			return out, err
		}
	} else {
		b := &batch{items: out.Items, places: out.Places}
		for _, gi := range order {
			owner := e.groupItems(b, pass, gi, sink != nil)
			if sink == nil {
				continue
			}
			err := sink(owner, b.items, b.places, b.opIDs)
			b.items, b.places, b.opIDs = b.items[:0], b.places[:0], b.opIDs[:0]
			e.slab.reset() // nothing points at the operations and records made for these items now
			if err != nil {
				return out, err
			}
		}
		out.Items, out.Places, fees = b.items, b.places, b.fees
	}
	out.FeesChecked, out.FeesUnchecked = fees.checked, fees.unchecked
	for _, k := range okeys {
		from := len(out.Items)
		out.Items = e.emit(out.Items, k.project, k.typ, nil, nil, orphans[k])
		r := e.recs.ids(orphans[k][0])
		keyBuf = appendEscaped(append(keyBuf[:0], 'o'), r.PaymentID)
		keyBuf = binary.BigEndian.AppendUint64(keyBuf, uint64(k.project)^1<<63)
		keyBuf = appendEscaped(appendEscaped(keyBuf, k.typ), k.id)
		out.Places = appendPlaces(out.Places, keyBuf, r.Unit(), len(out.Items)-from)
		if err := flush(r.Unit()); err != nil {
			return out, err
		}
	}
	for _, run := range cbOrphans {
		cb := &in.Chargebacks[run[0]]
		from := len(out.Items)
		if out.Items = e.chargebackItems(out.Items, run, nil); len(out.Items) == from {
			continue // won, every one
		}
		owner := domain.PaymentUnit(cb.PaymentID)
		keyBuf = orphanChargebackKey(keyBuf, cb)
		out.Places = appendPlaces(out.Places, keyBuf, owner, len(out.Items)-from)
		if err := flush(owner); err != nil {
			return out, err
		}
	}
	for _, i := range fellBack {
		r := e.recs.ids(i)
		own := r.Unit()
		if r.ProviderPaymentID != "" {
			if via := domain.ProviderUnit(r.ProviderPaymentID); via != own {
				out.Fallbacks = append(out.Fallbacks, Fallback{Via: via, Owner: own})
			}
		}
		if r.OperationID != 0 {
			if via := domain.OperationUnit(r.OperationID); via != own {
				out.Fallbacks = append(out.Fallbacks, Fallback{Via: via, Owner: own})
			}
		}
	}
	for _, l := range linked {
		r := e.recs.ids(l[0])
		if a, b := r.Unit(), domain.PaymentUnit(e.ops.paymentID(groups[l[1]].latest)); a != b {
			out.Links = append(out.Links, [2]domain.Unit{a, b})
		}
	}
	out.Recheck, out.Reopened = e.recheck, e.reopened
	slices.SortFunc(out.Recheck, func(a, b PaymentRef) int {
		return cmp.Or(cmp.Compare(a.PaymentID, b.PaymentID), cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Type, b.Type))
	})
	slices.SortFunc(out.Reopened, func(a, b Resolution) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Type, b.Type))
	})
	return out, nil
}

// idIndex finds operations by provider payment id and by operation id.
type idIndex struct {
	ops *OpTable
	// byOp are operation indexes in operation id order, equal ids in input
	// order; byProvider are those with a provider id, by it (its first
	// eight bytes first, so that most comparisons read no string), then
	// operation id, then input order.
	byOp       []int32
	byProvider []providerEntry
}

type providerEntry struct {
	prefix uint64
	op     int32
}

func newIDIndex(t *OpTable, counts func(i int) bool) *idIndex {
	ops := t.rows
	x := &idIndex{ops: t, byOp: make([]int32, 0, len(ops)), byProvider: make([]providerEntry, 0, len(ops))}
	for i := range ops {
		if !counts(i) {
			continue
		}
		x.byOp = append(x.byOp, int32(i))
		if pp := t.providerPaymentID(int32(i)); pp != "" {
			x.byProvider = append(x.byProvider, providerEntry{prefixOf(pp), int32(i)})
		}
	}
	byID := func(a, b int32) int { return cmp.Compare(ops[a].id, ops[b].id) }
	if !slices.IsSortedFunc(x.byOp, byID) { // the ledger reads them in id order
		slices.SortStableFunc(x.byOp, byID)
	}
	slices.SortFunc(x.byProvider, func(a, b providerEntry) int {
		if a.prefix != b.prefix { // not cmp.Or: it would read both strings every time
			return cmp.Compare(a.prefix, b.prefix)
		}
		return cmp.Or(strings.Compare(t.providerPaymentID(a.op), t.providerPaymentID(b.op)),
			cmp.Compare(ops[a.op].id, ops[b.op].id), cmp.Compare(a.op, b.op))
	})
	return x
}

// prefixOf is s's first eight bytes as a number that sorts as they do.
func prefixOf(s string) uint64 {
	var b [8]byte
	copy(b[:], s)
	return binary.BigEndian.Uint64(b[:])
}

// provider is the operation that takes the provider id pp: of those that
// carry it, the lowest operation id (the first in the input of equals).
func (x *idIndex) provider(pp string) (int32, bool) {
	p := prefixOf(pp)
	k, ok := slices.BinarySearchFunc(x.byProvider, pp, func(e providerEntry, pp string) int {
		if e.prefix != p {
			return cmp.Compare(e.prefix, p)
		}
		return strings.Compare(x.ops.providerPaymentID(e.op), pp)
	})
	if !ok {
		return -1, false
	}
	return x.byProvider[k].op, true
}

// operation is the operation of id (the last in the input of equals).
func (x *idIndex) operation(id uint64) (int32, bool) {
	// k: the first past id, so that k-1 is the last of its equals.
	lo, hi := 0, len(x.byOp)
	for lo < hi {
		if m := int(uint(lo+hi) >> 1); x.ops.rows[x.byOp[m]].id <= id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	k := lo
	if k == 0 || x.ops.rows[x.byOp[k-1]].id != id {
		return -1, false
	}
	return x.byOp[k-1], true
}

// appendPlaces adds the places of n items of one (payment, type) or one
// set of records without a payment: key and the item's number among them.
func appendPlaces(ps []Place, key []byte, owner domain.Unit, n int) []Place {
	for k := range n {
		ps = append(ps, Place{Key: string(appendItemNumber(key, k)), Owner: owner})
	}
	return ps
}

// appendItemNumber appends an item's number among those of its payment
// and type: two bytes, big-endian, below 0xffff (every place key stored
// before), else 0xffff and k-0xffff in eight. ECommPay may send any number
// of refunds of one payment, each an item: the 65,537th must not take the
// first one's place. Keys still sort in k's order.
func appendItemNumber(key []byte, k int) []byte {
	if k < 0xffff {
		return binary.BigEndian.AppendUint16(key, uint16(k))
	}
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint16(key, 0xffff), uint64(k-0xffff))
}

// appendEscaped appends s so that byte-wise order of the result is the
// order of strings, whatever follows: 0x00 as 0x00 0xff, then 0x00 0x01.
func appendEscaped(b []byte, s string) []byte {
	for i := range len(s) {
		if s[i] == 0 {
			b = append(b, 0, 0xff)
		} else {
			b = append(b, s[i])
		}
	}
	return append(b, 0, 1)
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
	*groups = append(*groups, group{project: project, nextSameID: first, latest: -1,
		opHead: [3]int32{-1, -1, -1}, recHead: [3]int32{-1, -1, -1}})
	g := int32(len(*groups) - 1)
	firstOfID[id] = g
	return g
}

// rowMeta is what the vocabulary says of the input's operation i.
func (e *engine) rowMeta(i int32) opMeta {
	return opMeta{kindIdx: e.kindIdx.of(e.ops.word(i, wOpType)), outcomeIdx: e.outcomeIdx.of(e.ops.word(i, wOpStatus))}
}

// rowFormsItem says whether the input's operation i, of meta m, joins an
// item (the id index holds only those).
func (e *engine) rowFormsItem(i int32, m opMeta) bool {
	return typeIndex(e.recordTypeOf(e.ops.word(i, wPaymentType), m)) >= 0
}

// recordType is the record type op stands for. An operation of a type the
// vocabulary does not know joins the item its payment's type names, so
// that the item is not final until the type is given a meaning; one that
// names nothing is left out (and counted by the ledger, shown by status).
func (e *engine) recordType(op *domain.Operation, m opMeta) string {
	return e.recordTypeOf(op.PaymentType, m)
}

// recordTypeOf is recordType of an operation of the payment type pt.
func (e *engine) recordTypeOf(pt string, m opMeta) string {
	if m.known() {
		return m.kind().Record()
	}
	switch pt {
	case domain.PaymentPurchase, domain.PaymentRecurring, domain.PaymentInvoice:
		return domain.RecordPurchase
	case domain.PaymentPayout:
		return domain.RecordPayout
	}
	return ""
}

// laterOp orders operations by creation, then id.
func laterOp(a, b *domain.Operation) bool {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c > 0
	}
	return a.OperationID > b.OperationID
}

// opMeta is what the vocabulary says of one operation, looked up once per
// run (two map lookups per operation; every judgement reads it again):
// kind is 1 + its index in domain.Kinds, 0 for a type not known.
type opMeta struct{ kindIdx, outcomeIdx uint8 }

var outcomes = []domain.Outcome{domain.OutcomeSuccess, domain.OutcomeFailure, domain.OutcomePending}

func (e *engine) metaOf(op *domain.Operation) opMeta {
	return opMeta{kindIdx: e.kindIdx.of(op.OperationType), outcomeIdx: e.outcomeIdx.of(op.OperationStatus)}
}

// memo answers for the few words that fill a field (a dozen types and
// statuses across a million operations) before asking the vocabulary's
// map: comparing a word with those already seen is cheaper than hashing
// it, most often the same string data.
type memo struct {
	words []string
	idx   []uint8
	look  func(string) uint8
}

const memoSize = 24

func (m *memo) of(w string) uint8 {
	for i, s := range m.words {
		if s == w {
			return m.idx[i]
		}
	}
	v := m.look(w)
	if len(m.words) < memoSize {
		m.words, m.idx = append(m.words, w), append(m.idx, v)
	}
	return v
}

func (e *engine) initMemos() {
	e.kindIdx.look = func(w string) uint8 {
		if t := e.vocab.Type(w); t.Known {
			return uint8(1 + slices.Index(domain.Kinds, t.Kind))
		}
		return 0
	}
	e.outcomeIdx.look = func(w string) uint8 {
		st := e.vocab.OperationStatus(w)
		if !st.Known {
			return 2 | unknownStatus // pending
		}
		if i := slices.Index(outcomes, st.Outcome); i >= 0 {
			return uint8(i)
		}
		return 2
	}
}

func (m opMeta) known() bool             { return m.kindIdx > 0 }
func (m opMeta) kind() domain.Kind       { return kindAt(m.kindIdx) }
func (m opMeta) outcome() domain.Outcome { return outcomes[m.outcomeIdx&^unknownStatus] }
func (m opMeta) statusKnown() bool       { return m.outcomeIdx&unknownStatus == 0 }

// unknownStatus marks, in opMeta.outcomeIdx, a status the vocabulary does
// not know (its outcome is pending).
const unknownStatus = 0x80

func kindAt(i uint8) domain.Kind {
	if i == 0 {
		return ""
	}
	return domain.Kinds[i-1]
}

type engine struct {
	meta       []opMeta // of each input operation
	kindIdx    memo
	outcomeIdx memo
	refBuf     []opRef
	recBuf     []*domain.Record
	vocab      *domain.Vocabulary
	cfg        Config
	res        map[ResolutionKey]Resolution
	in         *Input
	ops        *OpTable
	recs       *RecordTable
	slab       slab // the operations and records made for the payment being judged
	opNext     []int32
	recNext    []int32
	recBy      []uint8
	recheck    []PaymentRef
	reopened   []Resolution
}

// judgeTime makes an item pending within the method's limit time and
// late (overdue or missing_at_provider) past it. Past the base time, when
// ECommPay's side is what is missing or unfinished (askProvider), it asks
// for a re-check.
//
// The reason states the item's time, the limit and the deadline, never an
// age: an age changes with every run, and the same data must give the same
// export at any later time while no deadline passes.
func (e *engine) judgeTime(it *domain.Item, method, typ string, since time.Time, askProvider bool, late, what string) {
	lim, desc := e.cfg.Limits.For(method, typ)
	age := e.cfg.Now.Sub(since)
	if since.IsZero() {
		age = 0
	}
	if askProvider && it.PaymentID != "" {
		if !since.IsZero() {
			it.AskAt, it.AskMethod = since.Add(lim.Base), method
		}
		if age > lim.Base {
			e.recheck = append(e.recheck, PaymentRef{ProjectID: it.ProjectID, PaymentID: it.PaymentID, Method: method, Type: typ})
		}
	}
	b := make([]byte, 0, len(what)+120)
	b = append(b, what...)
	b = append(b, ", created "...)
	b = appendStamp(b, since)
	if age <= lim.Limit {
		it.Result = domain.ResultPending
		if !since.IsZero() {
			it.Due = since.Add(lim.Limit)
		}
		b = append(b, ", within the "...)
	} else {
		it.Result = late
		b = append(b, ", past the "...)
	}
	b = append(b, limitText(lim.Limit)...)
	b = append(b, " limit for "...)
	b = append(b, desc...)
	if !since.IsZero() {
		if it.Result == domain.ResultPending {
			b = append(b, " (until "...)
		} else {
			b = append(b, " (ended "...)
		}
		b = appendStamp(b, since.Add(lim.Limit))
		b = append(b, ')')
	}
	it.Reason = string(b)
}

// alsoDiffers notes an amount difference on an item whose code is about
// something else.
func (e *engine) alsoDiffers(op *domain.Operation, rec *domain.Record) string {
	if distance(rec.Amount.Amount, op.SumInitial.Amount) > uint64(max(e.cfg.AmountTolerance, 0)) && rec.Amount.Currency == op.SumInitial.Currency {
		return "; amounts differ too: " + amountReason(rec, op, e.cfg.AmountTolerance)
	}
	return ""
}

func amountReason(rec *domain.Record, op *domain.Operation, tol int64) string {
	d := domain.Money{Amount: rec.Amount.Amount - op.SumInitial.Amount, Currency: rec.Amount.Currency}
	return fmt.Sprintf("amount: merchant %s, ECommPay %s (operation %d), difference %s, tolerance %s",
		rec.Amount, op.SumInitial, op.OperationID, d, domain.Money{Amount: tol, Currency: rec.Amount.Currency})
}

// finish turns an exception into "resolved" while its data is as it was
// when resolved, and re-opens the resolution when it is not. An item that
// is one part of several (a refund) may hold a resolution made before
// parts had keys of their own: it holds while its fingerprint is the same.
// It reports whether the item took such an older resolution.
func (e *engine) finish(it *domain.Item) (legacy bool) {
	if !domain.IsException(it.Result) {
		return false
	}
	k := KeyOf(it)
	r, ok := e.res[k]
	if !ok && k.Part != "" {
		k.Part = ""
		if r, ok = e.res[k]; !ok || r.Fingerprint != it.Fingerprint {
			return false
		}
		legacy = true
	}
	if !ok {
		return false
	}
	if it.Fingerprint == r.Fingerprint {
		it.Result = domain.ResultResolved
		it.Reason = fmt.Sprintf("resolved by %s at %s as %s%s; was %s: %s", r.User, stamp(r.At), r.Reason, note(r.Note), r.Code, it.Reason)
		return legacy
	}
	e.reopen(it, r)
	return false
}

// reopen says on it that r no longer holds, and lists r as re-opened.
func (e *engine) reopen(it *domain.Item, r Resolution) {
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

func stamp(t time.Time) string { return string(appendStamp(nil, t)) }

func appendStamp(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "an unknown time"...)
	}
	return t.UTC().AppendFormat(b, "2006-01-02 15:04 UTC")
}

// limitText shows a limit exactly, the way a person reads it: "35d",
// "24h", "2d12h", "1h30m", "20m". Days are used from 48 hours on.
func limitText(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b []byte
	if d >= 48*time.Hour {
		b = strconv.AppendInt(b, int64(d/(24*time.Hour)), 10)
		b = append(b, 'd')
		d %= 24 * time.Hour
	}
	for _, u := range []struct {
		unit time.Duration
		sym  byte
	}{{time.Hour, 'h'}, {time.Minute, 'm'}, {time.Second, 's'}} {
		if n := d / u.unit; n > 0 {
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, u.sym)
			d -= n * u.unit
		}
	}
	if len(b) == 0 { // under a second
		return d.String()
	}
	return string(b)
}

// FormsGroup returns a test of whether the engine matches records with an
// operation's payment because of that operation: whether it stands for a
// record type (Run leaves the others out of every item).
func FormsGroup(v *domain.Vocabulary) func(op *domain.Operation) bool {
	if v == nil {
		v = domain.Builtin
	}
	e := &engine{vocab: v}
	e.initMemos()
	return func(op *domain.Operation) bool { return typeIndex(e.recordType(op, e.metaOf(op))) >= 0 }
}

// op is operation i of the input: the caller's own when the table points
// at them, else one made from its row (valid until the next flush).
func (e *engine) op(i int32) *domain.Operation {
	if e.ops.src != nil {
		return &e.ops.src[i]
	}
	op := e.slab.op()
	e.ops.fill(i, op)
	return op
}

// rec is record i of the input, as op is operation i.
func (e *engine) rec(i int32) *domain.Record {
	if e.recs.src != nil {
		return &e.recs.src[i]
	}
	r := e.slab.rec()
	e.recs.fill(i, r)
	return r
}
