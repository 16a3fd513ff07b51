package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// chargebackWorld is a world whose database holds operations, merchant
// records, a stored reconciliation and the fake's chargebacks (synced
// with chargebacks.sync): some open, some decided.
func chargebackWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, 4000, 2*time.Minute, "")
	appendConfig(t, w, "\n[chargebacks]\nsync = true\n")
	w.now = w.now.Add(48 * time.Hour) // past ChargebackAfter and ChargebackDecided of the last ones
	w.mustRun(t, "sync", "--from", start.Format(time.DateOnly))
	w.mustRun(t, "import", w.recordsFor(t, "books.csv", nil))
	w.mustRun(t, "reconcile", "--no-recheck")
	if n := len(w.fake.Chargebacks(w.now)); n < 3 {
		t.Fatalf("the fake has %d chargebacks: too few to test", n)
	}
	return w
}

// firstChargeback is the lowest stored chargeback id and its payment.
func firstChargeback(t *testing.T, path string) (uint64, string) {
	t.Helper()
	l, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var id uint64
	var payment string
	l.ForEachChargeback(func(sc *ledger.StoredChargeback) error {
		if id == 0 {
			id, payment = sc.ID, sc.PaymentID
		}
		return nil
	})
	if id == 0 {
		t.Fatal("no chargeback stored")
	}
	return id, payment
}

// readCommands are the commands that open the database read only, each
// writing what it makes into dir.
func readCommands(dir string) [][]string {
	return [][]string{
		{"status"},
		{"check"},
		{"backup", filepath.Join(dir, "copy.db")},
		{"export", "--what", "operations", "--format", "csv"},
		{"export", "--what", "operations", "--format", "xlsx", "-o", filepath.Join(dir, "ops.xlsx")},
		{"export", "--what", "reconciliation", "--format", "csv"},
		{"export", "--what", "settlement", "--format", "csv"},
		{"stats"},
		{"stats", "--by", "settlement"},
		{"report", "--date", start.Format(time.DateOnly)},
		{"report", "--date", start.Format(time.DateOnly), "-o", filepath.Join(dir, "report.xlsx")},
	}
}

// A database from before chargebacks (no chargebacks/ or
// chargeback_payments/ bucket) read by every command that opens it read
// only, with the stored reconciliation behind (a changed book marked
// payments), is a database without chargebacks: no command calls it
// damaged or fails, and none writes to it. The first writable command
// makes the buckets.
func TestADatabaseFromBeforeChargebacksIsNotDamaged(t *testing.T) {
	w := damagedWorld(t)
	w.mustRun(t, "import", w.recordsFor(t, "books2.csv", func(i int, op domain.Operation, f []string) []string {
		if i == 5 {
			f[2] = "2,00" // marks its payment: the stored result is behind
		}
		return f
	}))
	db, err := bolt.Open(w.db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"chargebacks", "chargeback_payments"} {
			if err := tx.Bucket([]byte("v1")).DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, err := os.ReadFile(w.db)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range readCommands(t.TempDir()) {
		code, out, errOut := w.run(t, args...)
		if code != 0 || strings.Contains(out+errOut, "damaged") {
			t.Errorf("%v on a database from before chargebacks: exit %d\n%s\n%s", args, code, out, errOut)
		}
		if now, _ := os.ReadFile(w.db); !bytes.Equal(now, before) {
			t.Fatalf("%v changed the database", args)
		}
	}
	w.mustRun(t, "reconcile", "--no-recheck")
	if out := w.mustRun(t, "check"); strings.Contains(out, "buckets not made yet") {
		t.Errorf("a writable open left the chargeback buckets unmade:\n%s", out)
	}
}

// A chargeback whose stored value does not decode is named by every
// command that reads it (as damage, exit 1), including the sync that
// would write over it, and by check; none panics, and the bytes stay for
// someone to look at. A chargeback whose index entry is gone is named by
// check (an incremental reconcile of its payment would leave it out).
func TestADamagedChargebackIsNamed(t *testing.T) {
	w := chargebackWorld(t)
	good, err := os.ReadFile(w.db)
	if err != nil {
		t.Fatal(err)
	}
	id, payment := firstChargeback(t, w.db)
	key := binary.BigEndian.AppendUint64(nil, id)
	names := "chargeback " + strconv.FormatUint(id, 10) + ": its stored value does not decode"
	corruptValue(t, w.db, "chargebacks", key, func([]byte) []byte { return []byte{1, 0x7f, 3} })
	bad := storedValue(t, w.db, "chargebacks", key)
	dir := t.TempDir()
	for _, args := range append(readCommands(dir),
		[]string{"sync"},
		[]string{"reconcile", "--full", "--no-recheck"},
		[]string{"resolve", "chargeback:" + strconv.FormatUint(id, 10), "--reason", "test"},
		[]string{"resolve", payment, "--reason", "test"},
	) {
		code, out, errOut := w.run(t, args...)
		if strings.Contains(out+errOut, "panic") || strings.Contains(out+errOut, "goroutine ") {
			t.Errorf("%v panicked:\n%s\n%s", args, out, errOut)
		}
		switch {
		case args[0] == "backup":
			// It copies the pages, which are sound, and refuses the copy
			// its check finds damaged (blaming the disk: DEVELOPERS.md).
			if code != 1 || !strings.Contains(errOut, names) {
				t.Errorf("%v: exit %d\n%s\n%s", args, code, out, errOut)
			}
		case args[0] == "export" && args[2] == "reconciliation":
			// The stored result holds the item, not the value.
			if code != 0 {
				t.Errorf("%v: exit %d\n%s\n%s", args, code, out, errOut)
			}
		case code != 1 || !strings.Contains(errOut, "is damaged") || !strings.Contains(out+errOut, names):
			t.Errorf("%v: exit %d, want 1 naming the chargeback:\n%s\n%s", args, code, out, errOut)
		}
	}
	if v := storedValue(t, w.db, "chargebacks", key); !bytes.Equal(v, bad) {
		t.Errorf("the damaged chargeback was overwritten: %x, was %x", v, bad)
	}

	if err := os.WriteFile(w.db, good, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(w.db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		idx := tx.Bucket([]byte("v1")).Bucket([]byte("chargeback_payments"))
		k := binary.BigEndian.AppendUint16(nil, uint16(len(payment)))
		return idx.Delete(binary.BigEndian.AppendUint64(append(k, payment...), id))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errOut := w.run(t, "check")
	if code != 1 || !strings.Contains(out+errOut, "chargeback "+strconv.FormatUint(id, 10)+" has no entry in chargeback_payments") {
		t.Errorf("check of a chargeback without its index entry: exit %d\n%s\n%s", code, out, errOut)
	}
}
