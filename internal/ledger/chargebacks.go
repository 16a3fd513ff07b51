package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// Chargebacks as /chargeback/list reports them, the latest of each with
// the statuses it went through:
//
//	chargebacks/            chargeback id (8) → project (varint), payment id, operation id (uvarint),
//	                        amount (varint), currency, status, reason code (words), created,
//	                        updated, deadline (times), first seen, then the statuses seen:
//	                        n (uvarint) × (status (word), seen)
//	chargeback_payments/    len (2) | payment id | chargeback id (8) → ∅: a payment's chargebacks
//
// A new or changed chargeback marks its payment's unit (and the unit of
// the payment it named before, if that changed), so that the next
// reconcile recomputes it: its item (chargeback, domain.ResultChargeback)
// belongs to its payment.

var (
	bucketChargebacks   = []byte("chargebacks")
	bucketCBByPayment   = []byte("chargeback_payments")
	maxChargebackStates = 64 // statuses kept per chargeback: a broken upstream could flip one forever
)

// StoredChargeback is a chargeback as stored.
type StoredChargeback struct {
	domain.Chargeback
	FirstSeen time.Time
	// History lists the statuses it was seen in, the current one last,
	// each with when it was first seen so.
	History []ChargebackChange
}

// ChargebackChange is one status a chargeback was seen in.
type ChargebackChange struct {
	Status string
	Seen   time.Time
}

// ChargebackStats counts what UpsertChargebacks did.
type ChargebackStats struct {
	New, Updated, Unchanged int
}

// UpsertChargebacks stores cbs in one transaction, idempotently: the same
// chargeback again changes nothing; a changed one replaces the stored one,
// a new status added to its history.
func (l *Ledger) UpsertChargebacks(cbs []domain.Chargeback, at time.Time) (ChargebackStats, error) {
	var st ChargebackStats
	for i := range cbs {
		cb := &cbs[i]
		if cb.ID == 0 || cb.PaymentID == "" {
			return st, fmt.Errorf("chargeback %d: no id or payment id", cb.ID)
		}
		if len(cb.PaymentID) > domain.MaxUpstreamIDBytes {
			return st, fmt.Errorf("chargeback %d: the payment id is longer than %d bytes", cb.ID, domain.MaxUpstreamIDBytes)
		}
		if _, err := domain.Exponent(cb.Amount.Currency); err != nil {
			return st, fmt.Errorf("chargeback %d: %w", cb.ID, err)
		}
		if err := cb.CheckAmount(); err != nil {
			return st, err
		}
		for _, t := range [...]struct {
			name string
			at   time.Time
		}{{"created_at", cb.CreatedAt}, {"updated_at", cb.UpdatedAt}, {"deadline", cb.Deadline}} {
			if err := domain.CheckTime(t.at); err != nil { // its item's time would be stored as another
				return st, fmt.Errorf("chargeback %d: %s %w", cb.ID, t.name, err)
			}
		}
	}
	err := l.update(func(tx *bolt.Tx) error {
		st = ChargebackStats{}
		r := root(tx)
		b, idx := r.Bucket(bucketChargebacks), r.Bucket(bucketCBByPayment)
		marks := newMarker(tx)
		for i := range cbs {
			cb := &cbs[i]
			k := be64(nil, cb.ID)
			sc := StoredChargeback{Chargeback: *cb, FirstSeen: at.UTC(), History: []ChargebackChange{{cb.Status, at.UTC()}}}
			if v := b.Get(k); v != nil {
				old, err := decodeChargeback(cb.ID, v)
				if err != nil {
					return corruptChargeback(cb.ID)
				}
				if old.Chargeback == *cb {
					st.Unchanged++
					continue
				}
				st.Updated++
				sc.FirstSeen, sc.History = old.FirstSeen, old.History
				if old.Status != cb.Status {
					sc.History = append(sc.History, ChargebackChange{cb.Status, at.UTC()})
					if n := len(sc.History); n > maxChargebackStates {
						sc.History = append(sc.History[:1:1], sc.History[n-maxChargebackStates+1:]...)
					}
				}
				if old.PaymentID != cb.PaymentID {
					if err := idx.Delete(cbPaymentKey(old.PaymentID, cb.ID)); err != nil {
						return err
					}
					marks.unit(domain.PaymentUnit(old.PaymentID))
				}
			} else {
				st.New++
			}
			if err := b.Put(k, appendChargeback(nil, &sc)); err != nil {
				return err
			}
			if err := idx.Put(cbPaymentKey(cb.PaymentID, cb.ID), nil); err != nil {
				return err
			}
			marks.unit(domain.PaymentUnit(cb.PaymentID))
		}
		return marks.flush()
	})
	return st, err
}

func cbPaymentPrefix(payment string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(payment))), payment...)
}

func cbPaymentKey(payment string, id uint64) []byte {
	return be64(cbPaymentPrefix(payment), id)
}

func appendChargeback(b []byte, sc *StoredChargeback) []byte {
	cb := &sc.Chargeback
	b = binary.AppendVarint(b, cb.ProjectID)
	b = appendString(b, cb.PaymentID)
	b = binary.AppendUvarint(b, cb.OperationID)
	b = binary.AppendVarint(b, cb.Amount.Amount)
	b = appendWord(b, cb.Amount.Currency)
	b = appendWord(b, cb.Status)
	b = appendWord(b, cb.ReasonCode)
	b = appendTime(b, cb.CreatedAt)
	b = appendTime(b, cb.UpdatedAt)
	b = appendTime(b, cb.Deadline)
	b = appendSeen(b, sc.FirstSeen)
	b = binary.AppendUvarint(b, uint64(len(sc.History)))
	for _, h := range sc.History {
		b = appendSeen(appendWord(b, h.Status), h.Seen)
	}
	return b
}

// decodeChargeback reads a chargebacks/ value stored under id.
func decodeChargeback(id uint64, v []byte) (StoredChargeback, error) {
	r := reader{b: v}
	var sc StoredChargeback
	cb := &sc.Chargeback
	cb.ID = id
	cb.ProjectID = r.varint()
	cb.PaymentID = r.string()
	cb.OperationID = r.uvarint()
	cb.Amount.Amount = r.varint()
	cb.Amount.Currency = r.word()
	cb.Status = r.word()
	cb.ReasonCode = r.word()
	cb.CreatedAt = r.time()
	cb.UpdatedAt = r.time()
	cb.Deadline = r.time()
	sc.FirstSeen = r.seen()
	n := r.uvarint()
	if r.err == nil && n > uint64(maxChargebackStates) {
		return sc, errCorrupt
	}
	for range n {
		if r.err != nil {
			break
		}
		sc.History = append(sc.History, ChargebackChange{Status: r.word(), Seen: r.seen()})
	}
	if r.err != nil || len(r.b) != 0 || cb.PaymentID == "" {
		return sc, errCorrupt
	}
	// Held to what UpsertChargebacks stores (no release stored others): a
	// damaged byte of the currency or the amount is damage, not an amount
	// in "EUQ" or a negative chargeback added to the merchant's net.
	if _, err := domain.Exponent(cb.Amount.Currency); err != nil || cb.CheckAmount() != nil {
		return sc, errCorrupt
	}
	return sc, nil
}

// chargebacksOf reads the chargebacks of payment (of every project) in
// tx, in id order; nil buckets (a database from before chargebacks, read
// only) hold none.
func chargebacksOf(tx *bolt.Tx, payment string, fn func(*StoredChargeback) error) error {
	r := root(tx)
	b, idx := r.Bucket(bucketChargebacks), r.Bucket(bucketCBByPayment)
	if b == nil || idx == nil {
		return nil
	}
	p := cbPaymentPrefix(payment)
	c := idx.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		if len(k) != len(p)+8 {
			return corrupt("%s: the entry %x is not a payment id and a chargeback id", bucketCBByPayment, k)
		}
		id := binary.BigEndian.Uint64(k[len(p):])
		v := b.Get(k[len(p):])
		if v == nil {
			return corrupt("%s names chargeback %d, which is not stored", bucketCBByPayment, id)
		}
		sc, err := decodeChargeback(id, v)
		if err != nil {
			return corruptChargeback(id)
		}
		if sc.PaymentID != payment {
			return corrupt("%s names chargeback %d under another payment than its own", bucketCBByPayment, id)
		}
		if err := fn(&sc); err != nil {
			return err
		}
	}
	return nil
}

// ChargebacksOf returns the chargebacks of a payment id, in id order.
func (l *Ledger) ChargebacksOf(payment string) ([]StoredChargeback, error) {
	var out []StoredChargeback
	err := l.view(func(tx *bolt.Tx) error {
		return chargebacksOf(tx, payment, func(sc *StoredChargeback) error {
			out = append(out, *sc)
			return nil
		})
	})
	return out, err
}

// ForEachChargeback calls fn with every stored chargeback, in id order.
func (l *Ledger) ForEachChargeback(fn func(*StoredChargeback) error) error {
	return l.view(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketChargebacks)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return corrupt("%s: the key %x is not a chargeback id", bucketChargebacks, k)
			}
			sc, err := decodeChargeback(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return corruptChargeback(binary.BigEndian.Uint64(k))
			}
			return fn(&sc)
		})
	})
}

// Chargeback returns the stored chargeback id; false when none is.
func (l *Ledger) Chargeback(id uint64) (StoredChargeback, bool, error) {
	var sc StoredChargeback
	var ok bool
	err := l.view(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketChargebacks)
		if b == nil {
			return nil
		}
		v := b.Get(be64(nil, id))
		if v == nil {
			return nil
		}
		var err error
		if sc, err = decodeChargeback(id, v); err != nil {
			return corruptChargeback(id)
		}
		ok = true
		return nil
	})
	return sc, ok, err
}

// corruptChargeback names a chargeback whose stored value does not decode.
func corruptChargeback(id uint64) *DamagedError {
	return corrupt("chargeback %d: its stored value does not decode", id)
}

// checkChargebacks holds the chargebacks and their index to each other:
// every value decodes and has its entry under its own payment, every
// entry names a stored chargeback of that payment. A chargeback without
// its entry is left out of every incremental reconcile of its payment
// (Gather reads a payment's by the index), which nothing else would show.
// Lookups, no set of the keys: chargebacks are few, but so it stays flat.
func checkChargebacks(ctx context.Context, r *bolt.Bucket, rep *Report) (n, entries int, err error) {
	b, idx := r.Bucket(bucketChargebacks), r.Bucket(bucketCBByPayment)
	if b == nil || idx == nil { // a database from before chargebacks, read only
		return 0, 0, nil
	}
	err = b.ForEach(func(k, v []byte) error {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if len(k) != 8 {
			rep.problem("%s: the key %x is not a chargeback id", bucketChargebacks, k)
			return nil
		}
		id := binary.BigEndian.Uint64(k)
		sc, err := decodeChargeback(id, v)
		if err != nil {
			rep.problem("%s", corruptChargeback(id).What)
			return nil
		}
		if idx.Get(cbPaymentKey(sc.PaymentID, id)) == nil {
			rep.problem("chargeback %d has no entry in %s: incremental reconciles of its payment leave it out", id, bucketCBByPayment)
		}
		return nil
	})
	if err != nil {
		return n, entries, err
	}
	err = idx.ForEach(func(k, v []byte) error {
		if entries++; entries%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if len(k) < 10 || len(k) != 2+int(binary.BigEndian.Uint16(k))+8 || len(v) != 0 {
			rep.problem("%s: the entry %x is not a payment id and a chargeback id", bucketCBByPayment, k)
			return nil
		}
		id := binary.BigEndian.Uint64(k[len(k)-8:])
		cv := b.Get(k[len(k)-8:])
		if cv == nil {
			rep.problem("%s names chargeback %d, which is not stored", bucketCBByPayment, id)
			return nil
		}
		if sc, err := decodeChargeback(id, cv); err == nil && !bytes.Equal(cbPaymentPrefix(sc.PaymentID), k[:len(k)-8]) {
			rep.problem("%s names chargeback %d under another payment than its own", bucketCBByPayment, id)
		}
		return nil
	})
	return n, entries, err
}
