package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// Fees are stored by operation id, idempotently; the register's reading
// (ForEach) gives each operation its fee, also one stored before the
// operation came; a fee in an unknown currency stores nothing; check
// reads them.
func TestFeesAreStoredOnceAndJoinedToTheirOperations(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var ops []domain.Operation
	for i := range 300 { // over several hours
		op := sale(30000000000000000+uint64(i), fmt.Sprintf("p%d", i), "success")
		op.CreatedAt = t0.Add(time.Duration(i) * 2 * time.Minute)
		ops = append(ops, op)
	}
	if _, err := l.UpsertPage(ops[:200], t0); err != nil { // the last 100 come later
		t.Fatal(err)
	}
	withFee := func(from, to int, amount func(i int) int64) []domain.Operation {
		var out []domain.Operation
		for i := from; i < to; i++ {
			op := ops[i]
			if i%5 != 4 { // every fifth comes without one
				op.Fee = domain.Money{Amount: amount(i), Currency: "EUR"}
			}
			out = append(out, op)
		}
		return out
	}
	st, err := l.UpsertFees(withFee(0, 300, func(i int) int64 { return int64(i) }), t0)
	if err != nil || st != (FeeStats{New: 240, Unreported: 60}) {
		t.Fatalf("first: %+v, %v", st, err)
	}
	st, err = l.UpsertFees(withFee(0, 300, func(i int) int64 {
		if i < 10 {
			return int64(i) + 1 // charged again, corrected
		}
		return int64(i)
	}), t0.Add(time.Hour))
	if err != nil || st != (FeeStats{Updated: 8, Unchanged: 232, Unreported: 60}) {
		t.Fatalf("again: %+v, %v", st, err)
	}
	if fee, seen, ok, err := l.Fee(ops[3].OperationID); err != nil || !ok || fee != (domain.Money{Amount: 4, Currency: "EUR"}) || !seen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("fee of operation 3: %+v %v %v %v", fee, seen, ok, err)
	}
	if _, _, ok, err := l.Fee(ops[4].OperationID); err != nil || ok {
		t.Fatalf("operation 4 came without a fee: %v %v", ok, err)
	}
	bad := []domain.Operation{ops[0], ops[1]}
	bad[0].Fee, bad[1].Fee = domain.Money{Amount: 99, Currency: "EUR"}, domain.Money{Amount: 1, Currency: "XXQ"}
	if _, err := l.UpsertFees(bad, t0); err == nil {
		t.Fatal("a fee in XXQ was stored")
	}
	if fee, _, _, _ := l.Fee(ops[0].OperationID); fee.Amount != 1 {
		t.Fatalf("a refused page changed a fee: %+v", fee)
	}
	if _, err := l.UpsertPage(ops[200:], t0); err != nil {
		t.Fatal(err)
	}
	n := 0
	err = l.ForEach(context.Background(), Range{}, func(op *domain.Operation) error {
		i := int(op.OperationID - 30000000000000000)
		want := domain.Money{}
		if i%5 != 4 {
			want = domain.Money{Amount: int64(i), Currency: "EUR"}
			if i < 10 {
				want.Amount++
			}
		}
		if op.Fee != want {
			return fmt.Errorf("operation %d: fee %+v, want %+v", i, op.Fee, want)
		}
		n++
		return nil
	})
	if err != nil || n != 300 {
		t.Fatalf("ForEach: %d operations, %v", n, err)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	// A fee that does not decode is damage, named.
	l.db.Update(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketFees).Put(be64(nil, ops[7].OperationID), []byte{0xff})
	})
	err = l.ForEach(context.Background(), Range{}, func(*domain.Operation) error { return nil })
	var d *DamagedError
	if !errors.As(err, &d) {
		t.Fatalf("a damaged fee read: %v", err)
	}
}

// A database made before fees has no fees/ bucket until a writable open
// makes it: read-only, the register's reading and Fee find no fee, and
// never call that damage.
func TestADatabaseFromBeforeFeesReadsWithoutThem(t *testing.T) {
	path, ids := filled(t)
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return root(tx).DeleteBucket(bucketFees) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := 0
	if err := l.ForEach(context.Background(), Range{}, func(op *domain.Operation) error { n++; return nil }); err != nil || n != len(ids) {
		t.Fatalf("ForEach: %d operations, %v", n, err)
	}
	if _, _, ok, err := l.Fee(ids[0]); ok || err != nil {
		t.Fatalf("Fee: %v %v", ok, err)
	}
	if err := l.ForEachByIDLean(context.Background(), func(*domain.Operation) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// A sync state is stored as releases before fees wrote it (the
// operations' fields at the top), with the fees' apart: each reads the
// other's.
func TestSyncStateKeepsItsStoredForm(t *testing.T) {
	s := SyncState{Project: 5}
	s.Watermark = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.Fees.LastError = "x"
	b, err := json.Marshal(s)
	if err != nil || string(b) != `{"project":5,"watermark":"2026-01-02T03:04:05Z","fees":{"last_error":"x"}}` {
		t.Fatalf("%s, %v", b, err)
	}
	var old SyncState
	if err := json.Unmarshal([]byte(`{"project":5,"watermark":"2026-01-02T03:04:05Z","last_error":"e"}`), &old); err != nil ||
		!old.Watermark.Equal(s.Watermark) || old.LastError != "e" || old.Fees != (Stream{}) {
		t.Fatalf("an earlier release's state reads as %+v, %v", old, err)
	}
}
