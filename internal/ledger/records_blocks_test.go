package ledger

import (
	bolt "go.etcd.io/bbolt"
)

// putRecordEntry stores v as the record of key k, inside its block: a
// test's damage of one record, not of its block.
func putRecordEntry(tx *bolt.Tx, k, v []byte) error {
	m := recordsIn(tx)
	if err := m.Put(k, v); err != nil {
		return err
	}
	return m.Flush()
}

// putEntry stores v under k in the bucket of v1 named bucket: in its block
// for records/.
func putEntry(tx *bolt.Tx, bucket string, k, v []byte) error {
	if bucket == string(bucketRecords) {
		return putRecordEntry(tx, k, v)
	}
	return root(tx).Bucket([]byte(bucket)).Put(k, v)
}
