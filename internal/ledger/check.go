package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// Report is what Verify checked and found.
type Report struct {
	Checked  []string // what was checked, one line each, with what it found
	Warnings []string // what is odd but not damage
	Problems []string // what is damaged, at most maxProblems of them
	More     int      // problems found beyond those listed
	// Rebuild says that every problem is in the stored reconciliation,
	// which reconcile --full rebuilds from the data: no backup needs
	// restoring.
	Rebuild bool
}

// OK reports whether nothing is damaged.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// maxProblems is how many problems a report lists: a file damaged at its
// root has as many as it has records.
const maxProblems = 100

func (r *Report) checked(format string, args ...any) {
	r.Checked = append(r.Checked, fmt.Sprintf(format, args...))
}

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) == maxProblems {
		r.More++
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

func (r *Report) problemOf(err error) {
	var d *DamagedError
	if errors.As(err, &d) {
		r.problem("%s", d.What)
		return
	}
	r.problem("%v", err)
}

// errRollback ends the transaction of Verify's first part without a commit.
var errRollback = errors.New("rolled back")

// Verify checks the database: the file's header and length, every page
// header bbolt will follow, bbolt's own consistency check (every page, the
// free list, key order), and unless quick the ledger's invariants: the
// schema version, every stored value decodes, each operation has exactly
// its index entries and no entry points nowhere, the counts and word
// counts equal a recount. It reads everything.
//
// The error is for a check that could not run (ctx ended, the database was
// closed); damage is in the report.
//
// On a database open for writing (the daemon's) the structure is checked
// in a write transaction that is rolled back: bbolt's check reads the free
// list, which a concurrent writer changes, and the header pages must not
// move while they are read. Writers wait for that part.
func (l *Ledger) Verify(ctx context.Context, quick bool) (*Report, error) {
	rep := &Report{}
	structure := func(tx *bolt.Tx) error {
		l.checkStructure(tx, rep)
		if l.readOnly {
			return nil
		}
		return errRollback
	}
	var err error
	if l.readOnly {
		err = l.view(structure)
	} else {
		err = l.update(structure)
	}
	if errors.Is(err, errRollback) {
		err = nil
	}
	if errors.Is(err, ErrDamaged) {
		rep.problemOf(err)
		return rep, nil
	}
	if err != nil || quick || !rep.OK() {
		return rep, err // with a damaged structure the rest is not safe to read
	}
	err = l.view(func(tx *bolt.Tx) error { return l.checkLedger(ctx, tx, rep) })
	if errors.Is(err, ErrDamaged) {
		rep.problemOf(err)
		return rep, nil
	}
	return rep, err
}

// Check is Verify as one error: nil, or a DamagedError naming the
// problems.
func (l *Ledger) Check() error {
	rep, err := l.Verify(context.Background(), false)
	if err != nil {
		return err
	}
	if rep.OK() {
		return nil
	}
	what := strings.Join(rep.Problems, "; ")
	if rep.More > 0 {
		what += fmt.Sprintf("; and %d more", rep.More)
	}
	return l.damaged("%s", what)
}

// checkStructure checks the file under tx: its header and length, the page
// tree (before bbolt reads it: bbolt's check runs in a goroutine of its
// own, where a damaged page would crash the process), then bbolt's check.
func (l *Ledger) checkStructure(tx *bolt.Tx, rep *Report) {
	f := l.file
	fi, err := f.Stat()
	if err != nil {
		rep.problem("it cannot be read: %v", err)
		return
	}
	h, problem := readHeader(f, fi.Size())
	if problem != "" {
		rep.problem("%s", problem)
		return
	}
	if h.warning != "" {
		rep.Warnings = append(rep.Warnings, h.warning)
	}
	rep.checked("file: %d bytes, %d pages of %d bytes in use", fi.Size(), h.pgid, h.pageSize)
	pages, problem := walkPages(f, h)
	if problem != "" {
		rep.problem("%s", problem)
		return
	}
	rep.checked("pages: %d of %d reached from the root (the rest are free), each header and element inside its page", pages, h.pgid)
	n := 0
	for err := range tx.Check() {
		n++
		rep.problem("bbolt's check: %v", err)
	}
	if n == 0 {
		rep.checked("bbolt's check (every page, the free list, the order of keys): no problem")
	}
}

// checkLedger checks the ledger's own invariants in tx.
func (l *Ledger) checkLedger(ctx context.Context, tx *bolt.Tx, rep *Report) error {
	r := root(tx)
	if r == nil {
		rep.problem("it has no v1 bucket: not a reconciled database")
		return nil
	}
	var missing []string
	for _, name := range allBuckets {
		if r.Bucket(name) == nil {
			missing = append(missing, string(name))
		}
	}
	schema := uint32(0)
	if meta := r.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(keySchema); len(v) == 4 {
			schema = binary.BigEndian.Uint32(v)
		}
	}
	if schema < 1 || schema > SchemaVersion {
		rep.problem("its schema version is missing or unknown (%d; this release reads 1 to %d)", schema, SchemaVersion)
		return nil
	}
	rep.checked("schema %d (this release writes %d)", schema, SchemaVersion)
	for _, name := range [][]byte{bucketOps, bucketIdxPayment, bucketIdxProvider, bucketCounts, bucketRecords} {
		if r.Bucket(name) == nil {
			rep.problem("the %s bucket is missing", name)
			return nil
		}
	}
	if len(missing) > 0 { // the daemon's buckets came later: made by the next writable open
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("buckets not made yet (the next command that writes makes them): %s", strings.Join(missing, ", ")))
	}
	if r.Bucket(bucketMeta).Get(keyScrub) != nil {
		rep.Warnings = append(rep.Warnings, "free pages may still hold card numbers a migration masked: "+
			"the next command that writes to the database overwrites them")
	}
	if err := l.checkOperations(ctx, tx, r, schema, rep); err != nil {
		return err
	}
	if err := l.checkValues(ctx, tx, r, rep); err != nil {
		return err
	}
	return l.checkResult(ctx, tx, r, rep)
}

// checkOperations decodes every operation, looks up its index entries,
// and compares the counts with a recount. A database not migrated yet (a
// read-only open, a backup of one) is held to what its schema promised:
// schema 1 counted "not final" by a shorter list and had no word counts;
// before schema 3 card numbers may be stored in full (a warning: the next
// writable open masks them; from schema 3 on, one is a problem).
func (l *Ledger) checkOperations(ctx context.Context, tx *bolt.Tx, r *bolt.Bucket, schema uint32, rep *Report) error {
	old := schema < 2
	ops, idxPayment, idxProvider := r.Bucket(bucketOps), r.Bucket(bucketIdxPayment), r.Bucket(bucketIdxProvider)
	counts := map[int64]Counts{}
	words := map[WordKey]int64{}
	var n, withProvider, decoded, cards int
	var firstCard uint64
	var key []byte
	c := ops.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if n%releaseEvery == 0 {
			release(tx)
		}
		if len(k) != 8 {
			rep.problem("operation key %x is not 8 bytes", k)
			continue
		}
		id := beUint64(k)
		var rec Record
		if decodeRecord(v, id, &rec) != nil {
			rep.problemOf(corruptOp(id))
			continue
		}
		decoded++
		if holdsCard(&rec) {
			if cards++; cards == 1 {
				firstCard = id
			}
		}
		if key = paymentKey(key[:0], &rec.Operation); idxPayment.Get(key) == nil {
			rep.problem("operation %d has no entry in the payment index", id)
		}
		if key = providerKey(key[:0], &rec.Operation); len(key) > 0 {
			withProvider++
			if idxProvider.Get(key) == nil {
				rep.problem("operation %d has no entry in the provider index", id)
			}
		}
		tally(&rec.Operation, counts, words)
	}
	if n == decoded {
		rep.checked("%d operations: each record decodes", n)
	} else {
		rep.checked("%d operations: %d records decode, %d do not", n, decoded, n-decoded)
	}
	switch {
	case cards == 0:
		rep.checked("card numbers: none in full in the account numbers, messages and status histories")
	case schema < 3:
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d operations hold a card number in full (the first: operation %d), "+
			"stored by an earlier release: the next command that writes to the database masks them", cards, firstCard))
	default:
		rep.problem("%d operations hold a card number in full (the first: operation %d), which this schema never stores", cards, firstCard)
	}
	// Every operation found its entries; as many entries as operations
	// means there is no stray one. Otherwise name them.
	for _, idx := range []struct {
		name, each string
		b          *bolt.Bucket
		want       int
		key        func([]byte, *domain.Operation) []byte
	}{
		{"payment", "each operation", idxPayment, decoded, paymentKey},
		{"provider", "each operation with a provider payment id", idxProvider, withProvider, providerKey},
	} {
		if n != decoded {
			break // some operations do not decode: their entries cannot be told from strays
		}
		entries := idx.b.Stats().KeyN
		if entries == idx.want {
			rep.checked("%s index: %d entries, one for %s", idx.name, entries, idx.each)
			continue
		}
		rep.problem("the %s index has %d entries, the operations need %d", idx.name, entries, idx.want)
		ic := idx.b.Cursor()
		for k, _ := ic.First(); k != nil && rep.More == 0; k, _ = ic.Next() {
			if len(k) < 12 {
				rep.problem("the %s index has an entry %x too short for an hour and an operation", idx.name, k)
				continue
			}
			id := beUint64(k[len(k)-8:])
			var rec Record
			if v := ops.Get(k[len(k)-8:]); v == nil {
				rep.problem("the %s index points at operation %d, which is not stored", idx.name, id)
			} else if decodeRecord(v, id, &rec) == nil && !bytes.Equal(idx.key(nil, &rec.Operation), k) {
				rep.problem("the %s index has a stray entry %x for operation %d", idx.name, k, id)
			}
		}
	}

	stored := map[int64]Counts{}
	err := r.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			rep.problem("counts key %x is not 8 bytes", k)
		} else if c := decodeCounts(v); c != (Counts{}) {
			stored[int64(beUint64(k))] = c
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n != decoded {
		return nil // a recount without the operations that do not decode says nothing
	}
	bad := 0
	for p, c := range counts {
		if old { // schema 1 counted "not final" by a shorter list: migrate.go
			c.NotFinal = stored[p].NotFinal
		}
		if stored[p] != c {
			bad++
			rep.problem("project %d: the counts say %d operations, %d not final; a recount gives %d, %d",
				p, stored[p].Operations, stored[p].NotFinal, c.Operations, c.NotFinal)
		}
		delete(stored, p)
	}
	for p, c := range stored {
		bad++
		rep.problem("project %d: the counts say %d operations, it has none", p, c.Operations)
	}
	if bad == 0 {
		rep.checked("counts of %d projects: equal to a recount", len(counts))
	}

	wb := r.Bucket(bucketWords)
	if wb == nil || old {
		return nil
	}
	byKey := map[string]int64{}
	for k, c := range words {
		byKey[string(wordKeyBytes(nil, k))] += c
	}
	nw, bad := 0, 0
	err = wb.ForEach(func(k, v []byte) error {
		u, size := binary.Uvarint(v)
		switch {
		case len(k) == 0 || size <= 0:
			bad++
			rep.problem("word count %x does not decode", k)
		case byKey[string(k)] != int64(u):
			bad++
			rep.problem("%s %q: counted %d times, a recount gives %d", domain.Field(k[0]), k[1:], u, byKey[string(k)])
		}
		nw++
		return nil
	})
	if err != nil {
		return err
	}
	if nw != len(byKey) {
		rep.problem("word counts hold %d words, the operations have %d", nw, len(byKey))
	} else if bad == 0 {
		rep.checked("word counts of %d types and statuses: equal to a recount", nw)
	}
	return nil
}

// holdsCard says whether a stored operation shows a card number the
// client would have masked. The number itself is never quoted.
func holdsCard(rec *Record) bool {
	if _, changed := maskOperation(&rec.Operation); changed {
		return true
	}
	for i := range rec.Earlier {
		if domain.MaskCardNumbers(rec.Earlier[i].Message) != rec.Earlier[i].Message {
			return true
		}
	}
	return false
}

// checkValues decodes every merchant record and every value stored as
// JSON.
func (l *Ledger) checkValues(ctx context.Context, tx *bolt.Tx, r *bolt.Bucket, rep *Report) error {
	n, decoded := 0, 0
	var rec StoredRecord
	// A block that does not decode or overlaps is a problem named; the
	// check goes on with the next.
	err := recordsIn(tx).forEach(func(k, v []byte) error {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if n%releaseEvery == 0 {
			release(tx)
		}
		source, err := sourceOf(k)
		if err == nil {
			err = decodeStoredRecord(v, source, &rec)
		}
		if err != nil {
			rep.problemOf(corruptRecord(k))
			return nil
		}
		decoded++
		return nil
	}, func(err error) error { rep.problemOf(err); return nil })
	if err != nil {
		return err
	}
	if n == decoded {
		rep.checked("%d merchant records: each decodes", n)
	} else {
		rep.checked("%d merchant records: %d decode, %d do not", n, decoded, n-decoded)
	}

	var counts []string
	for _, b := range []struct {
		bucket []byte
		what   string
		decode func(k, v []byte) error
	}{
		{bucketSync, "sync states", asJSON[SyncState]},
		{bucketImports, "imports", asJSON[Import]},
		{bucketResolutions, "resolutions", asJSON[domain.Resolution]},
		{bucketAudit, "audit events", asJSON[domain.AuditEvent]},
		{bucketRuns, "reconciliation runs", asJSON[Run]},
		{bucketRechecks, "re-checks", func(_, v []byte) error {
			if len(v) != 8 {
				return errCorrupt
			}
			return nil
		}},
		{bucketJobs, "job runs", asJSON[JobRun]},
		{bucketReports, "reports made", asJSON[Produced]},
		{bucketOutbox, "messages in the outbox", asJSON[Mail]},
		{bucketBalances, "balance readings", asJSON[storedReading]},
		{bucketFees, "fees", func(k, v []byte) error {
			if len(k) != 8 {
				return errCorrupt
			}
			_, _, err := decodeFee(v)
			return err
		}},
	} {
		bucket := r.Bucket(b.bucket)
		if bucket == nil {
			continue
		}
		n := 0
		if err := bucket.ForEach(func(k, v []byte) error {
			if err := b.decode(k, v); err != nil {
				rep.problem("%s: the entry %s does not decode (%v)", b.bucket, describeKey(k), err)
				return nil
			}
			n++
			return nil
		}); err != nil {
			return err
		}
		counts = append(counts, fmt.Sprintf("%d %s", n, b.what))
	}
	cbs, entries, err := checkChargebacks(ctx, r, rep)
	if err != nil {
		return err
	}
	counts = append(counts, fmt.Sprintf("%d chargebacks (%d index entries)", cbs, entries))
	rep.checked("%s: each decodes", strings.Join(counts, ", "))
	checkAlerts(r, rep)     // alerts.go
	checkReportSeen(r, rep) // reportseen.go
	return nil
}

func asJSON[T any](_, v []byte) error {
	var x T
	return json.Unmarshal(v, &x)
}

// describeKey shows a key as text when it is text, else in hex.
func describeKey(k []byte) string {
	if bytes.ContainsFunc(k, func(r rune) bool { return r < ' ' || r > '~' }) {
		return fmt.Sprintf("%x", k)
	}
	return fmt.Sprintf("%q", k)
}
