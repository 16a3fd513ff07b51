package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// filled is a closed database with enough operations for the ops bucket
// to have a branch page over several leaves, and a few merchant records.
func filled(t *testing.T) (path string, ids []uint64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "test.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var page []domain.Operation
	for i := range 600 {
		op := sale(10000000000000000+uint64(i), fmt.Sprintf("p%d", i), "success")
		page = append(page, op)
		ids = append(ids, op.OperationID)
	}
	if _, err := l.UpsertPage(page, t0); err != nil {
		t.Fatal(err)
	}
	recs := []domain.Record{rec("p1", "purchase", "paid", 100000, "a.csv:2"), rec("p2", "purchase", "paid", 100000, "a.csv:3")}
	if _, err := l.ImportRecords(recs, Import{File: "a.csv"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path, ids
}

// pages are the page size, and the ops bucket's root (a branch) and its
// first leaf, found by bbolt itself and the file's bytes.
func pages(t *testing.T, path string) (ps, branch, leaf int64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ps = int64(db.Info().PageSize)
	db.View(func(tx *bolt.Tx) error {
		branch = int64(root(tx).Bucket(bucketOps).Root())
		return nil
	})
	db.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if flags := native.Uint16(data[branch*ps+8:]); flags != flagBranch {
		t.Fatalf("the ops bucket's root %d is not a branch (flags %x)", branch, flags)
	}
	return ps, branch, int64(native.Uint64(data[branch*ps+pageHeaderSize+8:]))
}

func writeAt(t *testing.T, path string, at int64, b ...byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func wantDamaged(t *testing.T, err error, path, says string) {
	t.Helper()
	var d *DamagedError
	if !errors.Is(err, ErrDamaged) || !errors.As(err, &d) || d.Path != path || !strings.Contains(err.Error(), says) {
		t.Fatalf("got %v, want the damage of %s saying %q", err, path, says)
	}
}

// TestOpenRefusesADamagedFile: each damage is found before bbolt maps the
// file (bbolt would fault or panic), read-only and for writing, and the
// file is left as it was.
func TestOpenRefusesADamagedFile(t *testing.T) {
	good, _ := filled(t)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	ps, branch, leaf := pages(t, good)
	put := func(at int64, b ...byte) func([]byte) []byte {
		return func(d []byte) []byte { copy(d[at:], b); return d }
	}
	for _, c := range []struct {
		name   string
		damage func([]byte) []byte
		says   string
	}{
		{"truncated to half", func(d []byte) []byte { return d[:len(d)/2] }, "its end is missing"},
		{"truncated to a page", func(d []byte) []byte { return d[:ps] }, "its end is missing"},
		{"empty", func([]byte) []byte { return nil }, "it is empty (0 bytes)"},
		{"too short for a header", func(d []byte) []byte { return d[:40] }, "too short"},
		{"both header pages gone", func(d []byte) []byte { clear(d[:2*ps]); return d }, "neither of its two header pages is valid"},
		{"a branch of no type", put(branch*ps+8, 0, 0), fmt.Sprintf("page %d (of bucket v1/ops) is of no type", branch)},
		{"a branch saying it is a leaf's", put(branch*ps+8, flagMeta, 0), "is a header page"},
		{"a leaf that says it is another page", put(leaf*ps, 0x41), fmt.Sprintf("page %d (of bucket v1/ops) says it is page", leaf)},
		{"a leaf counting too many elements", put(leaf*ps+10, 0xff, 0xff), "more than fit in it"},
		{"a leaf running past the end", put(leaf*ps+12, 0xff, 0xff, 0, 0), "past the end of the file"},
		{"a branch pointing past the end", put(branch*ps+pageHeaderSize+8, 0xff, 0xff, 0xff, 0), "outside the"},
		{"a branch pointing at itself", func(d []byte) []byte {
			native.PutUint64(d[branch*ps+pageHeaderSize+8:], uint64(branch))
			return d
		}, "reached twice"},
		{"a key outside its page", put(leaf*ps+pageHeaderSize+4, 0xff, 0xff, 0, 0), "lies outside the page"},
		// Keys out of order: bbolt's free-list rebuild (at a writable open,
		// a rollback, the check of a read-only open) walks the tree in a
		// goroutine, panics at the first disorder and rolls back while that
		// goroutine still reads: a crash (exit 2) about one run in five.
		{"a leaf's first key after its second", func(d []byte) []byte {
			at := leaf*ps + pageHeaderSize + int64(native.Uint32(d[leaf*ps+pageHeaderSize+4:]))
			d[at] = 0xff
			return d
		}, fmt.Sprintf("page %d (of bucket v1/ops): its keys are out of order", leaf)},
		{"a branch's second key before its first", func(d []byte) []byte { // found on the first leaf, above its bound
			e := branch*ps + pageHeaderSize + elementSize
			clear(d[e+int64(native.Uint32(d[e:])):][:8])
			return d
		}, fmt.Sprintf("page %d (of bucket v1/ops): its keys are out of order (key 0", leaf)},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "damaged.db")
			bad := c.damage(bytes.Clone(data))
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, ro := range []bool{true, false} {
				l, err := Open(path, Options{ReadOnly: ro})
				if err == nil {
					l.Close()
				}
				wantDamaged(t, err, path, c.says)
				if now, _ := os.ReadFile(path); !bytes.Equal(now, bad) {
					t.Fatalf("read-only %v: Open changed the file", ro)
				}
			}
		})
	}
	// A missing file is a new database (for writing only).
	missing := filepath.Join(t.TempDir(), "new.db")
	if _, err := Open(missing, Options{ReadOnly: true}); !errors.Is(err, ErrNotExist) {
		t.Fatalf("read-only open of a missing file: %v", err)
	}
	l, err := Open(missing, Options{})
	if err != nil {
		t.Fatalf("a new database: %v", err)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// TestDamageWhileOpenClosesTheLedger damages a page under an open
// ledger: the transaction that meets it fails with the damage instead of
// crashing, and the ledger (and its shared handles) refuse from then on.
func TestDamageWhileOpenClosesTheLedger(t *testing.T) {
	for _, ro := range []bool{true, false} {
		t.Run(fmt.Sprintf("read-only_%v", ro), func(t *testing.T) {
			path, ids := filled(t)
			ps, _, leaf := pages(t, path)
			l, err := Open(path, Options{ReadOnly: ro})
			if err != nil {
				t.Fatal(err)
			}
			shared := l.Shared()
			writeAt(t, path, leaf*ps+8, 0, 0) // the leaf's type, under the mapping
			damagedBytes, _ := os.ReadFile(path)
			err = l.ForEachByID(context.Background(), func(*domain.Operation) error { return nil })
			wantDamaged(t, err, path, "bbolt could not read it")
			select {
			case <-l.Damaged():
			default:
				t.Fatal("Damaged() is not closed")
			}
			if _, _, err := shared.Get(ids[0]); !errors.Is(err, ErrDamaged) {
				t.Errorf("a shared handle after the damage: %v", err)
			}
			if _, err := l.UpsertPage([]domain.Operation{sale(ids[0], "p0", "success")}, t0); !errors.Is(err, ErrDamaged) {
				t.Errorf("a write after the damage: %v", err)
			}
			if err := l.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, damagedBytes) {
				t.Error("the file changed after the damage")
			}
		})
	}
}

// TestDamageInAWriteTransaction: bbolt panics while an UpsertPage reads
// the damaged page; nothing is written and the ledger closes.
func TestDamageInAWriteTransaction(t *testing.T) {
	path, ids := filled(t)
	ps, _, leaf := pages(t, path)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	writeAt(t, path, leaf*ps, 0x41) // the first leaf says it is another page
	before, _ := os.ReadFile(path)
	changed := sale(ids[0], "p0", "decline") // an update: bbolt reads the first leaf
	_, err = l.UpsertPage([]domain.Operation{changed}, t0)
	wantDamaged(t, err, path, "bbolt could not read it")
	if _, err := l.Counts(); !errors.Is(err, ErrDamaged) {
		t.Errorf("after the damage: %v", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Error("the failed write changed the file")
	}
}

// TestPanicOfACallbackIsNotDamage: a panic in the caller's function goes
// on as it was, and the ledger stays open.
func TestPanicOfACallbackIsNotDamage(t *testing.T) {
	path, ids := filled(t)
	l, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := func() (r any) {
		defer func() { r = recover() }()
		l.ForEach(context.Background(), Range{}, func(*domain.Operation) error { panic("the caller's bug") })
		return nil
	}()
	if got != "the caller's bug" {
		t.Fatalf("recovered %v", got)
	}
	if _, found, err := l.Get(ids[0]); err != nil || !found {
		t.Fatalf("after a callback's panic: %v %v", found, err)
	}
}

// corruptStored replaces one stored value, as a bit flip would.
func corruptStored(t *testing.T, path string, bucket, key, value []byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucket)
		if bytes.Equal(bucket, bucketRecords) { // a record in its block, the block sound
			k, v := recordsIn(tx).Cursor().Seek(key)
			if value == nil {
				value = v[:len(v)-1]
			}
			return putRecordEntry(tx, bytes.Clone(k), bytes.Clone(value))
		}
		if key == nil {
			key, _ = b.Cursor().First()
		}
		if value == nil {
			v := b.Get(key)
			value = v[:len(v)-1]
		}
		return b.Put(key, value)
	}); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptValuesAreNamed: a stored value that does not decode names
// its operation or record wherever it is read (sync's upsert and the
// import included, which must neither write over it nor skip it as
// unchanged), and Verify lists every one; the ledger stays usable.
func TestCorruptValuesAreNamed(t *testing.T) {
	path, ids := filled(t)
	bad := ids[7]
	corruptStored(t, path, bucketOps, be64(nil, bad), nil) // cut short: its operation bytes intact
	corruptStored(t, path, bucketOps, be64(nil, ids[9]), []byte{9, 9, 9})
	corruptStored(t, path, bucketRecords, nil, nil) // p1's record
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	names := fmt.Sprintf("operation %d: its stored record does not decode", bad)
	_, _, err = l.Get(bad)
	wantDamaged(t, err, path, names)
	_, err = l.UpsertPage([]domain.Operation{sale(bad, "p7", "success")}, t0) // unchanged but for the damage
	wantDamaged(t, err, path, names)
	wantDamaged(t, l.ForEach(context.Background(), Range{}, func(*domain.Operation) error { return nil }), path, names)
	wantDamaged(t, l.ForEachByID(context.Background(), func(*domain.Operation) error { return nil }), path, names)
	_, err = l.ByPayment(580, "p7")
	wantDamaged(t, err, path, names)
	recNames := `merchant record of payment id "p1", purchase, source "records", occurrence 1`
	_, err = l.ImportRecords([]domain.Record{rec("p1", "purchase", "paid", 100000, "b.csv:2")}, Import{}, t0)
	wantDamaged(t, err, path, recNames)
	_, err = l.ImportRecords([]domain.Record{}, Import{}, t0) // holds none of p1's: nothing to read
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.RecordsOf("p1", "", 0)
	wantDamaged(t, err, path, recNames)
	wantDamaged(t, l.ForEachRecord(func(*StoredRecord) error { return nil }), path, recNames)
	if _, _, err := l.Get(ids[0]); err != nil {
		t.Fatalf("another operation: %v", err)
	}

	rep, err := l.Verify(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(rep.Problems, "\n")
	for _, want := range []string{names, fmt.Sprintf("operation %d: its stored record", ids[9]), recNames} {
		if !strings.Contains(all, want) {
			t.Errorf("Verify lacks %q:\n%s", want, all)
		}
	}
	if rep, err := l.Verify(context.Background(), true); err != nil || !rep.OK() {
		t.Errorf("Verify --quick (the structure is sound): %v %v", rep.Problems, err)
	}
}

// TestVerifyFindsBrokenInvariants: a sound database passes and says what
// was checked; a stray index entry, a missing one and wrong counts are
// each named.
func TestVerifyFindsBrokenInvariants(t *testing.T) {
	path, ids := filled(t)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := l.Verify(context.Background(), false)
	if err != nil || !rep.OK() {
		t.Fatalf("a sound database: %v %v", rep.Problems, err)
	}
	checked := strings.Join(rep.Checked, "\n")
	for _, want := range []string{"bbolt's check", fmt.Sprintf("schema %d", SchemaVersion), "600 operations", "payment index: 600 entries", "2 merchant records", "counts of 1 projects"} {
		if !strings.Contains(checked, want) {
			t.Errorf("the report lacks %q:\n%s", want, checked)
		}
	}
	var rec Record
	err = l.db.Update(func(tx *bolt.Tx) error {
		r := root(tx)
		decodeRecord(r.Bucket(bucketOps).Get(be64(nil, ids[3])), ids[3], &rec)
		if err := r.Bucket(bucketIdxPayment).Delete(paymentKey(nil, &rec.Operation)); err != nil {
			return err
		}
		stray := rec.Operation
		stray.ProviderPaymentID = "elsewhere"
		if err := r.Bucket(bucketIdxProvider).Put(providerKey(nil, &stray), []byte{}); err != nil {
			return err
		}
		return r.Bucket(bucketCounts).Put(be64(nil, 580), encodeCounts(Counts{Operations: 1}))
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err = l.Verify(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(rep.Problems, "\n")
	for _, want := range []string{
		fmt.Sprintf("operation %d has no entry in the payment index", ids[3]),
		"the provider index has 601 entries, the operations need 600",
		"the provider index has a stray entry",
		"project 580: the counts say 1 operations",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("Verify lacks %q:\n%s", want, all)
		}
	}
	wantDamaged(t, l.Check(), path, "no entry in the payment index")
	l.Close()
}

// TestBackupOfADamagedDatabaseWritesNothing: the pages are checked before
// the copy, so a damaged database does not replace an older backup.
func TestBackupOfADamagedDatabaseWritesNothing(t *testing.T) {
	path, _ := filled(t)
	ps, _, leaf := pages(t, path)
	l, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var good bytes.Buffer
	if _, err := l.Backup(&good); err != nil {
		t.Fatal(err)
	}
	writeAt(t, path, leaf*ps+10, 0xff, 0xff)
	var copy bytes.Buffer
	_, err = l.Backup(&copy)
	wantDamaged(t, err, path, "more than fit in it")
	if copy.Len() != 0 {
		t.Errorf("%d bytes of a damaged database were copied", copy.Len())
	}
}

// TestCorruptEntriesAreDamage: an entry of the small buckets (the import
// log, resolutions, the audit trail, the last run, the daemon's job runs,
// reports made, the outbox) that does not decode is damage that names its
// bucket and entry, as Verify names it, not a bare JSON error ("invalid
// character ';' after object key:value pair", which status printed with
// no word of damage or of restoring a backup).
func TestCorruptEntriesAreDamage(t *testing.T) {
	path, _ := filled(t)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := domain.Resolution{ProjectID: 580, ID: "p1", Type: "purchase", Code: "amount_mismatch", Reason: "fee", At: t0, Fingerprint: "f1"}
	ev := domain.AuditEvent{At: t0, User: "alice", Action: domain.AuditResolve, ID: "p1"}
	m := &Mail{ID: "a@example.test", Queued: t0, To: []string{"f@example.test"}, Subject: "s"}
	for _, err := range []error{
		l.SaveResolutions([]domain.Resolution{r}, []domain.AuditEvent{ev}),
		l.SaveRun(Run{At: t0, Items: 3}, nil, nil),
		l.SaveJobRun("sync", t0, time.Second, nil),
		l.SaveProduced(Produced{Key: "report|x|2026-11-21", At: t0}, m),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	for _, b := range [][]byte{bucketImports, bucketResolutions, bucketAudit, bucketRuns, bucketJobs, bucketReports, bucketOutbox} {
		corruptStored(t, path, b, nil, nil) // the first entry, cut short
	}
	l, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	entry := func(bucket, key string) string { return fmt.Sprintf("%s: the entry %q does not decode", bucket, key) }
	_, err = l.Imports()
	wantDamaged(t, err, path, "imports: the entry ")
	_, err = l.Resolutions()
	wantDamaged(t, err, path, "resolutions: the entry ")
	_, err = l.Audit()
	wantDamaged(t, err, path, "audit: the entry ")
	_, _, err = l.LastRun()
	wantDamaged(t, err, path, entry("runs", "last"))
	_, err = l.JobRuns()
	wantDamaged(t, err, path, entry("jobs", "sync"))
	_, _, err = l.WasProduced("report|x|2026-11-21")
	wantDamaged(t, err, path, entry("reports", "report|x|2026-11-21"))
	_, _, err = l.MailByID(m.ID)
	wantDamaged(t, err, path, entry("outbox", m.ID))
	_, err = l.Outbox(false)
	wantDamaged(t, err, path, entry("outbox", m.ID))
	wantDamaged(t, l.UpdateMail(m), path, entry("outbox", m.ID))
}

// TestPageChecksReadTheOpenFile: the pages a rollback and a backup check
// are those of the file bbolt has open, not whatever the path names now.
// The file was moved away and another put at its name (a restore done
// while the daemon ran): a refused write was taken as damage of the new
// file and closed the database, and a backup was refused for it, while
// bbolt's rollback walk and its copy read the open file; check read the
// new file's header against the old file's transaction.
func TestPageChecksReadTheOpenFile(t *testing.T) {
	path, ids := filled(t)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = l.UpdateMail(&Mail{ID: "nobody@queued"}) // refused by the ledger: rolled back
	if err == nil || errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "no message") {
		t.Fatalf("a refused write: %v, want its own error", err)
	}
	if err := l.Err(); err != nil {
		t.Fatalf("the ledger closed: %v", err)
	}
	var copy bytes.Buffer
	if _, err := l.Backup(&copy); err != nil {
		t.Fatalf("backup: %v", err)
	}
	if rep, err := l.Verify(context.Background(), true); err != nil || !rep.OK() {
		t.Fatalf("check: %v %v", rep.Problems, err)
	}
	if _, err := l.UpsertPage([]domain.Operation{sale(ids[0], "p0", "decline")}, t0); err != nil {
		t.Fatalf("a write after: %v", err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(backup, copy.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Open(backup, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the backup: %v", err)
	}
	defer b.Close()
	if _, ok, err := b.Get(ids[0]); err != nil || !ok {
		t.Errorf("the backup lacks operation %d: %v", ids[0], err)
	}
}
