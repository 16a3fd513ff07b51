package ledger

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"runtime/debug"
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
	Seq      uint64 // the dirty marks at BeginFull: Finish consumes those
	l        *Ledger
	st       ResultState
	arena    []byte      // this chunk's blocks of items (blocks.go)
	pending  [][2][]byte // this chunk's blocks, each its first key and itself, in key order
	block    int         // where the block being filled starts in arena (open)
	blockKey []byte      // its first key
	open     bool
	item     []byte // an item encoded
	parts    []unitPart
	keys     []byte   // every item key, each parts[i] a range of it
	ops      []uint64 // every group's operation ids, ranges of it
	times    [][2][]byte
	arenaCap int // a chunk's arena capacity (Expect; a full chunk's without)
	units    int // the units' entries encodeUnits wrote
	// The items' counts and amounts by result and currency, folded into
	// st at Finish; the last one used kept at hand (items of a result
	// and currency come in runs).
	tallies map[tallyKey]*tallyOf
	lastKey tallyKey
	lastOf  *tallyOf
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
// operation ids, where the part before it ends and it ends (keysOf,
// opsOf): parts follow each other in keys and ops. 24 bytes, not 48: a
// full recompute holds a million until Finish.
type unitPart struct {
	unit        domain.Unit
	keyTo, opTo uint32
}

// keysOf is part i's item keys (appendString's).
func (f *FullWriter) keysOf(i int32) []byte {
	from := uint32(0)
	if i > 0 {
		from = f.parts[i-1].keyTo
	}
	return f.keys[from:f.parts[i].keyTo]
}

// opsOf is part i's operation ids.
func (f *FullWriter) opsOf(i int32) []uint64 {
	from := uint32(0)
	if i > 0 {
		from = f.parts[i-1].opTo
	}
	return f.ops[from:f.parts[i].opTo]
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
		if err := res.Put(keyBlocks, []byte{1}); err != nil {
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

// Expect tells f how many operations and records the engine reads, before
// the first Add: the bookkeeping kept until Finish (a part per unit, every
// item key, every operation id) is then made at about its size once, not
// grown by append through a dozen copies (a tenth of a full recompute's
// CPU went to growing slices).
func (f *FullWriter) Expect(ops, records int) {
	units := ops + records // at most: a payment, or records without one
	f.parts = make([]unitPart, 0, units)
	f.ops = make([]uint64, 0, ops)
	f.keys = make([]byte, 0, 16*max(ops, records)) // 13-14 bytes an item at a million
	f.arenaCap = chunkCap(256 * units)             // items are about 180 bytes
}

// chunkCap is the capacity of a chunk's buffer for about want bytes: a
// full chunk's at most (a small recompute does not allocate the chunks
// of a million items).
func chunkCap(want int) int { return min(fullChunk+fullChunk/8, want+4096) }

// Add takes the items of one payment (or one set of records without a
// payment) in the engine's order, with their places and the payment's
// operation ids (reconcile.Sink).
func (f *FullWriter) Add(owner domain.Unit, items []domain.Item, places []domain.Place, opIDs []uint64) error {
	if len(items) == 0 && len(opIDs) == 0 {
		return nil
	}
	if f.arena == nil {
		// A chunk's arena is made at its size once (a full chunk's, or
		// what Expect's counts need when that is less): grown by append,
		// every smaller array it outgrew stayed alive through the chunk's
		// pending slices, twice the chunk for each of the three in flight
		// (the one filled, the one handed over, the one committed): 185 of
		// a full recompute's 660 MB at a million items.
		if f.arenaCap == 0 { // no Expect: as for a million
			f.arenaCap = chunkCap(fullChunk + fullChunk/8)
		}
		f.arena = make([]byte, 0, f.arenaCap)
	}
	part := unitPart{unit: owner}
	for i := range items {
		it, p := &items[i], places[i]
		if p.Owner != owner {
			return fmt.Errorf("store the reconciliation: items of %q and %q in one part", owner, p.Owner)
		}
		if f.last != nil && p.Key <= string(f.last) {
			return fmt.Errorf("store the reconciliation: item keys out of order (%x after %x)", p.Key, f.last)
		}
		f.item = appendItem(f.item[:0], it)
		if f.open && len(f.arena)-f.block+2*binary.MaxVarintLen32+len(p.Key)+len(f.item) > itemBlockBytes {
			f.closeBlock()
		}
		entry := len(f.arena)
		f.arena = binary.AppendUvarint(f.arena, uint64(len(p.Key)))
		start := len(f.arena)
		f.arena = append(f.arena, p.Key...)
		k := f.arena[start:len(f.arena):len(f.arena)]
		if !f.open {
			f.block, f.blockKey, f.open = entry, k, true
		}
		f.arena = binary.AppendUvarint(f.arena, uint64(len(f.item)))
		f.arena = append(f.arena, f.item...)
		f.last = k
		f.tally(it)
		f.keys = appendString(f.keys, p.Key)
		if !it.Due.IsZero() {
			f.times = append(f.times, [2][]byte{append([]byte{'d'}, timeKey(it.Due, p.Key)...), []byte(p.Owner)})
		}
		if !it.AskAt.IsZero() {
			f.times = append(f.times, [2][]byte{append([]byte{'a'}, timeKey(it.AskAt, p.Key)...), askValue(it)})
		}
	}
	f.ops = append(f.ops, opIDs...)
	if len(f.keys) > math.MaxUint32 || len(f.ops) > math.MaxUint32 {
		return fmt.Errorf("store the reconciliation: more than 4 GB of item keys or 4 billion operations")
	}
	part.keyTo, part.opTo = uint32(len(f.keys)), uint32(len(f.ops))
	f.parts = append(f.parts, part)
	if len(f.arena) >= fullChunk {
		return f.flush()
	}
	return nil
}

// tallyKey and tallyOf are a result and currency and their items' count
// and amount.
type tallyKey struct{ result, currency string }
type tallyOf struct {
	items  int
	amount int64
}

// tally counts an item into f's tallies: what resultWriter.count does for
// a write, without its five lookups of maps by string for each of a
// million items.
func (f *FullWriter) tally(it *domain.Item) {
	m := it.Amount()
	k := tallyKey{it.Result, m.Currency}
	if f.lastOf == nil || k != f.lastKey {
		if f.tallies == nil {
			f.tallies = map[tallyKey]*tallyOf{}
		}
		if f.tallies[k] == nil {
			f.tallies[k] = &tallyOf{}
		}
		f.lastKey, f.lastOf = k, f.tallies[k]
	}
	f.lastOf.items++
	f.lastOf.amount += m.Amount
}

// foldTallies adds f's tallies into its state, as resultWriter.count
// would have item by item.
func (f *FullWriter) foldTallies() {
	for k, t := range f.tallies {
		f.st.Items += t.items
		f.st.Counts[k.result] += t.items
		if f.st.Amounts[k.result] == nil {
			f.st.Amounts[k.result], f.st.PerCurrency[k.result] = map[string]int64{}, map[string]int{}
		}
		f.st.Amounts[k.result][k.currency] += t.amount
		f.st.PerCurrency[k.result][k.currency] += t.items
	}
	f.tallies, f.lastOf = nil, nil
}

// closeBlock ends the block being filled.
func (f *FullWriter) closeBlock() {
	f.pending = append(f.pending, [2][]byte{f.blockKey, f.arena[f.block:len(f.arena):len(f.arena)]})
	f.open = false
}

// chunk is one transaction's blocks of items, handed to the committing goroutine.
type chunk struct {
	arena   []byte
	pending [][2][]byte
}

// flush hands the pending items to the goroutine that commits them (one
// transaction each, in order), and takes back a spent chunk to fill: the
// engine makes the next chunk on one core while the other commits.
func (f *FullWriter) flush() error {
	if f.open {
		f.closeBlock()
	}
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
// The committer ends whatever happens: a failure flush reports (one it
// saw in a chunk handed over before) would otherwise leave it waiting
// for chunks, holding the writer, for the process's life.
func (f *FullWriter) drain() error {
	err := f.flush()
	f.stop()
	if err != nil {
		return err
	}
	return f.err
}

// stop tells the committer no chunk follows and waits for the commit of
// the last one handed over, unless it stopped at an error already.
func (f *FullWriter) stop() {
	if f.chunks == nil {
		return
	}
	close(f.chunks)
	f.chunks = nil
	if f.err == nil {
		f.err = <-f.done
	}
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
	// operation) merged, and the links and vias of w beside them. One
	// goroutine encodes them into chunks while this one puts the chunks,
	// a transaction each: a million entries are tens of megabytes.
	order := f.sortedParts()
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
	chunks := make(chan entryChunk, 1)
	go f.encodeUnits(order, extra, chunks)
	var err error
	for c := range chunks {
		if err != nil {
			continue // let the encoder finish
		}
		err = f.l.update(func(tx *bolt.Tx) error {
			res := f.staged(tx)
			if res == nil {
				return fmt.Errorf("the reconciliation being stored is gone (another full reconcile started)")
			}
			b := res.Bucket(resultUnits)
			b.FillPercent = 1
			from := 0
			for i := 0; i < len(c.ends); i += 2 {
				if err := b.Put(c.buf[from:c.ends[i]], c.buf[c.ends[i]:c.ends[i+1]]); err != nil {
					return err
				}
				from = c.ends[i+1]
			}
			return nil
		})
	}
	f.parts, f.keys, f.ops = nil, nil, nil
	if err != nil {
		return ResultState{}, fmt.Errorf("store the reconciliation: %w", err)
	}
	// The parts and what bbolt built for the units' puts are garbage now:
	// given back before the move, whose deletion of the old result reads
	// every page of it into the resident set (340 MB at a million items).
	// Kept until then, the two made the full recompute's peak: 711 MB
	// against the engine's 545 (BENCHMARKS.md, issue 13).
	debug.FreeOSMemory()
	slices.SortFunc(f.times, func(a, b [2][]byte) int { return bytes.Compare(a[0], b[0]) })
	f.foldTallies()
	st := f.st
	st.At, st.Config, st.Full = w.At, w.Config, w.At
	var noted bool
	err = f.l.update(func(tx *bolt.Tx) error {
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
		st.Recomputed = f.units
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
		var err error
		if noted, err = noteAlertsAll(r); err != nil { // alerts.go
			return err
		}
		return putState(tx, res, st, &w)
	})
	if err != nil {
		return ResultState{}, fmt.Errorf("store the reconciliation: %w", err)
	}
	if noted {
		f.l.g.alertsNoted()
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

// sortedParts are the indexes of f.parts in unit order (equal units in
// the order they were added), sorted on both cores: a million units' sort
// was half a second on one. The sort compares each unit's first 16 bytes
// as two integers held beside its index (a payment id is about that long),
// and the units only where those are equal: comparing the strings, each
// read through its part, took 0.8 s of CPU at a million.
func (f *FullWriter) sortedParts() []int32 {
	keys := make([]partKey, len(f.parts))
	for i := range f.parts {
		var b [16]byte
		copy(b[:], f.parts[i].unit) // zeros after a shorter unit: never past a longer one it begins
		keys[i] = partKey{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:]), i: int32(i)}
	}
	by := func(a, b partKey) int { // not cmp.Or, which would compare the strings every time
		switch {
		case a.hi != b.hi:
			return cmp.Compare(a.hi, b.hi)
		case a.lo != b.lo:
			return cmp.Compare(a.lo, b.lo)
		}
		return cmp.Or(cmp.Compare(f.parts[a.i].unit, f.parts[b.i].unit), cmp.Compare(a.i, b.i))
	}
	half := len(keys) / 2
	done := make(chan struct{})
	go func() { slices.SortFunc(keys[:half], by); close(done) }()
	slices.SortFunc(keys[half:], by)
	<-done
	out := make([]int32, 0, len(keys))
	a, b := keys[:half], keys[half:]
	for len(a) > 0 && len(b) > 0 {
		if by(a[0], b[0]) < 0 {
			out, a = append(out, a[0].i), a[1:]
		} else {
			out, b = append(out, b[0].i), b[1:]
		}
	}
	for _, k := range a {
		out = append(out, k.i)
	}
	for _, k := range b {
		out = append(out, k.i)
	}
	return out
}

// partKey is a part's place in the sort of sortedParts: its unit's first
// 16 bytes, big-endian, and its index.
type partKey struct {
	hi, lo uint64
	i      int32
}

// entryChunk is units' blocks (blocks.go) to put in one transaction: keys
// and values one after the other in buf, ends[2i] the end of the i-th key
// and ends[2i+1] of its value.
type entryChunk struct {
	buf  []byte
	ends []int
}

// encodeUnits encodes the entry of every unit of f.parts (in order) and
// of extra (links and vias, merged in), packs them into blocks and the
// blocks into chunks, in key order, and closes chunks. An entry is what
// appendUnit writes: the unit's item keys, already encoded as such in
// f.keys, its operation ids sorted once each, its links and vias.
func (f *FullWriter) encodeUnits(order []int32, extra map[domain.Unit]*unitEntry, chunks chan<- entryChunk) {
	defer close(chunks)
	xs := make([]domain.Unit, 0, len(extra))
	for u := range extra {
		xs = append(xs, u)
	}
	slices.Sort(xs)
	fresh := func() entryChunk {
		// At its full size at once (entries are tens of bytes, so a chunk
		// holds about half a million), or at what the units need.
		return entryChunk{buf: make([]byte, 0, chunkCap(len(f.keys)+9*len(f.ops)+32*len(order))),
			ends: make([]int, 0, min(fullChunk/16, 2*len(order)+2))}
	}
	c := fresh()
	var ops []uint64
	var val []byte
	p := blockPacker{size: unitBlockBytes}
	put := func(k, v []byte) error {
		c.buf = append(c.buf, k...)
		c.ends = append(c.ends, len(c.buf))
		c.buf = append(c.buf, v...)
		c.ends = append(c.ends, len(c.buf))
		if len(c.buf) >= fullChunk {
			chunks <- c
			c = fresh()
		}
		return nil
	}
	emit := func(u domain.Unit, parts []int32, x *unitEntry) {
		items := 0
		ops = ops[:0]
		for _, pi := range parts {
			for r := (reader{b: f.keysOf(pi)}); len(r.b) > 0 && r.err == nil; items++ {
				n := r.uvarint() // appendString's length: Add wrote them
				r.b = r.b[min(n, uint64(len(r.b))):]
			}
			ops = append(ops, f.opsOf(pi)...)
		}
		slices.Sort(ops)
		ops = slices.Compact(ops)
		var e unitEntry
		if x != nil {
			e.links, e.vias = x.links, x.vias
			for _, us := range []*[]domain.Unit{&e.links, &e.vias} {
				slices.Sort(*us)
				*us = slices.Compact(*us)
			}
		}
		if items+len(ops)+len(e.links)+len(e.vias) == 0 {
			return
		}
		val = binary.AppendUvarint(val[:0], uint64(items))
		for _, pi := range parts {
			val = append(val, f.keysOf(pi)...)
		}
		e.ops = ops
		val = appendUnitTail(val, &e)
		p.add([]byte(u), val, put)
		f.units++
	}
	for i := 0; i < len(order); {
		u := f.parts[order[i]].unit
		j := i + 1
		for j < len(order) && f.parts[order[j]].unit == u {
			j++
		}
		for len(xs) > 0 && xs[0] < u {
			emit(xs[0], nil, extra[xs[0]])
			xs = xs[1:]
		}
		var x *unitEntry
		if len(xs) > 0 && xs[0] == u {
			x, xs = extra[u], xs[1:]
		}
		emit(u, order[i:j], x)
		i = j
	}
	for _, u := range xs {
		emit(u, nil, extra[u])
	}
	p.end(put)
	if len(c.ends) > 0 {
		chunks <- c
	}
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
	f.stop()
	f.pending, f.parts = nil, nil
}
