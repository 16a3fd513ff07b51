package ledger

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// makeSchema1 writes a database as schema 1 left it: the version 1, no
// words bucket, and "not final" counted by the short status list of
// then (internal error was not final).
func makeSchema1(t *testing.T, path string) {
	t.Helper()
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ie := sale(10000000000000005, "p5", "internal error")
	ie.PaymentStatus = "internal error"
	mustUpsert(t, l, sale(10000000000000004, "p4", "success"), ie, sale(10000000000000006, "p6", "processing"))
	err = l.db.Update(func(tx *bolt.Tx) error {
		r := root(tx)
		if err := r.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 1)); err != nil {
			return err
		}
		if err := r.Bucket(bucketCounts).Put(be64(nil, 580), encodeCounts(Counts{Operations: 3, NotFinal: 2})); err != nil {
			return err
		}
		return r.DeleteBucket(bucketWords)
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// A schema 1 database opened read-only is read as it is (ledger.go init),
// and Check holds it to what schema 1 promised, not to this release's
// status list: `reconciled backup` opens the database read-only and checks
// the copy (cmd/reconciled/forward.go checkCopy), and the first backup
// after an upgrade, before anything wrote, must not say "the copy does not
// check out".
func TestCheckOfAnUnmigratedDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	makeSchema1(t, path)
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Check(); err != nil {
		t.Errorf("Check of a sound schema 1 database opened read-only: %v", err)
	}
}

// A database of a later schema is refused, read-only or not, and the
// refused writable open changes nothing in it.
func TestLaterSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, l, sale(10000000000000004, "p4", "success"))
	l.db.Update(func(tx *bolt.Tx) error {
		r := root(tx)
		r.DeleteBucket(bucketWords)
		return r.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion+1))
	})
	l.Close()
	for _, ro := range []bool{true, false} {
		if l, err := Open(path, Options{ReadOnly: ro}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d", SchemaVersion+1)) {
			if l != nil {
				l.Close()
			}
			t.Errorf("read-only %v: err = %v, want schema %d refused", ro, err, SchemaVersion+1)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRoot).Bucket(bucketWords) != nil {
			t.Error("the refused open created the words bucket")
		}
		return nil
	})
}

// The migration's counts and word counts equal a recount, for a database
// with many words, and later updates keep them so.
func TestMigrationRecounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	makeSchema1(t, path)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := []string{"success", "decline", "processing", "internal error", "expired", "awaiting foo", "weird\x00word", ""}
	for round := 0; round < 20; round++ {
		var page []domain.Operation
		for i := 0; i < 50; i++ {
			op := sale(10000000000000000+uint64(rng.IntN(80)), "p", "success")
			op.OperationStatus = statuses[rng.IntN(len(statuses)-1)]
			op.PaymentStatus = statuses[rng.IntN(len(statuses))]
			page = append(page, op)
		}
		mustUpsert(t, l, page...) // Check()s after every page
	}
}

// A type or status longer than bbolt's key limit (32 KiB; the word is the
// key of its count in words/) must not fail UpsertPage: the whole page, and
// every later sync of that window, would fail. The operation is stored,
// its word counted under a bounded key.
func TestVeryLongWordIsStored(t *testing.T) {
	l := openTemp(t)
	op := sale(10000000000000009, "p9", "success")
	op.OperationStatus = strings.Repeat("x", 40000)
	ok := sale(10000000000000010, "p10", "success")
	if _, err := l.UpsertPage([]domain.Operation{ok, op}, t0); err != nil {
		t.Fatalf("a page with a 40 000-byte status: %v", err)
	}
}

// An id too long for an index key is refused by name, not by bbolt's "key
// too large", and nothing of its page is stored.
func TestTooLongIDIsRefusedByName(t *testing.T) {
	l := openTemp(t)
	for _, field := range []string{"payment_id", "provider_payment_id"} {
		op := sale(10000000000000011, "p11", "success")
		if field == "payment_id" {
			op.PaymentID = strings.Repeat("x", 40000)
		} else {
			op.ProviderPaymentID = strings.Repeat("x", 40000)
		}
		_, err := l.UpsertPage([]domain.Operation{sale(10000000000000010, "p10", "success"), op}, t0)
		for _, want := range []string{"operation 10000000000000011", field, "40000 bytes"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s of 40,000 bytes: err = %.200v, want it to say %q", field, err, want)
			}
		}
		if c, _ := l.Counts(); c[580].Operations != 0 {
			t.Errorf("%s: %d operations stored", field, c[580].Operations)
		}
	}
}
