package ledger

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"reconciled/internal/domain"
)

// A RecordSet is one file's records encoded as the records bucket stores
// them, for ImportRecordSet. An import encodes each record as it is
// checked, on the checking goroutines (one RecordBatch each), so that the
// parsed records are never held beside their encoded bytes, and bbolt
// writes the set's own bytes: it keeps a reference to a value until the
// transaction commits, so a value built for Put is not a copy of the set's
// but the set's.
//
// A record is, in its batch's arena:
//
//	group key | occurrence (2, set when it is stored) |
//	value: recordVersion | uvarint len | fields | uvarint len | origin | room (tailRoom)
//
// The value is appendStoredRecord's less its tail (first seen, status since,
// earlier statuses), which depends on what is stored. The tail is written
// into the room after the value when it fits: a new record's (two times in
// milliseconds and a zero) is 13 bytes until 2039 and 15 until 2248; an
// updated one's with an earlier status does not fit and is built apart.
type RecordSet struct {
	arenas  [][]byte      // one per batch, exactly its size
	batches [][]encRecord // until sorted
	n       int
	err     error // the first record that cannot be stored
	free    sync.Pool
}

// tailRoom is the room after each value for its tail (see RecordSet).
const tailRoom = 15

var room [tailRoom]byte

// maxOccurrences is how many lines of one file may repeat a record (the
// same id, type and source): the occurrence is two bytes of the key.
const maxOccurrences = math.MaxUint16

// encRecord is a record of a set: where it is in its batch's arena, and in
// the file.
type encRecord struct {
	line  uint64 // its place in the file: occurrences are numbered in this order
	batch uint32 // its arena, in RecordSet.arenas
	off   uint32 // its group key's offset in the arena
	group uint32 // the group key's length
	value uint32 // the value's length, without its tail
}

// A RecordBatch is filled on one goroutine and handed to its set's Append.
type RecordBatch struct {
	buf    []byte
	recs   []encRecord
	fields []byte
	err    error
}

// NewRecordSet is an empty set.
func NewRecordSet() *RecordSet { return &RecordSet{} }

// NewBatch is an empty batch, which may be one Append emptied; it may be
// called from any goroutine.
func (s *RecordSet) NewBatch() *RecordBatch {
	if b, ok := s.free.Get().(*RecordBatch); ok {
		return b
	}
	return &RecordBatch{}
}

// Add encodes r, the record of the file's line; lines order the records
// that repeat one (occurrences), and no two records of a set have the same
// line. r is not kept.
func (b *RecordBatch) Add(line int, r *domain.Record) {
	if b.err != nil {
		return
	}
	if len(r.Source) > 255 || idLen(r) > math.MaxUint16 {
		b.err = fmt.Errorf("record %s: source or id too long", r.Origin)
		return
	}
	off := len(b.buf)
	b.buf = recordGroupKey(b.buf, r)
	group := len(b.buf) - off
	b.buf = append(b.buf, 0, 0)
	start := len(b.buf)
	b.fields = appendRecordFields(b.fields[:0], r)
	b.buf = append(b.buf, recordVersion)
	b.buf = binary.AppendUvarint(b.buf, uint64(len(b.fields)))
	b.buf = append(b.buf, b.fields...)
	b.buf = appendString(b.buf, r.Origin)
	value := len(b.buf) - start
	b.buf = append(b.buf, room[:]...)
	if len(b.buf) > math.MaxUint32 {
		b.err = fmt.Errorf("record %s: too large", r.Origin)
		return
	}
	b.recs = append(b.recs, encRecord{line: uint64(line), off: uint32(off), group: uint32(group), value: uint32(value)})
}

// idLen is the length of the id recordIDKey writes.
func idLen(r *domain.Record) int {
	switch {
	case r.PaymentID != "":
		return len(r.PaymentID)
	case r.ProviderPaymentID != "":
		return len(r.ProviderPaymentID)
	}
	return 20 // the longest uint64
}

// Append takes b's records into the set, on one goroutine (batches in any
// order: their lines order the records); b is emptied for NewBatch.
func (s *RecordSet) Append(b *RecordBatch) {
	if b.err != nil && s.err == nil {
		s.err = b.err
	}
	if len(b.recs) > 0 && s.err == nil {
		arena := uint32(len(s.arenas))
		s.arenas = append(s.arenas, bytes.Clone(b.buf))
		recs := slices.Clone(b.recs)
		for i := range recs {
			recs[i].batch = arena
		}
		s.batches = append(s.batches, recs)
		s.n += len(recs)
	}
	b.buf, b.recs, b.err = b.buf[:0], b.recs[:0], nil
	s.free.Put(b)
}

// Len is how many records the set holds.
func (s *RecordSet) Len() int { return s.n }

// RecordSetOf is the set of recs, whose lines are their order.
func RecordSetOf(recs []domain.Record) *RecordSet {
	s := NewRecordSet()
	b := s.NewBatch()
	for i := range recs {
		b.Add(i+1, &recs[i])
		if len(b.recs) == 512 {
			s.Append(b)
			b = s.NewBatch()
		}
	}
	s.Append(b)
	return s
}

func (s *RecordSet) group(e *encRecord) []byte {
	return s.arenas[e.batch][e.off : e.off+e.group : e.off+e.group]
}

// key is the record's key, its occurrence as the arena holds it.
func (s *RecordSet) key(e *encRecord) []byte {
	end := e.off + e.group + 2
	return s.arenas[e.batch][e.off:end:end]
}

// value is the record's value without its tail.
func (s *RecordSet) value(e *encRecord) []byte {
	start := e.off + e.group + 2
	return s.arenas[e.batch][start : start+e.value : start+e.value]
}

// withTail is the record's whole value: in the arena, the tail written into
// its room, when the tail fits; else a copy at the end of *apart.
func (s *RecordSet) withTail(e *encRecord, tail []byte, apart *[]byte) []byte {
	start := e.off + e.group + 2
	end := start + e.value
	if len(tail) <= tailRoom {
		a := s.arenas[e.batch]
		end += uint32(copy(a[end:], tail))
		return a[start:end:end]
	}
	from := len(*apart)
	*apart = append(*apart, s.arenas[e.batch][start:end]...)
	*apart = append(*apart, tail...)
	return (*apart)[from:len(*apart):len(*apart)]
}

// sorted is the set's records in key order, and within a group in file
// order (which numbers the occurrences), sorted on two goroutines; the set's
// batches are given up for it.
func (s *RecordSet) sorted() []encRecord {
	all := make([]encRecord, 0, s.n)
	for _, b := range s.batches {
		all = append(all, b...)
	}
	s.batches = nil
	order := func(a, b encRecord) int {
		if c := bytes.Compare(s.group(&a), s.group(&b)); c != 0 {
			return c
		}
		return cmp.Compare(a.line, b.line)
	}
	if len(all) < 1<<14 {
		slices.SortFunc(all, order)
		return all
	}
	half := len(all) / 2
	left, right := all[:half], all[half:]
	var wg sync.WaitGroup
	wg.Go(func() { slices.SortFunc(left, order) })
	slices.SortFunc(right, order)
	wg.Wait()
	out := make([]encRecord, 0, len(all))
	for len(left) > 0 && len(right) > 0 {
		if order(left[0], right[0]) <= 0 {
			out, left = append(out, left[0]), left[1:]
		} else {
			out, right = append(out, right[0]), right[1:]
		}
	}
	out = append(out, left...)
	return append(out, right...)
}

// recordTail is the end of a stored record's value after its origin
// (appendStoredRecord).
func recordTail(b []byte, firstSeen, since time.Time, earlier []RecordStatus) []byte {
	b = appendSeen(b, firstSeen)
	b = appendSeen(b, since)
	b = binary.AppendUvarint(b, uint64(len(earlier)))
	for _, e := range earlier {
		b = appendSeen(b, e.SeenAt)
		b = appendString(b, e.Status)
	}
	return b
}
