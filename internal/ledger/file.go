package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The file as bbolt lays it out (go.etcd.io/bbolt/internal/common, file
// format version 2), read here before bbolt maps it. Integers are in the
// machine's byte order, as bbolt writes them.
//
//	page:    id (8) | flags (2) | count (2) | overflow (4) | data
//	meta:    magic (4) | version (4) | page size (4) | flags (4) |
//	         root bucket: root page (8), sequence (8) | freelist page (8) |
//	         pgid, the high-water mark (8) | txid (8) | checksum (8): FNV-64a of what precedes it
//	branch element: pos (4) | ksize (4) | pgid (8)          key at element + pos
//	leaf element:   flags (4) | pos (4) | ksize (4) | vsize (4)   key, value at element + pos
//	bucket value:   root page (8) | sequence (8) [| inline leaf page when root is 0]
//
// Pages 0 and 1 are the two meta pages; bbolt uses the valid one with the
// higher txid. Pages below pgid are in use or free; the file must hold
// them all.
const (
	pageHeaderSize = 16
	elementSize    = 16
	metaSize       = 64
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	flagBranch     = 0x01
	flagLeaf       = 0x02
	flagMeta       = 0x04
	flagFreelist   = 0x10
	flagBucket     = 0x01 // of a leaf element
	noFreelist     = ^uint64(0)
)

var native = binary.NativeEndian

// header is what a valid meta page says.
type header struct {
	pageSize int64
	root     uint64 // the root bucket's page
	freelist uint64
	pgid     uint64 // pages in the file
	txid     uint64
	warning  string // the other meta page is not valid
}

func parseMeta(b []byte) (header, error) {
	if len(b) < pageHeaderSize+metaSize {
		return header{}, errors.New("cut short")
	}
	m := b[pageHeaderSize : pageHeaderSize+metaSize]
	h := fnv.New64a()
	h.Write(m[:56])
	switch {
	case native.Uint32(m[0:]) != boltMagic:
		return header{}, errors.New("not a bbolt header")
	case native.Uint32(m[4:]) != boltVersion:
		return header{}, fmt.Errorf("bbolt file format %d, not %d", native.Uint32(m[4:]), boltVersion)
	case native.Uint64(m[56:]) != h.Sum64():
		return header{}, errors.New("checksum mismatch")
	}
	return header{
		pageSize: int64(native.Uint32(m[8:])),
		root:     native.Uint64(m[16:]),
		freelist: native.Uint64(m[32:]),
		pgid:     native.Uint64(m[40:]),
		txid:     native.Uint64(m[48:]),
	}, nil
}

// readHeader reads the meta pages of a file of size bytes and checks that
// the file holds every page the one bbolt would use counts. The problem is
// for a person: what is wrong, and what it looks like it came from.
func readHeader(r io.ReaderAt, size int64) (header, string) {
	if size < pageHeaderSize+metaSize {
		return header{}, fmt.Sprintf("it is %d bytes long, too short to hold even its header", size)
	}
	read := func(at int64) []byte {
		b := make([]byte, min(size-at, 4096))
		n, _ := r.ReadAt(b, at)
		return b[:n]
	}
	var metas [2]header
	var errs [2]error
	metas[0], errs[0] = parseMeta(read(0))
	if errs[0] == nil {
		errs[1] = errors.New("past the end of the file")
		if metas[0].pageSize > 0 && metas[0].pageSize < size {
			metas[1], errs[1] = parseMeta(read(metas[0].pageSize))
		}
	} else {
		// As bbolt does: the second meta page where a page size puts it.
		errs[1] = errors.New("not found")
		for ps := int64(1024); ps <= 1<<16 && ps+pageHeaderSize+metaSize <= size; ps <<= 1 {
			if m, err := parseMeta(read(ps)); err == nil && m.pageSize == ps {
				metas[1], errs[1] = m, nil
				break
			}
		}
	}
	var h header
	switch {
	case errs[0] != nil && errs[1] != nil:
		return header{}, fmt.Sprintf("neither of its two header pages is valid (page 0: %v; page 1: %v)", errs[0], errs[1])
	case errs[0] == nil && errs[1] == nil:
		h = metas[0]
		if metas[1].txid > h.txid {
			h = metas[1]
		}
	case errs[0] == nil:
		h = metas[0]
		h.warning = fmt.Sprintf("header page 1 is not valid (%v): bbolt uses page 0, transaction %d; the next write replaces it", errs[1], h.txid)
	default:
		h = metas[1]
		h.warning = fmt.Sprintf("header page 0 is not valid (%v): bbolt uses page 1, transaction %d; the next write replaces it", errs[0], h.txid)
	}
	switch {
	case h.pageSize < 512 || h.pageSize > 1<<20 || h.pageSize&(h.pageSize-1) != 0:
		return h, fmt.Sprintf("its header says pages of %d bytes", h.pageSize)
	case h.pgid < 3 || h.root < 2 || h.root >= h.pgid:
		return h, fmt.Sprintf("its header says %d pages with the root at page %d", h.pgid, h.root)
	case h.freelist != noFreelist && (h.freelist < 2 || h.freelist >= h.pgid):
		return h, fmt.Sprintf("its header puts the free list at page %d of %d", h.freelist, h.pgid)
	case h.pgid > uint64(1<<62)/uint64(h.pageSize):
		return h, fmt.Sprintf("its header says %d pages", h.pgid)
	}
	if need := int64(h.pgid) * h.pageSize; size < need {
		return h, fmt.Sprintf("it is %d bytes long, but its header (transaction %d) counts %d pages of %d bytes, %d bytes: "+
			"its end is missing (a copy cut short, a full disk, a crash of the file system)", size, h.txid, h.pgid, h.pageSize, need)
	}
	return h, ""
}

// pageWalker visits every page reachable from the root bucket, as bbolt
// would reach them, checking each page header and that every element,
// key and value lies inside its page.
type pageWalker struct {
	r io.ReaderAt
	m []byte // the file mapped (mapFile): pages are read from it, not through r
	// mapped is how many bytes this walker read of m since it last had
	// the mapping's pages dropped (dropPages).
	mapped int64
	h      header
	seen   []uint64 // bitset of the pages reached
	free   []uint64 // bitset of the pages a free list bbolt wrote out names
	buf    []byte
	held   uint64 // 1 + the page whose first heldN bytes buf holds; 0: none
	heldN  int64
	pages  int // pages reached, overflow included
	// spawn, when set, takes a bucket of v1/ to walk on another core
	// (walkOnce) instead of this walker walking it.
	spawn func(root uint64, name string)
}

// walkPages checks the page tree of the file r with header h. The problem
// names the page and the bucket it belongs to.
func walkPages(r io.ReaderAt, h header) (pages int, problem string) {
	w, problem := walkTree(r, h)
	return w.pages, problem
}

// walkTree is walkPages, and returns the walker: which pages it reached.
//
// The buckets below the root's (ops, records, result, …) are walked on
// both cores (walkOnce): the walk is every command's open, and at a
// million operations it read 800 MB in 0.3 s on one. A file the parallel
// walk finds a problem in is walked again on one core, so that the
// problem named is the one a walk in bbolt's order meets first, whichever
// core met which.
func walkTree(r io.ReaderAt, h header) (*pageWalker, string) {
	if w, p := walkOnce(r, h, true); p == "" {
		return w, ""
	}
	return walkOnce(r, h, false)
}

// walkWorkers is how many goroutines walk the buckets below the root's.
var walkWorkers = 2

// walkOnce is walkTree, its buckets below the root's walked by
// walkWorkers goroutines when parallel is set.
//
// A file is read through a read-only mapping of it when it can be mapped
// (mapFile): the walk then reads the pages' headers, elements and keys
// only, not the values around them, and makes no system call a page. At a
// million operations that took a third off the walk (100-105 ms to
// 60-80), the start of every command (BENCHMARKS.md). A fault in the mapping (the file made shorter under
// the walk by something that ignores its lock) is a problem of the walk,
// not the end of the process.
func walkOnce(r io.ReaderAt, h header, parallel bool) (*pageWalker, string) {
	m, unmap := mapFile(r)
	defer unmap()
	if afterMap != nil {
		afterMap()
	}
	newWalker := func() *pageWalker { return &pageWalker{r: r, m: m, h: h, seen: make([]uint64, (h.pgid+63)/64)} }
	w := newWalker()
	var workers []*pageWalker
	var problems []string
	var wg sync.WaitGroup
	type task struct {
		root uint64
		name string
	}
	var tasks chan task
	if parallel {
		tasks = make(chan task, 64)
		workers, problems = make([]*pageWalker, walkWorkers), make([]string, walkWorkers)
		for i := range workers {
			workers[i] = newWalker()
			wg.Go(func() {
				for t := range tasks {
					if problems[i] == "" {
						problems[i] = guarded(func() string {
							_, problem := workers[i].page(t.root, t.name, nil, nil)
							return problem
						})
					}
				}
			})
		}
		w.spawn = func(root uint64, name string) { tasks <- task{root, name} }
	}
	problem := guarded(w.walkRoot)
	if parallel {
		close(tasks)
		wg.Wait()
		for i, o := range workers {
			if problem == "" {
				problem = problems[i]
			}
			for j, s := range o.seen {
				if w.seen[j]&s != 0 && problem == "" {
					problem = "a page is reached twice" // walked again on one core, which names it
				}
				w.seen[j] |= s
			}
			w.pages += o.pages
		}
	}
	if problem != "" {
		return w, problem
	}
	for i, f := range w.free {
		if used := f & w.seen[i]; used != 0 {
			return w, fmt.Sprintf("the free list (page %d) names page %d, which is in use", h.freelist, uint64(i)*64+uint64(bits.TrailingZeros64(used)))
		}
	}
	return w, ""
}

// guarded runs a walk of the mapping, a fault there its problem. Any
// other panic goes on.
func guarded(walk func() string) (problem string) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			problem = fmt.Sprintf("reading it faulted at %#x (%v): it is shorter than its pages say (made shorter while it was being checked?)", f.Addr(), r)
		}
	}()
	return walk()
}

// afterMap, when set, runs once the walk mapped the file (a test's file
// shrinks then).
var afterMap func()

// walkRoot walks the header pages, the free list and the root bucket.
func (w *pageWalker) walkRoot() string {
	w.mark(0, 0)
	w.mark(1, 0)
	if w.h.freelist != noFreelist {
		if p := w.freelist(w.h.freelist); p != "" {
			return p
		}
	}
	_, p := w.page(w.h.root, "the root", nil, nil)
	return p
}

// reached says whether the walk reached page id.
func (w *pageWalker) reached(id uint64) bool { return w.seen[id/64]&(1<<(id%64)) != 0 }

// mark records that pages id to id+overflow were reached; false if one of
// them was reached before.
func (w *pageWalker) mark(id uint64, overflow uint32) bool {
	ok := true
	for p := id; p <= id+uint64(overflow); p++ {
		if w.seen[p/64]&(1<<(p%64)) != 0 {
			ok = false
		}
		w.seen[p/64] |= 1 << (p % 64)
		w.pages++
	}
	return ok
}

// read reads the page id: its header, and then up to want bytes of it.
func (w *pageWalker) read(id uint64, want int64) ([]byte, error) {
	if w.m != nil {
		off := int64(id) * w.h.pageSize
		if off < 0 || off > int64(len(w.m)) || want > int64(len(w.m))-off {
			return nil, fmt.Errorf("page %d: %w", id, io.ErrUnexpectedEOF)
		}
		if w.mapped += want; w.mapped > mappedAtMost {
			dropPages(w.m)
			w.mapped = 0
		}
		return w.m[off : off+want : off+want], nil
	}
	if w.held == id+1 && want <= w.heldN {
		return w.buf[:want], nil // head read the page whole
	}
	w.held = 0
	if int64(cap(w.buf)) < want {
		w.buf = make([]byte, want)
	}
	b := w.buf[:want]
	n, err := w.r.ReadAt(b, int64(id)*w.h.pageSize)
	if n == len(b) {
		return b, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("page %d: %w", id, err)
}

// pageHead is a page header and the bytes the page spans.
type pageHead struct {
	flags    uint16
	count    int
	overflow uint32
	span     int64
}

// head reads and checks the header of page id, which bucket reached.
func (w *pageWalker) head(id uint64, bucket string) (pageHead, string) {
	return w.headOf(id, bucket, elementSize)
}

// headOf is head for a page of elements of size each.
func (w *pageWalker) headOf(id uint64, bucket string, size int64) (pageHead, string) {
	if id < 2 || id >= w.h.pgid {
		return pageHead{}, fmt.Sprintf("%s points at page %d, outside the %d pages of the file", bucket, id, w.h.pgid)
	}
	// The page's first page whole, not its header alone: page reads it
	// next (one read a page instead of two: the check at every open).
	b, err := w.read(id, w.h.pageSize)
	if err != nil {
		return pageHead{}, err.Error()
	}
	w.held, w.heldN = id+1, w.h.pageSize
	p := pageHead{flags: native.Uint16(b[8:]), count: int(native.Uint16(b[10:])), overflow: native.Uint32(b[12:])}
	switch {
	case native.Uint64(b[0:]) != id:
		return p, fmt.Sprintf("page %d (of %s) says it is page %d", id, bucket, native.Uint64(b[0:]))
	case id+uint64(p.overflow) >= w.h.pgid:
		return p, fmt.Sprintf("page %d (of %s) runs %d pages on, past the end of the file", id, bucket, p.overflow)
	case !w.mark(id, p.overflow):
		return p, fmt.Sprintf("page %d (of %s) is reached twice: it is also part of another page or bucket", id, bucket)
	}
	p.span = int64(p.overflow+1) * w.h.pageSize
	if p.flags == flagFreelist && p.count == 0xFFFF {
		// bbolt's free list of 0xFFFF ids or more: the first holds the count.
		b, err := w.read(id, pageHeaderSize+8)
		if err != nil {
			return p, err.Error()
		}
		p.count = int(min(native.Uint64(b[pageHeaderSize:]), uint64(p.span))) + 1
	}
	if pageHeaderSize+int64(p.count)*size > p.span {
		return p, fmt.Sprintf("page %d (of %s) counts %d elements, more than fit in it", id, bucket, p.count)
	}
	return p, ""
}

func (w *pageWalker) freelist(id uint64) string {
	p, problem := w.headOf(id, "the header", 8) // page ids, over as many pages as they take
	if problem != "" {
		return problem
	}
	if p.flags != flagFreelist {
		return fmt.Sprintf("page %d should be the free list and is %s", id, pageType(p.flags))
	}
	// bbolt hands its ids out for new pages as they are: one of a header
	// page, past the end, named twice or in use (walkTree) would have
	// the next write put a page over the header or over live data.
	b, err := w.read(id, pageHeaderSize+int64(p.count)*8)
	if err != nil {
		return err.Error()
	}
	ids := b[pageHeaderSize:]
	if native.Uint16(b[10:]) == 0xFFFF {
		ids = ids[8:] // the first is the count
	}
	w.free = make([]uint64, len(w.seen))
	for i := 0; i+8 <= len(ids); i += 8 {
		f := native.Uint64(ids[i:])
		switch {
		case f < 2:
			return fmt.Sprintf("the free list (page %d) names page %d, a header page", id, f)
		case f >= w.h.pgid:
			return fmt.Sprintf("the free list (page %d) names page %d, outside the %d pages of the file", id, f, w.h.pgid)
		case w.free[f/64]&(1<<(f%64)) != 0:
			return fmt.Sprintf("the free list (page %d) names page %d twice", id, f)
		}
		w.free[f/64] |= 1 << (f % 64)
	}
	return ""
}

// page checks the page id of bucket and, below it, every page it leads to,
// and that its keys are in order as bbolt's check wants them: increasing
// along the page, each at or after lo (the parent's key for this page)
// and before hi (the parent's next key); nil is no bound. bbolt's free-list
// rebuild walks the tree in a goroutine, panics at the first key out of
// order and rolls back while that goroutine still reads the pages, which
// crashes the process; so the order is checked here, before bbolt does.
// It returns the last key below the page (nil for none), as bbolt's check
// does, to bound the next child of the parent.
func (w *pageWalker) page(id uint64, bucket string, lo, hi []byte) ([]byte, string) {
	p, problem := w.head(id, bucket)
	if problem != "" {
		return nil, problem
	}
	if p.flags != flagBranch && p.flags != flagLeaf {
		return nil, fmt.Sprintf("page %d (of %s) is %s, neither a branch nor a leaf", id, bucket, pageType(p.flags))
	}
	if p.flags == flagBranch && p.count == 0 {
		return nil, fmt.Sprintf("page %d (of %s) is a branch without elements", id, bucket)
	}
	b, err := w.read(id, p.span)
	if err != nil {
		return nil, err.Error()
	}
	elems := b[pageHeaderSize:]
	disorder := func(i int) string {
		return fmt.Sprintf("page %d (of %s): its keys are out of order (key %d is not after the key before it, or not before the next key of the page above)", id, bucket, i)
	}
	if p.flags == flagBranch {
		type child struct {
			id  uint64
			key []byte
		}
		children := make([]child, p.count)
		for i := range p.count {
			e := elems[i*elementSize:]
			at := int64(pageHeaderSize+i*elementSize) + int64(native.Uint32(e[0:]))
			ksize := int64(native.Uint32(e[4:]))
			if at+ksize > p.span {
				return nil, fmt.Sprintf("page %d (of %s): the key of element %d lies outside the page", id, bucket, i)
			}
			children[i] = child{native.Uint64(e[8:]), bytes.Clone(b[at : at+ksize])} // b is reused below
		}
		last := lo
		for i, c := range children {
			if !keyInOrder(i, c.key, last, hi) {
				return nil, disorder(i)
			}
			next := hi
			if i+1 < len(children) {
				next = children[i+1].key
			}
			var problem string
			if last, problem = w.page(c.id, bucket, c.key, next); problem != "" {
				return nil, problem
			}
		}
		return last, ""
	}
	type sub struct {
		at    int64 // the key's offset in the page
		ksize int64
		vsize int64
	}
	var subs []sub
	last := lo
	for i := range p.count {
		e := elems[i*elementSize:]
		at := int64(pageHeaderSize+i*elementSize) + int64(native.Uint32(e[4:]))
		s := sub{at, int64(native.Uint32(e[8:])), int64(native.Uint32(e[12:]))}
		if at+s.ksize+s.vsize > p.span {
			return nil, fmt.Sprintf("page %d (of %s): the key or value of element %d lies outside the page", id, bucket, i)
		}
		key := b[at : at+s.ksize]
		if !keyInOrder(i, key, last, hi) {
			return nil, disorder(i)
		}
		last = key
		if native.Uint32(e[0:])&flagBucket != 0 {
			subs = append(subs, s)
		}
	}
	if p.count == 0 {
		last = nil
	}
	last = bytes.Clone(last) // b is reused below
	for _, s := range subs {
		b, err := w.read(id, s.at+s.ksize+s.vsize)
		if err != nil {
			return nil, err.Error()
		}
		name := bucketName(bucket, b[s.at:s.at+s.ksize])
		if problem := w.bucket(b[s.at+s.ksize:s.at+s.ksize+s.vsize], name); problem != "" {
			return nil, problem
		}
	}
	return last, ""
}

// keyInOrder is bbolt's verifyKeyOrder: key i of a page, after prev (the
// key before it, or for the first the parent's key for the page) and
// before hi.
func keyInOrder(i int, key, prev, hi []byte) bool {
	switch {
	case i == 0 && prev != nil && bytes.Compare(prev, key) > 0:
		return false
	case i > 0 && bytes.Compare(prev, key) >= 0:
		return false
	case hi != nil && bytes.Compare(key, hi) >= 0:
		return false
	}
	return true
}

// bucket checks a bucket from its value in the parent's leaf: a root page,
// or an inline leaf page inside the value.
func (w *pageWalker) bucket(v []byte, name string) string {
	if len(v) < 16 {
		return fmt.Sprintf("%s: its bucket header is %d bytes long", name, len(v))
	}
	if root := native.Uint64(v); root != 0 {
		if w.spawn != nil && strings.Count(name, "/") == 1 { // a bucket of v1/: ops, records, result, …
			w.spawn(root, name)
			return ""
		}
		_, problem := w.page(root, name, nil, nil)
		return problem
	}
	inline := v[16:]
	if len(inline) < pageHeaderSize {
		return fmt.Sprintf("%s: its inline page is %d bytes long", name, len(inline))
	}
	flags, count := native.Uint16(inline[8:]), int(native.Uint16(inline[10:]))
	if flags != flagLeaf {
		return fmt.Sprintf("%s: its inline page is %s, not a leaf", name, pageType(flags))
	}
	if pageHeaderSize+count*elementSize > len(inline) {
		return fmt.Sprintf("%s: its inline page counts %d elements, more than fit in it", name, count)
	}
	// Copied: the checks below read other pages into w.buf.
	inline = append([]byte(nil), inline...)
	for i := range count {
		e := inline[pageHeaderSize+i*elementSize:]
		at := pageHeaderSize + i*elementSize + int(native.Uint32(e[4:]))
		ksize, vsize := int(native.Uint32(e[8:])), int(native.Uint32(e[12:]))
		if at+ksize+vsize > len(inline) || at < 0 {
			return fmt.Sprintf("%s: the key or value of element %d lies outside its inline page", name, i)
		}
		if native.Uint32(e[0:])&flagBucket != 0 {
			if problem := w.bucket(inline[at+ksize:at+ksize+vsize], bucketName(name, inline[at:at+ksize])); problem != "" {
				return problem
			}
		}
	}
	return ""
}

func pageType(flags uint16) string {
	switch flags {
	case flagBranch:
		return "a branch"
	case flagLeaf:
		return "a leaf"
	case flagMeta:
		return "a header page"
	case flagFreelist:
		return "a free list"
	}
	return fmt.Sprintf("of no type (flags %#04x)", flags)
}

// bucketName is the path of a bucket for a person: v1/ops.
func bucketName(parent string, key []byte) string {
	k := string(key)
	if len(k) > 40 || strings.ContainsFunc(k, func(r rune) bool { return r < ' ' || r > '~' }) {
		k = fmt.Sprintf("%x", key[:min(len(key), 20)])
	}
	if parent == "the root" {
		return "bucket " + k
	}
	return parent + "/" + k
}

// checkFile checks the open file f of path before bbolt maps it: its
// header, its length, its pages. created says Open made it just now (an
// empty file is then to be initialised, not refused).
func checkFile(f *os.File, path string, created bool) (header, error) {
	fi, err := f.Stat()
	if err != nil {
		return header{}, err
	}
	if fi.Size() == 0 {
		if created {
			return header{}, nil
		}
		return header{}, &DamagedError{Path: path, What: "it is empty (0 bytes): a database always holds its header. " +
			"A file that never held data (it was being created when the process stopped) may be deleted and is then made anew"}
	}
	h, problem := readHeader(f, fi.Size())
	if problem == "" {
		_, problem = walkPages(f, h)
	}
	if problem != "" {
		return h, &DamagedError{Path: path, What: problem}
	}
	return h, nil
}

// openChecked is bbolt's OpenFile: it opens the file, takes the lock bbolt
// would take (bbolt takes it again on the same descriptor, which is
// immediate), and checks the file under it, so that no writer changes the
// file while it is read and bbolt never maps a damaged one. The descriptor
// bbolt gets is put in *opened.
func openChecked(path string, readOnly bool, timeout time.Duration, warn func(string), opened **os.File) func(string, int, os.FileMode) (*os.File, error) {
	return func(name string, _ int, mode os.FileMode) (*os.File, error) {
		var f *os.File
		var err error
		created := false
		if readOnly {
			f, err = os.OpenFile(name, os.O_RDONLY, mode)
		} else {
			for {
				f, err = os.OpenFile(name, os.O_RDWR, mode)
				if !errors.Is(err, os.ErrNotExist) {
					break
				}
				f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, mode)
				if !errors.Is(err, os.ErrExist) { // else made by another process just now
					created = err == nil
					break
				}
			}
		}
		if err != nil {
			return nil, err
		}
		if err := lockFile(f, !readOnly, timeout); err != nil {
			f.Close()
			return nil, err
		}
		h, err := checkFile(f, path, created)
		if err != nil {
			f.Close()
			return nil, err
		}
		if h.warning != "" {
			warn(h.warning)
		}
		*opened = f
		return f, nil
	}
}

// walkTx checks the pages of tx's snapshot, which no writer changes while
// tx is open (the file's header may be newer).
func (l *Ledger) walkTx(tx *bolt.Tx) string {
	h := txHeader(tx)
	_, problem := walkPages(l.file, h)
	return problem
}

// txHeader is the header of tx's snapshot.
func txHeader(tx *bolt.Tx) header {
	ps := int64(tx.DB().Info().PageSize)
	return header{pageSize: ps, root: uint64(tx.Cursor().Bucket().Root()), freelist: noFreelist, pgid: uint64(tx.Size() / ps)}
}

// walkFile checks the pages of the file's current header: under a write
// transaction (no commit can move it), the snapshot a rollback walks.
func (l *Ledger) walkFile() string {
	fi, err := l.file.Stat()
	if err != nil {
		return fmt.Sprintf("it cannot be read: %v", err)
	}
	h, problem := readHeader(l.file, fi.Size())
	if problem == "" {
		_, problem = walkPages(l.file, h)
	}
	return problem
}
