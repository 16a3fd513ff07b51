package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
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

// Card numbers as an earlier release stored them: the client kept an
// account number that ended in the provider's '*' as it came, and stored
// messages as they came. Each is a string the file must not hold once the
// database is migrated.
var earlierCards = []string{
	"4111111111111111",    // account_number "4111111111111111*"
	"5500 0000 0000 0004", // in the current message
	"4000000000000002",    // in a message of the status history
	"4012888888881881",    // quoted by a reason: a resolution's summary, an audit event's detail
}

const (
	cardOp    = 10000000000000004 // holds every card number above
	cardOther = 10000000000000006 // holds none
)

// makeEarlierRelease writes, at path, a database of the given schema as an
// earlier release left it: operations whose account number, message and
// status history hold card numbers in full, and a resolution and an audit
// event whose reason quotes one. The values are written under the
// operations' keys directly (UpsertPage masks them); the indexes and counts
// do not depend on them and are the ones UpsertPage made.
func makeEarlierRelease(t *testing.T, path string, schema uint32, extra int) {
	t.Helper()
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ops := []domain.Operation{sale(cardOp, "p4", "decline"), sale(cardOther, "p6", "success")}
	for i := range extra {
		ops = append(ops, sale(10000000000100000+uint64(i), "px", "decline"))
	}
	mustUpsert(t, l, ops...)
	raw := func(op domain.Operation) domain.Operation {
		op.AccountNumber = "4111111111111111*"
		op.Code, op.Message = "100", "Card 5500 0000 0000 0004 declined by issuer"
		return op
	}
	earlier := []StatusChange{{SeenAt: t0.Add(-time.Hour), OperationStatus: "processing", PaymentStatus: "processing",
		Code: "3", Message: "card 4000000000000002 waits for 3-D Secure"}}
	err = l.db.Update(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketOps)
		for i, op := range ops {
			if op.OperationID == cardOther {
				continue
			}
			op := raw(op)
			if i > 1 { // the extra ones: a card number in the message only
				op.AccountNumber = "q***@example.com"
			}
			if err := b.Put(be64(nil, op.OperationID), appendRecord(nil, appendOp(nil, &op), t0.Add(-time.Hour), t0, earlier)); err != nil {
				return err
			}
		}
		return root(tx).Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, schema))
	})
	if err != nil {
		t.Fatal(err)
	}
	reason := "ECommPay operation 10000000000000004 is decline (code 100 Card 4012888888881881 declined), created 2026-11-20 10:04 UTC"
	res := domain.Resolution{ProjectID: 580, ID: "p4", Type: domain.RecordPurchase, Code: domain.ResultStatusMismatch,
		Reason: "checked with the bank", User: "anna", At: t0, Fingerprint: "f1", Summary: reason}
	ev := domain.AuditEvent{At: t0, User: "anna", Action: "resolve", ProjectID: 580, ID: "p4", Type: domain.RecordPurchase,
		Code: domain.ResultStatusMismatch, Reason: "checked with the bank", Detail: reason}
	if err := l.SaveResolutions([]domain.Resolution{res}, []domain.AuditEvent{ev}); err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// fileHolds lists the card numbers the file at path holds, anywhere in its
// bytes (free pages too).
func fileHolds(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, c := range earlierCards {
		if bytes.Contains(b, []byte(c)) {
			found = append(found, c)
		}
	}
	return found
}

// A database written by an earlier release, opened for writing, no longer
// holds a card number in full: not in its records, not in its free pages;
// and it checks out, indexes and counts as they were.
func TestMigrationMasksStoredCardNumbers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	makeEarlierRelease(t, path, 2, 0)
	if got := fileHolds(t, path); len(got) != len(earlierCards) {
		t.Fatalf("the earlier release's file holds %q, want all of %q", got, earlierCards)
	}

	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := fileHolds(t, path); len(got) > 0 {
		t.Errorf("after the migration the file still holds %q", got)
	}
	rep, err := l.Verify(context.Background(), false)
	if err != nil || !rep.OK() || len(rep.Warnings) > 0 {
		t.Fatalf("check after the migration: %v %+v", err, rep)
	}
	rec, _, err := l.Get(cardOp)
	if err != nil {
		t.Fatal(err)
	}
	if rec.AccountNumber != "411111******1111*" || rec.Message != "Card 5500 00** **** 0004 declined by issuer" {
		t.Errorf("stored %q, %q", rec.AccountNumber, rec.Message)
	}
	if len(rec.Earlier) != 1 || rec.Earlier[0].Message != "card 400000******0002 waits for 3-D Secure" {
		t.Errorf("history %+v", rec.Earlier)
	}
	if other, _, _ := l.Get(cardOther); other.Operation != sale(cardOther, "p6", "success") {
		t.Errorf("an operation without a card number changed: %+v", other.Operation)
	}
	res, err := l.Resolutions()
	if err != nil {
		t.Fatal(err)
	}
	want := "ECommPay operation 10000000000000004 is decline (code 100 Card 401288******1881 declined), created 2026-11-20 10:04 UTC"
	for _, r := range res {
		if r.Summary != want || r.Reason != "checked with the bank" {
			t.Errorf("resolution summary %q, reason %q; want the summary %q", r.Summary, r.Reason, want)
		}
	}
	audit, _ := l.Audit()
	if len(audit) != 1 || audit[0].Detail != want {
		t.Errorf("audit %+v", audit)
	}
	if c, _ := l.Counts(); c[580] != (Counts{Operations: 2}) {
		t.Errorf("counts %+v", c[580])
	}
	if recs, err := l.ByPayment(580, "p4"); err != nil || len(recs) != 1 || recs[0].AccountNumber != "411111******1111*" {
		t.Errorf("ByPayment(p4) = %+v, %v", recs, err)
	}
	var v uint32
	l.db.View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint32(root(tx).Bucket(bucketMeta).Get(keySchema))
		return nil
	})
	if v != SchemaVersion || SchemaVersion < 3 {
		t.Errorf("schema %d after the migration (this release writes %d), want 3 or later", v, SchemaVersion)
	}
}

// A schema 1 database holding card numbers goes through both migrations.
func TestMigrationFromSchema1MasksToo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	makeEarlierRelease(t, path, 1, 0)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := fileHolds(t, path); len(got) > 0 {
		t.Errorf("after the migrations the file still holds %q", got)
	}
	if got := wordCounts(t, l); got["operation_status=decline"] != 1 || got["operation_status=success"] != 1 {
		t.Errorf("word counts after the migrations %v", got)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
}

// Read only, an earlier database is read as it is and checks out against
// what its schema promised; the next write open masks it.
func TestReadOnlyOpenLeavesEarlierCardsToTheNextWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	makeEarlierRelease(t, path, 2, 0)
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ro.Verify(context.Background(), false)
	ro.Close()
	if err != nil || !rep.OK() {
		t.Fatalf("check of the unmigrated database: %v %+v", err, rep)
	}
	if got := fileHolds(t, path); len(got) != len(earlierCards) {
		t.Errorf("a read-only open changed the file: it holds %q", got)
	}
}

// Whoever calls UpsertPage, the ledger stores no card number in full: the
// client masks as records arrive, and the ledger masks again.
func TestUpsertMasksCardNumbers(t *testing.T) {
	l := openTemp(t)
	op := sale(cardOp, "p4", "decline")
	op.AccountNumber = "4111111111111111"
	op.Message = "Card 4111 1111 1111 1111 declined"
	mustUpsert(t, l, op)
	rec, _, _ := l.Get(cardOp)
	if rec.AccountNumber != "411111******1111" || rec.Message != "Card 4111 11** **** 1111 declined" {
		t.Errorf("stored %q, %q", rec.AccountNumber, rec.Message)
	}
	// The same operation again, from a client that masked it: unchanged.
	op.AccountNumber, op.Message = domain.MaskAccount(op.AccountNumber), domain.MaskCardNumbers(op.Message)
	if st := mustUpsert(t, l, op); st != (PageStats{Unchanged: 1}) {
		t.Errorf("the masked operation again: %+v", st)
	}
	if b, _ := os.ReadFile(l.Path()); bytes.Contains(b, []byte("4111111111111111")) || bytes.Contains(b, []byte("4111 1111 1111 1111")) {
		t.Error("the file holds the card number")
	}
}

// maskReason masks what a reason quotes of an operation's message and
// nothing else: the operation ids in it are not card numbers.
func TestMaskReason(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ECommPay operation 10000000000000004 is decline (code 100 Card 4012888888881881 declined)",
			"ECommPay operation 10000000000000004 is decline (code 100 Card 401288******1881 declined)"},
		{"status: merchant paid, ECommPay decline (code 100 4012888888881881), payment decline; amounts differ too: amount: merchant 10.00 UAH, ECommPay 11.00 UAH (operation 10000000000000004), difference -1.00 UAH",
			"status: merchant paid, ECommPay decline (code 100 401288******1881), payment decline; amounts differ too: amount: merchant 10.00 UAH, ECommPay 11.00 UAH (operation 10000000000000004), difference -1.00 UAH"},
		// A message that holds the marker of what follows it is masked whole.
		{"ECommPay decline (code 1 x; amounts differ too: 4012888888881881); amounts differ too: (operation 10000000000000004)",
			"ECommPay decline (code 1 x; amounts differ too: 401288******1881); amounts differ too: (operation 10000000000000004)"},
		{"ECommPay operation 10000000000000004 is success", "ECommPay operation 10000000000000004 is success"},
	} {
		if got := maskReason(c.in); got != c.want {
			t.Errorf("maskReason(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
	if !strings.Contains(maskReason("a (code 1 4012888888881881"), "401288******1881") {
		t.Error("a reason cut after the message is not masked")
	}
}

var errStopped = errors.New("stopped here, as by a kill")

// The rewrite runs in batches of a transaction each; a process stopped
// after a batch leaves the older schema, partly masked and sound, and the
// next writable open does the rest.
func TestMigrationInBatchesResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	makeEarlierRelease(t, path, 2, 300)
	defer func(rows int) { rewriteBatchRows, afterBatch = rows, nil }(rewriteBatchRows)
	rewriteBatchRows = 50
	afterBatch = func(n int) error {
		if n == 3 {
			return errStopped
		}
		return nil
	}
	if l, err := Open(path, Options{}); !errors.Is(err, errStopped) {
		if l != nil {
			l.Close()
		}
		t.Fatalf("open stopped after the third batch: %v", err)
	}

	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	clean, full := 0, 0
	err = ro.ForEachByID(context.Background(), func(op *domain.Operation) error {
		if op.Message == "" {
			return nil
		}
		if strings.Contains(op.Message, "5500 0000 0000 0004") {
			full++
		} else {
			clean++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 302 operations, 301 with a card number; three batches read 150.
	if clean != 150 || full != 152 {
		t.Errorf("after three batches of 50: %d without a card number in full, %d with; want 150, 152", clean, full)
	}
	rep, err := ro.Verify(context.Background(), false)
	if err != nil || !rep.OK() {
		t.Fatalf("the stopped migration's database: %v %+v", err, rep)
	}
	if w := strings.Join(rep.Warnings, "\n"); !strings.Contains(w, "152 operations hold a card number in full") || strings.Contains(w, "5500") {
		t.Errorf("warnings %q: want the 152 operations counted, no card number", w)
	}
	ro.Close()

	batches := 0
	afterBatch = func(n int) error { batches = n; return nil }
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if batches < 7 {
		t.Errorf("the whole rewrite took %d transactions, want one per 50 operations", batches)
	}
	if got := fileHolds(t, path); len(got) > 0 {
		t.Errorf("after the resumed migration the file still holds %q", got)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
}

// A process stopped after the rewrite's last batch, before the free pages
// were overwritten, leaves a mark: `check` warns, and the next writable
// open overwrites them.
func TestScrubResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	makeEarlierRelease(t, path, 2, 0)
	l, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	// What the migration's last batch leaves: values masked, schema 3,
	// the mark; the old values in free pages.
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, rw := range migrations[1].rewrites {
			b := root(tx).Bucket(rw.bucket)
			var puts [][2][]byte
			b.ForEach(func(k, v []byte) error {
				nv, err := rw.value(k, v)
				if nv != nil {
					puts = append(puts, [2][]byte{bytes.Clone(k), nv})
				}
				return err
			})
			for _, p := range puts {
				if err := b.Put(p[0], p[1]); err != nil {
					return err
				}
			}
		}
		if err := root(tx).Bucket(bucketMeta).Put(keyScrub, []byte{1}); err != nil {
			return err
		}
		return putSchema(tx, 3)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := fileHolds(t, path); len(got) == 0 {
		t.Fatal("the free pages hold no card number: the test proves nothing")
	}
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ro.Verify(context.Background(), false)
	ro.Close()
	if err != nil || !rep.OK() || !strings.Contains(strings.Join(rep.Warnings, "\n"), "free pages may still hold card numbers") {
		t.Errorf("check before the scrub: %v %+v", err, rep)
	}

	l, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := fileHolds(t, path); len(got) > 0 {
		t.Errorf("after the scrub the file still holds %q", got)
	}
	rep, err = l.Verify(context.Background(), false)
	if err != nil || !rep.OK() || len(rep.Warnings) > 0 {
		t.Errorf("check after the scrub: %v %+v", err, rep)
	}
}

// A card number in full at schema 3 is a problem `check` names, without
// quoting the number.
func TestCheckFindsAFullCardNumber(t *testing.T) {
	l := openTemp(t)
	mustUpsert(t, l, sale(cardOp, "p4", "decline"))
	err := l.db.Update(func(tx *bolt.Tx) error {
		op := sale(cardOp, "p4", "decline")
		op.AccountNumber = "4111111111111111"
		return root(tx).Bucket(bucketOps).Put(be64(nil, cardOp), appendRecord(nil, appendOp(nil, &op), t0, t0, nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := l.Verify(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(rep.Problems, "\n")
	if !strings.Contains(all, fmt.Sprintf("1 operations hold a card number in full (the first: operation %d)", uint64(cardOp))) || strings.Contains(all, "4111") {
		t.Errorf("problems %q", all)
	}
}

// Masking is idempotent: an operation masked once is unchanged by the
// migration, by UpsertPage and by check.
func FuzzMaskOperationIdempotent(f *testing.F) {
	for _, s := range []string{"4111111111111111*", "4111 1111 1111 1111", "q@example.com", "abcdefgh", "1743-3223…543",
		"70DF717221...0007172214EADA5", "4111111111111111 5500000000000004", "card 4111-1111-1111-1111 expired", "", "1234567890123"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, account, message string) {
		op := domain.Operation{AccountNumber: account, Message: message}
		once, _ := maskOperation(&op)
		if twice, changed := maskOperation(once); changed {
			t.Errorf("masked again: %q, %q → %q, %q", once.AccountNumber, once.Message, twice.AccountNumber, twice.Message)
		}
	})
}
