package ledger

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// A migration brings a database from schema version-1 to version, inside
// the transaction that opens it: all of it or none of it, and the version
// moves with it. Migrations are listed in order and never edited once
// released (containerd's metadata/migrations.go is the model).
type migration struct {
	version int
	what    string
	run     func(tx *bolt.Tx) error
}

var migrations = []migration{
	{2, "count every operation type and status, and recount the operations not final by ECommPay's whole status list", recountOperations},
}

// migrate runs the migrations after version from.
func (l *Ledger) migrate(tx *bolt.Tx, from uint32) error {
	for _, m := range migrations {
		if uint32(m.version) <= from {
			continue
		}
		begin := time.Now()
		if err := m.run(tx); err != nil {
			return fmt.Errorf("migrate the database to schema %d (%s): %w", m.version, m.what, err)
		}
		if err := root(tx).Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, uint32(m.version))); err != nil {
			return err
		}
		l.log.Info("database migrated", "schema", m.version, "what", m.what, "elapsed", time.Since(begin))
	}
	return nil
}

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
