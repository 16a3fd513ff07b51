package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// A migration brings a database from schema version-1 to version. Migrations
// are listed in order and never edited once released (containerd's
// metadata/migrations.go is the model). There are two kinds:
//
//   - run: all of it in one transaction, the one that opens the database
//     for writing, and the version moves with it;
//   - rewrites: stored values rewritten batch by batch, each batch a
//     transaction of its own, so that memory stays bounded whatever the
//     size of the database (one transaction holds every page it dirties).
//     A rewrite must be idempotent: the version moves only with the last
//     batch, so a process killed midway leaves the older schema, partly
//     rewritten, and the next writable open starts the rewrite again from
//     the beginning (what is done already is unchanged by it). The older
//     schema stays valid meanwhile: a rewrite changes values, never what
//     the older schema's readers rely on.
//
// A migration with scrub set replaced values that must not survive it (card
// numbers): bbolt never writes over a page it frees, so the old values stay
// in the file's free pages. Its last batch marks the database, and
// scrubFreePages (scrub.go) then overwrites every free page with zeros and
// takes the mark away, in a transaction of its own: a process killed
// before that finishes leaves the mark, and the next writable open scrubs.
type migration struct {
	version  int
	what     string
	run      func(tx *bolt.Tx) error
	rewrites []rewrite
	scrub    bool
}

// A rewrite passes over the values of one bucket of v1: value returns the
// new value of the key k, or nil to leave it as it is. A bucket that does
// not exist is passed over.
type rewrite struct {
	bucket []byte
	value  func(k, v []byte) ([]byte, error)
}

var migrations = []migration{
	{version: 2, what: "count every operation type and status, and recount the operations not final by ECommPay's whole status list", run: recountOperations},
	{version: 3, what: "mask the card numbers an earlier release stored in full (account numbers, messages, status history, reasons quoted by resolutions and the audit trail)",
		rewrites: []rewrite{
			{bucketOps, maskStoredOperation},
			{bucketResolutions, maskJSONReason("summary")},
			{bucketAudit, maskJSONReason("detail")},
		},
		scrub: true},
	// Records of version 2 (codec.go) say who reported each status, the
	// sync or a callback; a record of version 1 is the sync's, as every
	// record was before, so nothing is rewritten. The version moves only
	// so that a release before callbacks refuses the database ("schema
	// version 4") instead of calling a version 2 record damage.
	{version: 4, what: "keep who reported each status (the sync or a callback); nothing to rewrite", run: func(*bolt.Tx) error { return nil }},
	// A result stored from version 5 on may keep its units' entries in
	// blocks (blocks.go), which a release before would read as entries
	// and trip over: the version moves so that it refuses the database.
	// A result stored before is read as it is, and replaced by blocks at
	// the next full recompute; nothing is rewritten.
	{version: 5, what: "the stored reconciliation's units in blocks; nothing to rewrite", run: func(*bolt.Tx) error { return nil }},
	// From version 6 on records/ holds the merchant records in blocks
	// (records.go), which readers know by the schema: a read-only open
	// reads an older database's key per record. The records are packed
	// in the opening transaction, all or nothing: a process killed midway
	// leaves schema 5 as it was, and the next writable open packs again.
	{version: 6, what: "the merchant records in blocks", run: packRecords},
}

// keyScrub, in meta/, says that free pages may hold values a migration
// replaced: the next writable open overwrites them (scrub.go).
var keyScrub = []byte("scrub free pages")

// Batches of a rewrite end after this many bytes of new values or this many
// values read, whichever comes first. Variables for the tests.
var (
	rewriteBatchBytes = 4 << 20
	rewriteBatchRows  = 1 << 16
	// afterBatch, when set (tests), is called after each committed batch
	// of a rewrite with the number of batches so far; an error stops the
	// migration there, as a process killed at that point would.
	afterBatch func(batches int) error
)

// migrateInTx runs, in the opening transaction tx, the migrations after
// *from up to the first that rewrites in batches, and moves *from along.
func (l *Ledger) migrateInTx(tx *bolt.Tx, from *uint32) error {
	for _, m := range migrations {
		if uint32(m.version) <= *from {
			continue
		}
		if m.run == nil {
			return nil // and the rest after the opening transaction: migrateRest
		}
		begin := time.Now()
		if err := m.run(tx); err != nil {
			return fmt.Errorf("migrate the database to schema %d (%s): %w", m.version, m.what, err)
		}
		if err := putSchema(tx, m.version); err != nil {
			return err
		}
		*from = uint32(m.version)
		l.log.Info("database migrated", "schema", m.version, "what", m.what, "elapsed", time.Since(begin))
	}
	return nil
}

// migrateRest runs the migrations after from, after the opening
// transaction, and then scrubs free pages if a migration asked for it
// (now or in a run that was stopped).
func (l *Ledger) migrateRest(from uint32) error {
	for _, m := range migrations {
		if uint32(m.version) <= from {
			continue
		}
		begin := time.Now()
		var err error
		var rewritten, batches int
		if m.run != nil {
			err = l.update(func(tx *bolt.Tx) error {
				if err := m.run(tx); err != nil {
					return err
				}
				return putSchema(tx, m.version)
			})
		} else {
			rewritten, batches, err = l.rewriteAll(m)
		}
		if err != nil {
			return fmt.Errorf("migrate the database to schema %d (%s): %w", m.version, m.what, err)
		}
		l.log.Info("database migrated", "schema", m.version, "what", m.what, "values rewritten", rewritten,
			"transactions", batches, "elapsed", time.Since(begin))
	}
	return l.scrubIfMarked()
}

func putSchema(tx *bolt.Tx, version int) error {
	return root(tx).Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, uint32(version)))
}

// rewriteAll runs m's rewrites batch by batch. The last batch moves the
// schema version (and marks the free pages for a scrub).
func (l *Ledger) rewriteAll(m migration) (rewritten, batches int, err error) {
	stage, after := 0, []byte(nil)
	for {
		var done bool
		err := l.update(func(tx *bolt.Tx) error {
			var n int
			var err error
			n, stage, after, done, err = rewriteBatch(tx, m.rewrites, stage, after)
			if err != nil {
				return err
			}
			rewritten += n
			if !done {
				return nil
			}
			if m.scrub {
				if err := root(tx).Bucket(bucketMeta).Put(keyScrub, []byte{1}); err != nil {
					return err
				}
			}
			return putSchema(tx, m.version)
		})
		if err != nil {
			return rewritten, batches, err
		}
		batches++
		if afterBatch != nil {
			if err := afterBatch(batches); err != nil {
				return rewritten, batches, err
			}
		}
		if done {
			return rewritten, batches, nil
		}
	}
}

// rewriteBatch rewrites, in tx, from the key after `after` of stage's
// bucket on, until the batch's budget is spent or the last bucket ends. It
// returns how many values it rewrote and where the next batch starts.
// Values are put after the cursor has passed them: bbolt's cursors are not
// to be trusted across a put.
func rewriteBatch(tx *bolt.Tx, rws []rewrite, stage int, after []byte) (n, nextStage int, nextAfter []byte, done bool, err error) {
	defer release(tx)
	type put struct{ k, v []byte }
	var puts []put
	bytesQueued, rows := 0, 0
	flush := func(b *bolt.Bucket) error {
		for _, p := range puts {
			if err := b.Put(p.k, p.v); err != nil {
				return err
			}
		}
		n += len(puts)
		puts = puts[:0]
		return nil
	}
	for ; stage < len(rws); stage, after = stage+1, nil {
		rw := rws[stage]
		b := root(tx).Bucket(rw.bucket)
		if b == nil {
			continue
		}
		c := b.Cursor()
		k, v := c.First()
		if after != nil {
			if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			if v == nil {
				continue // a nested bucket: none is expected here
			}
			nv, err := rw.value(k, v)
			if err != nil {
				return 0, 0, nil, false, err
			}
			if nv != nil {
				puts = append(puts, put{bytes.Clone(k), nv})
				bytesQueued += len(nv)
			}
			if rows++; bytesQueued >= rewriteBatchBytes || rows >= rewriteBatchRows {
				last := bytes.Clone(k)
				if err := flush(b); err != nil {
					return 0, 0, nil, false, err
				}
				return n, stage, last, false, nil // the next batch may find nothing left: one small transaction
			}
		}
		if err := flush(b); err != nil {
			return 0, 0, nil, false, err
		}
	}
	return n, stage, nil, true, nil
}

// maskStoredOperation masks an operation's account number and message as
// the client masks them when they arrive, and the messages of its status
// history; nil when nothing changes. Indexes and counts do not depend on
// these fields.
func maskStoredOperation(k, v []byte) ([]byte, error) {
	if len(k) != 8 {
		return nil, corrupt("operation key %x is not 8 bytes", k)
	}
	id := beUint64(k)
	var rec Record
	if decodeRecord(v, id, &rec) != nil {
		return nil, corruptOp(id)
	}
	masked, changed := maskOperation(&rec.Operation)
	rec.Operation = *masked
	for i := range rec.Earlier {
		if m := domain.MaskCardNumbers(rec.Earlier[i].Message); m != rec.Earlier[i].Message {
			rec.Earlier[i].Message, changed = m, true
		}
	}
	if !changed {
		return nil, nil
	}
	return appendRecordFrom(nil, appendOp(nil, &rec.Operation), rec.FirstSeen, rec.StatusSince, rec.StatusSources, rec.Earlier), nil
}

// maskOperation returns op with its account number and message masked
// (domain.MaskAccount, domain.MaskCardNumbers: what the client does as
// records arrive, idempotent), and whether that changed anything; op
// itself is not changed.
func maskOperation(op *domain.Operation) (*domain.Operation, bool) {
	a, m := domain.MaskAccount(op.AccountNumber), domain.MaskCardNumbers(op.Message)
	if a == op.AccountNumber && m == op.Message {
		return op, false
	}
	masked := *op
	masked.AccountNumber, masked.Message = a, m
	return &masked, true
}

// maskJSONReason masks the card numbers in the string member field of a
// JSON object (a resolution's summary, an audit event's detail: copies of
// an item's reason). The other members are kept as they are, unknown ones
// included.
func maskJSONReason(field string) func(k, v []byte) ([]byte, error) {
	return func(k, v []byte) ([]byte, error) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v, &obj); err != nil {
			return nil, corrupt("the entry %s does not decode (%v)", describeKey(k), err)
		}
		raw, ok := obj[field]
		if !ok {
			return nil, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, corrupt("the entry %s does not decode (%s: %v)", describeKey(k), field, err)
		}
		m := maskReason(s)
		if m == s {
			return nil, nil
		}
		enc, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		obj[field] = enc
		return json.Marshal(obj)
	}
}

// maskReason masks the card numbers in a reason reconciled wrote. Every
// release quotes an operation's message only as " (code CODE MESSAGE", and
// after it comes its own text: dates, statuses, a payment status and, last,
// "; amounts differ too: " with an operation id, which is not a card
// number and must stay whole. So the text from the message of the first
// "(code " to the last "; amounts differ too: " after it (or to the end) is
// masked; a message that holds that marker itself is still masked whole.
func maskReason(s string) string {
	i := strings.Index(s, "(code ")
	if i < 0 {
		return s
	}
	// The message begins after the code, which is its own digits: masked
	// with them, "100 4111111111111111" would keep "100 411".
	sp := strings.IndexByte(s[i+len("(code "):], ' ')
	if sp < 0 {
		return s
	}
	i += len("(code ") + sp + 1
	end := len(s)
	if j := strings.LastIndex(s, "; amounts differ too: "); j > i {
		end = j
	}
	m := domain.MaskCardNumbers(s[i:end])
	if m == s[i:end] {
		return s
	}
	return s[:i] + m + s[end:]
}

// packRecords packs records/, a key per record, into blocks: the keys
// and values as they are (one that does not decode stays so, and is named
// where it is read). The blocks are packed first, apart, the old bucket
// dropped (its pages freed whole, not a million deletes) and the blocks
// put into a new one in key order.
func packRecords(tx *bolt.Tx) error {
	r := root(tx)
	old := r.Bucket(bucketRecords)
	if old == nil {
		return nil
	}
	type block struct{ k, v []byte }
	var (
		blocks []block
		arena  []byte
		n      int
	)
	keep := func(k, v []byte) error {
		blocks = append(blocks, block{bytes.Clone(k), hold(&arena, v)})
		return nil
	}
	p := blockPacker{size: recordBlockBytes}
	err := old.ForEach(func(k, v []byte) error {
		if v == nil {
			return corrupt("records: %s is a bucket, not a merchant record", describeRecordKey(k))
		}
		if n++; n%releaseEvery == 0 {
			release(tx)
		}
		return p.add(k, v, keep)
	})
	if err == nil {
		err = p.end(keep)
	}
	if err != nil {
		return err
	}
	if err := r.DeleteBucket(bucketRecords); err != nil {
		return err
	}
	b, err := r.CreateBucket(bucketRecords)
	if err != nil {
		return err
	}
	b.FillPercent = 0.9
	for _, bl := range blocks {
		if err := b.Put(bl.k, bl.v); err != nil {
			return err
		}
	}
	if afterRecordsPacked != nil {
		return afterRecordsPacked()
	}
	return nil
}

// afterRecordsPacked, when set (tests), ends packRecords with its error,
// as a process killed before the commit would.
var afterRecordsPacked func() error

// recountOperations rebuilds counts/ and words/ from ops/. Schema 1 counted
// "not final" by a short status list (internal error, expired, … were not
// final then) and kept no word counts.
func recountOperations(tx *bolt.Tx) error {
	r := root(tx)
	counts, words := map[int64]Counts{}, map[WordKey]int64{}
	err := r.Bucket(bucketOps).ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			return corrupt("operation key %x is not 8 bytes", k)
		}
		var rec Record
		if err := decodeRecord(v, beUint64(k), &rec); err != nil {
			return corruptOp(beUint64(k))
		}
		tally(&rec.Operation, counts, words)
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range [][]byte{bucketCounts, bucketWords} {
		if err := r.DeleteBucket(name); err != nil {
			return err
		}
		if _, err := r.CreateBucket(name); err != nil {
			return err
		}
	}
	cb := r.Bucket(bucketCounts)
	for p, c := range counts {
		if err := cb.Put(be64(nil, uint64(p)), encodeCounts(c)); err != nil {
			return err
		}
	}
	return putWordCounts(r.Bucket(bucketWords), words)
}

// tally adds one stored operation to the counts a recount makes: what
// UpsertPage keeps up to date one page at a time.
func tally(op *domain.Operation, counts map[int64]Counts, words map[WordKey]int64) {
	c := counts[op.ProjectID]
	c.Operations++
	if !op.Final() {
		c.NotFinal++
	}
	counts[op.ProjectID] = c
	for _, f := range domain.Fields {
		words[WordKey{f, f.Word(op)}]++
	}
}
