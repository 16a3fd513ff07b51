package ledger

import (
	"path/filepath"
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
