package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
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

// storedBlocks is records/ as bbolt holds it: block key → block.
func storedBlocks(t *testing.T, l *Ledger) map[string]string {
	t.Helper()
	blocks := map[string]string{}
	if err := l.view(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketRecords).ForEach(func(k, v []byte) error { blocks[string(k)] = string(v); return nil })
	}); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// withRecordBlocks sets recordBlockBytes for the test.
func withRecordBlocks(t *testing.T, n int) {
	old := recordBlockBytes
	recordBlockBytes = n
	t.Cleanup(func() { recordBlockBytes = old })
}

// A group whose occurrences lie in several blocks (a block a record) is
// replaced occurrence by occurrence, the ones beyond the file's count
// removed, the neighbours before and after left as they are.
func TestAReimportAcrossBlocks(t *testing.T) {
	for _, size := range []int{1, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			withRecordBlocks(t, size)
			l := openTemp(t)
			lines := func(file string, amounts ...int64) []domain.Record {
				recs := []domain.Record{rec("p1", "purchase", "paid", 1, file+":1"), rec("p3", "purchase", "paid", 3, file+":2")}
				for i, a := range amounts {
					recs = append(recs, rec("p2", "purchase", "paid", a, fmt.Sprintf("%s:%d", file, i+3)))
				}
				return recs
			}
			amounts := func() []int64 {
				rs, err := l.RecordsOf("p2", "", 0)
				if err != nil {
					t.Fatal(err)
				}
				var out []int64
				for _, r := range rs {
					out = append(out, r.Amount.Amount)
				}
				return out
			}
			for _, s := range []struct {
				amounts []int64
				want    ImportStats
			}{
				{[]int64{10, 20, 30, 40, 50}, ImportStats{New: 7}},
				{[]int64{10, 21, 30}, ImportStats{Unchanged: 4, Updated: 1, Removed: 2}},
				{[]int64{10, 21, 30, 40, 50, 60, 70}, ImportStats{Unchanged: 5, New: 4}},
				{[]int64{11}, ImportStats{Unchanged: 2, Updated: 1, Removed: 6}},
			} {
				st, err := l.ImportRecords(lines("a.csv", s.amounts...), Import{}, t0)
				if err != nil || st != s.want {
					t.Fatalf("%v: %+v %v, want %+v", s.amounts, st, err, s.want)
				}
				if got := amounts(); !slices.Equal(got, s.amounts) {
					t.Fatalf("%v: stored %v", s.amounts, got)
				}
				if n, _ := l.RecordCount(); n != 2+len(s.amounts) {
					t.Errorf("%v: %d records", s.amounts, n)
				}
				if blocks := storedBlocks(t, l); size == 1 && len(blocks) != 2+len(s.amounts) {
					t.Errorf("%v: %d blocks of one record, want %d", s.amounts, len(blocks), 2+len(s.amounts))
				}
				l.view(func(tx *bolt.Tx) error { checkRecordBlocks(t, root(tx).Bucket(bucketRecords)); return nil })
			}
		})
	}
}

// A small import into many stored records rewrites the blocks of the
// groups it changes and leaves every other block as it is; a file that
// changes nothing rewrites none.
func TestASmallImportRewritesOnlyItsBlocks(t *testing.T) {
	l := openTemp(t)
	var recs []domain.Record
	for i := range 20_000 {
		recs = append(recs, rec(fmt.Sprintf("pay-%05d", i), "purchase", "paid", int64(i), fmt.Sprintf("a.csv:%d", i+2)))
	}
	if _, err := l.ImportRecords(recs, Import{}, t0); err != nil {
		t.Fatal(err)
	}
	before := storedBlocks(t, l)
	if _, err := l.ImportRecords(recs[5000:5100], Import{}, t0); err != nil {
		t.Fatal(err)
	}
	if after := storedBlocks(t, l); !maps_equal(before, after) {
		t.Fatalf("an unchanged import rewrote blocks")
	}
	var small []domain.Record
	for _, i := range []int{3, 7000, 7001, 15000} {
		r := recs[i]
		r.Amount.Amount++
		small = append(small, r)
	}
	small = append(small, rec("pay-10000x", "purchase", "paid", 1, "b.csv:2")) // a new one between
	st, err := l.ImportRecords(small, Import{}, t0)
	if err != nil || st != (ImportStats{Updated: 4, New: 1}) {
		t.Fatalf("%+v %v", st, err)
	}
	after := storedBlocks(t, l)
	changed := 0
	for k, v := range after {
		if before[k] != v {
			changed++
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			changed++
		}
	}
	if len(before) < 300 || changed == 0 || changed > 8 { // four blocks touched, each at most split in two
		t.Errorf("%d blocks of %d changed (gone or new), want 4 to 8", changed, len(before))
	}
	if n, _ := l.RecordCount(); n != 20_001 {
		t.Errorf("%d records", n)
	}
}

func maps_equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// threeBlocks stores p1, p2, p3 in a block each and returns their keys.
func threeBlocks(t *testing.T, l *Ledger) [][]byte {
	t.Helper()
	defer func(n int) { recordBlockBytes = n }(recordBlockBytes)
	recordBlockBytes = 1
	var keys [][]byte
	for _, p := range []string{"p1", "p2", "p3"} {
		r := rec(p, "purchase", "paid", 100, "a.csv:2")
		if _, err := l.ImportRecords([]domain.Record{r}, Import{}, t0); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, binary.BigEndian.AppendUint16(recordGroupKey(nil, &r), 1))
	}
	if n := len(storedBlocks(t, l)); n != 3 {
		t.Fatalf("%d blocks", n)
	}
	return keys
}

// setBlock stores the block v under k in records/, as damage would.
func setBlock(t *testing.T, l *Ledger, k, v []byte) {
	t.Helper()
	if err := l.update(func(tx *bolt.Tx) error { return root(tx).Bucket(bucketRecords).Put(k, v) }); err != nil {
		t.Fatal(err)
	}
}

// wantRecordsDamaged checks that the readers of records (RecordsOf of
// each payment: a read by prefix reads on into the next block, or finds
// the blocks overlap) and an import of each payment refuse with the damage
// named, check lists it, and nothing was written.
func wantRecordsDamaged(t *testing.T, l *Ledger, says string) {
	t.Helper()
	before := storedBlocks(t, l)
	named := func(what string, err error) {
		t.Helper()
		var d *DamagedError
		if !errors.As(err, &d) || !strings.Contains(d.What, says) {
			t.Errorf("%s: %v, want damage saying %q", what, err, says)
		}
	}
	named("ForEachRecord", l.ForEachRecord(func(*StoredRecord) error { return nil }))
	named("ForEachRecordLean", l.ForEachRecordLean(func(*StoredRecord) error { return nil }))
	for _, p := range []string{"p1", "p2", "p3"} {
		_, err := l.RecordsOf(p, "", 0)
		named("RecordsOf "+p, err)
		_, err = l.ImportRecords([]domain.Record{rec(p, "purchase", "paid", 200, "b.csv:2")}, Import{}, t0)
		named("an import of "+p, err)
	}
	rep, err := l.Verify(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, says) }) {
		t.Errorf("check: %q, want the block named (%q)", rep.Problems, says)
	}
	if !maps_equal(before, storedBlocks(t, l)) {
		t.Errorf("records/ changed")
	}
}

// A block of records that does not decode is named by its first record
// wherever it is read, an import refuses to write over it, and check
// names it.
func TestADamagedBlockOfRecordsIsNamed(t *testing.T) {
	l := openTemp(t)
	keys := threeBlocks(t, l)
	v := storedBlocks(t, l)[string(keys[1])]
	setBlock(t, l, keys[1], []byte(v[:len(v)-1]))
	wantRecordsDamaged(t, l, `merchant record of payment id "p2", purchase, source "records", occurrence 1: its stored block does not decode`)
	if n, err := l.RecordCount(); err != nil || n != 2 {
		t.Errorf("RecordCount %d, %v: want the two that decode", n, err)
	}
}

// Blocks that each decode but overlap are damage: p1's block holding p3
// too, beside p3's own (listed, p3 would be counted twice; an import of p3
// would write one and leave the other) or beside p2's (an import of p3,
// which looks in p2's block, would store a second p3).
func TestOverlappingBlocksOfRecordsAreDamage(t *testing.T) {
	for _, c := range []struct {
		name    string
		deleted int    // the block deleted: p2's or p3's
		named   string // the block named
	}{
		{"p3 in two blocks", 1, "p3"},
		{"p1's block past p2's", 2, "p2"},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			l := openTemp(t)
			keys := threeBlocks(t, l)
			blocks := storedBlocks(t, l)
			_, v1, _, _ := nextEntry([]byte(blocks[string(keys[0])]))
			_, v3, _, _ := nextEntry([]byte(blocks[string(keys[2])]))
			setBlock(t, l, keys[0], appendEntry(appendEntry(nil, keys[0], v1), keys[2], v3))
			if err := l.update(func(tx *bolt.Tx) error { return root(tx).Bucket(bucketRecords).Delete(keys[c.deleted]) }); err != nil {
				t.Fatal(err)
			}
			wantRecordsDamaged(t, l, fmt.Sprintf(`merchant record of payment id %q, purchase, source "records", occurrence 1: its stored block overlaps`, c.named))
		})
	}
}

// flatRecords turns records/ back into schema 5's key per record.
func flatRecords(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		if err := flatten(root(tx), bucketRecords, recordsIn(tx)); err != nil {
			return err
		}
		return putSchema(tx, 5)
	}); err != nil {
		t.Fatal(err)
	}
}

// A schema 5 database (a key per record) opened read-only is read as it
// is: every reader, the count and check. The first writable open packs
// its records into blocks, each record as it was; a migration that stops
// midway leaves schema 5 whole, and the next open packs.
func TestRecordsOfSchema5AreReadAndPacked(t *testing.T) {
	withRecordBlocks(t, 300)
	path := filepath.Join(t.TempDir(), "old.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []domain.Record
	for i := range 500 {
		r := rec(fmt.Sprintf("pay-%d", i%170), domain.RecordTypes[i%2], "paid", int64(i), fmt.Sprintf("a.csv:%d", i+2))
		if i%7 == 0 {
			r.PaymentID, r.ProviderPaymentID = "", fmt.Sprintf("v-%d", i)
		}
		recs = append(recs, r)
	}
	if _, err := l.ImportRecords(recs, Import{}, t0); err != nil {
		t.Fatal(err)
	}
	all := func(l *Ledger) []string {
		t.Helper()
		var out []string
		if err := l.ForEachRecord(func(r *StoredRecord) error {
			out = append(out, fmt.Sprintf("%+v", *r))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := all(l)
	wantOf, _ := l.RecordsOf("pay-7", "v-7", 0)
	l.Close()
	flatRecords(t, path)

	check := func(l *Ledger, what string) {
		t.Helper()
		if got := all(l); !slices.Equal(got, want) {
			t.Errorf("%s: %d records read, want %d the same", what, len(got), len(want))
		}
		if n, err := l.RecordCount(); err != nil || n != len(want) {
			t.Errorf("%s: RecordCount %d, %v", what, n, err)
		}
		if got, err := l.RecordsOf("pay-7", "v-7", 0); err != nil || fmt.Sprint(got) != fmt.Sprint(wantOf) {
			t.Errorf("%s: RecordsOf %v, %v", what, got, err)
		}
		lean := 0
		if err := l.ForEachRecordLean(func(*StoredRecord) error { lean++; return nil }); err != nil || lean != len(want) {
			t.Errorf("%s: the lean read %d, %v", what, lean, err)
		}
		if rep, err := l.Verify(context.Background(), false); err != nil || !rep.OK() {
			t.Errorf("%s: check %v %+v", what, err, rep)
		}
	}
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	check(ro, "schema 5 read-only")
	ro.Close()
	if n := len(storedKeys(t, path)); n != len(want) {
		t.Fatalf("schema 5: %d keys, want one per record", n)
	}

	// Killed after the old bucket went: the transaction never commits.
	afterRecordsPacked = func() error { return errors.New("killed") }
	_, err = Open(path, Options{})
	afterRecordsPacked = nil
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("a stopped migration: %v", err)
	}
	ro, err = Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	check(ro, "after a stopped migration")
	ro.Close()

	l, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	check(l, "migrated")
	l.view(func(tx *bolt.Tx) error {
		if v := schemaOf(root(tx)); v != SchemaVersion {
			t.Errorf("schema %d", v)
		}
		checkRecordBlocks(t, root(tx).Bucket(bucketRecords))
		return nil
	})
	l.Close()
	if n := len(storedKeys(t, path)); n >= len(want)/2 {
		t.Errorf("migrated: %d keys for %d records", n, len(want))
	}
}

// storedKeys is records/'s keys as bbolt holds them.
func storedKeys(t *testing.T, path string) [][]byte {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var keys [][]byte
	db.View(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketRecords).ForEach(func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil })
	})
	return keys
}
