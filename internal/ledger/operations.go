package ledger

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// PageStats says what one UpsertPage did.
type PageStats struct {
	New       int // operations not stored before
	Updated   int // operations whose stored record changed
	Unchanged int // operations stored already exactly so (or an older view of them)
}

// Add adds o to s.
func (s *PageStats) Add(o PageStats) {
	s.New += o.New
	s.Updated += o.Updated
	s.Unchanged += o.Unchanged
}

// UpsertPage stores one page of operations in one write transaction: all of
// them or, on error, none. seen is when the page was fetched; it dates the
// status history.
//
// An operation is new, updated or unchanged. An update that would take an
// operation from a final status back to a non-final one is an older view
// (a page fetched before the change) and is ignored. Every change of
// operation status, payment status or code is appended to the history.
// The page is the Data API's (SourceSync): it wins over what a callback
// said (UpsertCallbacks), and a status a callback brought that the page
// confirms is noted as seen by both.
func (l *Ledger) UpsertPage(ops []domain.Operation, seen time.Time) (PageStats, error) {
	l.yieldToCallbacks()
	st, _, _, err := l.upsert(ops, seen, SourceSync)
	return st, err
}

// Outcome is what storing one callback's operation did.
type Outcome uint8

const (
	// OutcomeUnchanged: stored exactly so already (the same callback
	// again), or a callback agreeing with the sync's final status (noted
	// as seen by both, the sync's fields kept).
	OutcomeUnchanged Outcome = iota
	// OutcomeNew: the operation was not stored before.
	OutcomeNew
	// OutcomeUpdated: the stored operation changed.
	OutcomeUpdated
	// OutcomeOlder: the operation is final and the callback says it is
	// not: an older view, ignored.
	OutcomeOlder
	// OutcomeSyncStands: the sync stored a final status and the callback
	// says otherwise: the sync is the source of truth, the callback is
	// ignored.
	OutcomeSyncStands
	// OutcomeOtherProject: the ledger holds the operation under another
	// project. Operation ids are ECommPay's, unique across projects: a
	// callback signed with one project's key does not take another's
	// operation (the sync, which asks each project for its own, does).
	OutcomeOtherProject
)

var outcomeNames = [...]string{"unchanged", "new", "updated", "older", "sync stands", "another project's"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome %d", o)
}

// Changes are the units a write of operations changed, each with the ids
// of its operations that changed (none for a unit an operation left: a
// payment id or a provider id it gave up): what it marked for the stored
// reconciliation, and what GatherUnits recomputes. A new operation is
// listed by no stored unit, so a reconcile of its payment must be handed
// its id.
type Changes map[domain.Unit][]uint64

// Add adds c's units and ids to ch.
func (ch Changes) Add(c Changes) {
	for u, ids := range c {
		ch[u] = append(ch[u], ids...)
	}
}

// UpsertCallbacks stores the operations of callbacks in one write
// transaction, as UpsertPage stores a page, with these differences: the
// statuses are the callback's (SourceCallback); a final status the sync
// stored stands against a callback that says otherwise; an operation the
// ledger holds under another project is left as it is
// (OutcomeOtherProject); and what happened to each operation is
// returned, in order, with the units the transaction changed. The same
// callback twice changes nothing. seen dates the status history.
func (l *Ledger) UpsertCallbacks(ops []domain.Operation, seen time.Time) ([]Outcome, Changes, error) {
	_, out, ch, err := l.upsert(ops, seen, SourceCallback)
	return out, ch, err
}

func (l *Ledger) upsert(ops []domain.Operation, seen time.Time, source Sources) (PageStats, []Outcome, Changes, error) {
	var st PageStats
	var outcomes []Outcome
	var changes Changes
	arena := arenas.Get().(*[]byte)
	defer func() {
		// bbolt has copied every key and value into its pages by the
		// time Update returns: the arena can serve the next page.
		if cap(*arena) <= 8<<20 {
			arenas.Put(arena)
		}
	}()
	err := l.update(func(tx *bolt.Tx) error {
		st = PageStats{}
		w := newWriter(tx, (*arena)[:0], len(ops))
		w.source = source
		if source == SourceCallback {
			outcomes = make([]Outcome, len(ops))
			changes = Changes{}
			w.changes = changes
		}
		defer func() { *arena = w.arena[:0] }()
		for i := range ops {
			o, err := w.upsert(&ops[i], seen.UTC(), &st)
			if err != nil {
				return err
			}
			if outcomes != nil {
				outcomes[i] = o
			}
		}
		if err := w.flushPending(); err != nil {
			return err
		}
		if err := w.marks.flush(); err != nil {
			return err
		}
		return w.flushCounts()
	})
	if err != nil {
		what := "store page"
		if source == SourceCallback {
			what = "store callbacks"
		}
		return PageStats{}, nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	return st, outcomes, changes, nil
}

// writer is the state of one UpsertPage transaction.
type writer struct {
	ops, idxPayment, idxProvider, counts *bolt.Bucket
	// arena holds every key and value put in this transaction: bbolt needs
	// them unchanged until commit. Growing the arena leaves earlier slices
	// pointing at the old array, which stays valid.
	arena []byte
	delta map[int64]*countDelta
	// wordDelta counts the types and statuses added and removed
	words     *bolt.Bucket
	wordDelta map[WordKey]int64
	// pending index keys of new operations, put sorted at the end
	pendingPayment, pendingProvider [][]byte
	marks                           *marker // the payments it changes, for the stored result
	// maxID is the largest operation id stored when the transaction began
	// (or put since): a larger id is new without a lookup. Operation ids
	// mostly grow, so most new operations skip a B-tree search.
	maxID uint64
	// source is who reports the operations: the sync or a callback.
	source Sources
	// changes, if not nil, gets every unit marked (UpsertCallbacks),
	// also while nothing is marked (no result stored yet).
	changes Changes
}

// mark marks unit u changed, ids being operations of it that changed.
func (w *writer) mark(u domain.Unit, ids ...uint64) {
	w.marks.op(u, ids...)
	if w.changes != nil && u != "" {
		w.changes[u] = append(w.changes[u], ids...)
	}
}

type countDelta struct{ ops, notFinal int64 }

// arenas recycles the writers' arenas (about 400 bytes an operation): a
// page's arena was a third of all the memory an ingest allocated.
var arenas = sync.Pool{New: func() any { return new([]byte) }}

func newWriter(tx *bolt.Tx, arena []byte, n int) *writer {
	r := root(tx)
	w := &writer{
		ops:         r.Bucket(bucketOps),
		idxPayment:  r.Bucket(bucketIdxPayment),
		idxProvider: r.Bucket(bucketIdxProvider),
		counts:      r.Bucket(bucketCounts),
		words:       r.Bucket(bucketWords),
		arena:       slices.Grow(arena[:0], n*450),
		source:      SourceSync,
		delta:       map[int64]*countDelta{},
		wordDelta:   map[WordKey]int64{},
		marks:       newMarker(tx),
	}
	if k, _ := w.ops.Cursor().Last(); len(k) == 8 {
		w.maxID = beUint64(k)
	}
	// Keys mostly grow (operation ids, hour partitions): pack pages fuller
	// than bbolt's default half, which is meant for random inserts.
	for _, b := range []*bolt.Bucket{w.ops, w.idxPayment, w.idxProvider} {
		b.FillPercent = 0.9
	}
	return w
}

// take returns arena[start:] as a slice that later appends cannot touch.
func (w *writer) take(start int) []byte { return w.arena[start:len(w.arena):len(w.arena)] }

func (w *writer) upsert(op *domain.Operation, seen time.Time, st *PageStats) (Outcome, error) {
	if err := op.Validate(); err != nil {
		return 0, err
	}
	// The ids are index key parts (a 16-bit length; bbolt refuses keys over
	// 32 KiB): the client refuses longer ones as they arrive, and so does
	// the ledger, naming the operation rather than bbolt's "key too large".
	for _, id := range [...]struct{ field, v string }{{"payment_id", op.PaymentID}, {"provider_payment_id", op.ProviderPaymentID}} {
		if len(id.v) > domain.MaxUpstreamIDBytes {
			return 0, fmt.Errorf("operation %d: its %s is %d bytes long, at most %d are stored", op.OperationID, id.field, len(id.v), domain.MaxUpstreamIDBytes)
		}
	}
	// The client masks card numbers as records arrive; whoever else calls,
	// none is stored in full (idempotent: a masked operation is unchanged).
	op, _ = maskOperation(op)
	start := len(w.arena)
	w.arena = be64(w.arena, op.OperationID)
	key := w.take(start)
	start = len(w.arena)
	w.arena = appendOp(w.arena, op)
	enc := w.take(start)

	var old []byte
	if op.OperationID <= w.maxID {
		old = w.ops.Get(key)
	}
	if old == nil {
		w.maxID = max(w.maxID, op.OperationID)
		start = len(w.arena)
		w.arena = appendRecordFrom(w.arena, enc, seen, seen, w.source, nil)
		if err := w.ops.Put(key, w.take(start)); err != nil {
			return 0, err
		}
		if err := w.index(op, nil); err != nil {
			return 0, err
		}
		w.count(op, 1)
		w.mark(domain.PaymentUnit(op.PaymentID), op.OperationID)
		st.New++
		return OutcomeNew, nil
	}
	oldEnc, rest, ver, err := opRecord(old)
	if err != nil {
		return 0, corruptOp(op.OperationID)
	}
	if bytes.Equal(oldEnc, enc) && (ver == recordVersion && w.source == SourceSync) {
		// Unchanged, if the rest of the stored record is whole: a
		// damaged one must be named, not passed over. (A sync-only
		// record: the fast way of every page of a sync.)
		if checkTail(rest, ver) != nil {
			return 0, corruptOp(op.OperationID)
		}
		st.Unchanged++
		return OutcomeUnchanged, nil
	}
	var prev Record
	if err := decodeRecord(old, op.OperationID, &prev); err != nil {
		return 0, corruptOp(op.OperationID)
	}
	if w.source == SourceCallback && prev.ProjectID != op.ProjectID {
		st.Unchanged++
		return OutcomeOtherProject, nil
	}
	same := bytes.Equal(oldEnc, enc)
	if same || sameStatus(&prev.Operation, op) && w.source == SourceCallback && prev.Final() && prev.StatusSources&SourceSync != 0 {
		// The statuses stand; only who reported them may be new. A
		// callback that agrees with the sync's final status keeps the
		// sync's fields (the source of truth).
		st.Unchanged++
		if prev.StatusSources&w.source == 0 {
			return OutcomeUnchanged, w.putTail(key, oldEnc, &prev, prev.StatusSources|w.source)
		}
		return OutcomeUnchanged, nil
	}
	if prev.Final() && !op.Final() && domain.Builtin.Known(domain.FieldOperationStatus, op.OperationStatus) {
		// An older view. A status the table does not know is stored
		// whatever came before: it must be seen and counted, not dropped.
		st.Unchanged++
		if w.source == SourceCallback {
			return OutcomeOlder, nil
		}
		return OutcomeUnchanged, nil
	}
	if w.source == SourceCallback && prev.Final() && prev.StatusSources&SourceSync != 0 {
		// The sync's final word stands: a callback is news before the
		// sync, never a correction of it.
		st.Unchanged++
		return OutcomeSyncStands, nil
	}
	earlier, since, sources := prev.Earlier, prev.StatusSince, prev.StatusSources|w.source
	if !sameStatus(&prev.Operation, op) {
		c := changeOf(&prev.Operation, prev.StatusSince)
		c.Sources = prev.StatusSources
		earlier = append(earlier, c)
		since, sources = seen, w.source
	}
	start = len(w.arena)
	w.arena = appendRecordFrom(w.arena, enc, prev.FirstSeen, since, sources, earlier)
	if err := w.ops.Put(key, w.take(start)); err != nil {
		return 0, err
	}
	if err := w.index(op, &prev.Operation); err != nil {
		return 0, err
	}
	w.count(&prev.Operation, -1)
	w.count(op, 1)
	w.mark(domain.PaymentUnit(op.PaymentID), op.OperationID)
	if prev.PaymentID != op.PaymentID {
		w.mark(domain.PaymentUnit(prev.PaymentID), op.OperationID) // the payment it left: its stored entry lists it
	}
	if prev.ProviderPaymentID != "" && prev.ProviderPaymentID != op.ProviderPaymentID {
		// The records that fell back to the id it gave up may now find
		// another operation carrying it (Gather follows the mark).
		w.mark(domain.ProviderUnit(prev.ProviderPaymentID))
	}
	st.Updated++
	return OutcomeUpdated, nil
}

// putTail stores prev again, its operation (enc) as it was, with the
// current statuses reported by sources: nothing the reconciliation reads
// changes, so nothing is marked or counted.
func (w *writer) putTail(key, enc []byte, prev *Record, sources Sources) error {
	start := len(w.arena)
	w.arena = appendRecordFrom(w.arena, enc, prev.FirstSeen, prev.StatusSince, sources, prev.Earlier)
	return w.ops.Put(key, w.take(start))
}

// index puts op's index entries, removing prev's where they differ.
func (w *writer) index(op, prev *domain.Operation) error {
	if err := w.reindex(w.idxPayment, paymentKey, op, prev); err != nil {
		return err
	}
	return w.reindex(w.idxProvider, providerKey, op, prev)
}

func (w *writer) reindex(b *bolt.Bucket, keyOf func([]byte, *domain.Operation) []byte, op, prev *domain.Operation) error {
	start := len(w.arena)
	w.arena = keyOf(w.arena, op)
	key := w.take(start)
	if prev == nil { // a new operation: queue its key for flushPending
		if len(key) == 0 {
			return nil
		}
		if b == w.idxPayment {
			w.pendingPayment = append(w.pendingPayment, key)
		} else {
			w.pendingProvider = append(w.pendingProvider, key)
		}
		return nil
	}
	// An update deletes keys, which may be queued: put the queue first.
	if err := w.flushPending(); err != nil {
		return err
	}
	old := keyOf(nil, prev)
	if bytes.Equal(old, key) {
		return nil
	}
	if len(old) > 0 {
		if err := b.Delete(old); err != nil {
			return err
		}
	}
	if len(key) == 0 {
		return nil
	}
	return b.Put(key, []byte{})
}

// flushPending puts the queued index keys of new operations, each index in
// key order: neighbouring keys land in the same leaf one after the other.
func (w *writer) flushPending() error {
	for _, p := range []struct {
		b    *bolt.Bucket
		keys *[][]byte
	}{{w.idxPayment, &w.pendingPayment}, {w.idxProvider, &w.pendingProvider}} {
		slices.SortFunc(*p.keys, bytes.Compare)
		for _, k := range *p.keys {
			if err := p.b.Put(k, []byte{}); err != nil {
				return err
			}
		}
		*p.keys = (*p.keys)[:0]
	}
	return nil
}

func (w *writer) count(op *domain.Operation, sign int64) {
	d := w.delta[op.ProjectID]
	if d == nil {
		d = &countDelta{}
		w.delta[op.ProjectID] = d
	}
	d.ops += sign
	if !op.Final() {
		d.notFinal += sign
	}
	for _, f := range domain.Fields {
		w.wordDelta[WordKey{f, f.Word(op)}] += sign
	}
}

func (w *writer) flushCounts() error {
	if err := putWordCounts(w.words, w.wordDelta); err != nil {
		return err
	}
	for project, d := range w.delta {
		if d.ops == 0 && d.notFinal == 0 {
			continue
		}
		key := be64(nil, uint64(project))
		c := decodeCounts(w.counts.Get(key))
		c.Operations += d.ops
		c.NotFinal += d.notFinal
		if err := w.counts.Put(key, encodeCounts(c)); err != nil {
			return err
		}
	}
	return nil
}

// Counts are a project's stored operations.
type Counts struct {
	Operations int64
	NotFinal   int64 // operations not in a final status yet
}

func encodeCounts(c Counts) []byte {
	b := binary.AppendVarint(nil, c.Operations)
	return binary.AppendVarint(b, c.NotFinal)
}

func decodeCounts(b []byte) Counts {
	r := reader{b: b}
	c := Counts{Operations: r.varint(), NotFinal: r.varint()}
	if r.err != nil {
		return Counts{}
	}
	return c
}

// The payment and provider indexes are partitioned by the operation's
// creation hour: a key starts with the hour, then the id. Merchant payment
// ids and provider ids are often random (UUIDs); without the hour, a page of
// 1000 new operations touches about 1000 leaf pages spread over the whole
// index, and bbolt rewrites every page it touches (ingest fell to 35,000
// operations/s at 300,000 stored). With a day it still rewrote a whole day
// of index per page. With the hour, a page touches the pages of an hour or
// two. A lookup pays two seeks per hour present (lookupByHour): about 35,000
// seeks, some 20 ms, for two years of data.

func hour(t time.Time) uint32 { return uint32(t.Unix() / 3600) }

func paymentKey(b []byte, op *domain.Operation) []byte {
	b = binary.BigEndian.AppendUint32(b, hour(op.CreatedAt))
	return paymentSuffix(b, op.ProjectID, op.PaymentID, op.OperationID)
}

func paymentSuffix(b []byte, project int64, paymentID string, opID uint64) []byte {
	b = be64(b, uint64(project))
	b = binary.BigEndian.AppendUint16(b, uint16(len(paymentID)))
	b = append(b, paymentID...)
	return be64(b, opID)
}

func providerKey(b []byte, op *domain.Operation) []byte {
	if op.ProviderPaymentID == "" {
		return b
	}
	b = binary.BigEndian.AppendUint32(b, hour(op.CreatedAt))
	return providerSuffix(b, op.ProviderPaymentID, op.OperationID)
}

func providerSuffix(b []byte, id string, opID uint64) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(id)))
	b = append(b, id...)
	return be64(b, opID)
}

// Get returns the stored record of one operation.
func (l *Ledger) Get(operationID uint64) (Record, bool, error) {
	var rec Record
	var found bool
	err := l.view(func(tx *bolt.Tx) error {
		v := root(tx).Bucket(bucketOps).Get(be64(nil, operationID))
		if v == nil {
			return nil
		}
		found = true
		if decodeRecord(v, operationID, &rec) != nil {
			return corruptOp(operationID)
		}
		return nil
	})
	return rec, found, err
}

// ByPayment returns the operations of one payment of one project, by
// creation hour, then operation id.
func (l *Ledger) ByPayment(projectID int64, paymentID string) ([]Record, error) {
	suffix := paymentSuffix(nil, projectID, paymentID, 0)
	return l.lookupByHour(bucketIdxPayment, suffix[:len(suffix)-8])
}

// ByProviderPaymentID returns the operations with this provider id.
func (l *Ledger) ByProviderPaymentID(id string) ([]Record, error) {
	if id == "" {
		return nil, nil
	}
	suffix := providerSuffix(nil, id, 0)
	return l.lookupByHour(bucketIdxProvider, suffix[:len(suffix)-8])
}

// lookupByHour finds the entries hour | prefix | operation_id of an
// hour-partitioned index: for each hour present, one seek to the prefix and
// one to the next hour.
func (l *Ledger) lookupByHour(bucket, prefix []byte) ([]Record, error) {
	var out []Record
	err := l.view(func(tx *bolt.Tx) error {
		ops := root(tx).Bucket(bucketOps)
		ids, err := idsByHour(root(tx).Bucket(bucket), bucket, prefix)
		if err != nil {
			return err
		}
		for _, id := range ids {
			v := ops.Get(be64(nil, id))
			if v == nil {
				return corrupt("the %s index points at operation %d, which is not stored", bucket, id)
			}
			var rec Record
			if err := decodeRecord(v, id, &rec); err != nil {
				return corruptOp(id)
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

// idsByHour returns the operation ids of the entries hour | prefix |
// operation_id of b, an hour-partitioned index (named name): for each hour
// present, one seek to the prefix and one to the next hour.
func idsByHour(b *bolt.Bucket, name, prefix []byte) ([]uint64, error) {
	var ids []uint64
	c := b.Cursor()
	probe := make([]byte, 4, 4+len(prefix))
	for k, _ := c.First(); k != nil; {
		if len(k) < 12 {
			return nil, corrupt("the %s index has an entry %x too short for an hour and an operation", name, k)
		}
		d := binary.BigEndian.Uint32(k)
		probe = append(binary.BigEndian.AppendUint32(probe[:0], d), prefix...)
		for k, _ = c.Seek(probe); k != nil && bytes.HasPrefix(k, probe) && len(k) == len(probe)+8; k, _ = c.Next() {
			ids = append(ids, beUint64(k[len(k)-8:]))
		}
		if d == math.MaxUint32 {
			break
		}
		k, _ = c.Seek(binary.BigEndian.AppendUint32(nil, d+1))
	}
	return ids, nil
}

// Range selects operations by creation time, From included, To excluded; a
// zero bound is open.
type Range struct {
	From, To time.Time
}

func (r Range) contains(t time.Time) bool {
	return !t.Before(r.From) && (r.To.IsZero() || t.Before(r.To))
}

// ForEach calls fn for every operation created in r, oldest first (ties by
// operation id), inside one read transaction. fn must not keep op.
//
// There is no separate time index: the payment index starts with the
// creation hour, so ForEach reads it hour by hour and orders each hour's
// operations in memory. A time index of its own cost ingest a fifth of its
// speed (one more B-tree insert per operation) for no better order.
//
// An hour's operations are fetched in id order with one cursor (hourBatch):
// ids grow with time, so the next one is most often the next key, and a
// step is far cheaper than a search from the root (Bucket.Get's, which
// also allocates its cursor). Their strings are copied into shared blocks
// (arena), not one allocation per operation.
func (l *Ledger) ForEach(ctx context.Context, r Range, fn func(op *domain.Operation) error) error {
	return l.forEach(ctx, r, 0, fn)
}

// ForEachInChunks is ForEach in read transactions of about every
// operations each (whole hours of them: an hour is never split, so each
// operation is called once), for a long pass that must not hold one
// transaction throughout: bbolt's remap (a write that grows the file)
// waits for every reader, and every reader after it waits too. What it
// reads is not one state of the database when a write lands between two
// chunks; a caller that labels its result with the Generation read
// before the pass sees that it moved on.
func (l *Ledger) ForEachInChunks(ctx context.Context, r Range, every int, fn func(op *domain.Operation) error) error {
	return l.forEach(ctx, r, max(every, 1), fn)
}

// forEach is ForEach, in transactions of about every operations (whole
// hours) when every > 0.
func (l *Ledger) forEach(ctx context.Context, r Range, every int, fn func(op *domain.Operation) error) error {
	start, resume := uint32(0), !r.From.IsZero()
	if resume {
		start = hour(r.From)
	}
	h := hourBatch{r: r} // its buffers serve every transaction; fn keeps no op
	for {
		more := false
		err := l.view(func(tx *bolt.Tx) error {
			c := root(tx).Bucket(bucketIdxPayment).Cursor()
			var k []byte
			if resume {
				k, _ = c.Seek(binary.BigEndian.AppendUint32(nil, start))
			} else {
				k, _ = c.First()
			}
			h.ops, h.fees, h.fk, h.fv, h.ids = root(tx).Bucket(bucketOps).Cursor(), nil, nil, nil, h.ids[:0]
			if fb := root(tx).Bucket(bucketFees); fb != nil { // nil: a database from before fees, read-only
				if fc := fb.Cursor(); func() bool { k, _ := fc.First(); return k != nil }() {
					h.fees = fc // the fee of each, where one is stored (fees.go)
				}
			}
			var cur uint32
			n := 0
			for ; k != nil; k, _ = c.Next() {
				if n++; n%releaseEvery == 0 {
					release(tx)
				}
				if len(k) < 12 {
					return corrupt("the payment index has an entry %x too short for an hour and an operation", k)
				}
				hr := binary.BigEndian.Uint32(k)
				if hr != cur && len(h.ids) > 0 {
					if err := h.flush(fn); err != nil {
						return err
					}
					if err := ctx.Err(); err != nil {
						return err
					}
					if every > 0 && n > every { // the next transaction starts at this hour
						start, resume, more = hr, true, true
						release(tx)
						return nil
					}
				}
				cur = hr
				if !r.To.IsZero() && !time.Unix(int64(hr)*3600, 0).Before(r.To) {
					break
				}
				h.ids = append(h.ids, beUint64(k[len(k)-8:]))
			}
			if err := h.flush(fn); err != nil {
				return err
			}
			return ctx.Err()
		})
		if err != nil || !more {
			return err
		}
	}
}

// hourBatch is one hour of ForEach: the ids the payment index holds for
// it, then their operations, decoded, and the order to call fn in.
type hourBatch struct {
	ops   *bolt.Cursor
	fees  *bolt.Cursor // nil: no fee stored
	fk    []byte       // where fees stands (nil: past the end)
	fv    []byte
	r     Range
	ids   []uint64
	batch []domain.Operation
	order []createdKey
	arena arena
	key   [8]byte
}

// createdKey is what ForEach orders by, and where the operation is.
type createdKey struct {
	sec  int64
	id   uint64
	nsec int32
	i    int32
}

// flush fetches and decodes the hour's operations, keeps those in the
// range and calls fn on them in order.
func (h *hourBatch) flush(fn func(op *domain.Operation) error) error {
	slices.Sort(h.ids)
	h.batch, h.order = h.batch[:0], h.order[:0]
	var k, v []byte
	for i, id := range h.ids {
		key := binary.BigEndian.AppendUint64(h.key[:0], id)
		if i == 0 {
			k, v = h.ops.Seek(key)
		} else {
			// Step to the next stored id; search only if it is far.
			for steps := 0; k != nil && bytes.Compare(k, key) < 0; steps++ {
				if steps == 8 {
					k, v = h.ops.Seek(key)
					break
				}
				k, v = h.ops.Next()
			}
		}
		if k == nil || !bytes.Equal(k, key) {
			return corrupt("the payment index points at operation %d, which is not stored", id)
		}
		enc, rest, ver, err := opRecord(v)
		if err != nil || checkTail(rest, ver) != nil {
			return corruptOp(id)
		}
		h.batch = append(h.batch, domain.Operation{})
		op := &h.batch[len(h.batch)-1]
		r := reader{b: enc, s: h.arena.copy(enc), n: len(enc)}
		if err := r.op(id, op); err != nil {
			return corruptOp(id)
		}
		if h.fees != nil {
			if err := h.feeOf(i == 0, key, op); err != nil {
				return err
			}
		}
		if !h.r.contains(op.CreatedAt) {
			h.batch = h.batch[:len(h.batch)-1]
			continue
		}
		h.order = append(h.order, createdKey{sec: op.CreatedAt.Unix(), nsec: int32(op.CreatedAt.Nanosecond()), id: id, i: int32(len(h.batch) - 1)})
	}
	h.ids = h.ids[:0]
	slices.SortFunc(h.order, func(a, b createdKey) int {
		if c := cmp.Compare(a.sec, b.sec); c != 0 {
			return c
		}
		if c := cmp.Compare(a.nsec, b.nsec); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	for _, o := range h.order {
		if err := fn(&h.batch[o.i]); err != nil {
			return err
		}
	}
	return nil
}

// feeOf sets op's fee from the fees cursor, moved to key as the
// operations' cursor is: a step, or a search when far or first.
func (h *hourBatch) feeOf(first bool, key []byte, op *domain.Operation) error {
	if first { // an hour's first id: ids go up within an hour only
		h.fk, h.fv = h.fees.Seek(key)
	}
	for steps := 0; h.fk != nil && bytes.Compare(h.fk, key) < 0; steps++ {
		if steps == 8 {
			h.fk, h.fv = h.fees.Seek(key)
			break
		}
		h.fk, h.fv = h.fees.Next()
	}
	if h.fk == nil || !bytes.Equal(h.fk, key) {
		return nil
	}
	fee, _, err := decodeFee(h.fv)
	if err != nil {
		return corrupt("the fee of operation %d does not decode", op.OperationID)
	}
	op.Fee = fee
	return nil
}

// ForEachByID calls fn for every operation in operation id order, inside
// one read transaction: the fastest way through all of them when the order
// does not matter (the reconciliation groups them itself). fn must not
// keep op.
func (l *Ledger) ForEachByID(ctx context.Context, fn func(op *domain.Operation) error) error {
	return l.forEachByID(ctx, false, fn)
}

// ForEachByIDLean is ForEachByID with what the reconciliation reads: no
// account number or customer id, and the strings copied into blocks
// shared by many operations instead of each operation's stored bytes kept
// whole (at a million operations, 150 MB of a full recompute's input).
// fn must not keep op, but may keep its strings.
func (l *Ledger) ForEachByIDLean(ctx context.Context, fn func(op *domain.Operation) error) error {
	return l.forEachByID(ctx, true, fn)
}

func (l *Ledger) forEachByID(ctx context.Context, lean bool, fn func(op *domain.Operation) error) error {
	return l.view(func(tx *bolt.Tx) error {
		var op domain.Operation
		var a *arena
		if lean {
			a = &arena{}
		}
		// The fees (fees.go), in the same id order: a merge of two cursors.
		var fc *bolt.Cursor
		var fk, fv []byte
		if b := root(tx).Bucket(bucketFees); b != nil {
			fc = b.Cursor()
			if fk, fv = fc.First(); fk == nil {
				fc = nil
			}
		}
		n := 0
		return root(tx).Bucket(bucketOps).ForEach(func(k, v []byte) error {
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if n%releaseEvery == 0 {
				release(tx)
			}
			if len(k) != 8 {
				return corrupt("operation key %x is not 8 bytes", k)
			}
			enc, rest, ver, err := opRecord(v)
			if err != nil || checkTail(rest, ver) != nil {
				return corruptOp(beUint64(k))
			}
			var fee domain.Money
			for fc != nil && fk != nil && bytes.Compare(fk, k) < 0 {
				fk, fv = fc.Next()
			}
			if fc != nil && bytes.Equal(fk, k) {
				if fee, _, err = decodeFee(fv); err != nil {
					return corrupt("the fee of operation %d does not decode", beUint64(k))
				}
			}
			var r reader
			if lean {
				r = reader{b: enc, a: a, lean: true}
			} else {
				r = sharedReader(enc)
			}
			if err := r.op(beUint64(k), &op); err != nil {
				return corruptOp(beUint64(k))
			}
			op.Fee = fee
			return fn(&op)
		})
	})
}

// Counts returns the stored operations per project.
func (l *Ledger) Counts() (map[int64]Counts, error) {
	out := map[int64]Counts{}
	err := l.view(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketCounts).ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return corrupt("counts key %x is not 8 bytes", k)
			}
			out[int64(binary.BigEndian.Uint64(k))] = decodeCounts(v)
			return nil
		})
	})
	return out, err
}

// maxYield bounds how long a sync's page waits for the callbacks before it
// begins its transaction.
const maxYield = 20 * time.Millisecond

// CallbacksWaiting counts callbacks received and not committed yet (n may
// be negative): while there are any, a sync's next page waits for them
// (up to maxYield), so that a callback's 200 does not wait behind it.
func (l *Ledger) CallbacksWaiting(n int) { l.g.callbacks.Add(int64(n)) }

// CallbacksPending is how many callbacks are counted as waiting.
func (l *Ledger) CallbacksPending() int64 { return l.g.callbacks.Load() }

func (l *Ledger) yieldToCallbacks() {
	for start := time.Now(); l.g.callbacks.Load() > 0 && time.Since(start) < maxYield; {
		time.Sleep(200 * time.Microsecond)
	}
}
