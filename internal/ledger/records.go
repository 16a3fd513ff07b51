package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// Merchant records live in the records bucket under
//
//	kind (1: 'P' payment id, 'V' provider payment id, 'O' operation id) |
//	len (2) | id | type (1) | len (1) | source | occurrence (2)
//
// so that all records of one payment, of every type and source, are one
// prefix. The occurrence numbers the lines of one file that share the rest
// of the key: two of them are a duplicate the engine reports.
//
// An import is authoritative for the keys it holds: for each (id, type,
// source) in the file, its lines replace the stored ones, occurrence by
// occurrence, and stored occurrences beyond the file's count are removed
// (a later file that no longer repeats a line ends the duplicate). Keys
// the file does not hold are left alone: files are often a day's or a
// month's part of the books.

// From schema 6 on (recordBlocksSchema), records/ holds the records in
// blocks of about a page (blocks.go), not a bbolt key each:
//
//	records/   first key of the block → entries: uvarint key length, key, uvarint value length, value; in key order
//
// the keys and values above, unchanged. An import put a million keys,
// and bbolt's cost is per key: a seek from the root and a node insert each
// (0.55 s of a 1.5 s import), then a commit spilling one node of a million
// (0.2 s). ImportRecordSet walks the file's groups in key order through
// one span of blocks at a time (blockSpan), rewriting only the blocks it
// changes; readers seek over entries (blockCursor). A database of an
// older schema has one key per record, and a read-only open reads it so
// (recordsIn: the schema says which); the first writable open packs it
// (migrate.go).

// recordBlockBytes is the most a block of records holds (but one longer
// record): with its bbolt element and key, about a 4 KB page, as items.
// A variable for the tests.
var recordBlockBytes = 3968

// recordBlocksSchema is the schema from which records/ is in blocks.
const recordBlocksSchema = 6

// recordsIn is records/ of tx, in blocks or flat by the schema.
func recordsIn(tx *bolt.Tx) *blockMap {
	r := root(tx)
	return &blockMap{b: r.Bucket(bucketRecords), size: recordBlockBytes, flat: schemaOf(r) < recordBlocksSchema, damage: recordDamage}
}

// recordDamage names a damaged block of records by its first record, as
// corruptRecord names a record.
func recordDamage(bk []byte, what string) error {
	return corrupt("merchant record %s: its stored block %s", describeRecordKey(bk), what)
}

// ImportStats says what one import did.
type ImportStats struct {
	New, Updated, Unchanged, Removed int
}

// Import is the log entry of one import.
type Import struct {
	At        time.Time `json:"at"`
	User      string    `json:"user"`
	File      string    `json:"file"`
	SHA256    string    `json:"sha256"`
	Source    string    `json:"source"`
	Format    string    `json:"format"`
	Encoding  string    `json:"encoding,omitempty"`
	Separator string    `json:"separator,omitempty"`
	Lines     int       `json:"lines"`
	ImportStats
}

// StoredRecord is a merchant record with what the ledger knows about it.
type StoredRecord struct {
	domain.Record
	FirstSeen   time.Time
	StatusSince time.Time
	Earlier     []RecordStatus // statuses before the current one, oldest first
}

// RecordStatus is an earlier status of a record and when it was first seen.
type RecordStatus struct {
	SeenAt time.Time
	Status string
}

func recordIDKey(b []byte, r *domain.Record) []byte {
	switch {
	case r.PaymentID != "":
		b = append(b, 'P')
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.PaymentID)))
		return append(b, r.PaymentID...)
	case r.ProviderPaymentID != "":
		b = append(b, 'V')
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.ProviderPaymentID)))
		return append(b, r.ProviderPaymentID...)
	default:
		id := strconv.FormatUint(r.OperationID, 10)
		b = append(b, 'O')
		b = binary.BigEndian.AppendUint16(b, uint16(len(id)))
		return append(b, id...)
	}
}

// recordGroupKey is the key without the occurrence.
func recordGroupKey(b []byte, r *domain.Record) []byte {
	b = recordIDKey(b, r)
	b = append(b, typeByte(r.Type))
	b = append(b, byte(len(r.Source)))
	return append(b, r.Source...)
}

func typeByte(t string) byte {
	switch t {
	case domain.RecordPurchase:
		return 'p'
	case domain.RecordPayout:
		return 'o'
	case domain.RecordRefund:
		return 'r'
	}
	return '?'
}

// appendRecordFields encodes what is compared to decide that a record
// changed: everything but its origin and bookkeeping.
func appendRecordFields(b []byte, r *domain.Record) []byte {
	b = appendString(b, r.PaymentID)
	b = appendWord(b, r.Type)
	b = binary.AppendVarint(b, r.Amount.Amount)
	b = appendWord(b, r.Amount.Currency)
	b = appendString(b, r.Status)
	b = appendTime(b, r.CreatedAt)
	b = appendString(b, r.ProviderPaymentID)
	b = binary.AppendUvarint(b, r.OperationID)
	b = binary.AppendVarint(b, r.ProjectID)
	b = appendString(b, r.CustomerID)
	return appendWord(b, r.Method)
}

func appendStoredRecord(b, fields []byte, origin string, firstSeen, since time.Time, earlier []RecordStatus) []byte {
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, uint64(len(fields)))
	b = append(b, fields...)
	b = appendString(b, origin)
	return recordTail(b, firstSeen, since, earlier)
}

func decodeStoredRecord(v []byte, source string, out *StoredRecord) error {
	fields, rest, err := opSection(v) // same framing as operations
	if err != nil {
		return err
	}
	if err := decodeRecordFields(fields, source, &out.Record); err != nil {
		return err
	}
	r := reader{b: rest}
	out.Origin = r.string()
	out.FirstSeen = r.seen()
	out.StatusSince = r.seen()
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return errCorrupt
	}
	out.Earlier = nil
	for i := uint64(0); i < n; i++ {
		out.Earlier = append(out.Earlier, RecordStatus{SeenAt: r.seen(), Status: r.string()})
	}
	if r.err == nil && len(r.b) != 0 {
		return errCorrupt
	}
	return r.err
}

// decodeRecordFields reads what appendRecordFields wrote (all of a record
// but its origin).
func decodeRecordFields(fields []byte, source string, rec *domain.Record) error {
	return readRecordFields(sharedReader(fields), source, rec)
}

func readRecordFields(r reader, source string, rec *domain.Record) error {
	rec.Source = source
	rec.PaymentID = r.string()
	rec.Type = r.word()
	rec.Amount.Amount = r.varint()
	rec.Amount.Currency = r.word()
	rec.Status = r.string()
	rec.CreatedAt = r.time()
	rec.ProviderPaymentID = r.string()
	rec.OperationID = r.uvarint()
	rec.ProjectID = r.varint()
	if r.lean {
		r.skip()
		rec.CustomerID = ""
	} else {
		rec.CustomerID = r.string()
	}
	rec.Method = r.word()
	if r.err != nil || len(r.b) != 0 {
		return errCorrupt
	}
	return nil
}

// checkRecordTail checks what follows a stored record's first sighting
// (its status time, its earlier statuses) as decodeStoredRecord reads it,
// without keeping it: a lean read skips decoding, not checking.
func checkRecordTail(r reader) error {
	r.seen()
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return errCorrupt
	}
	for range n {
		r.seen()
		r.skip()
	}
	if r.err == nil && len(r.b) != 0 {
		return errCorrupt
	}
	return r.err
}

// sourceOf reads the source out of a records key.
func sourceOf(k []byte) (string, error) {
	b, err := sourceBytes(k)
	return string(b), err
}

// sourceBytes is sourceOf without the copy.
func sourceBytes(k []byte) ([]byte, error) {
	if len(k) < 3 {
		return nil, errCorrupt
	}
	n := int(binary.BigEndian.Uint16(k[1:3]))
	i := 3 + n + 1 // past the id and the type
	if len(k) < i+1 {
		return nil, errCorrupt
	}
	m := int(k[i])
	if len(k) != i+1+m+2 {
		return nil, errCorrupt
	}
	return k[i+1 : i+1+m], nil
}

// describeRecordKey names a merchant record by its key, for a person:
// payment id "p-1", purchase, source "books", occurrence 1.
func describeRecordKey(k []byte) string {
	if len(k) < 3 {
		return fmt.Sprintf("with the key %x", k)
	}
	n := int(binary.BigEndian.Uint16(k[1:3]))
	i := 3 + n
	if len(k) < i+2 {
		return fmt.Sprintf("with the key %x", k)
	}
	what := map[byte]string{'P': "payment id", 'V': "provider payment id", 'O': "operation id"}[k[0]]
	if what == "" {
		what = "id"
	}
	typ := map[byte]string{'p': domain.RecordPurchase, 'o': domain.RecordPayout, 'r': domain.RecordRefund}[k[i]]
	if typ == "" {
		typ = "of no known type"
	}
	s := fmt.Sprintf("of %s %q, %s", what, k[3:i], typ)
	if source, err := sourceOf(k); err == nil {
		s += fmt.Sprintf(", source %q, occurrence %d", source, binary.BigEndian.Uint16(k[len(k)-2:]))
	}
	return s
}

// describeGroup names the records of a group key (a key without its
// occurrence): payment id "p-1", purchase, source "books".
func describeGroup(g []byte) string {
	return strings.TrimSuffix(describeRecordKey(append(slices.Clone(g), 0, 0)), ", occurrence 0")
}

// ImportRecords stores recs, one file's records in file order, as
// ImportRecordSet does.
func (l *Ledger) ImportRecords(recs []domain.Record, meta Import, seen time.Time) (ImportStats, error) {
	return l.ImportRecordSet(context.Background(), RecordSetOf(recs), meta, seen)
}

// ImportRecordSet stores one file's records in one write transaction and
// logs the import: all of it, or nothing (a cancelled ctx too). A set is
// imported once.
func (l *Ledger) ImportRecordSet(ctx context.Context, set *RecordSet, meta Import, seen time.Time) (ImportStats, error) {
	if set.err != nil {
		return ImportStats{}, fmt.Errorf("store records: %w", set.err)
	}
	seen = seen.UTC()
	newTail := recordTail(nil, seen, seen, nil)
	type occurrence struct {
		n    uint16
		v    []byte
		kept bool
	}
	type entry struct{ k, v []byte }
	var (
		st     ImportStats
		recs   []encRecord
		stored []occurrence // a group's, in occurrence order (usually none or one)
		out    []entry      // what the group leaves stored, in key order
		apart  []byte       // values too long for their room in the set
		tail   []byte
		cur    domain.Record
		prev   StoredRecord
	)
	err := l.update(func(tx *bolt.Tx) error {
		st = ImportStats{}
		// Opening for writing read every page (the free list's rebuild):
		// they need not stay resident while the transaction grows.
		release(tx)
		// Key order makes the writes one pass over records/; within a
		// group, file order numbers the occurrences.
		recs = set.sorted()
		var heap heapPacer
		m := recordsIn(tx)
		if m.flat {
			return errors.New("the merchant records are not in blocks: the database was not migrated") // a writable open migrates
		}
		span := m.span()
		marks := newMarker(tx)
		for i, groups := 0, 0; i < len(recs); groups++ {
			if groups%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				if set.n >= bigSet {
					heap.check()
				}
			}
			if groups%releaseEvery == releaseEvery-1 {
				release(tx) // the stored pages the lookups read
			}
			group := set.group(&recs[i])
			j := i + 1
			for j < len(recs) && bytes.Equal(set.group(&recs[j]), group) {
				j++
			}
			if j-i > maxOccurrences {
				return fmt.Errorf("%d lines are one record (%s): at most %d lines may repeat one id, type and source", j-i, describeGroup(group), maxOccurrences)
			}
			if err := span.seek(group); err != nil {
				return err
			}
			stored = stored[:0]
			for {
				k, v, err := span.take(group)
				if err != nil {
					return err
				}
				if k == nil {
					break
				}
				// Every stored occurrence the file replaces or removes
				// must decode: a damaged one is named, not written over.
				if !inGroup(k, group) || decodeStoredRecord(v, "", &prev) != nil {
					return corruptRecord(k)
				}
				stored = append(stored, occurrence{n: binary.BigEndian.Uint16(k[len(group):]), v: v})
			}
			// The records of one group in file order, each with what is
			// stored under its occurrence. The three outcomes that change
			// the books are counted in one place each, where the record's
			// payment id, provider payment id and operation id are at hand:
			// Updated (cur, and prev as it was), New (decodeRecordFields of
			// fields) and Removed (decodeStoredRecord of o.v).
			next, changed := 0, false
			out, apart = out[:0], apart[:0]
			for n := i; n < j; n++ {
				e := &recs[n]
				occ := uint16(n - i + 1)
				key := set.key(e)
				binary.BigEndian.PutUint16(key[len(group):], occ)
				fields, _, _ := opSection(set.value(e)) // the set wrote it
				for next < len(stored) && stored[next].n < occ {
					next++
				}
				t := newTail
				if next < len(stored) && stored[next].n == occ {
					old := &stored[next]
					old.kept = true
					oldFields, _, err := opSection(old.v)
					if err != nil {
						return corruptRecord(key)
					}
					if bytes.Equal(oldFields, fields) {
						st.Unchanged++
						out = append(out, entry{key, old.v})
						continue
					}
					if decodeStoredRecord(old.v, "", &prev) != nil || decodeRecordFields(fields, "", &cur) != nil {
						return corruptRecord(key)
					}
					firstSeen, since, earlier := prev.FirstSeen, prev.StatusSince, prev.Earlier
					if prev.Status != cur.Status {
						earlier = append(earlier, RecordStatus{SeenAt: prev.StatusSince, Status: prev.Status})
						since = seen
					}
					tail = recordTail(tail[:0], firstSeen, since, earlier)
					t = tail
					st.Updated++
				} else {
					st.New++
				}
				changed = true
				out = append(out, entry{key, set.withTail(e, t, &apart)})
			}
			for _, o := range stored {
				if !o.kept {
					st.Removed++
					changed = true
				}
			}
			if changed {
				marks.unit(unitOfKey(group))
				if err := span.change(); err != nil {
					return err
				}
			}
			for _, e := range out { // into the span's new blocks, when it changed
				if err := span.add(e.k, e.v); err != nil {
					return err
				}
			}
			i = j
		}
		if err := span.close(); err != nil {
			return err
		}
		// The commit makes a page for every value it has been given,
		// while the values are still held: let the keys (bbolt copied
		// them), the sort and the garbage of the writes go first, so that
		// the heap the commit grows is this much, not twice the last
		// collection's (GOGC).
		if recs, set.keys, set.values = nil, nil, nil; set.n >= bigSet {
			runtime.GC()
		}
		meta.ImportStats = st
		if err := marks.flush(); err != nil {
			return err
		}
		return appendLog(root(tx).Bucket(bucketImports), meta)
	})
	if err != nil {
		return ImportStats{}, fmt.Errorf("store records: %w", err)
	}
	return st, nil
}

// bigSet is a set whose import looks after the heap (heapPacer, and a
// collection before the commit): below it there is little to gain.
const bigSet = 1 << 16

// heapPacer holds a write loop's heap to a quarter more than it keeps
// live. bbolt puts a fresh bucket's keys into one node until it commits,
// whose slice of a million entries grows by a quarter at a time: 300 MB of
// garbage for a million records, which the collector's own pace (GOGC=100)
// let the heap reach twice the live records and pages before it
// collected. Reading two of runtime/metrics' figures costs far less than a
// collection; the collections it asks for cost about 30 ms each.
type heapPacer struct{ samples [2]metrics.Sample }

func (p *heapPacer) check() {
	if p.samples[0].Name == "" {
		p.samples[0].Name, p.samples[1].Name = "/gc/heap/live:bytes", "/memory/classes/heap/objects:bytes"
	}
	metrics.Read(p.samples[:])
	if p.samples[0].Value.Kind() != metrics.KindUint64 || p.samples[1].Value.Kind() != metrics.KindUint64 {
		return
	}
	live, held := p.samples[0].Value.Uint64(), p.samples[1].Value.Uint64()
	if held > live+live/4+32<<20 {
		runtime.GC()
	}
}

// inGroup says whether k is a key of the records of group g.
func inGroup(k, g []byte) bool { return len(k) == len(g)+2 && bytes.HasPrefix(k, g) }

// appendLog stores v as JSON under the bucket's next sequence number.
func appendLog(b *bolt.Bucket, v any) error {
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(be64(nil, seq), data)
}

// Imports returns the import log, oldest first.
func (l *Ledger) Imports() ([]Import, error) {
	var out []Import
	err := l.view(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketImports).ForEach(func(k, v []byte) error {
			var im Import
			if err := decodeEntry(bucketImports, k, v, &im); err != nil {
				return err
			}
			out = append(out, im)
			return nil
		})
	})
	return out, err
}

// ForEachRecord calls fn for every stored record, in key order (by id,
// type, source, occurrence). fn must not keep r.
func (l *Ledger) ForEachRecord(fn func(r *StoredRecord) error) error {
	return l.view(func(tx *bolt.Tx) error {
		var r StoredRecord
		n := 0
		return recordsIn(tx).ForEach(func(k, v []byte) error {
			if n++; n%releaseEvery == 0 {
				release(tx)
			}
			source, err := sourceOf(k)
			if err != nil {
				return corruptRecord(k)
			}
			if err := decodeStoredRecord(v, source, &r); err != nil {
				return corruptRecord(k)
			}
			return fn(&r)
		})
	})
}

// ForEachRecordLean is ForEachRecord with what the reconciliation reads:
// the record without its customer id, its origin and first sighting (no
// earlier statuses, no status time: checked, not kept), its strings copied
// into blocks shared by many records instead of each record's stored bytes
// kept whole. A value ForEachRecord calls damaged is damage here too. fn
// must not keep r, but may keep its strings.
func (l *Ledger) ForEachRecordLean(fn func(r *StoredRecord) error) error {
	return l.view(func(tx *bolt.Tx) error {
		var r StoredRecord
		a := &arena{}
		var source string
		n := 0
		return recordsIn(tx).ForEach(func(k, v []byte) error {
			if n++; n%releaseEvery == 0 {
				release(tx)
			}
			src, err := sourceBytes(k)
			if err != nil {
				return corruptRecord(k)
			}
			if string(src) != source { // a book's records are mostly together: one string per run
				source = string(src)
			}
			fields, rest, err := opSection(v)
			if err != nil || readRecordFields(reader{b: fields, a: a, lean: true}, source, &r.Record) != nil {
				return corruptRecord(k)
			}
			t := reader{b: rest, a: a}
			r.Origin = t.string()
			r.FirstSeen = t.seen()
			if t.err != nil || checkRecordTail(t) != nil {
				return corruptRecord(k)
			}
			return fn(&r)
		})
	})
}

// RecordsOf returns the stored records that name a payment by its payment
// id, provider payment id or operation id.
func (l *Ledger) RecordsOf(paymentID, providerPaymentID string, operationID uint64) ([]StoredRecord, error) {
	var prefixes [][]byte
	if paymentID != "" {
		prefixes = append(prefixes, recordIDKey(nil, &domain.Record{PaymentID: paymentID}))
	}
	if providerPaymentID != "" {
		prefixes = append(prefixes, recordIDKey(nil, &domain.Record{ProviderPaymentID: providerPaymentID}))
	}
	if operationID != 0 {
		prefixes = append(prefixes, recordIDKey(nil, &domain.Record{OperationID: operationID}))
	}
	var out []StoredRecord
	err := l.view(func(tx *bolt.Tx) error {
		m := recordsIn(tx)
		for _, p := range prefixes {
			err := eachRecordOf(m, p, func(r *StoredRecord) error { out = append(out, *r); return nil })
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// eachRecordOf calls fn with each stored record under the id key prefix
// (recordIDKey: every type and source of one id), decoded; fn must copy
// what it keeps.
func eachRecordOf(m *blockMap, prefix []byte, fn func(*StoredRecord) error) error {
	var r StoredRecord
	c := m.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) > len(prefix) && isTypeByte(k[len(prefix)]); k, v = c.Next() {
		source, err := sourceOf(k)
		if err != nil {
			return corruptRecord(k)
		}
		r = StoredRecord{}
		if err := decodeStoredRecord(v, source, &r); err != nil {
			return corruptRecord(k)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return c.Err()
}

func isTypeByte(b byte) bool { return b == 'p' || b == 'o' || b == 'r' }

// RecordCount is the number of stored records (those of a damaged block
// that decode: check names the block).
func (l *Ledger) RecordCount() (int, error) {
	var n int
	err := l.view(func(tx *bolt.Tx) error {
		n = recordsIn(tx).Len()
		return nil
	})
	return n, err
}
