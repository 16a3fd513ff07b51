package ledger

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

func wordCounts(t *testing.T, l *Ledger) map[string]int64 {
	t.Helper()
	wc, err := l.WordCounts()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, c := range wc {
		out[c.Field.String()+"="+c.Word] = c.Count
	}
	return out
}

func TestWordCountsFollowTheOperations(t *testing.T) {
	l := openTemp(t)
	a, b := sale(10000000000000001, "p1", "processing"), sale(10000000000000002, "p2", "success")
	mustUpsert(t, l, a, b)
	a2 := a
	a2.OperationStatus, a2.PaymentStatus = "awaiting foo", "awaiting foo"
	mustUpsert(t, l, a2)
	got := wordCounts(t, l)
	want := map[string]int64{"operation_type=sale": 2, "operation_status=success": 1, "operation_status=awaiting foo": 1,
		"payment_status=success": 1, "payment_status=awaiting foo": 1}
	if len(got) != len(want) {
		t.Fatalf("word counts %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	wc, _ := l.WordCounts()
	unknown := Unknown(wc, domain.Builtin)
	if len(unknown) != 2 || unknown[0].Word != "awaiting foo" || unknown[1].Word != "awaiting foo" {
		t.Errorf("unknown words %+v", unknown)
	}
	if n := len(Unknown(wc, domain.Builtin.With(nil, map[string]domain.Outcome{"awaiting foo": domain.OutcomePending},
		map[string]domain.Outcome{"awaiting foo": domain.OutcomePending}))); n != 0 {
		t.Errorf("%d unknown once the config gives the word a meaning", n)
	}
}

// A status the table does not know is stored even after a final one (an
// older view would be ignored): it must be seen, not dropped.
func TestUnknownStatusAfterAFinalOneIsStored(t *testing.T) {
	l := openTemp(t)
	id := uint64(10000000000000077)
	mustUpsert(t, l, sale(id, "p77", "success"))
	if st := mustUpsert(t, l, sale(id, "p77", "processing")); st != (PageStats{Unchanged: 1}) {
		t.Fatalf("a known non-final status after success: %+v, want ignored", st)
	}
	odd := sale(id, "p77", "success")
	odd.OperationStatus = "chargeback pending"
	if st := mustUpsert(t, l, odd); st != (PageStats{Updated: 1}) {
		t.Fatalf("an unknown status after success: %+v, want stored", st)
	}
	rec, _, _ := l.Get(id)
	if rec.OperationStatus != "chargeback pending" || len(rec.Earlier) != 1 || rec.Earlier[0].OperationStatus != "success" {
		t.Errorf("stored %q with history %+v", rec.OperationStatus, rec.Earlier)
	}
}

// A database of schema 1 counted "not final" by a short list and kept no
// word counts. Opened for writing it is migrated in one transaction; read
// only, it opens as it is.
func TestMigrationFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	makeSchema1(t, path) // schema_test.go

	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open of schema 1: %v", err)
	}
	if wc, err := ro.WordCounts(); err != nil || len(wc) != 0 {
		t.Errorf("schema 1 read-only: word counts %v, %v", wc, err)
	}
	ro.Close()

	begin := time.Now()
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Logf("migrated in %v", time.Since(begin))
	var v uint32
	l.db.View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint32(root(tx).Bucket(bucketMeta).Get(keySchema))
		return nil
	})
	if v != SchemaVersion {
		t.Errorf("schema %d after the migration, want %d", v, SchemaVersion)
	}
	if c, _ := l.Counts(); c[580] != (Counts{Operations: 3, NotFinal: 1}) {
		t.Errorf("counts after the migration %+v, want 3 operations, 1 not final", c[580])
	}
	if got := wordCounts(t, l); got["operation_status=internal error"] != 1 || got["operation_type=sale"] != 3 {
		t.Errorf("word counts after the migration %v", got)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
}
