package ledger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// The fee ECommPay charged on each operation, as
// /financial-reporting/operations reports it: fees/, operation id (8) →
// amount (varint), currency (word), when it was stored or last changed
// (seen). Kept apart from the operation (the operations sync does not
// carry fees and must not wipe them; a fee may come before its
// operation), joined to it by id where the register is read (ForEach).

// FeeStats counts what UpsertFees did.
type FeeStats struct {
	New, Updated, Unchanged int
	// Unreported are the records that came without a fee (no currency):
	// nothing is stored for them, a stored fee stays.
	Unreported int
}

// UpsertFees stores the fee of each operation of ops that has one, in one
// transaction, idempotently: the same fee again changes nothing, another
// replaces it. A fee in a currency ISO 4217 does not know is refused, and
// nothing of ops is stored.
func (l *Ledger) UpsertFees(ops []domain.Operation, at time.Time) (FeeStats, error) {
	var st FeeStats
	for i := range ops {
		if c := ops[i].Fee.Currency; c != "" {
			if _, err := domain.Exponent(c); err != nil {
				return FeeStats{}, fmt.Errorf("operation %d: fee: %w", ops[i].OperationID, err)
			}
			if err := domain.CheckAmount(ops[i].Fee.Amount); err != nil {
				return FeeStats{}, fmt.Errorf("operation %d: fee: %w", ops[i].OperationID, err)
			}
		}
	}
	err := l.update(func(tx *bolt.Tx) error {
		st = FeeStats{}
		b := root(tx).Bucket(bucketFees)
		// A new or changed fee may change its payment's verdict
		// (fee_mismatch): marked like an operation's change.
		marks := newMarker(tx)
		var key [8]byte
		var val []byte
		for i := range ops {
			op := &ops[i]
			if op.Fee.Currency == "" {
				st.Unreported++
				continue
			}
			k := be64(key[:0], op.OperationID)
			val = appendFeeValue(val[:0], op.Fee)
			old := b.Get(k)
			if old != nil {
				fee, _, err := decodeFee(old)
				if err != nil {
					return corrupt("the fee of operation %d does not decode", op.OperationID)
				}
				if fee == op.Fee {
					st.Unchanged++
					continue
				}
				st.Updated++
			} else {
				st.New++
			}
			if err := b.Put(bytes.Clone(k), appendSeen(bytes.Clone(val), at)); err != nil {
				return err
			}
			if op.PaymentID != "" {
				marks.op(domain.PaymentUnit(op.PaymentID), op.OperationID)
			}
		}
		return marks.flush()
	})
	return st, err
}

func appendFeeValue(b []byte, fee domain.Money) []byte {
	return appendWord(binary.AppendVarint(b, fee.Amount), fee.Currency)
}

// decodeFee reads a fees/ value.
func decodeFee(v []byte) (domain.Money, time.Time, error) {
	r := reader{b: v}
	var fee domain.Money
	fee.Amount = r.varint()
	fee.Currency = r.word()
	seen := r.seen()
	if r.err != nil || len(r.b) != 0 || fee.Currency == "" {
		return domain.Money{}, time.Time{}, errCorrupt
	}
	return fee, seen, nil
}

// Fee is the fee stored for the operation id, and when it was stored or
// last changed; false when none is.
func (l *Ledger) Fee(id uint64) (domain.Money, time.Time, bool, error) {
	var fee domain.Money
	var seen time.Time
	var ok bool
	err := l.view(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketFees)
		if b == nil { // a database from before fees, read-only
			return nil
		}
		v := b.Get(be64(nil, id))
		if v == nil {
			return nil
		}
		var err error
		if fee, seen, err = decodeFee(v); err != nil {
			return corrupt("the fee of operation %d does not decode", id)
		}
		ok = true
		return nil
	})
	return fee, seen, ok, err
}
