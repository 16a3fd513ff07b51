package ledger

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// A chargeback is stored once; a status change replaces it and adds to
// its history; a changed payment id moves it to that payment; a currency
// ISO 4217 does not know stores nothing of the batch; check reads them.
func TestChargebacksAreStoredOnceWithTheirHistory(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a := domain.Chargeback{ID: 7, ProjectID: 579, PaymentID: "p-1", OperationID: 42, Amount: domain.Money{Amount: 1250, Currency: "UZS"},
		Status: "open", ReasonCode: "4837", CreatedAt: t0, UpdatedAt: t0, Deadline: t0.Add(240 * time.Hour)}
	b := a
	b.ID, b.PaymentID, b.Deadline, b.ReasonCode = 8, "p-2", time.Time{}, ""
	if st, err := l.UpsertChargebacks([]domain.Chargeback{a, b}, t0); err != nil || st != (ChargebackStats{New: 2}) {
		t.Fatalf("first: %+v %v", st, err)
	}
	if st, err := l.UpsertChargebacks([]domain.Chargeback{a, b}, t0.Add(time.Hour)); err != nil || st != (ChargebackStats{Unchanged: 2}) {
		t.Fatalf("again: %+v %v", st, err)
	}
	lost := a
	lost.Status, lost.UpdatedAt = "lost", t0.Add(24*time.Hour)
	moved := b
	moved.PaymentID = "p-3"
	if st, err := l.UpsertChargebacks([]domain.Chargeback{lost, moved}, t0.Add(25*time.Hour)); err != nil || st != (ChargebackStats{Updated: 2}) {
		t.Fatalf("changed: %+v %v", st, err)
	}
	got, err := l.ChargebacksOf("p-1")
	if err != nil || len(got) != 1 || got[0].Chargeback != lost || !got[0].FirstSeen.Equal(t0) ||
		len(got[0].History) != 2 || got[0].History[0] != (ChargebackChange{"open", t0}) || got[0].History[1] != (ChargebackChange{"lost", t0.Add(25 * time.Hour)}) {
		t.Fatalf("p-1: %+v %v", got, err)
	}
	if got, err := l.ChargebacksOf("p-2"); err != nil || len(got) != 0 {
		t.Fatalf("p-2 still has %+v %v", got, err)
	}
	if got, err := l.ChargebacksOf("p-3"); err != nil || len(got) != 1 || got[0].Chargeback != moved || len(got[0].History) != 1 {
		t.Fatalf("p-3: %+v %v", got, err)
	}
	bad := lost
	bad.Status = "won"
	odd := moved
	odd.Amount.Currency = "XXQ"
	if _, err := l.UpsertChargebacks([]domain.Chargeback{bad, odd}, t0); err == nil {
		t.Fatal("a chargeback in XXQ was stored")
	}
	for _, amount := range []int64{-1, domain.MaxChargebackAmount + 1, math.MaxInt64} {
		big := bad
		big.Amount.Amount = amount
		if _, err := l.UpsertChargebacks([]domain.Chargeback{big}, t0); err == nil || !strings.Contains(err.Error(), "chargeback 7: amount") {
			t.Fatalf("a chargeback of %d minor units: %v", amount, err)
		}
	}
	n := 0
	if err := l.ForEachChargeback(func(sc *StoredChargeback) error {
		n++
		if sc.ID == 7 && sc.Status != "lost" {
			t.Errorf("a refused batch changed chargeback 7: %q", sc.Status)
		}
		return nil
	}); err != nil || n != 2 {
		t.Fatalf("ForEachChargeback: %d, %v", n, err)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
}

// A database from before chargebacks, opened read only, has none: not
// damage.
func TestADatabaseFromBeforeChargebacksReadsWithoutThem(t *testing.T) {
	path, _ := filled(t)
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if err := root(tx).DeleteBucket(bucketChargebacks); err != nil {
			return err
		}
		return root(tx).DeleteBucket(bucketCBByPayment)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got, err := l.ChargebacksOf("p-1"); err != nil || len(got) != 0 {
		t.Fatalf("ChargebacksOf: %v %v", got, err)
	}
	if err := l.ForEachChargeback(func(*StoredChargeback) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// A chargeback that does not decode, one without its index entry, an
// index entry naming a chargeback not stored and one under another
// payment than the chargeback's are each named by Verify (check); every
// read that meets the first names it too, and a sync does not write over
// it. Without its index entry a chargeback is missing from every
// incremental reconcile of its payment, silently: check is what says so.
func TestChargebackDamageIsNamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cb := func(id uint64, payment string) domain.Chargeback {
		return domain.Chargeback{ID: id, ProjectID: 580, PaymentID: payment, Amount: domain.Money{Amount: 100, Currency: "EUR"}, Status: "open", CreatedAt: t0}
	}
	if _, err := l.UpsertChargebacks([]domain.Chargeback{cb(7, "p-1"), cb(8, "p-2"), cb(9, "p-3"), cb(10, "p-4"), cb(12, "p-6"), cb(13, "p-7")}, t0); err != nil {
		t.Fatal(err)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	corruptStored(t, path, bucketChargebacks, be64(nil, 7), []byte{9, 9, 9})
	// Values that read but hold what no chargeback is stored with: the
	// damage of a byte in its currency or its amount.
	negative, odd := StoredChargeback{Chargeback: cb(12, "p-6")}, StoredChargeback{Chargeback: cb(13, "p-7")}
	negative.Amount.Amount, odd.Amount.Currency = -100, "EUQ"
	corruptStored(t, path, bucketChargebacks, be64(nil, 12), appendChargeback(nil, &negative))
	corruptStored(t, path, bucketChargebacks, be64(nil, 13), appendChargeback(nil, &odd))
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		idx := root(tx).Bucket(bucketCBByPayment)
		return errors.Join(idx.Delete(cbPaymentKey("p-2", 8)), idx.Put(cbPaymentKey("p-5", 11), nil),
			idx.Delete(cbPaymentKey("p-4", 10)), idx.Put(cbPaymentKey("p-9", 10), nil))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rep, err := l.Verify(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(rep.Problems, "\n")
	for _, want := range []string{
		"chargeback 7: its stored value does not decode",
		"chargeback 8 has no entry in chargeback_payments",
		"chargeback_payments names chargeback 11, which is not stored",
		"chargeback 10 has no entry in chargeback_payments",
		"chargeback_payments names chargeback 10 under another payment than its own",
		"chargeback 12: its stored value does not decode",
		"chargeback 13: its stored value does not decode",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("Verify lacks %q:\n%s", want, all)
		}
	}
	names := "chargeback 7: its stored value does not decode"
	_, err = l.ChargebacksOf("p-1")
	wantDamaged(t, err, path, names)
	wantDamaged(t, l.ForEachChargeback(func(*StoredChargeback) error { return nil }), path, names)
	_, _, err = l.Chargeback(7)
	wantDamaged(t, err, path, names)
	_, err = l.UpsertChargebacks([]domain.Chargeback{cb(7, "p-1")}, t0)
	wantDamaged(t, err, path, names)
	if got, _, err := l.Chargeback(9); err != nil || got.PaymentID != "p-3" {
		t.Fatalf("another chargeback: %+v %v", got, err)
	}
	_, err = l.ChargebacksOf("p-5")
	wantDamaged(t, err, path, "chargeback_payments names chargeback 11, which is not stored")
	_, err = l.ChargebacksOf("p-9")
	wantDamaged(t, err, path, "chargeback_payments names chargeback 10 under another payment than its own")
}

// A chargeback whose status flips more often than maxChargebackStates
// keeps the status it was first seen in and the latest ones, and still
// decodes and checks: a broken upstream flipping one forever neither
// grows its value without bound nor makes it unreadable.
func TestChargebackHistoryIsBounded(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cb := domain.Chargeback{ID: 7, ProjectID: 579, PaymentID: "p-1", Amount: domain.Money{Amount: 1250, Currency: "UZS"}, Status: "new", CreatedAt: t0}
	for i := range 3 * maxChargebackStates {
		at := t0.Add(time.Duration(i) * time.Hour)
		if _, err := l.UpsertChargebacks([]domain.Chargeback{cb}, at); err != nil {
			t.Fatal(err)
		}
		cb.Status = []string{"open", "pre_arbitration"}[i%2]
	}
	got, err := l.ChargebacksOf("p-1")
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	h := got[0].History
	if len(h) != maxChargebackStates || h[0] != (ChargebackChange{"new", t0}) || h[len(h)-1].Status != got[0].Status ||
		!h[len(h)-1].Seen.Equal(t0.Add(time.Duration(3*maxChargebackStates-1)*time.Hour)) {
		t.Fatalf("%d statuses kept: first %+v, last %+v, status %q", len(h), h[0], h[len(h)-1], got[0].Status)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
}
