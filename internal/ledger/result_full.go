package ledger

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// A full recompute writes a new result beside the old one, in
// transactions of at most fullChunk bytes of items, under result.new/;
// its last transaction moves it into place (the old one to result.old/,
// deleted in a transaction after), with the state, the consumed marks and
// the re-openings. A process killed before that leaves the old result
// intact and a partial result.new/, which the next full recompute deletes
// first. So memory stays that of one chunk, not of a million items.

var (
	bucketResultNew = []byte("result.new")
	bucketResultOld = []byte("result.old")
)

// fullChunk is how many bytes of items one transaction of a full write
// puts: a few megabytes of pages to commit at a time.
var fullChunk = 16 << 20 // a variable for the tests

// FullWriter writes a whole new result (BeginFull, Add, Finish).
type FullWriter struct {
	Seq     uint64 // the dirty marks at BeginFull: Finish consumes those
	l       *Ledger
	st      ResultState
	arena   []byte      // this chunk's keys and values
	pending [][2][]byte // this chunk's items, in key order
	parts   []unitPart
	keys    []byte   // every item key, each parts[i] a range of it
	ops     []uint64 // every group's operation ids, ranges of it
	times   [][2][]byte
	last    []byte // the last key put: keys must grow
	writer  []byte // its mark in result.new/
	gen     uint64 // the stored result's generation at BeginFull
	// The committing goroutine: chunks to commit, spent chunks back, its
	// end (nil, or the error it stopped at), and that error once seen.
	chunks, spent chan chunk
	done          chan error
	err           error
}

// unitPart is what one Add says of one unit: its item keys and
// operation ids (keys[keyFrom:keyTo] as appendString's, ops[opFrom:opTo]).
type unitPart struct {
	unit           domain.Unit
	keyFrom, keyTo int
	opFrom, opTo   int
}

// BeginFull starts a full write, deleting what a killed one left, and
// from now on has writers mark what they change: the data read after it
// is what the write covers, and its Seq the marks it consumes.
func (l *Ledger) BeginFull() (*FullWriter, error) {
	var seq, gen uint64
	var writer []byte
	err := l.update(func(tx *bolt.Tx) error {
		r := root(tx)
		if err := r.Bucket(bucketMeta).Put(keyMarking, []byte{1}); err != nil {
			return err
		}
		seq, gen = r.Bucket(bucketDirty).Sequence(), resultGen(r.Bucket(bucketResult))
		for _, name := range [][]byte{bucketResultNew, bucketResultOld} {
			if r.Bucket(name) != nil {
				if err := r.DeleteBucket(name); err != nil {
					return err
				}
			}
		}
		staging, err := r.CreateBucket(bucketResultNew)
		if err != nil {
			return err
		}
		writer = be64(nil, uint64(tx.ID()))
		if err := staging.Put(keyWriter, writer); err != nil {
			return err
		}
		res, err := staging.CreateBucket(bucketResult)
		if err != nil {
			return err
		}
		for _, name := range [][]byte{resultItems, resultUnits, resultDue, resultAsk, resultFallback} {
			if _, err := res.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store the reconciliation: %w", err)
	}
	return &FullWriter{l: l, Seq: seq, gen: gen, writer: writer, st: ResultState{Counts: map[string]int{}, Amounts: map[string]map[string]int64{},
		PerCurrency: map[string]map[string]int{}}}, nil
}

// staged is the result f is writing, in tx; nil when another full write
// took its place.
func (f *FullWriter) staged(tx *bolt.Tx) *bolt.Bucket {
	s := root(tx).Bucket(bucketResultNew)
	if s == nil || !bytes.Equal(s.Get(keyWriter), f.writer) {
		return nil
	}
	return s.Bucket(bucketResult)
}

// keyWriter names, in result.new/, the full write that made it.
var keyWriter = []byte("writer")

// LockResult lets one reconcile at a time of this process compute and
// store the result (other processes are kept out by the file's lock): a
// full recompute and an incremental one overlapping would store the
// older of the two. It returns the unlock.
func (l *Ledger) LockResult() func() {
	l.g.result.Lock()
	return l.g.result.Unlock
}

// Add takes the items of one payment (or one set of records without a
// payment) in the engine's order, with their places and the payment's
// operation ids (reconcile.Sink).
func (f *FullWriter) Add(owner domain.Unit, items []domain.Item, places []domain.Place, opIDs []uint64) error {
	if len(items) == 0 && len(opIDs) == 0 {
		return nil
	}
	s := &resultWriter{st: &f.st}
	part := unitPart{unit: owner, keyFrom: len(f.keys), opFrom: len(f.ops)}
	for i := range items {
		it, p := &items[i], places[i]
		if p.Owner != owner {
			return fmt.Errorf("store the reconciliation: items of %q and %q in one part", owner, p.Owner)
		}
		if f.last != nil && p.Key <= string(f.last) {
			return fmt.Errorf("store the reconciliation: item keys out of order (%x after %x)", p.Key, f.last)
		}
		start := len(f.arena)
		f.arena = append(f.arena, p.Key...)
		k := f.arena[start:len(f.arena):len(f.arena)]
		start = len(f.arena)
		f.arena = appendItem(f.arena, it)
		f.pending = append(f.pending, [2][]byte{k, f.arena[start:len(f.arena):len(f.arena)]})
		f.last = k
		s.count(it, 1)
		f.keys = appendString(f.keys, p.Key)
		if !it.Due.IsZero() {
			f.times = append(f.times, [2][]byte{append([]byte{'d'}, timeKey(it.Due, p.Key)...), []byte(p.Owner)})
		}
		if !it.AskAt.IsZero() {
			f.times = append(f.times, [2][]byte{append([]byte{'a'}, timeKey(it.AskAt, p.Key)...), askValue(it)})
		}
	}
	f.ops = append(f.ops, opIDs...)
	part.keyTo, part.opTo = len(f.keys), len(f.ops)
	f.parts = append(f.parts, part)
	if len(f.arena) >= fullChunk {
		return f.flush()
	}
	return nil
}

// chunk is one transaction's items, handed to the committing goroutine.
type chunk struct {
	arena   []byte
	pending [][2][]byte
}

// flush hands the pending items to the goroutine that commits them (one
// transaction each, in order), and takes back a spent chunk to fill: the
// engine makes the next chunk on one core while the other commits.
func (f *FullWriter) flush() error {
	if len(f.pending) == 0 {
		return f.failed()
	}
	if f.chunks == nil {
		f.chunks, f.spent, f.done = make(chan chunk, 1), make(chan chunk, 2), make(chan error, 1)
		f.spent <- chunk{}
		go f.commit(f.chunks, f.spent, f.done)
	}
	if err := f.failed(); err != nil {
		return err
	}
	f.chunks <- chunk{f.arena, f.pending}
	next := <-f.spent
	f.arena, f.pending = next.arena[:0], next.pending[:0]
	f.last = bytes.Clone(f.last) // its arena is the committer's now
	return nil
}

// failed is the committer's error, if it stopped.
func (f *FullWriter) failed() error {
	if f.err != nil {
		return f.err
	}
	select {
	case err := <-f.done:
		f.err = err
		if err == nil { // it never stops early without an error
			f.err = fmt.Errorf("store the reconciliation: the writer stopped")
		}
		return f.err
	default:
		return nil
	}
}

// commit puts each chunk in a transaction of its own until the chunks
// end or one fails.
func (f *FullWriter) commit(chunks <-chan chunk, spent chan<- chunk, done chan<- error) {
	for c := range chunks {
		err := f.l.update(func(tx *bolt.Tx) error {
			res := f.staged(tx)
			if res == nil {
				return fmt.Errorf("the reconciliation being stored is gone (another full reconcile started)")
			}
			b := res.Bucket(resultItems)
			b.FillPercent = 1
			for _, kv := range c.pending {
				if err := b.Put(kv[0], kv[1]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			done <- fmt.Errorf("store the reconciliation: %w", err)
			for range chunks { // let flush and drain go on
				spent <- chunk{}
			}
			return
		}
		// bbolt has copied every key and value into its pages.
		spent <- c
	}
	done <- nil
}

// drain hands the last items over and waits for every chunk's commit.
func (f *FullWriter) drain() error {
	if err := f.flush(); err != nil {
		return err
	}
	if f.chunks == nil {
		return nil
	}
	close(f.chunks)
	if f.err != nil {
		return f.err
	}
	f.err = <-f.done
	return f.err
}

// Finish writes the units' entries and the indexes, and makes the new
// result the stored one with w's time, settings, links, fallbacks and
// re-openings, consuming the marks up to Seq (w's Items, Places, Ops,
// Units and Seq are not read: Add had them).
func (f *FullWriter) Finish(w ResultWrite) (ResultState, error) {
	if err := f.drain(); err != nil {
		return ResultState{}, err
	}
	// The units' entries, in key order: parts of one unit (another
	// project's payment of the same id, its records without an
	// operation) merged.
	order := make([]int32, len(f.parts))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Or(cmp.Compare(f.parts[a].unit, f.parts[b].unit), cmp.Compare(a, b)) })
	extra := map[domain.Unit]*unitEntry{} // links and vias, merged into the entries
	get := func(u domain.Unit) *unitEntry {
		if extra[u] == nil {
			extra[u] = &unitEntry{}
		}
		return extra[u]
	}
	for _, l := range w.Links {
		get(l[0]).links = append(get(l[0]).links, l[1])
		get(l[1]).links = append(get(l[1]).links, l[0])
	}
	for _, fb := range w.Fallbacks {
		get(fb.Owner).vias = append(get(fb.Owner).vias, fb.Via)
	}
	type kv struct {
		k string
		v []byte
	}
	var entries []kv
	var e unitEntry
	emit := func(u domain.Unit) {
		if x := extra[u]; x != nil {
			e.links, e.vias = x.links, x.vias
			delete(extra, u)
		}
		for _, us := range []*[]domain.Unit{&e.links, &e.vias} {
			slices.Sort(*us)
			*us = slices.Compact(*us)
		}
		slices.Sort(e.ops)
		e.ops = slices.Compact(e.ops)
		if !e.empty() {
			entries = append(entries, kv{string(u), appendUnit(nil, &e)})
		}
		e = unitEntry{}
	}
	for i, pi := range order {
		p := &f.parts[pi]
		r := reader{b: f.keys[p.keyFrom:p.keyTo]}
		for len(r.b) > 0 && r.err == nil {
			e.items = append(e.items, r.string())
		}
		e.ops = append(e.ops, f.ops[p.opFrom:p.opTo]...)
		if i+1 == len(order) || f.parts[order[i+1]].unit != p.unit {
			emit(p.unit)
		}
	}
	// Units with links and no item of their own (few) go in their places.
	if len(extra) > 0 {
		rest := make([]domain.Unit, 0, len(extra))
		for u := range extra {
			rest = append(rest, u)
		}
		slices.Sort(rest)
		sorted := entries
		entries = nil
		for _, u := range rest {
			emit(u)
		}
		more := entries
		entries = make([]kv, 0, len(sorted)+len(more))
		for len(sorted) > 0 || len(more) > 0 {
			if len(more) == 0 || len(sorted) > 0 && sorted[0].k < more[0].k {
				entries, sorted = append(entries, sorted[0]), sorted[1:]
			} else {
				entries, more = append(entries, more[0]), more[1:]
			}
		}
	}
	f.parts, f.keys, f.ops = nil, nil, nil
	slices.SortFunc(f.times, func(a, b [2][]byte) int { return bytes.Compare(a[0], b[0]) })
	// In chunks too: a million entries are tens of megabytes.
	for len(entries) > 0 {
		n, size := 0, 0
		for n < len(entries) && size < fullChunk {
			size += len(entries[n].k) + len(entries[n].v)
			n++
		}
		chunk := entries[:n]
		entries = entries[n:]
		err := f.l.update(func(tx *bolt.Tx) error {
			res := f.staged(tx)
			if res == nil {
				return fmt.Errorf("the reconciliation being stored is gone (another full reconcile started)")
			}
			b := res.Bucket(resultUnits)
			b.FillPercent = 1
			for _, e := range chunk {
				if err := b.Put([]byte(e.k), e.v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return ResultState{}, fmt.Errorf("store the reconciliation: %w", err)
		}
	}
	st := f.st
	st.At, st.Config, st.Full = w.At, w.Config, w.At
	err := f.l.update(func(tx *bolt.Tx) error {
		r := root(tx)
		if f.staged(tx) == nil {
			return fmt.Errorf("the reconciliation being stored is gone (another full reconcile started)")
		}
		if resultGen(r.Bucket(bucketResult)) != f.gen {
			return ErrResultMoved
		}
		// Moved first, written after: with bbolt 1.5.0, what this
		// transaction put into the staged bucket before moving it did
		// not survive the move.
		if r.Bucket(bucketResult) != nil {
			if err := r.MoveBucket(bucketResult, mustCreate(r, bucketResultOld)); err != nil {
				return err
			}
		}
		if err := r.Bucket(bucketResultNew).MoveBucket(bucketResult, r); err != nil {
			return err
		}
		if err := r.DeleteBucket(bucketResultNew); err != nil {
			return err
		}
		res := r.Bucket(bucketResult)
		if err := res.SetSequence(f.gen + 1); err != nil { // the generation goes on over a full rewrite
			return err
		}
		due, ask, fb := res.Bucket(resultDue), res.Bucket(resultAsk), res.Bucket(resultFallback)
		for _, t := range f.times {
			b := due
			if t[0][0] == 'a' {
				b = ask
			}
			if err := b.Put(t[0][1:], t[1]); err != nil {
				return err
			}
		}
		for _, x := range w.Fallbacks {
			if err := fb.Put(fallbackKey(x.Via, x.Owner), nil); err != nil {
				return err
			}
		}
		st.Recomputed = res.Bucket(resultUnits).Stats().KeyN
		for k, n := range st.Counts {
			if n <= 0 {
				delete(st.Counts, k)
				delete(st.Amounts, k)
				delete(st.PerCurrency, k)
			}
		}
		if err := consumeMarks(r.Bucket(bucketDirty), ResultWrite{Full: true, Seq: f.Seq}); err != nil {
			return err
		}
		return putState(tx, res, st, &w)
	})
	if err != nil {
		return ResultState{}, fmt.Errorf("store the reconciliation: %w", err)
	}
	// The old result's pages go free in a transaction of their own: the
	// new one is stored whatever happens to it.
	err = f.l.update(func(tx *bolt.Tx) error {
		if root(tx).Bucket(bucketResultOld) == nil {
			return nil
		}
		return root(tx).DeleteBucket(bucketResultOld)
	})
	f.l.ReleaseMemory()
	return st, err
}

// mustCreate is the bucket name of r, made if missing (errors surface at
// the move that follows).
func mustCreate(r *bolt.Bucket, name []byte) *bolt.Bucket {
	b, _ := r.CreateBucketIfNotExists(name)
	return b
}

// askValue is an ask/ entry's value.
func askValue(it *domain.Item) []byte {
	v := be64(nil, uint64(it.ProjectID))
	return appendString(appendWord(appendWord(v, it.Type), it.AskMethod), it.PaymentID)
}

// Abort gives a full write up: the old result stays; result.new/ goes at
// the next full write. It waits for the chunk being committed.
func (f *FullWriter) Abort() {
	if f.chunks != nil {
		close(f.chunks)
		if f.err == nil {
			<-f.done
		}
		f.chunks = nil
	}
	f.pending, f.parts = nil, nil
}
