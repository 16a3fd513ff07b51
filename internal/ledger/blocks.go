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
//
// A block holds the entries from its key up to the next block's key; it
// is at most its bucket's block size unless one entry is longer (an entry is
// never split). A writer changes a block in memory and writes it back at
// Flush: the old block deleted, the new entries packed again into blocks
// of their first keys. Blocks that shrink are not merged: the next full
// recompute packs them again.
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
	name []byte              // its name in result/, for errors
	key  func([]byte) string // an entry's key, for errors
	size int                 // the most a block holds
	flat bool
	open map[string]*openBlock // the blocks changed since Flush, by their key ("": the new block of an empty bucket)
}

// openBlock is a block decoded for change.
type openBlock struct {
	stored     []byte // its key in b (nil: not stored yet)
	keys, vals [][]byte
}

// unitsOf is the units/ of the result res.
func unitsOf(res *bolt.Bucket) *blockMap {
	return &blockMap{b: res.Bucket(resultUnits), name: resultUnits, key: describeUnit, size: unitBlockBytes, flat: res.Get(keyBlocks) == nil}
}

// itemsOf is the items/ of the result res.
func itemsOf(res *bolt.Bucket) *blockMap {
	return &blockMap{b: res.Bucket(resultItems), name: resultItems, key: describePlace, size: itemBlockBytes, flat: res.Get(keyBlocks) == nil}
}

// appendEntry appends one entry of a block.
func appendEntry(b, k, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// eachEntry calls fn with each entry of the block v stored under key bk,
// and says whether the block decodes: its entries in increasing key
// order, the first of them bk. It stops at fn's first error.
func eachEntry(bk, v []byte, fn func(k, v []byte) error) (ok bool, err error) {
	var last []byte
	for first := true; len(v) > 0; first = false {
		n, w := binary.Uvarint(v)
		if w <= 0 || n > uint64(len(v)-w) {
			return false, nil
		}
		k := v[w : w+int(n)]
		v = v[w+int(n):]
		n, w = binary.Uvarint(v)
		if w <= 0 || n > uint64(len(v)-w) {
			return false, nil
		}
		val := v[w : w+int(n) : w+int(n)]
		v = v[w+int(n):]
		if first && !bytes.Equal(k, bk) || !first && bytes.Compare(k, last) <= 0 {
			return false, nil
		}
		last = k
		if fn != nil {
			if err := fn(k, val); err != nil {
				return true, err
			}
		}
	}
	return len(bk) > 0 && last != nil, nil
}

// damaged is the error of a block that does not decode.
func (m *blockMap) damaged(bk []byte) error {
	return corruptResult("%s/%s: the block at %s does not decode", bucketResult, m.name, m.key(bk))
}

// overlaps is the error of a block whose key is not past the entries of
// the block before it.
func (m *blockMap) overlaps(bk []byte) error {
	return corruptResult("%s/%s: the block at %s overlaps the block before it (its key is not past that one's last entry)", bucketResult, m.name, m.key(bk))
}

// locate is the key and value of the stored block that holds k, or would:
// the last whose key is at most k, else the first; nil when none is.
func (m *blockMap) locate(k []byte) (bk, bv []byte) {
	c := m.b.Cursor()
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
	c.Seek(bk)
	if nk, nv := c.Next(); nk != nil {
		n, w := binary.Uvarint(nv)
		if w <= 0 || n > uint64(len(nv)-w) || !bytes.Equal(nv[w:w+int(n)], nk) {
			return m.damaged(nk)
		}
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

// SetBlockBytesForTests sets the most a block of items or units holds, until the
// returned func: for the tests of other packages (internal/app's property
// test), whose few dozen units would otherwise share one block.
func SetBlockBytesForTests(n int) (restore func()) {
	items, units := itemBlockBytes, unitBlockBytes
	itemBlockBytes, unitBlockBytes = n, n
	return func() { itemBlockBytes, unitBlockBytes = items, units }
}
