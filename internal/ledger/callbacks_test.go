package ledger

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// mustCallback stores ops as callbacks seen at seen, checks the database
// and returns what happened to each.
func mustCallback(t testing.TB, l *Ledger, seen time.Time, ops ...domain.Operation) []Outcome {
	t.Helper()
	out, _, err := l.UpsertCallbacks(ops, seen)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Check(); err != nil {
		t.Fatalf("after callbacks: %v", err)
	}
	return out
}

// history is a record's status history as "status(sources)@offset" words.
func history(rec Record) string {
	var got []string
	for _, h := range rec.History() {
		got = append(got, fmt.Sprintf("%s(%s)@%s", h.OperationStatus, h.Sources, h.SeenAt.Sub(t0)))
	}
	return strings.Join(got, " ")
}

func mustGet(t testing.TB, l *Ledger, id uint64) Record {
	t.Helper()
	rec, ok, err := l.Get(id)
	if err != nil || !ok {
		t.Fatalf("Get(%d): %v %v", id, ok, err)
	}
	return rec
}

// The same callback twice changes nothing: not the record, not the file.
func TestCallbackTwiceChangesNothing(t *testing.T) {
	l := openTemp(t)
	op := sale(10000000000000001, "p1", "success")
	if got := mustCallback(t, l, t0, op); got[0] != OutcomeNew {
		t.Fatalf("first: %v", got)
	}
	size := l.Size()
	if got := mustCallback(t, l, t0.Add(time.Minute), op, op); got[0] != OutcomeUnchanged || got[1] != OutcomeUnchanged {
		t.Fatalf("again: %v", got)
	}
	if l.Size() != size {
		t.Errorf("the file grew from %d to %d bytes", size, l.Size())
	}
	rec := mustGet(t, l, op.OperationID)
	if rec.Operation != op || history(rec) != "success(callback)@0s" {
		t.Errorf("stored %+v, history %s", rec.Operation, history(rec))
	}
	if c, _ := l.Counts(); c[580] != (Counts{Operations: 1}) {
		t.Errorf("counts %+v", c[580])
	}
}

// A callback never takes a final status back, whoever stored it.
func TestCallbackNeverMovesAFinalStatusBack(t *testing.T) {
	for _, first := range []string{"sync", "callback"} {
		t.Run(first, func(t *testing.T) {
			l := openTemp(t)
			id := uint64(10000000000000002)
			if first == "sync" {
				mustUpsert(t, l, sale(id, "p2", "success"))
			} else {
				mustCallback(t, l, t0, sale(id, "p2", "success"))
			}
			if got := mustCallback(t, l, t0.Add(time.Minute), sale(id, "p2", "processing")); got[0] != OutcomeOlder {
				t.Errorf("outcome %v, want older", got)
			}
			if rec := mustGet(t, l, id); rec.OperationStatus != "success" || len(rec.Earlier) != 0 {
				t.Errorf("stored %s, history %s", rec.OperationStatus, history(rec))
			}
		})
	}
}

// A callback brings a status first; when the next sync disagrees, the
// sync wins, and the history shows both with their sources.
func TestSyncWinsOverACallbackAndTheHistoryShowsBoth(t *testing.T) {
	l := openTemp(t)
	id := uint64(10000000000000003)
	mustUpsert(t, l, sale(id, "p3", "processing"))
	declined := sale(id, "p3", "decline")
	declined.Code, declined.Message = "100", "General decline"
	if got := mustCallback(t, l, t0.Add(time.Minute), declined); got[0] != OutcomeUpdated {
		t.Fatalf("callback: %v", got)
	}
	if c, _ := l.Counts(); c[580] != (Counts{Operations: 1}) {
		t.Errorf("counts after the callback %+v: a declined operation is final", c[580])
	}
	st, err := l.UpsertPage([]domain.Operation{sale(id, "p3", "success")}, t0.Add(time.Hour))
	if err != nil || st != (PageStats{Updated: 1}) {
		t.Fatalf("sync: %+v %v", st, err)
	}
	rec := mustGet(t, l, id)
	if rec.OperationStatus != "success" {
		t.Errorf("stored %s, want the sync's success", rec.OperationStatus)
	}
	if got, want := history(rec), "processing(sync)@0s decline(callback)@1m0s success(sync)@1h0m0s"; got != want {
		t.Errorf("history %s, want %s", got, want)
	}
	// And a callback that comes late with its old news changes nothing.
	if got := mustCallback(t, l, t0.Add(2*time.Hour), declined); got[0] != OutcomeSyncStands {
		t.Errorf("late callback: %v", got)
	}
	if got := history(mustGet(t, l, id)); got != "processing(sync)@0s decline(callback)@1m0s success(sync)@1h0m0s" {
		t.Errorf("history after the late callback: %s", got)
	}
}

// A callback signed with one project's key that names an operation the
// ledger holds under another project changes nothing of it: not its
// project, status or payment, not the counts, and nothing is marked.
// Operation ids are ECommPay's, one space for every project; a key of
// one project (a test project's, handled with less care) must not
// rewrite another's books.
func TestACallbackDoesNotTakeAnotherProjectsOperation(t *testing.T) {
	for _, status := range []string{"processing", "success"} {
		t.Run("the sync's "+status, func(t *testing.T) {
			l := openTemp(t)
			id := uint64(10000000000000021)
			theirs := sale(id, "p21", status)
			theirs.ProjectID = 581
			mustUpsert(t, l, theirs)
			before := mustGet(t, l, id)
			forged := sale(id, "mine", "decline") // project 580's callback
			out, changes, err := l.UpsertCallbacks([]domain.Operation{forged}, t0.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if out[0] != OutcomeOtherProject || len(changes) != 0 {
				t.Errorf("outcome %v, changes %v; want another project's, none", out, changes)
			}
			after := mustGet(t, l, id)
			if after.Operation != before.Operation || history(after) != history(before) {
				t.Errorf("stored %+v\nhistory %s; was %+v, %s", after.Operation, history(after), before.Operation, history(before))
			}
			if c, _ := l.Counts(); c[580].Operations != 0 || c[581].Operations != 1 {
				t.Errorf("counts %+v", c)
			}
			if err := l.Check(); err != nil {
				t.Error(err)
			}
		})
	}
}

// A final status the sync stored stands against a callback that says
// otherwise; a callback that agrees is noted beside it.
func TestTheSyncsFinalStatusStands(t *testing.T) {
	l := openTemp(t)
	id := uint64(10000000000000004)
	mustUpsert(t, l, sale(id, "p4", "success"))
	declined := sale(id, "p4", "decline")
	if got := mustCallback(t, l, t0.Add(time.Minute), declined); got[0] != OutcomeSyncStands {
		t.Errorf("disagreeing callback: %v", got)
	}
	if got := history(mustGet(t, l, id)); got != "success(sync)@0s" {
		t.Errorf("history %s", got)
	}
	// The same status with another completion time: the sync's fields
	// stay, the callback is noted.
	agreeing := sale(id, "p4", "success")
	agreeing.CompletedAt = agreeing.CompletedAt.Add(time.Second)
	if got := mustCallback(t, l, t0.Add(2*time.Minute), agreeing); got[0] != OutcomeUnchanged {
		t.Errorf("agreeing callback: %v", got)
	}
	rec := mustGet(t, l, id)
	if rec.Operation != sale(id, "p4", "success") || history(rec) != "success(sync, callback)@0s" {
		t.Errorf("stored %+v, history %s", rec.Operation, history(rec))
	}
}

// A sync that confirms a callback's status notes it; a callback that then
// disagrees no longer moves it.
func TestASyncConfirmsACallback(t *testing.T) {
	l := openTemp(t)
	id := uint64(10000000000000005)
	op := sale(id, "p5", "success")
	mustCallback(t, l, t0, op)
	if st := mustUpsert(t, l, op); st != (PageStats{Unchanged: 1}) {
		t.Errorf("confirming sync: %+v", st)
	}
	if got := history(mustGet(t, l, id)); got != "success(sync, callback)@0s" {
		t.Errorf("history %s", got)
	}
	if got := mustCallback(t, l, t0.Add(time.Hour), sale(id, "p5", "decline")); got[0] != OutcomeSyncStands {
		t.Errorf("disagreeing callback after the sync: %v", got)
	}
	// The sync once more: nothing to write.
	size := l.Size()
	if st := mustUpsert(t, l, op); st != (PageStats{Unchanged: 1}) || l.Size() != size {
		t.Errorf("sync again: %+v, %d → %d bytes", st, size, l.Size())
	}
}

// A callback marks its payment for the stored reconciliation, as a sync
// page does.
func TestACallbackMarksItsPayment(t *testing.T) {
	l := openTemp(t)
	if _, _, err := l.MarkAll(); err != nil { // what a first reconcile starts with
		t.Fatal(err)
	}
	mustCallback(t, l, t0, sale(10000000000000006, "p6", "success"))
	var units []domain.Unit
	err := l.view(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketDirty).ForEach(func(k, v []byte) error {
			return eachMark(k, v, func(u domain.Unit, _ []uint64) error { units = append(units, u); return nil })
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 1 || units[0] != domain.PaymentUnit("p6") {
		t.Errorf("marked %v, want the payment p6", units)
	}
}

// A sync-only database keeps the record format of before (version 1,
// byte for byte): a release before callbacks reads what a sync stores.
func TestSyncAloneWritesTheFormatOfBefore(t *testing.T) {
	l := openTemp(t)
	mustUpsert(t, l, sale(10000000000000007, "p7", "processing"))
	if _, err := l.UpsertPage([]domain.Operation{sale(10000000000000007, "p7", "success")}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	l.view(func(tx *bolt.Tx) error {
		v := root(tx).Bucket(bucketOps).Get(be64(nil, 10000000000000007))
		if v[0] != 1 {
			t.Errorf("record version %d, want 1", v[0])
		}
		return nil
	})
}

// Schema 4 (sources in the status history) rewrites nothing: a database
// of schema 3 opens, its records read as the sync's, and a later schema
// is still refused by the check of before.
func TestSchema3OpensAndReadsAsTheSyncs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, l, sale(10000000000000008, "p8", "processing"))
	if _, err := l.UpsertPage([]domain.Operation{sale(10000000000000008, "p8", "success")}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	l.db.Update(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 3))
	})
	l.Close()
	if l, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	l.view(func(tx *bolt.Tx) error {
		if v := binary.BigEndian.Uint32(root(tx).Bucket(bucketMeta).Get(keySchema)); v != SchemaVersion || SchemaVersion < 4 {
			t.Errorf("schema %d after the open, this release's %d", v, SchemaVersion)
		}
		return nil
	})
	if got := history(mustGet(t, l, 10000000000000008)); got != "processing(sync)@0s success(sync)@1h0m0s" {
		t.Errorf("history %s", got)
	}
}

func TestCodecRoundTripWithSources(t *testing.T) {
	op := sale(12345678901234567, "p", "success")
	earlier := []StatusChange{changeOf(&op, t0)}
	earlier[0].OperationStatus, earlier[0].Sources = "decline", SourceCallback
	rec := appendRecordFrom(nil, appendOp(nil, &op), t0, t0.Add(time.Hour), SourceSync|SourceCallback, earlier)
	if rec[0] != 2 {
		t.Fatalf("version %d, want 2", rec[0])
	}
	var got Record
	if err := decodeRecord(rec, op.OperationID, &got); err != nil {
		t.Fatal(err)
	}
	if got.Operation != op || got.StatusSources != SourceSync|SourceCallback || len(got.Earlier) != 1 || got.Earlier[0].Sources != SourceCallback {
		t.Fatalf("round trip: %+v", got)
	}
	_, rest, v, err := opRecord(rec)
	if err != nil || checkTail(rest, v) != nil {
		t.Errorf("checkTail of a whole record: %v", err)
	}
	for i := 0; i < len(rec); i++ {
		var r Record
		if err := decodeRecord(rec[:i], op.OperationID, &r); err == nil {
			t.Fatalf("a record cut at %d of %d decodes", i, len(rec))
		}
		if _, rest, v, err := opRecord(rec[:i]); err == nil && checkTail(rest, v) == nil {
			t.Fatalf("a record cut at %d of %d checks", i, len(rec))
		}
	}
	// No source is the sync's (the record of before); unknown bits are
	// damage, not a new meaning.
	if b := appendRecordFrom(nil, appendOp(nil, &op), t0, t0, 0, []StatusChange{{SeenAt: t0}}); b[0] != 1 {
		t.Errorf("a record without sources is version %d, want 1", b[0])
	}
	for _, bad := range []Sources{4, 0x80, SourceCallback | 8} {
		b := appendRecordFrom(nil, appendOp(nil, &op), t0, t0, bad, nil)
		var r Record
		if err := decodeRecord(b, op.OperationID, &r); err == nil {
			t.Errorf("sources %#x decode", uint8(bad))
		}
		if _, rest, v, err := opRecord(b); err == nil && checkTail(rest, v) == nil {
			t.Errorf("sources %#x check", uint8(bad))
		}
	}
}
