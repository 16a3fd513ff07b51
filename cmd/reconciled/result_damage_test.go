package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestDamagedResultIsRebuiltByAFullReconcile damages the stored
// reconciliation (not the data it is made of) in the ways check finds:
// an incremental reconcile that meets the damage fails and says to run
// reconcile --full, as check and an export that meet it do, none of them
// with the advice to restore a backup; reconcile --full then rebuilds it
// (it drops the damaged result and marks, and recomputes), check passes,
// and the export is the one of the undamaged database.
func TestDamagedResultIsRebuiltByAFullReconcile(t *testing.T) {
	w := damagedWorld(t)
	// The payment of the first stored item changes (a books file of one
	// line for it): the next reconcile recomputes it, and reads its item
	// and unit entry.
	payment := exportRows(t, w)[0][2]
	books := filepath.Join(w.dir, "one.csv")
	if err := os.WriteFile(books, []byte("payment_id;type;amount;currency;status\n"+payment+";purchase;1,00;EUR;paid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.mustRun(t, "import", books)
	good, err := os.ReadFile(w.db)
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(t.TempDir(), "ref.db")
	if err := os.WriteFile(ref, good, 0o600); err != nil {
		t.Fatal(err)
	}
	refConfig := w.copyConfig(t, ref)
	if code, out, errOut := w.runWith(t, refConfig, "reconcile", "--no-recheck"); code != 0 || !strings.Contains(out, "(1 marked changed") {
		t.Fatalf("reconcile of the undamaged copy: exit %d\n%s%s", code, out, errOut)
	}
	want := w.exportOf(t, refConfig)

	unit := []byte("P" + payment)
	// cut cuts short the block that holds k (items and units are stored
	// in blocks, each under its first key), or the first block.
	cut := func(b *bolt.Bucket, k []byte) error {
		c := b.Cursor()
		bk, v := c.First()
		if k != nil {
			if bk, v = c.Seek(k); bk == nil || !bytes.Equal(bk, k) {
				bk, v = c.Prev()
			}
		}
		return b.Put(bytes.Clone(bk), bytes.Clone(v[:len(v)-1]))
	}
	for _, c := range []struct {
		name   string
		damage func(v1, res *bolt.Bucket) error
		// met says which commands meet the damage and must fail.
		reconcile, export bool
	}{
		{"the changed payment's item cut short", func(_, res *bolt.Bucket) error { return cut(res.Bucket([]byte("items")), nil) }, true, true},
		{"its unit entry's block cut short", func(_, res *bolt.Bucket) error { return cut(res.Bucket([]byte("units")), unit) }, true, false},
		{"the state not JSON", func(_, res *bolt.Bucket) error { return res.Put([]byte("state"), []byte("{")) }, true, true},
		{"its dirty mark cut short", func(v1, _ *bolt.Bucket) error { return v1.Bucket([]byte("dirty")).Put(unit, []byte{0, 1}) }, true, false},
		{"a dirty mark from the future", func(v1, _ *bolt.Bucket) error {
			// sequence 2^40 → one unit, "Pnobody", of no operation
			return v1.Bucket([]byte("dirty")).Put(binary.BigEndian.AppendUint64(nil, 1<<40), append([]byte{7}, "Pnobody\x00"...))
		}, false, false},
		{"a deadline of no item", func(_, res *bolt.Bucket) error {
			return res.Bucket([]byte("due")).Put(append(binary.BigEndian.AppendUint64(nil, 1<<63), "gnothing"...), unit)
		}, false, false},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			if err := os.WriteFile(w.db, good, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(w.db, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				v1 := tx.Bucket([]byte("v1"))
				return c.damage(v1, v1.Bucket([]byte("result")))
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			says := func(what string, code int, out string) {
				t.Helper()
				if code != 1 || !strings.Contains(out, w.db+" is damaged") || !strings.Contains(out, "run reconcile --full") ||
					strings.Contains(out, "restore") {
					t.Errorf("%s: exit %d, want 1 saying to run reconcile --full, not to restore a backup:\n%s", what, code, out)
				}
			}
			code, out, errOut := w.run(t, "check")
			says("check", code, out+errOut)
			if c.export {
				code, out, errOut := w.run(t, "export", "--what", "reconciliation", "--format", "csv")
				says("export", code, out+errOut)
			}
			if c.reconcile {
				code, out, errOut := w.run(t, "reconcile", "--no-recheck")
				says("an incremental reconcile", code, out+errOut)
			}
			w.mustRun(t, "reconcile", "--no-recheck", "--full")
			if code, out, errOut := w.run(t, "check"); code != 0 {
				t.Fatalf("check after reconcile --full: exit %d\n%s%s", code, out, errOut)
			}
			if got := w.exportOf(t, w.config); got != want {
				t.Fatalf("the rebuilt result differs from the undamaged one's:\n%s", firstDiff(got, want))
			}
			w.mustRun(t, "reconcile", "--no-recheck")
			if got := w.exportOf(t, w.config); got != want {
				t.Fatalf("a reconcile after the rebuild changed it:\n%s", firstDiff(got, want))
			}
		})
	}
}
