package ledger

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// The stored reconciliation. A reconcile writes its items here, and
// export, report, status and the daemon read them instead of running the
// engine again; the next reconcile recomputes only the units (payment ids,
// domain.Unit) that changed since, or whose deadline passed:
//
//	result/                  made by the first reconcile
//	├── "state"              → ResultState as JSON: when, of which verdict settings, counts and amounts
//	├── items/               in blocks: place key (domain.Place) → item (appendItem), in the engine's order
//	├── "in blocks"          → 1: items/ and units/ hold blocks (blocks.go); a result stored before, a key per entry
//	├── units/               in blocks: unit → its item keys, its operation ids, the units it is linked with
//	├── due/                 time (8) | place key → unit: when a pending item turns late
//	├── ask/                 time (8) | place key → project (8) | type | method | payment id: when its re-checks start
//	└── fallback/            len (2) | via unit | owner unit → ∅: records that looked a payment up by another id
//	dirty/                   sequence (8) → for each unit a transaction changed: unit, operation ids;
//	                         or 0 alone: more than BulkMark units (a bulk mark, a new book)
//	meta/"mark changes"      → 1 from the first reconcile on: writers mark what they change in dirty/
//
// Writers (UpsertPage, ImportRecords, SaveResolutions, DeleteResolutions)
// mark the units they change in the same transaction: one entry under
// the dirty bucket's next sequence number, at the bucket's end. A
// reconcile notes that sequence when it starts reading, and on writing
// deletes only the marks at or below it (all of which it read): a change
// that lands while it computes stays marked for the next run. Before the first reconcile nothing is
// marked (the first one is a full recompute anyway): a first sync of a
// million operations writes no marks.
//
// Two reconciles of one process may not overlap (the daemon's jobs and
// its commands): they take LockResult. Besides, each write moves the
// result's generation on (the result bucket's sequence, carried over a
// full rewrite), and a write whose data was read at another generation is
// refused (ErrResultMoved). Otherwise the one that read first and stored
// last would put back items older than the marks the other consumed, for
// good.
//
// Which units an incremental run reads (Gather) is closed under what the
// engine looks at: every operation of a payment id (the unit's operation
// ids as last stored, plus the marked ones), every record of the unit
// (the records bucket is keyed by unit), every operation a record of the
// closure may fall back to by provider payment id or operation id (and
// every other operation with that provider id, which may take it), the
// records that fell back to an id an operation of the closure carries
// (fallback/) or one an operation gave up (UpsertPage marks the provider
// unit of the id it replaced), and the units linked with one in the
// closure at the last run (units/: a record found elsewhere). The engine run on that subset
// gives, for those units, the items a run over everything gives: the
// property test of internal/app checks it byte for byte.

var (
	bucketResult   = []byte("result")
	bucketDirty    = []byte("dirty")
	resultItems    = []byte("items")
	resultUnits    = []byte("units")
	resultDue      = []byte("due")
	resultAsk      = []byte("ask")
	resultFallback = []byte("fallback")
	keyState       = []byte("state")
	keyMarking     = []byte("mark changes")
)

// ResultState describes the stored reconciliation.
type ResultState struct {
	At     time.Time `json:"at"`     // when it was computed (the engine's clock)
	Config string    `json:"config"` // the verdict settings it was computed with (a fingerprint)
	Full   time.Time `json:"full"`   // the last full recompute
	// Recomputed is how many units the last run recomputed (every one for
	// a full recompute).
	Recomputed int `json:"recomputed"`
	// Items, Counts and Amounts are those of every stored item: items per
	// result, and amounts per result and currency (ECommPay's amount where
	// there is one, else the merchant's).
	Items   int                         `json:"items"`
	Counts  map[string]int              `json:"counts"`
	Amounts map[string]map[string]int64 `json:"amounts"`
	// PerCurrency counts the items of each result and currency: an
	// amount is listed while an item has it, even when it sums to zero.
	PerCurrency map[string]map[string]int `json:"per_currency"`
}

// ErrNoResult means no reconciliation is stored yet.
var ErrNoResult = errors.New("no reconciliation stored yet")

// Result reads the stored result's state; false when there is none.
func (l *Ledger) Result() (ResultState, bool, error) {
	var st ResultState
	var ok bool
	err := l.view(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketResult)
		if b == nil {
			return nil
		}
		v := b.Get(keyState)
		if v == nil {
			return nil
		}
		ok = true
		return decodeState(v, &st)
	})
	return st, ok, err
}

// Behind says how far the stored result is behind the data: the units
// changed since, and those whose deadline has passed by now.
type Behind struct {
	Changed, Due int
	// Bulk: besides the Changed listed, one transaction changed more
	// than BulkMark units (a new book): too many to list.
	Bulk bool
}

// Behind counts what the next reconcile would recompute first.
func (l *Ledger) Behind(now time.Time) (Behind, error) {
	var b Behind
	err := l.view(func(tx *bolt.Tx) error {
		r := root(tx)
		if d := r.Bucket(bucketDirty); d != nil {
			seen := map[domain.Unit]bool{}
			d.ForEach(func(k, v []byte) error {
				b.Bulk = b.Bulk || isBulkMark(v)
				return eachMark(k, v, func(u domain.Unit, _ []uint64) error { seen[u] = true; return nil })
			})
			b.Changed = len(seen)
		}
		if res := r.Bucket(bucketResult); res != nil {
			if due := res.Bucket(resultDue); due != nil {
				c := due.Cursor()
				for k, _ := c.First(); k != nil && len(k) >= 8 && timeOfKey(k) < now.UnixNano(); k, _ = c.Next() {
					b.Due++
				}
			}
		}
		return nil
	})
	return b, err
}

// ForEachItem calls fn with every stored item in the engine's order. The
// item (and its Merchant and Provider, which hold only what exports and
// reports show: amounts, statuses, the operation's id and type) is reused:
// fn must copy what it keeps.
func (l *Ledger) ForEachItem(fn func(it *domain.Item) error) error {
	return l.ForEachItemIn(time.Time{}, time.Time{}, fn)
}

// ForEachItemIn is ForEachItem of the items created in [from, to) (zero
// is open), read without decoding the others.
func (l *Ledger) ForEachItemIn(from, to time.Time, fn func(it *domain.Item) error) error {
	return l.forEachItem(from, to, nil, fn)
}

// ForEachItemWhere is ForEachItem of the items whose result keep accepts,
// read without decoding the others (the web view's index of the open
// exceptions: a few percent of the items).
func (l *Ledger) ForEachItemWhere(keep func(result string) bool, fn func(it *domain.Item) error) error {
	return l.forEachItem(time.Time{}, time.Time{}, keep, fn)
}

func (l *Ledger) forEachItem(from, to time.Time, keep func(string) bool, fn func(it *domain.Item) error) error {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = from.UnixNano()
	}
	if !to.IsZero() {
		hi = to.UnixNano()
	}
	return l.view(func(tx *bolt.Tx) error {
		res := root(tx).Bucket(bucketResult)
		if res == nil || res.Get(keyState) == nil {
			return ErrNoResult
		}
		if err := wholeResult(res); err != nil {
			return err
		}
		var it domain.Item
		var rec domain.Record
		var op domain.Operation
		n := 0
		return itemsOf(res).ForEach(func(k, v []byte) error {
			if n++; n%releaseEvery == 0 {
				release(tx) // the pages read so far: a long export would hold them all
			}
			if len(v) >= 9 {
				if c := createdOf(v); c < lo || c >= hi {
					return nil
				}
				if keep != nil {
					r := reader{b: v[9:]}
					if res := r.itemWord(); r.err == nil && !keep(res) {
						return nil
					}
				}
			}
			if err := decodeItem(v, &it, &rec, &op); err != nil {
				return corruptResult("the stored reconciliation: %s does not decode", describePlace(k))
			}
			return fn(&it)
		})
	})
}

// Asks returns the payments the stored items want re-checked by now (past
// the base time of their method's limit), in no particular order.
func (l *Ledger) Asks(now time.Time) ([]domain.Item, error) {
	var out []domain.Item
	err := l.view(func(tx *bolt.Tx) error {
		res := root(tx).Bucket(bucketResult)
		if res == nil || res.Bucket(resultAsk) == nil {
			return nil
		}
		c := res.Bucket(resultAsk).Cursor()
		for k, v := c.First(); k != nil && (len(k) < 8 || timeOfKey(k) < now.UnixNano()); k, v = c.Next() {
			if len(k) < 8 { // else the times after it would never come
				return corruptResult("%s/%s: the entry %x is too short", bucketResult, resultAsk, k)
			}
			r := reader{b: v}
			if len(v) < 8 {
				return corruptResult("the stored reconciliation's re-check entry %x is too short", k)
			}
			it := domain.Item{ProjectID: int64(beUint64(v))}
			r.b = v[8:]
			it.Type, it.AskMethod, it.PaymentID = r.word(), r.word(), r.string()
			if r.err != nil {
				return corruptResult("the stored reconciliation's re-check entry %x does not decode", k)
			}
			out = append(out, it)
		}
		return nil
	})
	return out, err
}

// MarkAll starts marking changes, and returns the sequence a full
// recompute that reads the data after it consumes marks up to, and the
// stored result's generation (ResultWrite.Gen). A FullWriter does both
// itself (BeginFull); this is for a full ResultWrite.
func (l *Ledger) MarkAll() (seq, gen uint64, err error) {
	err = l.update(func(tx *bolt.Tx) error {
		r := root(tx)
		if err := r.Bucket(bucketMeta).Put(keyMarking, []byte{1}); err != nil {
			return err
		}
		seq, gen = r.Bucket(bucketDirty).Sequence(), resultGen(r.Bucket(bucketResult))
		return nil
	})
	return seq, gen, err
}

// ErrResultMoved refuses a result computed from data read before another
// reconcile stored its own: that one may have consumed marks of changes
// the refused one did not see, which would then be lost. Compute again.
var ErrResultMoved = errors.New("another reconcile stored its result while this one computed")

// resultGen is the stored result's generation: the number of results
// written (the result bucket's sequence, carried over a full rewrite).
func resultGen(res *bolt.Bucket) uint64 {
	if res == nil {
		return 0
	}
	return res.Sequence()
}

// errTooMany stops Gather's reading of the marks past its limit.
var errTooMany = errors.New("too many units changed")

// Gathered is the data of the units an incremental reconcile recomputes.
type Gathered struct {
	Units   []domain.Unit // every unit of the closure, sorted
	Held    int           // units of it that hold an operation, a record or stored items (the rest are ids read to find none)
	Ops     []domain.Operation
	Records []StoredRecord
	// Chargebacks are those of the payments of the closure.
	Chargebacks []domain.Chargeback
	Seq         uint64 // the marks it covers are those at or below Seq
	Gen         uint64 // the stored result's generation it read (ResultWrite.Gen)
	Changed     int    // units marked changed
	Due         int    // units whose deadline passed
	TooMany     bool   // the closure passed the limit: recompute everything instead
	NoResult    bool   // there is no stored result, or none of these settings
	ConfigSeen  string // the settings the stored result was computed with
	// At is when the stored result was computed (the engine's clock): a
	// clock now before it was set back since, and the stored verdicts
	// may say of a deadline passed that it has not passed yet.
	At time.Time
	// Marks are the keys of the marks every unit of which is in Units
	// and every operation of which was read (GatherUnits, whose Seq is
	// 0): a write of these units consumes them (ResultWrite.Marks), and
	// leaves every other mark.
	Marks [][]byte
}

// Gather reads what an incremental reconcile at now needs: the marked
// units, those with a deadline passed by now, and extra, closed under what
// the engine looks at (see the top of this file). groups says whether an
// operation makes a payment the engine matches records with (a type that
// stands for a record type). It stops at limit units (TooMany).
func (l *Ledger) Gather(now time.Time, extra []domain.Unit, groups func(*domain.Operation) bool, limit int) (Gathered, error) {
	changes := make(Changes, len(extra))
	for _, u := range extra {
		changes[u] = nil
	}
	return l.gather(now, changes, groups, limit, true)
}

// GatherUnits is Gather of the units changes names alone, closed as
// Gather closes them: no marked unit and no deadline is added. Each
// unit's operations are those the stored result lists and the ids changes
// gives it (an operation new since, which no stored unit lists: what
// UpsertCallbacks returns). Its Seq is 0 (no mark is covered by number);
// Marks lists the marks whose units it holds every one of and whose
// operations it read, which a write of it may consume. The daemon
// reconciles what callbacks changed so, without recomputing a running
// sync's pages each time.
func (l *Ledger) GatherUnits(now time.Time, changes Changes, groups func(*domain.Operation) bool, limit int) (Gathered, error) {
	return l.gather(now, changes, groups, limit, false)
}

func (l *Ledger) gather(now time.Time, changes Changes, groups func(*domain.Operation) bool, limit int, marked bool) (Gathered, error) {
	var g Gathered
	err := l.view(func(tx *bolt.Tx) error {
		r := root(tx)
		res := r.Bucket(bucketResult)
		if res == nil || res.Get(keyState) == nil {
			g.NoResult = true
			return nil
		}
		if err := wholeResult(res); err != nil {
			return err
		}
		var st ResultState
		if err := decodeState(res.Get(keyState), &st); err != nil {
			return err
		}
		g.ConfigSeen, g.Gen, g.At = st.Config, resultGen(res), st.At
		dirty := r.Bucket(bucketDirty)
		if marked {
			g.Seq = dirty.Sequence()
		}
		c := &closure{tx: tx, ops: r.Bucket(bucketOps), fees: r.Bucket(bucketFees), recs: recordsIn(tx), units: unitsOf(res),
			fallback: res.Bucket(resultFallback), idxProvider: r.Bucket(bucketIdxProvider),
			seen: map[domain.Unit]bool{}, opSeen: map[uint64]int{}, extraOps: map[domain.Unit][]uint64{}, groups: groups}
		c.has = map[byte]bool{}
		rc := c.recs.Cursor()
		for _, kind := range []byte{domain.UnitOperation, domain.UnitProvider} {
			if k, _ := rc.Seek([]byte{kind}); k != nil && k[0] == kind {
				c.has[kind] = true
			}
			if err := rc.Err(); err != nil {
				return err
			}
		}
		if k, _ := c.fallback.Cursor().First(); k != nil {
			c.hasFallbacks = true
		}
		// A backfill (an import of a new book marks every payment in one
		// mark) stops at the limit, even inside a mark: the rest would
		// be read only to be thrown away.
		err := dirty.ForEach(func(k, v []byte) error {
			if !marked {
				return nil
			}
			if isBulkMark(v) {
				return errTooMany
			}
			return eachMark(k, v, func(u domain.Unit, ids []uint64) error {
				if !c.seen[u] {
					if len(c.seen) >= limit {
						return errTooMany
					}
					g.Changed++
				}
				c.extraOps[u] = append(c.extraOps[u], ids...)
				c.add(u)
				return nil
			})
		})
		if err == errTooMany {
			g.TooMany = true
			return nil
		}
		if err != nil {
			return err
		}
		dc := res.Bucket(resultDue).Cursor()
		k, v := dc.First()
		if !marked {
			k = nil // deadlines are the next reconcile's
		}
		for ; k != nil && (len(k) < 8 || timeOfKey(k) < now.UnixNano()); k, v = dc.Next() {
			if len(k) < 8 { // else the deadlines after it would never come
				return corruptResult("%s/%s: the entry %x is too short", bucketResult, resultDue, k)
			}
			if !c.seen[domain.Unit(v)] {
				g.Due++
			}
			c.add(domain.Unit(v))
		}
		if !marked {
			// The marks a sync left are the next reconcile's, but an
			// operation this closure reads brings the units marked with it:
			// the payment it moved from, whose stored entry still names the
			// item it was the first operation of (else the place would be
			// named by two units, and the old one's item never counted
			// out). A bulk mark names none: too much may depend on it.
			if err := dirty.ForEach(func(k, v []byte) error {
				if isBulkMark(v) {
					return errTooMany
				}
				return eachMark(k, v, func(u domain.Unit, ids []uint64) error {
					if c.markedWith == nil {
						c.markedWith = map[uint64][]domain.Unit{}
					}
					for _, id := range ids {
						c.markedWith[id] = append(c.markedWith[id], u)
					}
					return nil
				})
			}); err == errTooMany {
				g.TooMany = true
				return nil
			} else if err != nil {
				return err
			}
		}
		for _, u := range slices.Sorted(maps.Keys(changes)) {
			c.extraOps[u] = append(c.extraOps[u], changes[u]...)
			c.add(u)
		}
		for len(c.queue) > 0 {
			if len(c.seen) > limit {
				g.TooMany = true
				return nil
			}
			u := c.queue[0]
			c.queue = c.queue[1:]
			if err := c.visit(u); err != nil {
				return err
			}
		}
		g.Units = make([]domain.Unit, 0, len(c.seen))
		for u := range c.seen {
			g.Units = append(g.Units, u)
		}
		slices.Sort(g.Units)
		g.Ops, g.Records, g.Held, g.Chargebacks = c.opList, c.recList, c.held, c.cbList
		if !marked {
			// The marks this closure covers whole: seen in this view, so
			// their data is in it too — if their operations were read. A
			// new operation is listed by no stored unit: a mark of it
			// (a sync's page) whose unit a callback's closure holds
			// stays for the next reconcile, unless the closure read it.
			return dirty.ForEach(func(k, v []byte) error {
				if isBulkMark(v) {
					return nil
				}
				all := true
				if err := eachMark(k, v, func(u domain.Unit, ids []uint64) error {
					all = all && c.seen[u]
					for _, id := range ids {
						_, read := c.opSeen[id]
						all = all && read
					}
					return nil
				}); err != nil {
					return err
				}
				if all {
					g.Marks = append(g.Marks, bytes.Clone(k))
				}
				return nil
			})
		}
		return nil
	})
	return g, err
}

// closure is Gather's walk.
type closure struct {
	tx                         *bolt.Tx
	ops, fallback, idxProvider *bolt.Bucket
	recs, units                *blockMap
	fees                       *bolt.Bucket // nil in a database made before fees
	seen                       map[domain.Unit]bool
	opSeen                     map[uint64]int
	extraOps                   map[domain.Unit][]uint64
	queue                      []domain.Unit
	opList                     []domain.Operation
	recList                    []StoredRecord
	cbList                     []domain.Chargeback
	groups                     func(*domain.Operation) bool
	markedWith                 map[uint64][]domain.Unit // GatherUnits: the units pending marks name with an operation
	providerSeen               map[string]bool
	has                        map[byte]bool // record key kinds the records bucket holds
	hasFallbacks               bool
	held                       int // units that hold anything (Gathered.Held)
}

func (c *closure) add(u domain.Unit) {
	if u == "" || c.seen[u] {
		return
	}
	c.seen[u] = true
	c.queue = append(c.queue, u)
}

func (c *closure) visit(u domain.Unit) error {
	v, err := c.units.Get([]byte(u))
	if err != nil {
		return err
	}
	e, err := decodeUnit(v)
	if err != nil {
		return corruptResult("the stored reconciliation's unit %s does not decode", describeUnit([]byte(u)))
	}
	for _, l := range e.links {
		c.add(l)
	}
	if len(u) > 0 && u[0] == domain.UnitProvider && c.hasFallbacks {
		// A provider id an operation gave up (UpsertPage marks it): the
		// records that fell back to it may find another operation now.
		if err := c.fallbacksOf(u); err != nil {
			return err
		}
	}
	var mine []*domain.Operation // this unit's operations
	for _, id := range append(e.ops, c.extraOps[u]...) {
		op, err := c.op(id)
		if err != nil {
			return err
		}
		if op == nil {
			continue // marked and not stored (a fee before its operation): the unit's records still count
		}
		if domain.PaymentUnit(op.PaymentID) != u {
			c.add(domain.PaymentUnit(op.PaymentID))
			continue
		}
		mine = append(mine, op)
	}
	held := !e.empty() || len(mine) > 0
	defer func() {
		if held {
			c.held++
		}
	}()
	// The records of this unit.
	if len(u) == 0 {
		return nil
	}
	// A payment's chargebacks (chargebacks.go): their items are its.
	if u[0] == domain.UnitPayment {
		if err := chargebacksOf(c.tx, string(u[1:]), func(sc *StoredChargeback) error {
			held = true
			c.cbList = append(c.cbList, sc.Chargeback)
			return nil
		}); err != nil {
			return err
		}
	}
	return eachRecordOf(c.recs, recordPrefix(u), func(sr *StoredRecord) error {
		held = true
		c.recList = append(c.recList, *sr)
		return c.mayFallBack(&sr.Record, mine)
	})
}

// feeOf is the stored fee of operation id (fees/), nil for none.
func (c *closure) feeOf(id uint64) []byte {
	if c.fees == nil {
		return nil
	}
	return c.fees.Get(be64(nil, id))
}

// op reads an operation of the closure once, with its fee, and follows
// what it carries: the records that name it by provider payment id or
// operation id, and those that fell back to either at the last run.
func (c *closure) op(id uint64) (*domain.Operation, error) {
	if i, ok := c.opSeen[id]; ok {
		return &c.opList[i], nil
	}
	v := c.ops.Get(be64(nil, id))
	if v == nil {
		return nil, nil // a mark of an operation not stored: nothing to read
	}
	var rec Record
	if err := decodeRecord(v, id, &rec); err != nil {
		return nil, corruptOp(id)
	}
	if f := c.feeOf(id); f != nil { // the fee charged on it (fees.go)
		fee, _, err := decodeFee(f)
		if err != nil {
			return nil, corrupt("the fee of operation %d does not decode", id)
		}
		rec.Operation.Fee = fee
	}
	c.opSeen[id] = len(c.opList)
	c.opList = append(c.opList, rec.Operation)
	op := &c.opList[len(c.opList)-1]
	c.add(domain.PaymentUnit(op.PaymentID))
	for _, u := range c.markedWith[id] {
		c.add(u)
	}
	// Records that name it by operation id or provider payment id only,
	// and those that fell back to either: looked for only when there are
	// any (most books carry payment ids: then this costs nothing).
	var vias [2]domain.Unit
	if c.has[domain.UnitOperation] {
		vias[0] = domain.OperationUnit(id)
	}
	if op.ProviderPaymentID != "" && c.has[domain.UnitProvider] {
		vias[1] = domain.ProviderUnit(op.ProviderPaymentID)
	}
	for _, via := range vias {
		if via == "" {
			continue
		}
		c.add(via)
	}
	if c.hasFallbacks {
		for _, via := range []domain.Unit{domain.OperationUnit(id), domain.ProviderUnit(op.ProviderPaymentID)} {
			if via != domain.ProviderUnit("") {
				if err := c.fallbacksOf(via); err != nil {
					return nil, err
				}
			}
		}
	}
	// The other operations with its provider id, which may take the
	// records that fall back to it (the lowest id does), are read when
	// such a record is: mayFallBack.
	return op, nil
}

// fallbacksOf adds the units whose records fell back to via last time.
func (c *closure) fallbacksOf(via domain.Unit) error {
	p := binary.BigEndian.AppendUint16(nil, uint16(len(via)))
	p = append(p, via...)
	cur := c.fallback.Cursor()
	for k, _ := cur.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = cur.Next() {
		c.add(domain.Unit(k[len(p):]))
	}
	return nil
}

// mayFallBack follows the ids a record may find its payment by when its
// payment id finds none: the operations with its provider payment id, the
// operation of its operation id.
func (c *closure) mayFallBack(r *domain.Record, mine []*domain.Operation) error {
	if r.PaymentID != "" {
		for _, op := range mine {
			if (r.ProjectID == 0 || op.ProjectID == r.ProjectID) && c.groups(op) {
				return nil // it finds its payment by payment id
			}
		}
	}
	if r.ProviderPaymentID != "" {
		if err := c.provider(r.ProviderPaymentID); err != nil {
			return err
		}
	}
	if r.OperationID != 0 {
		if _, err := c.op(r.OperationID); err != nil {
			return err
		}
	}
	return nil
}

// provider reads every operation with a provider payment id, once (the
// index is by hour: one seek per hour of data).
func (c *closure) provider(id string) error {
	if c.providerSeen == nil {
		c.providerSeen = map[string]bool{}
	}
	if c.providerSeen[id] {
		return nil
	}
	c.providerSeen[id] = true
	suffix := providerSuffix(nil, id, 0)
	ids, err := idsByHour(c.idxProvider, bucketIdxProvider, suffix[:len(suffix)-8])
	if err != nil {
		return err
	}
	for _, oid := range ids {
		if _, err := c.op(oid); err != nil {
			return err
		}
	}
	return nil
}

// recordPrefix is the records bucket's prefix of a unit's records.
func recordPrefix(u domain.Unit) []byte {
	b := []byte{u[0]}
	b = binary.BigEndian.AppendUint16(b, uint16(len(u)-1))
	return append(b, u[1:]...)
}

// ResultWrite is what one reconcile stores.
type ResultWrite struct {
	// Full replaces the whole result; else the items, indexes and marks of
	// Units are replaced.
	Full  bool
	Units []domain.Unit
	// Items and Places are the engine's output for them; Ops the
	// operations it read (every unit's operation ids are kept).
	Items     []domain.Item
	Places    []domain.Place
	Ops       []domain.Operation
	Records   []domain.Record
	Links     [][2]domain.Unit
	Fallbacks []domain.Fallback
	Seq       uint64 // marks of Units (of all units, when Full) at or below it are consumed
	// Marks are further marks consumed, by key (GatherUnits' Marks).
	Marks  [][]byte
	At     time.Time
	Config string
	// Run, when set, is saved as the last run (SaveRun) in the same
	// transaction, with the new state's items, counts and amounts.
	Run *Run
	// Reopened are the resolutions it found re-opened, and Events their
	// audit events: stored with it, in the same transaction, or not at all.
	Reopened []domain.Resolution
	Events   []domain.AuditEvent

	// Gen is the stored result's generation when the data was read
	// (Gathered.Gen, MarkAll's): a result stored since refuses this one
	// (ErrResultMoved).
	Gen uint64
}

// createdOf is a stored item's creation time (nanoseconds), or the
// lowest int64 for none.
func createdOf(v []byte) int64 {
	c := beUint64(v[1:9])
	if c == 0 {
		return math.MinInt64
	}
	return int64(c ^ 1<<63)
}

// unitEntry is a unit's value in result/units.
type unitEntry struct {
	items []string
	ops   []uint64
	links []domain.Unit
	vias  []domain.Unit // what its records fell back to: its fallback/ entries
}

func (e *unitEntry) empty() bool { return len(e.items)+len(e.ops)+len(e.links)+len(e.vias) == 0 }

func appendUnit(b []byte, e *unitEntry) []byte {
	b = binary.AppendUvarint(b, uint64(len(e.items)))
	for _, k := range e.items {
		b = appendString(b, k)
	}
	return appendUnitTail(b, e)
}

// appendUnitTail is appendUnit past the item keys.
func appendUnitTail(b []byte, e *unitEntry) []byte {
	b = binary.AppendUvarint(b, uint64(len(e.ops)))
	for _, id := range e.ops {
		b = binary.AppendUvarint(b, id)
	}
	for _, us := range [][]domain.Unit{e.links, e.vias} {
		b = binary.AppendUvarint(b, uint64(len(us)))
		for _, u := range us {
			b = appendString(b, string(u))
		}
	}
	return b
}

func decodeUnit(v []byte) (unitEntry, error) {
	var e unitEntry
	if v == nil {
		return e, nil
	}
	r := reader{b: v}
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		e.items = append(e.items, r.string())
	}
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		e.ops = append(e.ops, r.uvarint())
	}
	for _, us := range []*[]domain.Unit{&e.links, &e.vias} {
		for n := r.uvarint(); n > 0 && r.err == nil; n-- {
			*us = append(*us, domain.Unit(r.string()))
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	return e, r.err
}

// WriteResult stores one reconcile's result in one transaction: all of it
// or, on an error (or a kill), none, the previous result intact.
func (l *Ledger) WriteResult(w ResultWrite) (ResultState, error) {
	var st ResultState
	var noted bool
	err := l.update(func(tx *bolt.Tx) error {
		r := root(tx)
		if err := r.Bucket(bucketMeta).Put(keyMarking, []byte{1}); err != nil {
			return err
		}
		res := r.Bucket(bucketResult)
		gen := resultGen(res)
		if gen != w.Gen {
			return ErrResultMoved
		}
		if res != nil && res.Get(keyState) != nil && !w.Full {
			if err := wholeResult(res); err != nil {
				return err
			}
			if err := decodeState(res.Get(keyState), &st); err != nil {
				return err
			}
		} else {
			w.Full = true
			st = ResultState{Full: w.At}
		}
		if w.Full {
			if res != nil {
				if err := r.DeleteBucket(bucketResult); err != nil {
					return err
				}
			}
			var err error
			if res, err = r.CreateBucket(bucketResult); err != nil {
				return err
			}
			for _, name := range [][]byte{resultItems, resultUnits, resultDue, resultAsk, resultFallback} {
				if _, err := res.CreateBucket(name); err != nil {
					return err
				}
			}
			if err := res.Put(keyBlocks, []byte{1}); err != nil {
				return err
			}
			st.Counts, st.Amounts, st.PerCurrency, st.Items = nil, nil, nil, 0
		}
		if st.Counts == nil {
			st.Counts = map[string]int{}
		}
		if st.Amounts == nil {
			st.Amounts = map[string]map[string]int64{}
		}
		if st.PerCurrency == nil {
			st.PerCurrency = map[string]map[string]int{}
		}
		s := &resultWriter{res: res, items: itemsOf(res), units: unitsOf(res), due: res.Bucket(resultDue),
			ask: res.Bucket(resultAsk), fallback: res.Bucket(resultFallback), st: &st}
		if !w.Full {
			for _, u := range w.Units {
				if err := s.drop(u); err != nil {
					return err
				}
			}
		}
		if err := s.put(&w); err != nil {
			return err
		}
		if err := s.items.Flush(); err != nil {
			return err
		}
		if err := s.units.Flush(); err != nil {
			return err
		}
		if err := consumeMarks(r.Bucket(bucketDirty), w); err != nil {
			return err
		}
		st.At, st.Config, st.Recomputed = w.At, w.Config, len(w.Units)
		if w.Full {
			st.Full = w.At
			st.Recomputed = s.unitsPut
		}
		for k, n := range st.Counts {
			if n <= 0 {
				delete(st.Counts, k)
				delete(st.Amounts, k)
				delete(st.PerCurrency, k)
			}
		}
		if err := res.SetSequence(gen + 1); err != nil {
			return err
		}
		var err error
		if noted, err = noteAlerts(r, &w); err != nil { // alerts.go
			return err
		}
		return putState(tx, res, st, &w)
	})
	if err != nil {
		return ResultState{}, fmt.Errorf("store the reconciliation: %w", err)
	}
	if noted {
		l.g.alertsNoted()
	}
	return st, nil
}

// putState stores a result's state in res, and w's run (with the state's
// counts) or its re-openings, in the write's transaction.
func putState(tx *bolt.Tx, res *bolt.Bucket, st ResultState, w *ResultWrite) error {
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := res.Put(keyState, v); err != nil {
		return err
	}
	if w.Run != nil {
		run := *w.Run
		run.Items, run.Counts, run.Amounts = st.Items, st.Counts, st.Amounts
		return saveRun(tx, run, w.Reopened, w.Events)
	}
	return saveReopened(tx, w.Reopened, w.Events)
}

// consumeMarks deletes the marks a write covered.
//
// Marks are keyed by their transaction's sequence number, and a write
// covers those at or below w.Seq: every one of them was read (Gather
// enqueues every marked unit), so they go from the start of the bucket.
func consumeMarks(dirty *bolt.Bucket, w ResultWrite) error {
	last := dirty.Sequence()
	var gone [][]byte
	c := dirty.Cursor()
	named := map[string]bool{}
	for _, k := range w.Marks {
		named[string(k)] = true
	}
	for k, v := c.First(); k != nil; k, v = c.Next() {
		covered := len(k) == 8 && beUint64(k) <= w.Seq || named[string(k)]
		if !covered && w.Full {
			// Every unit was recomputed: a mark that does not decode, or
			// of a sequence number no writer gave out, goes too (damage
			// Gather refuses, which would outlive every full recompute).
			covered = len(k) != 8 || beUint64(k) > last || eachMark(k, v, func(domain.Unit, []uint64) error { return nil }) != nil
		}
		if covered {
			gone = append(gone, k)
		}
	}
	for _, k := range gone {
		if err := dirty.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// eachMark calls fn with each unit of the dirty mark under k and the
// operations of it that changed. A mark is its transaction's sequence
// number (the key, 8 bytes) and, for each unit, uvarint length, unit,
// uvarint count, operation ids (uvarints); a bulk mark lists none. It
// stops at fn's first error and returns it.
func eachMark(k, v []byte, fn func(u domain.Unit, ids []uint64) error) error {
	if len(k) != 8 {
		return corruptResult("%s: the mark %s does not decode", bucketDirty, describeUnit(k))
	}
	if isBulkMark(v) {
		return nil
	}
	r := reader{b: v}
	var ids []uint64
	for len(r.b) > 0 && r.err == nil {
		u := domain.Unit(r.string())
		ids = ids[:0]
		for n := r.uvarint(); n > 0 && r.err == nil; n-- {
			ids = append(ids, r.uvarint())
		}
		if r.err == nil {
			if err := fn(u, ids); err != nil {
				return err
			}
		}
	}
	if r.err != nil || len(v) == 0 {
		return corruptResult("%s: the mark %d does not decode", bucketDirty, beUint64(k))
	}
	return nil
}

type resultWriter struct {
	res, due, ask, fallback *bolt.Bucket
	items, units            *blockMap
	st                      *ResultState
	unitsPut                int
}

// drop deletes a unit's items and what indexes them, and its entry.
func (s *resultWriter) drop(u domain.Unit) error {
	v, err := s.units.Get([]byte(u))
	if err != nil || v == nil {
		return err
	}
	e, err := decodeUnit(v)
	if err != nil {
		return corruptResult("the stored reconciliation's unit %s does not decode", describeUnit([]byte(u)))
	}
	var it domain.Item
	var rec domain.Record
	var op domain.Operation
	for _, k := range e.items {
		old, err := s.items.Get([]byte(k))
		if err != nil {
			return err
		}
		if old == nil {
			continue // a place another unit's item took over already
		}
		if err := decodeItem(old, &it, &rec, &op); err != nil {
			return corruptResult("the stored reconciliation: %s does not decode", describePlace([]byte(k)))
		}
		s.count(&it, -1)
		if !it.Due.IsZero() {
			if err := s.due.Delete(timeKey(it.Due, k)); err != nil {
				return err
			}
		}
		if !it.AskAt.IsZero() {
			if err := s.ask.Delete(timeKey(it.AskAt, k)); err != nil {
				return err
			}
		}
		if err := s.items.Delete([]byte(k)); err != nil {
			return err
		}
	}
	for _, via := range e.vias {
		if err := s.fallback.Delete(fallbackKey(via, u)); err != nil {
			return err
		}
	}
	return s.units.Delete([]byte(u))
}

func (s *resultWriter) count(it *domain.Item, d int) {
	s.st.Items += d
	s.st.Counts[it.Result] += d
	m := it.Amount()
	a, n := s.st.Amounts[it.Result], s.st.PerCurrency[it.Result]
	if a == nil {
		a = map[string]int64{}
		s.st.Amounts[it.Result] = a
	}
	if n == nil {
		n = map[string]int{}
		s.st.PerCurrency[it.Result] = n
	}
	a[m.Currency] += int64(d) * m.Amount
	n[m.Currency] += d
	if n[m.Currency] <= 0 {
		delete(a, m.Currency)
		delete(n, m.Currency)
	}
}

// put writes the new items, the units' entries and the indexes.
func (s *resultWriter) put(w *ResultWrite) error {
	entries := map[domain.Unit]*unitEntry{}
	entry := func(u domain.Unit) *unitEntry {
		e := entries[u]
		if e == nil {
			e = &unitEntry{}
			entries[u] = e
		}
		return e
	}
	for _, u := range w.Units {
		entry(u)
	}
	// Items in key order: the engine's order already, a sequential insert.
	order := make([]int, len(w.Items))
	for i := range order {
		order[i] = i
	}
	if !slices.IsSortedFunc(order, func(a, b int) int { return cmp.Compare(w.Places[a].Key, w.Places[b].Key) }) {
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(w.Places[a].Key, w.Places[b].Key) })
	}
	var buf []byte
	for _, i := range order {
		it, p := &w.Items[i], w.Places[i]
		buf = appendItem(buf[:0], it)
		if err := s.items.Put([]byte(p.Key), buf); err != nil { // copied
			return err
		}
		s.count(it, 1)
		e := entry(p.Owner)
		e.items = append(e.items, p.Key)
		if !it.Due.IsZero() {
			if err := s.due.Put(timeKey(it.Due, p.Key), []byte(p.Owner)); err != nil {
				return err
			}
		}
		if !it.AskAt.IsZero() {
			if err := s.ask.Put(timeKey(it.AskAt, p.Key), askValue(it)); err != nil {
				return err
			}
		}
	}
	for i := range w.Ops {
		op := &w.Ops[i]
		e := entry(domain.PaymentUnit(op.PaymentID))
		e.ops = append(e.ops, op.OperationID)
	}
	for i := range w.Records {
		entry(w.Records[i].Unit())
	}
	for _, l := range w.Links {
		entry(l[0]).links = append(entry(l[0]).links, l[1])
		entry(l[1]).links = append(entry(l[1]).links, l[0])
	}
	for _, f := range w.Fallbacks {
		if err := s.fallback.Put(fallbackKey(f.Via, f.Owner), nil); err != nil {
			return err
		}
		entry(f.Owner).vias = append(entry(f.Owner).vias, f.Via)
	}
	units := make([]domain.Unit, 0, len(entries))
	for u := range entries {
		units = append(units, u)
	}
	slices.Sort(units)
	for _, u := range units {
		e := entries[u]
		slices.Sort(e.ops)
		e.ops = slices.Compact(e.ops)
		for _, us := range []*[]domain.Unit{&e.links, &e.vias} {
			slices.Sort(*us)
			*us = slices.Compact(*us)
		}
		if e.empty() {
			continue
		}
		s.unitsPut++
		if err := s.units.Put([]byte(u), appendUnit(nil, e)); err != nil {
			return err
		}
	}
	return nil
}

// fallbackKey is a fallback/ key.
func fallbackKey(via, owner domain.Unit) []byte {
	k := binary.BigEndian.AppendUint16(nil, uint16(len(via)))
	return append(append(k, via...), owner...)
}

// timeKey is a due or ask key: the time, as nanoseconds since 1970 with
// the sign bit flipped (so that keys sort by time), and the place key.
func timeKey(t time.Time, place string) []byte {
	return append(be64(nil, uint64(t.UnixNano())^1<<63), place...)
}

func timeOfKey(k []byte) int64 { return int64(beUint64(k) ^ 1<<63) }

// marker marks the units one write transaction changes, once each, when
// a stored result is kept (see the top of this file).
//
// A transaction that changes more than bulkMark units (a new book of a
// million lines) writes one bulk mark instead of the list: the next
// reconcile recomputes everything anyway, and listing them was 40 % of
// such an import's time (BENCHMARKS.md, issue 13).
type marker struct {
	dirty *bolt.Bucket
	on    bool
	bulk  bool // more than bulkMark units: no list kept
	units map[domain.Unit][]uint64
}

// BulkMark is how many units one transaction lists in its mark at most;
// past it the mark says only "more than this many" (isBulkMark), and the
// next reconcile recomputes everything. An incremental run takes as many
// (the app's limit).
const BulkMark = 200_000

var bulkMark = BulkMark // a variable for the tests

// SetBulkMarkForTests lowers the units past which a transaction writes a
// bulk mark, until the returned func: for the tests of other packages
// (internal/app's property test), which cannot write 200,000 units a step.
func SetBulkMarkForTests(n int) (restore func()) {
	prev := bulkMark
	bulkMark = n
	return func() { bulkMark = prev }
}

// bulkMarkValue is the value of a bulk mark: no listed mark starts with
// a zero byte (the length of a unit, never empty).
var bulkMarkValue = []byte{0}

func isBulkMark(v []byte) bool { return bytes.Equal(v, bulkMarkValue) }

func newMarker(tx *bolt.Tx) *marker {
	r := root(tx)
	return &marker{dirty: r.Bucket(bucketDirty), on: r.Bucket(bucketMeta).Get(keyMarking) != nil && r.Bucket(bucketDirty) != nil}
}

// unit marks units changed.
func (m *marker) unit(us ...domain.Unit) {
	for _, u := range us {
		m.op(u)
	}
}

// op marks u changed; ids are operations of it that changed.
func (m *marker) op(u domain.Unit, ids ...uint64) {
	if !m.on || m.bulk || u == "" {
		return
	}
	if m.units == nil {
		m.units = map[domain.Unit][]uint64{}
	}
	m.units[u] = append(m.units[u], ids...)
	if len(m.units) > bulkMark {
		m.bulk, m.units = true, nil
	}
}

// flush writes the marks, each with the transaction's sequence number.
func (m *marker) flush() error {
	if !m.on || len(m.units) == 0 && !m.bulk {
		return nil
	}
	seq, err := m.dirty.NextSequence()
	if err != nil {
		return err
	}
	m.dirty.FillPercent = 1
	if m.bulk {
		m.bulk = false
		return m.dirty.Put(be64(nil, seq), bulkMarkValue)
	}
	us := make([]domain.Unit, 0, len(m.units))
	for u := range m.units {
		us = append(us, u)
	}
	slices.Sort(us)
	// One entry for the transaction, at the bucket's end: a page of a
	// thousand new payments was a thousand random puts (a third of an
	// ingest's time, BENCHMARKS.md).
	var v []byte
	for _, u := range us {
		v = appendString(v, string(u))
		v = binary.AppendUvarint(v, uint64(len(m.units[u])))
		for _, id := range m.units[u] {
			v = binary.AppendUvarint(v, id)
		}
	}
	if err := m.dirty.Put(be64(nil, seq), v); err != nil {
		return err
	}
	m.units = nil
	return nil
}

// The stored item:
//
//	version byte (itemVersion)
//	created: nanoseconds since 1970, sign bit flipped (8; the zero time is 0), first and fixed, so that
//	  a window is read without decoding (ForEachItemIn)
//	result, code, matched by (item words), payment id (string), type (item word), part (string)
//	flags: 1 a merchant side, 2 ECommPay's side
//	merchant: amount (varint), currency (word), status (item word)
//	ECommPay: operation id (uvarint), type, status (words), amount (varint), currency (word)
//	project (varint), operation id (uvarint), provider payment id (string), method (word),
//	reason (item word), fingerprint (string), due, ask at (times), ask method (word)
const itemVersion = 3

// itemWords are the words most items repeat, stored as one byte
// (appendItemWord): result codes, how a record was matched, record types
// and statuses, the reason of a match. Part of the item format: append
// only, never reorder (then bump itemVersion anyway).
var itemWords = [...]string{
	"",
	domain.ResultMatched, domain.ResultAmountMismatch, domain.ResultCurrencyMismatch, domain.ResultStatusMismatch,
	domain.ResultMissingAtProvider, domain.ResultMissingInRecords, domain.ResultDuplicate, domain.ResultPending,
	domain.ResultOverdue, domain.ResultResolved,
	domain.ByPaymentID, domain.ByProviderPaymentID, domain.ByOperationID,
	domain.RecordPurchase, domain.RecordPayout, domain.RecordRefund,
	domain.RecordPaid, domain.RecordFailed, domain.RecordPending, domain.RecordRefunded,
	"amount, currency and status agree",
}

var itemWordIndex = func() map[string]uint64 {
	m := make(map[string]uint64, len(itemWords))
	for i, w := range itemWords {
		m[w] = uint64(i)
	}
	return m
}()

// appendItemWord stores s as its itemWords index, or inline (as
// appendWord does with its dictionary).
func appendItemWord(b []byte, s string) []byte {
	if i, ok := itemWordIndex[s]; ok {
		return binary.AppendUvarint(b, i)
	}
	b = binary.AppendUvarint(b, dictTag+uint64(len(s)))
	return append(b, s...)
}

func (r *reader) itemWord() string {
	tag := r.uvarint()
	switch {
	case tag >= dictTag:
		return r.bytes(tag - dictTag)
	case tag < uint64(len(itemWords)):
		return itemWords[tag]
	default:
		r.err = errCorrupt
		return ""
	}
}

func appendItem(b []byte, it *domain.Item) []byte {
	b = append(b, itemVersion)
	var created uint64
	if !it.CreatedAt.IsZero() {
		created = uint64(it.CreatedAt.UnixNano()) ^ 1<<63
	}
	b = be64(b, created)
	b = appendItemWord(appendItemWord(appendItemWord(b, it.Result), it.Code), it.MatchedBy)
	b = appendString(b, it.PaymentID)
	b = appendItemWord(b, it.Type)
	b = appendString(b, it.Part)
	var flags byte
	if it.Merchant != nil {
		flags |= 1
	}
	if it.Provider != nil {
		flags |= 2
	}
	b = append(b, flags)
	if m := it.Merchant; m != nil {
		b = binary.AppendVarint(b, m.Amount.Amount)
		b = appendItemWord(appendWord(b, m.Amount.Currency), m.Status)
	}
	if p := it.Provider; p != nil {
		b = binary.AppendUvarint(b, p.OperationID)
		b = appendWord(appendWord(b, p.OperationType), p.OperationStatus)
		b = binary.AppendVarint(b, p.SumInitial.Amount)
		b = appendWord(b, p.SumInitial.Currency)
	}
	b = binary.AppendVarint(b, it.ProjectID)
	b = binary.AppendUvarint(b, it.OperationID)
	b = appendString(b, it.ProviderPaymentID)
	b = appendWord(b, it.Method)
	b = appendString(appendItemWord(b, it.Reason), it.Fingerprint)
	b = appendTime(appendTime(b, it.Due), it.AskAt)
	return appendWord(b, it.AskMethod)
}

// decodeItem reads a stored item into it, with its sides in rec and op
// (set to point there when the item has them).
func decodeItem(v []byte, it *domain.Item, rec *domain.Record, op *domain.Operation) error {
	if len(v) < 9 || v[0] != itemVersion {
		return errCorrupt
	}
	r := sharedReader(v[9:])
	*it = domain.Item{}
	if c := beUint64(v[1:9]); c != 0 {
		it.CreatedAt = time.Unix(0, int64(c^1<<63)).UTC()
	}
	it.Result, it.Code, it.MatchedBy = r.itemWord(), r.itemWord(), r.itemWord()
	it.PaymentID = r.string()
	it.Type = r.itemWord()
	it.Part = r.string()
	var flags byte
	if len(r.b) > 0 {
		flags, r.b = r.b[0], r.b[1:]
	} else {
		r.err = errCorrupt
	}
	if flags&1 != 0 {
		*rec = domain.Record{}
		rec.Amount.Amount = r.varint()
		rec.Amount.Currency, rec.Status = r.word(), r.itemWord()
		it.Merchant = rec
	}
	if flags&2 != 0 {
		*op = domain.Operation{}
		op.OperationID = r.uvarint()
		op.OperationType, op.OperationStatus = r.word(), r.word()
		op.SumInitial.Amount = r.varint()
		op.SumInitial.Currency = r.word()
		it.Provider = op
	}
	it.ProjectID = r.varint()
	it.OperationID = r.uvarint()
	it.ProviderPaymentID = r.string()
	it.Method = r.word()
	it.Reason, it.Fingerprint = r.itemWord(), r.string()
	it.Due, it.AskAt = r.time(), r.time()
	it.AskMethod = r.word()
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	return r.err
}

// unitOfKey is the unit of a records bucket key (or of its group prefix):
// its kind and its id (recordIDKey).
func unitOfKey(k []byte) domain.Unit {
	if len(k) < 3 {
		return ""
	}
	n := int(binary.BigEndian.Uint16(k[1:3]))
	if len(k) < 3+n {
		return ""
	}
	return domain.Unit(string(k[0]) + string(k[3:3+n]))
}

// UnitItems returns the stored items of one unit (a payment id's, say),
// in the engine's order, each its own copy, and the unit's operation ids
// as last stored; none when no result is stored or the unit has none.
// The web view's payment page reads them: one key, not the whole result.
func (l *Ledger) UnitItems(u domain.Unit) ([]domain.Item, []uint64, error) {
	var items []domain.Item
	var ops []uint64
	err := l.view(func(tx *bolt.Tx) error {
		res := root(tx).Bucket(bucketResult)
		if res == nil || res.Get(keyState) == nil {
			return nil
		}
		if err := wholeResult(res); err != nil {
			return err
		}
		v, err := unitsOf(res).Get([]byte(u))
		if err != nil {
			return err
		}
		e, err := decodeUnit(v)
		if err != nil {
			return corruptResult("the stored reconciliation: the entry of %q does not decode", string(u))
		}
		ops = e.ops
		ib := itemsOf(res)
		for _, k := range e.items {
			v, err := ib.Get([]byte(k))
			if err != nil {
				return err
			}
			if v == nil {
				continue
			}
			var it domain.Item
			rec, op := new(domain.Record), new(domain.Operation)
			if err := decodeItem(v, &it, rec, op); err != nil {
				return corruptResult("the stored reconciliation: %s does not decode", describePlace([]byte(k)))
			}
			items = append(items, it)
		}
		return nil
	})
	return items, ops, err
}
