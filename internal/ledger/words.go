package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// Counts of ECommPay's words over the stored operations (their current
// type, status and payment status):
//
//	words/   field (1: 't' type, 'o' operation status, 'p' payment status) | word → uvarint count
//
// kept in the same transaction as the operations, so that `status` and the
// daily report can name the words reconciled's table does not know ("2
// operations in an unknown status `awaiting foo`") without reading every
// operation. Which words are unknown is decided when they are read, against
// the vocabulary of the day: a release that learns a word needs no
// rewrite.

// WordKey names one word of one field.
type WordKey struct {
	Field domain.Field
	Word  string
}

// maxWordKey bounds the word in a count's key: bbolt refuses keys over
// 32 KiB, and a broken upstream must not wedge the sync with a status of
// 40,000 bytes. A longer word is counted under its first bytes and a hash
// of the whole (so two long words stay apart); it is stored whole with
// its operation.
const maxWordKey = 200

// wordKeyBytes is the key of a word's count.
func wordKeyBytes(dst []byte, k WordKey) []byte {
	dst = append(dst, byte(k.Field))
	if len(k.Word) <= maxWordKey {
		return append(dst, k.Word...)
	}
	sum := sha256.Sum256([]byte(k.Word))
	head := []byte(k.Word[:maxWordKey-24])
	for len(head) > 0 && !utf8.Valid(head) { // do not cut a character in two
		head = head[:len(head)-1]
	}
	dst = append(dst, head...)
	dst = append(dst, "…#"...)
	return hex.AppendEncode(dst, sum[:8])
}

func putWordCounts(b *bolt.Bucket, delta map[WordKey]int64) error {
	var key []byte
	for k, d := range delta {
		if d == 0 {
			continue
		}
		key = wordKeyBytes(key[:0], k)
		n := int64(0)
		if v := b.Get(key); v != nil {
			u, size := binary.Uvarint(v)
			if size <= 0 {
				return fmt.Errorf("ledger: word count of %s %q is damaged", k.Field, k.Word)
			}
			n = int64(u)
		}
		n += d
		switch {
		case n < 0:
			return fmt.Errorf("ledger: word count of %s %q would fall below zero", k.Field, k.Word)
		case n == 0:
			if err := b.Delete(key); err != nil {
				return err
			}
		default:
			if err := b.Put(append([]byte(nil), key...), binary.AppendUvarint(nil, uint64(n))); err != nil {
				return err
			}
		}
	}
	return nil
}

// WordCounts lists how many stored operations have each type, status and
// payment status, in key order (by field, then word). A database not yet
// migrated to schema 2 (opened read-only) has none.
func (l *Ledger) WordCounts() ([]domain.WordCount, error) {
	var out []domain.WordCount
	err := l.view(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketWords)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			u, size := binary.Uvarint(v)
			if len(k) == 0 || size <= 0 {
				return fmt.Errorf("ledger: word count %x is damaged", k)
			}
			out = append(out, domain.WordCount{Field: domain.Field(k[0]), Word: string(k[1:]), Count: int64(u)})
			return nil
		})
	})
	return out, err
}

// Unknown lists the words of counts that v does not know.
func Unknown(counts []domain.WordCount, v *domain.Vocabulary) []domain.WordCount {
	var out []domain.WordCount
	for _, c := range counts {
		if !v.Known(c.Field, c.Word) {
			out = append(out, c)
		}
	}
	return out
}
