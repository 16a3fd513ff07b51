package ledger

import (
	"bytes"
	"encoding/binary"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The result's items/ and units/ buckets hold their entries in blocks of
// a few kilobytes, not one bbolt key each: a full recompute puts a
// million of each, and bbolt's cost is per key (every put binary-searches
// the one leaf node a transaction's sorted puts land in, and grows it).
// In blocks, the units' write at the end of a full recompute, which
// nothing overlaps, went from about 1.1 to 0.4 s at a million units, and
// the items' puts beside the engine from about 1.2 CPU-seconds to a tenth
// of that (BENCHMARKS.md, issue 13).
//
//	items/   first key of the block → entries: uvarint key length, key, uvarint value length, value; in key order
//	units/   the same
//	records/ the same, from schema 6 (records.go)
//
// A block holds the entries from its key up to the next block's key; it
// is at most its bucket's block size unless one entry is longer (an entry is
// never split). A writer changes a block in memory and writes it back at
// Flush: the old block deleted, the new entries packed again into blocks
// of their first keys. Blocks that shrink are not merged: the next full
// recompute packs them again (records': never, so far). The import writes
// records/ in one pass in key order instead (blockSpan), and readers by
// prefix seek over entries (blockCursor).
//
// A result stored before blocks (no keyBlocks in result/) has one key per
// entry; it is read and written so until a full recompute replaces it.
// The schema moved to 5 with blocks, so that an older release, which would
// read a block as one entry, refuses the database.

// keyBlocks, in result/, says that its items/ and units/ hold blocks.
var keyBlocks = []byte("in blocks")

// itemBlockBytes and unitBlockBytes are the most a block holds (but one
// longer entry). A block of items fills about one 4 KB page with its
// bbolt element and key. Blocks of units are a quarter of that: a day's
// new payments land all over units/ (they are keyed by payment id), and
// a change rewrites its whole block; at a million units, ten thousand new
// ones rewrote nearly every block of 4 KB (BENCHMARKS.md, issue 13).
// Variables for the tests.
var (
	itemBlockBytes = 3968
	unitBlockBytes = 1000
)

// blockMap is a bucket of entries in blocks (or one key each: flat).
type blockMap struct {
	b    *bolt.Bucket
	size int // the most a block holds
	flat bool
	// damage is the error of the block at bk, which what (does not
	// decode, overlaps …): each bucket names its entries its own way.
	damage func(bk []byte, what string) error
	open   map[string]*openBlock // the blocks changed since Flush, by their key ("": the new block of an empty bucket)
}

// openBlock is a block decoded for change.
type openBlock struct {
	stored     []byte // its key in b (nil: not stored yet)
	keys, vals [][]byte
}

// unitsOf is the units/ of the result res.
func unitsOf(res *bolt.Bucket) *blockMap {
	return &blockMap{b: res.Bucket(resultUnits), size: unitBlockBytes, flat: res.Get(keyBlocks) == nil, damage: resultDamage(resultUnits, describeUnit)}
}

// itemsOf is the items/ of the result res.
func itemsOf(res *bolt.Bucket) *blockMap {
	return &blockMap{b: res.Bucket(resultItems), size: itemBlockBytes, flat: res.Get(keyBlocks) == nil, damage: resultDamage(resultItems, describePlace)}
}

// resultDamage names a damaged block of the result's bucket name by its
// key (key: an entry's key for a person): reconcile --full rebuilds it.
func resultDamage(name []byte, key func([]byte) string) func(bk []byte, what string) error {
	return func(bk []byte, what string) error {
		return corruptResult("%s/%s: the block at %s %s", bucketResult, name, key(bk), what)
	}
}

// appendEntry appends one entry of a block.
func appendEntry(b, k, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// nextEntry splits the first entry off the entries v of a block: its key
// and value, and the entries after it; ok is false when it does not decode.
func nextEntry(v []byte) (k, val, rest []byte, ok bool) {
	n, w := binary.Uvarint(v)
	if w <= 0 || n > uint64(len(v)-w) {
		return nil, nil, nil, false
	}
	k = v[w : w+int(n) : w+int(n)]
	v = v[w+int(n):]
	n, w = binary.Uvarint(v)
	if w <= 0 || n > uint64(len(v)-w) {
		return nil, nil, nil, false
	}
	return k, v[w : w+int(n) : w+int(n)], v[w+int(n):], true
}

// eachEntry calls fn with each entry of the block v stored under key bk,
// and says whether the block decodes: its entries in increasing key
// order, the first of them bk. It stops at fn's first error.
func eachEntry(bk, v []byte, fn func(k, v []byte) error) (ok bool, err error) {
	var last []byte
	for first := true; len(v) > 0; first = false {
		k, val, rest, ok := nextEntry(v)
		if !ok || first && !bytes.Equal(k, bk) || !first && bytes.Compare(k, last) <= 0 {
			return false, nil
		}
		v, last = rest, k
		if fn != nil {
			if err := fn(k, val); err != nil {
				return true, err
			}
		}
	}
	return len(bk) > 0 && last != nil, nil
}

// damaged is the error of a block that does not decode.
func (m *blockMap) damaged(bk []byte) error { return m.damage(bk, "does not decode") }

// overlaps is the error of a block whose key is not past the entries of
// the block before it.
func (m *blockMap) overlaps(bk []byte) error {
	return m.damage(bk, "overlaps the block before it (its key is not past that one's last entry)")
}

// locate is the key and value of the stored block that holds k, or would:
// the last whose key is at most k, else the first; nil when none is.
func (m *blockMap) locate(k []byte) (bk, bv []byte) { return locateIn(m.b.Cursor(), k) }

// locateIn is locate with the cursor c, left on the block it returns.
func locateIn(c *bolt.Cursor, k []byte) (bk, bv []byte) {
	bk, bv = c.Seek(k)
	if bk != nil && bytes.Equal(bk, k) {
		return bk, bv
	}
	if bk == nil {
		return c.Last()
	}
	if pk, pv := c.Prev(); pk != nil {
		return pk, pv
	}
	return c.First()
}

// Get is the entry of k; nil when there is none.
func (m *blockMap) Get(k []byte) ([]byte, error) {
	if m.flat {
		return m.b.Get(k), nil
	}
	bk, bv := m.locate(k)
	if ob := m.open[string(bk)]; ob != nil {
		if i, ok := ob.find(k); ok {
			return ob.vals[i], nil
		}
		return nil, nil
	}
	if bk == nil {
		return nil, nil
	}
	var found []byte
	hit := false
	ok, _ := eachEntry(bk, bv, func(ek, ev []byte) error {
		if bytes.Equal(ek, k) {
			found, hit = ev, true
		}
		return nil
	})
	if !ok {
		return nil, m.damaged(bk)
	}
	if !hit {
		// Not in its block: unless the blocks beside it are damaged so
		// that it is in one of them, where the reader would skip it.
		if err := m.beside(bk); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// beside checks the blocks either side of the stored block bk, which
// may hold an entry of bk's range when they are damaged though each
// decodes: the block before must end below bk (else the two overlap),
// and the block after must begin with its own key (else its first
// entries are below its key, in bk's range, and locate sends their keys
// to bk). Get and a writer opening bk would otherwise not see the entry:
// a reader would skip it, a writer would put a second one.
func (m *blockMap) beside(bk []byte) error {
	if err := m.endsBelow(bk); err != nil {
		return err
	}
	c := m.b.Cursor()
	c.Seek(bk)
	nk, nv := c.Next()
	return m.beginsWithItsKey(nk, nv)
}

// endsBelow checks that the block before the stored block bk ends below
// it (beside).
func (m *blockMap) endsBelow(bk []byte) error {
	c := m.b.Cursor()
	if k, _ := c.Seek(bk); !bytes.Equal(k, bk) {
		return nil
	}
	if pk, pv := c.Prev(); pk != nil {
		var last []byte
		ok, _ := eachEntry(pk, pv, func(k, _ []byte) error { last = k; return nil })
		if !ok {
			return m.damaged(pk)
		}
		if bytes.Compare(last, bk) >= 0 {
			return m.overlaps(bk)
		}
	}
	return nil
}

// beginsWithItsKey checks that the stored block bk (nil: none) begins
// with the entry of its key (beside).
func (m *blockMap) beginsWithItsKey(bk, bv []byte) error {
	if bk == nil {
		return nil
	}
	if k, _, _, ok := nextEntry(bv); !ok || !bytes.Equal(k, bk) {
		return m.damaged(bk)
	}
	return nil
}

// ForEach calls fn with every entry in key order (the changes of an
// unflushed writer aside); a block that does not decode stops it with
// its error.
func (m *blockMap) ForEach(fn func(k, v []byte) error) error {
	return m.forEach(fn, func(err error) error { return err })
}

// forEach is ForEach calling damaged with the error of a block that
// does not decode (damaged, after the entries of it that do) or
// overlaps the ones before (overlaps); damaged may go on (nil). A block whose
// key is not past the last entry of the blocks before it (each decodes,
// but they overlap) is damage too, none of its entries listed: listed,
// an entry in two blocks would be counted twice, and one out of order
// is not where Get looks for it.
func (m *blockMap) forEach(fn func(k, v []byte) error, damaged func(error) error) error {
	if m.flat {
		return m.b.ForEach(fn)
	}
	var last []byte // the last entry's key listed (the pages stay mapped through the transaction)
	each := func(k, v []byte) error {
		last = k
		return fn(k, v)
	}
	return m.b.ForEach(func(bk, bv []byte) error {
		if last != nil && bytes.Compare(bk, last) <= 0 {
			return damaged(m.overlaps(bk))
		}
		ok, err := eachEntry(bk, bv, each)
		if err != nil {
			return err
		}
		if !ok {
			return damaged(m.damaged(bk))
		}
		return nil
	})
}

// Put sets the entry of k to v (both copied).
func (m *blockMap) Put(k, v []byte) error {
	if m.flat {
		return m.b.Put(k, bytes.Clone(v)) // bbolt keeps v, not a copy, until the commit
	}
	ob, err := m.opened(k)
	if err != nil {
		return err
	}
	i, ok := ob.find(k)
	if ok {
		ob.vals[i] = bytes.Clone(v)
		return nil
	}
	ob.keys = slices.Insert(ob.keys, i, bytes.Clone(k))
	ob.vals = slices.Insert(ob.vals, i, bytes.Clone(v))
	return nil
}

// Delete removes the entry of k, if there is one.
func (m *blockMap) Delete(k []byte) error {
	if m.flat {
		return m.b.Delete(k)
	}
	ob, err := m.opened(k)
	if err != nil {
		return err
	}
	if i, ok := ob.find(k); ok {
		ob.keys = slices.Delete(ob.keys, i, i+1)
		ob.vals = slices.Delete(ob.vals, i, i+1)
	}
	return nil
}

// opened is the block of k decoded for change.
func (m *blockMap) opened(k []byte) (*openBlock, error) {
	bk, bv := m.locate(k)
	if ob := m.open[string(bk)]; ob != nil {
		return ob, nil
	}
	ob := &openBlock{stored: bk}
	if bk != nil {
		ok, _ := eachEntry(bk, bv, func(ek, ev []byte) error {
			ob.keys, ob.vals = append(ob.keys, ek), append(ob.vals, ev)
			return nil
		})
		if !ok {
			return nil, m.damaged(bk)
		}
		if err := m.beside(bk); err != nil {
			return nil, err
		}
	}
	if m.open == nil {
		m.open = map[string]*openBlock{}
	}
	m.open[string(bk)] = ob
	return ob, nil
}

// find is where k is in ob, or would be.
func (ob *openBlock) find(k []byte) (int, bool) {
	return slices.BinarySearchFunc(ob.keys, k, bytes.Compare)
}

// Flush writes the changed blocks back.
func (m *blockMap) Flush() error {
	if len(m.open) == 0 {
		return nil
	}
	// The old blocks go first: a new one may take an old one's key.
	for _, ob := range m.open {
		if ob.stored != nil {
			if err := m.b.Delete(bytes.Clone(ob.stored)); err != nil {
				return err
			}
		}
	}
	m.b.FillPercent = 0.9
	put := func(k, v []byte) error { return m.b.Put(k, bytes.Clone(v)) } // bbolt keeps v, not a copy, until the commit
	p := blockPacker{size: m.size}
	for _, ob := range m.open {
		for i := range ob.keys {
			if err := p.add(ob.keys[i], ob.vals[i], put); err != nil {
				return err
			}
		}
		if err := p.end(put); err != nil {
			return err
		}
	}
	m.open = nil
	return nil
}

// blockPacker packs entries given in key order into blocks.
type blockPacker struct {
	size       int // the most a block holds
	first, buf []byte
	open       bool
}

// add adds an entry, handing the block before it to put when it would
// grow past p.size. put must copy what it keeps: the packer reuses
// its buffers.
func (p *blockPacker) add(k, v []byte, put func(k, v []byte) error) error {
	if p.open && len(p.buf)+2*binary.MaxVarintLen32+len(k)+len(v) > p.size {
		if err := p.end(put); err != nil {
			return err
		}
	}
	if !p.open {
		p.buf, p.first, p.open = p.buf[:0], append(p.first[:0], k...), true
	}
	p.buf = appendEntry(p.buf, k, v)
	return nil
}

// end hands the block being packed to put.
func (p *blockPacker) end(put func(k, v []byte) error) error {
	if !p.open {
		return nil
	}
	p.open = false
	return put(p.first, p.buf)
}

// SetBlockBytesForTests sets the most a block of items, units or merchant
// records holds, until the returned func: for the tests of other packages
// (internal/app's property test), whose few dozen units would otherwise
// share one block.
func SetBlockBytesForTests(n int) (restore func()) {
	items, units, records := itemBlockBytes, unitBlockBytes, recordBlockBytes
	itemBlockBytes, unitBlockBytes, recordBlockBytes = n, n, n
	return func() { itemBlockBytes, unitBlockBytes, recordBlockBytes = items, units, records }
}

// Len is the number of entries of the blocks that decode (a damaged
// block's entries before its damage included): a count for a person, not
// a check.
func (m *blockMap) Len() int {
	if m.flat {
		return m.b.Stats().KeyN
	}
	n := 0
	m.forEach(func(_, _ []byte) error { n++; return nil }, func(error) error { return nil })
	return n
}

// A blockCursor walks the entries of a blockMap in key order, across its
// blocks, as a bolt.Cursor walks a flat bucket's keys: Seek locates the
// block at most the key sought and reads on from there. It reads a block
// ahead, so that an entry at or past the next block's key (blocks that
// overlap) is damage, not an entry of the next block's range passed by. A
// block that does not decode or overlaps ends the walk (nil), Err says
// which. The unflushed changes of a writer are not seen.
type blockCursor struct {
	m        *blockMap
	c        *bolt.Cursor // on the block after bk
	bk, rest []byte       // the block being read, and its entries not read yet
	nk, nv   []byte       // the block after it (nil: none)
	last     []byte       // the last entry read (nil: none of bk's yet)
	err      error
}

// Cursor is a cursor over m's entries.
func (m *blockMap) Cursor() *blockCursor { return &blockCursor{m: m, c: m.b.Cursor()} }

// Err is the damage that ended the walk, if any.
func (bc *blockCursor) Err() error { return bc.err }

// Seek is the first entry at or after k.
func (bc *blockCursor) Seek(k []byte) (key, val []byte) {
	if bc.m.flat {
		return bc.c.Seek(k)
	}
	bc.err, bc.bk, bc.rest, bc.last = nil, nil, nil, nil
	bk, bv := locateIn(bc.c, k)
	if bk == nil {
		return nil, nil
	}
	// The block before may hold entries of its range (Get's check).
	if bc.err = bc.m.endsBelow(bk); bc.err != nil || !bc.enter(bk, bv) {
		return nil, nil
	}
	for {
		if ek, ev := bc.Next(); ek == nil || bytes.Compare(ek, k) >= 0 {
			return ek, ev
		}
	}
}

// enter starts reading the block bk, the cursor on it.
func (bc *blockCursor) enter(bk, bv []byte) bool {
	if len(bv) == 0 {
		bc.err = bc.m.damaged(bk)
		return false
	}
	bc.bk, bc.rest = bk, bv
	bc.nk, bc.nv = bc.c.Next()
	bc.err = bc.m.beginsWithItsKey(bc.nk, bc.nv)
	return bc.err == nil
}

// Next is the entry after the last one returned.
func (bc *blockCursor) Next() (key, val []byte) {
	if bc.m.flat {
		return bc.c.Next()
	}
	if bc.err != nil || bc.bk == nil {
		return nil, nil
	}
	first := bc.last == nil
	if len(bc.rest) == 0 {
		if bc.nk == nil {
			bc.bk = nil
			return nil, nil
		}
		if !bc.enter(bc.nk, bc.nv) {
			return nil, nil
		}
		first = true
	}
	k, v, rest, ok := nextEntry(bc.rest)
	if !ok || first && !bytes.Equal(k, bc.bk) || !first && bytes.Compare(k, bc.last) <= 0 {
		bc.err = bc.m.damaged(bc.bk)
		return nil, nil
	}
	if bc.nk != nil && bytes.Compare(k, bc.nk) >= 0 {
		bc.err = bc.m.overlaps(bc.nk)
		return nil, nil
	}
	bc.rest, bc.last = rest, k
	return k, v
}

// A blockSpan rewrites a blockMap's entries in one pass in key order
// (ImportRecordSet's writer). It holds one span of stored blocks at a
// time: seek(k) opens the block that holds k, unless the span holds k
// already, and reads on to k; take reads the stored entries of a prefix,
// into the blocks after when they go on there; the writer then adds the
// entries that take their place. A span the writer changes nothing of
// stays as it is stored; one it changes (change) is deleted, and what the
// writer passes of it, kept or added, is packed into new blocks, until the
// key sought lies past the span's last block (or at close). So the writer
// rewrites only the blocks it changes, and packs into an empty bucket
// straight.
//
// The stored bytes it reads stay valid through the transaction (bbolt
// frees pages at the commit); the blocks it puts keep their bytes in an
// arena, since bbolt keeps the value given to Put until the commit.
type blockSpan struct {
	m    *blockMap
	open bool
	// blocks are the span's stored blocks that a change rewrites: all
	// of the span once changed; before, the one seek left off in (its
	// entries from mark on, those before already passed unchanged) and
	// those take reached after it.
	blocks []storedBlock
	mark   int
	rest   []byte // the entries of the last of blocks not read yet
	next   []byte // the key of the stored block after the span (nil: none)
	last   []byte // the last stored entry read
	ended  []byte // next of the span closed before: the blocks below it are checked
	dirty  bool   // changed
	p      blockPacker
	arena  []byte
}

type storedBlock struct{ k, v []byte }

// span is a writer of m in one pass; close it.
func (m *blockMap) span() *blockSpan {
	m.b.FillPercent = 0.9 // its puts are in key order
	return &blockSpan{m: m, p: blockPacker{size: m.size}}
}

// seek moves the span to k, passing the stored entries below it. The
// entries added after it are at least k, and below the key of the next
// seek.
func (s *blockSpan) seek(k []byte) error {
	if s.open && s.next != nil && bytes.Compare(k, s.next) >= 0 {
		if err := s.close(); err != nil {
			return err
		}
	}
	if !s.open {
		if err := s.openAt(k); err != nil {
			return err
		}
	}
	// Below k, every stored entry of the span is in its last block: the
	// next block's key is past k.
	for {
		ek, ev, rest, err := s.entry()
		if err != nil {
			return err
		}
		if ek == nil || bytes.Compare(ek, k) >= 0 {
			break
		}
		if err := s.add(ek, ev); err != nil {
			return err
		}
		s.rest, s.last = rest, ek
	}
	if !s.dirty && len(s.blocks) > 0 {
		s.blocks = s.blocks[len(s.blocks)-1:]
		s.mark = len(s.blocks[0].v) - len(s.rest)
	}
	return nil
}

// openAt opens the span at the stored block that holds k, checking the
// blocks beside it as Get does (blockMap.beside).
func (s *blockSpan) openAt(k []byte) error {
	c := s.m.b.Cursor()
	bk, bv := locateIn(c, k)
	s.open, s.blocks, s.mark, s.rest, s.next = true, s.blocks[:0], 0, nil, nil
	if bk == nil {
		return nil // an empty bucket
	}
	if len(bv) == 0 {
		return s.m.damaged(bk)
	}
	nk, nv := c.Next()
	if err := s.m.beginsWithItsKey(nk, nv); err != nil {
		return err
	}
	if !bytes.Equal(bk, s.ended) { // else the span before read up to bk
		if err := s.m.endsBelow(bk); err != nil {
			return err
		}
	}
	s.blocks, s.rest = append(s.blocks, storedBlock{bk, bv}), bv
	if nk != nil {
		s.next = bytes.Clone(nk)
	}
	return nil
}

// entry is the next stored entry of the span's last block, nil when it
// is read; it is checked (the block's first its key, in order, below the
// next block), not passed.
func (s *blockSpan) entry() (k, v, rest []byte, err error) {
	if len(s.rest) == 0 {
		return nil, nil, nil, nil
	}
	b := &s.blocks[len(s.blocks)-1]
	first := len(s.rest) == len(b.v)
	k, v, rest, ok := nextEntry(s.rest)
	if !ok || first && !bytes.Equal(k, b.k) || !first && bytes.Compare(k, s.last) <= 0 {
		return nil, nil, nil, s.m.damaged(b.k)
	}
	if s.next != nil && bytes.Compare(k, s.next) >= 0 {
		return nil, nil, nil, s.m.overlaps(s.next)
	}
	return k, v, rest, nil
}

// take is the next stored entry if it has the prefix p, else nil; the
// writer adds what is to stand in its place. An entry of p past the
// span's last block is in the next one (whose key then has the prefix):
// the span takes that block in.
func (s *blockSpan) take(p []byte) (k, v []byte, err error) {
	if len(s.rest) == 0 && s.next != nil && bytes.HasPrefix(s.next, p) {
		if err := s.extend(); err != nil {
			return nil, nil, err
		}
	}
	k, v, rest, err := s.entry()
	if err != nil || k == nil || !bytes.HasPrefix(k, p) {
		return nil, nil, err
	}
	s.rest, s.last = rest, k
	return k, v, nil
}

// extend takes the next stored block into the span.
func (s *blockSpan) extend() error {
	c := s.m.b.Cursor()
	bk, bv := c.Seek(s.next)
	if !bytes.Equal(bk, s.next) || len(bv) == 0 {
		return s.m.damaged(s.next)
	}
	nk, nv := c.Next()
	if err := s.m.beginsWithItsKey(nk, nv); err != nil {
		return err
	}
	if !s.dirty && len(s.blocks) > 0 && s.mark == len(s.blocks[0].v) {
		s.blocks, s.mark = s.blocks[1:], 0 // nothing of it taken: it stays
	}
	if s.dirty {
		if err := s.m.b.Delete(bytes.Clone(bk)); err != nil {
			return err
		}
	}
	s.blocks, s.rest, s.next = append(s.blocks, storedBlock{bk, bv}), bv, nil
	if nk != nil {
		s.next = bytes.Clone(nk)
	}
	return nil
}

// change says that the writer changes the span: its stored blocks are
// deleted, and what was passed of them unchanged is added again.
func (s *blockSpan) change() error {
	if s.dirty || !s.open {
		return nil
	}
	s.dirty = true
	for _, b := range s.blocks {
		if err := s.m.b.Delete(bytes.Clone(b.k)); err != nil {
			return err
		}
	}
	if len(s.blocks) > 0 {
		for head := s.blocks[0].v[:s.mark]; len(head) > 0; { // read (and checked) before
			k, v, rest, _ := nextEntry(head)
			if err := s.add(k, v); err != nil {
				return err
			}
			head = rest
		}
	}
	return nil
}

// add adds an entry to a changed span (to one unchanged, it is the
// stored entry and needs nothing).
func (s *blockSpan) add(k, v []byte) error {
	if !s.dirty {
		return nil
	}
	return s.p.add(k, v, s.put)
}

// put puts a packed block, its bytes kept in the arena.
func (s *blockSpan) put(k, v []byte) error {
	return s.m.b.Put(k, hold(&s.arena, v)) // bbolt copies the key
}

// hold is a copy of v at the end of *arena, which grows by chunks of a
// megabyte and never moves what it holds: bytes that stay valid for bbolt
// until the commit, without an allocation a block.
func hold(arena *[]byte, v []byte) []byte {
	if len(*arena)+len(v) > cap(*arena) {
		*arena = make([]byte, 0, max(1<<20, len(v)))
	}
	i := len(*arena)
	*arena = append(*arena, v...)
	return (*arena)[i:len(*arena):len(*arena)]
}

// close ends the span: its stored entries read to the end, and, changed,
// passed and packed.
func (s *blockSpan) close() error {
	if !s.open {
		return nil
	}
	for {
		k, v, rest, err := s.entry()
		if err != nil {
			return err
		}
		if k == nil {
			break
		}
		if err := s.add(k, v); err != nil {
			return err
		}
		s.rest, s.last = rest, k
	}
	if err := s.p.end(s.put); err != nil {
		return err
	}
	s.ended, s.open, s.dirty, s.blocks = s.next, false, false, s.blocks[:0]
	return nil
}
