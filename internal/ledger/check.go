package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// Check verifies the whole database: bbolt's own page checks, then that
// every operation has exactly its index entries, that no index entry points
// nowhere, and that the per-project counts equal a recount. It reads
// everything; it is for tests and for an operator who doubts the file.
func (l *Ledger) Check() error {
	return l.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("bbolt check: %w", errors.Join(errs...))
		}
		r := root(tx)
		// A database not migrated yet (opened read-only, or a backup of
		// one) is checked against what its own schema promised.
		old := binary.BigEndian.Uint32(r.Bucket(bucketMeta).Get(keySchema)) < SchemaVersion
		want := map[string]map[string]bool{"idx_payment": {}, "idx_provider": {}}
		counts := map[int64]Counts{}
		words := map[WordKey]int64{}
		err := r.Bucket(bucketOps).ForEach(func(k, v []byte) error {
			var rec Record
			if len(k) != 8 {
				return fmt.Errorf("operation key %x is not 8 bytes", k)
			}
			if err := decodeRecord(v, beUint64(k), &rec); err != nil {
				return fmt.Errorf("operation %d: %w", beUint64(k), err)
			}
			want["idx_payment"][string(paymentKey(nil, &rec.Operation))] = true
			if k := providerKey(nil, &rec.Operation); len(k) > 0 {
				want["idx_provider"][string(k)] = true
			}
			tally(&rec.Operation, counts, words)
			return nil
		})
		if err != nil {
			return err
		}
		for name, keys := range want {
			n := 0
			if err := r.Bucket([]byte(name)).ForEach(func(k, _ []byte) error {
				if !keys[string(k)] {
					return fmt.Errorf("%s has a stray entry %x", name, k)
				}
				n++
				return nil
			}); err != nil {
				return err
			}
			if n != len(keys) {
				return fmt.Errorf("%s has %d entries, the operations need %d", name, n, len(keys))
			}
		}
		stored := map[int64]Counts{}
		if err := r.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
			if c := decodeCounts(v); c != (Counts{}) {
				stored[int64(beUint64(k))] = c
			}
			return nil
		}); err != nil {
			return err
		}
		for p, c := range counts {
			if old { // schema 1 counted "not final" by a shorter list: migrate.go
				c.NotFinal = stored[p].NotFinal
			}
			if stored[p] != c {
				return fmt.Errorf("project %d: counts say %+v, a recount gives %+v", p, stored[p], c)
			}
			delete(stored, p)
		}
		for p, c := range stored {
			return fmt.Errorf("project %d: counts say %+v, it has no operations", p, c)
		}
		byKey := map[string]int64{}
		for k, c := range words {
			byKey[string(wordKeyBytes(nil, k))] += c
		}
		if wb := r.Bucket(bucketWords); wb != nil && !old {
			n := 0
			if err := wb.ForEach(func(k, v []byte) error {
				u, size := binary.Uvarint(v)
				if len(k) == 0 || size <= 0 {
					return fmt.Errorf("word count %x is damaged", k)
				}
				if want := byKey[string(k)]; want != int64(u) {
					return fmt.Errorf("%s %q: counted %d times, a recount gives %d", domain.Field(k[0]), k[1:], u, want)
				}
				n++
				return nil
			}); err != nil {
				return err
			}
			if n != len(byKey) {
				return fmt.Errorf("word counts hold %d words, the operations have %d", n, len(byKey))
			}
		}
		return nil
	})
}
