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
// A batch's records are, in its two arenas:
//
//	key:   group key | occurrence (2, set when it is stored)
//	value: recordVersion | uvarint len | fields | uvarint len | origin | room (tailRoom)
//
// The keys are together so that sorting reads them and nothing else (keys
// between the values made the sort twice as slow), and apart from the
// values because bbolt keeps the values until it commits but copies the
// keys: they go before the commit's pages are made.
//
// The value is appendStoredRecord's less its tail (first seen, status since,
// earlier statuses), which depends on what is stored. The tail is written
// into the room after the value when it fits: a new record's (two times in
// milliseconds and a zero) is 13 bytes until 2039 and 15 after, for eight
// thousand years; an updated one's with an earlier status does not fit and
// is built apart.
type RecordSet struct {
	keys    [][]byte      // one per batch, exactly its size; dropped once stored
	values  [][]byte      // the same batches' values
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
	batch uint32 // its batch's arenas, in RecordSet.keys and .values
	off   uint32 // its group key's offset in the batch's keys
	group uint32 // the group key's length
	voff  uint32 // its value's offset in the batch's values
	value uint32 // the value's length, without its tail
}

// A RecordBatch is filled on one goroutine and handed to its set's Append.
type RecordBatch struct {
	keys   []byte
	values []byte
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
	if err := domain.CheckTime(r.CreatedAt); err != nil { // its item's time would be stored as another
		b.err = fmt.Errorf("record %s: created_at %w", r.Origin, err)
		return
	}
	if err := domain.CheckAmount(r.Amount.Amount); err != nil { // the stored result's sums would wrap
		b.err = fmt.Errorf("record %s: %w", r.Origin, err)
		return
	}
	off := len(b.keys)
	b.keys = recordGroupKey(b.keys, r)
	group := len(b.keys) - off
	b.keys = append(b.keys, 0, 0)
	voff := len(b.values)
	b.fields = appendRecordFields(b.fields[:0], r)
	b.values = append(b.values, recordVersion)
	b.values = binary.AppendUvarint(b.values, uint64(len(b.fields)))
	b.values = append(b.values, b.fields...)
	b.values = appendString(b.values, r.Origin)
	value := len(b.values) - voff
	b.values = append(b.values, room[:]...)
	if uint64(len(b.keys)) > math.MaxUint32 || uint64(len(b.values)) > math.MaxUint32 {
		b.err = fmt.Errorf("record %s: too large", r.Origin)
		return
	}
	b.recs = append(b.recs, encRecord{line: uint64(line), off: uint32(off), group: uint32(group), voff: uint32(voff), value: uint32(value)})
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
		recs := slices.Clone(b.recs)
		for i := range recs {
			recs[i].batch = uint32(len(s.keys))
		}
		s.keys = append(s.keys, bytes.Clone(b.keys))
		s.values = append(s.values, bytes.Clone(b.values))
		s.batches = append(s.batches, recs)
		s.n += len(recs)
	}
	b.keys, b.values, b.recs, b.err = b.keys[:0], b.values[:0], b.recs[:0], nil
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
	return s.keys[e.batch][e.off : e.off+e.group : e.off+e.group]
}

// key is the record's key, its occurrence as the arena holds it.
func (s *RecordSet) key(e *encRecord) []byte {
	end := e.off + e.group + 2
	return s.keys[e.batch][e.off:end:end]
}

// value is the record's value without its tail.
func (s *RecordSet) value(e *encRecord) []byte {
	return s.values[e.batch][e.voff : e.voff+e.value : e.voff+e.value]
}

// withTail is the record's whole value: in the arena, the tail written into
// its room, when the tail fits; else a copy at the end of *apart.
func (s *RecordSet) withTail(e *encRecord, tail []byte, apart *[]byte) []byte {
	start := e.voff
	end := start + e.value
	if len(tail) <= tailRoom {
		a := s.values[e.batch]
		end += uint32(copy(a[end:], tail))
		return a[start:end:end]
	}
	from := len(*apart)
	*apart = append(*apart, s.values[e.batch][start:end]...)
	*apart = append(*apart, tail...)
	return (*apart)[from:len(*apart):len(*apart)]
}

// sorted is the set's records in key order, and within a group in file
// order (which numbers the occurrences), sorted in two halves on two
// goroutines and merged; the set's batches are given up for it.
//
// The sort is stable, of records in line order: books are mostly in time
// order, and their ids grow with time, so runs of them are sorted already,
// which insertion sort and merging use (pdqsort took twice the time).
func (s *RecordSet) sorted() []encRecord {
	all := make([]encRecord, 0, s.n)
	for _, b := range s.batches {
		all = append(all, b...)
	}
	s.batches = nil
	if !slices.IsSortedFunc(all, byLine) { // batches appended out of order
		slices.SortFunc(all, byLine)
	}
	if len(all) < 1<<14 {
		slices.SortStableFunc(all, s.byGroup)
		return all
	}
	left, right := all[:len(all)/2], all[len(all)/2:]
	var wg sync.WaitGroup
	wg.Go(func() { slices.SortStableFunc(left, s.byGroup) })
	slices.SortStableFunc(right, s.byGroup)
	wg.Wait()
	out := make([]encRecord, 0, len(all))
	for len(left) > 0 && len(right) > 0 {
		if s.byGroup(left[0], right[0]) <= 0 { // left first: its lines come first
			out, left = append(out, left[0]), left[1:]
		} else {
			out, right = append(out, right[0]), right[1:]
		}
	}
	out = append(out, left...)
	return append(out, right...)
}

func byLine(a, b encRecord) int { return cmp.Compare(a.line, b.line) }

func (s *RecordSet) byGroup(a, b encRecord) int { return bytes.Compare(s.group(&a), s.group(&b)) }

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
