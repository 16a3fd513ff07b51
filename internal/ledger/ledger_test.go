package ledger

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// TestMain lets the test binary act as a second process that holds the
// database, for TestOpenFailsWhileAnotherProcessHoldsIt, or that dies in
// an alert check, for TestAKillBetweenQueuedAndMarkedSendsOnce.
func TestMain(m *testing.M) {
	if path := os.Getenv("LEDGER_TEST_ALERT_KILL"); path != "" {
		alertKillChild(path)
	}
	if path := os.Getenv("LEDGER_TEST_HOLD"); path != "" {
		l, err := Open(path, Options{})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("holding")
		bufio.NewReader(os.Stdin).ReadString('\n') // until the test closes stdin
		l.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func openTemp(t testing.TB) *Ledger {
	t.Helper()
	l, err := Open(filepath.Join(t.TempDir(), "test.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func sale(id uint64, payment string, status string) domain.Operation {
	op := domain.Operation{
		ProjectID: 580, OperationID: id, PaymentID: payment,
		PaymentType: "purchase", PaymentStatus: status, OperationType: "sale", OperationStatus: status,
		PaymentMethod: "advcash", AccountNumber: "q***@example.com", CustomerID: "c1",
		CreatedAt:  t0.Add(time.Duration(id%1000) * time.Minute),
		SumInitial: domain.Money{Amount: 100000, Currency: "UAH"}, SumConverted: domain.Money{Amount: 100000, Currency: "UAH"},
		ProviderID: 1203,
	}
	if status != domain.StatusProcessing {
		op.CompletedAt = op.CreatedAt.Add(2 * time.Minute)
		op.ProviderPaymentID = fmt.Sprintf("prov-%d", id)
		op.Code, op.Message = "0", "Success"
	}
	return op
}

func mustUpsert(t testing.TB, l *Ledger, ops ...domain.Operation) PageStats {
	t.Helper()
	st, err := l.UpsertPage(ops, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Check(); err != nil {
		t.Fatalf("after upsert: %v", err)
	}
	return st
}

func TestUpsertIsIdempotent(t *testing.T) {
	l := openTemp(t)
	page := []domain.Operation{sale(10000000000000001, "p1", "success"), sale(10000000000000002, "p2", "processing"), sale(10000000000000003, "p3", "decline")}
	if st := mustUpsert(t, l, page...); st != (PageStats{New: 3}) {
		t.Fatalf("first upsert: %+v", st)
	}
	size := l.Size()
	if st := mustUpsert(t, l, page...); st != (PageStats{Unchanged: 3}) {
		t.Fatalf("same page again: %+v", st)
	}
	// The same operation twice in one page is stored once.
	if st := mustUpsert(t, l, page[0], page[0]); st != (PageStats{Unchanged: 2}) {
		t.Fatalf("duplicate in a page: %+v", st)
	}
	if l.Size() != size {
		t.Errorf("file grew from %d to %d bytes with nothing new", size, l.Size())
	}
	c, _ := l.Counts()
	if c[580] != (Counts{Operations: 3, NotFinal: 1}) {
		t.Errorf("counts %+v", c[580])
	}
	rec, ok, err := l.Get(10000000000000002)
	if err != nil || !ok || rec.Operation != page[1] {
		t.Fatalf("Get: %+v %v %v", rec, ok, err)
	}
}

func TestNewerStatusReplacesOlderAndHistoryIsKept(t *testing.T) {
	l := openTemp(t)
	id := uint64(10000000000000042)
	mustUpsert(t, l, sale(id, "p42", "processing"))
	later := sale(id, "p42", "success")
	st, err := l.UpsertPage([]domain.Operation{later}, t0.Add(time.Hour))
	if err != nil || st != (PageStats{Updated: 1}) {
		t.Fatalf("update: %+v %v", st, err)
	}
	refunded := later
	refunded.PaymentStatus = domain.StatusRefunded
	if _, err := l.UpsertPage([]domain.Operation{refunded}, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// An older view of the operation (a page fetched before it completed)
	// does not take it back.
	if st := mustUpsert(t, l, sale(id, "p42", "processing")); st != (PageStats{Unchanged: 1}) {
		t.Fatalf("stale view: %+v", st)
	}
	rec, _, _ := l.Get(id)
	if rec.OperationStatus != "success" || rec.PaymentStatus != "refunded" {
		t.Fatalf("stored %s/%s, want success/refunded", rec.OperationStatus, rec.PaymentStatus)
	}
	var got []string
	for _, h := range rec.History() {
		got = append(got, h.OperationStatus+"/"+h.PaymentStatus+"@"+h.SeenAt.Sub(t0).String())
	}
	want := "processing/processing@0s success/success@1h0m0s success/refunded@2h0m0s"
	if strings.Join(got, " ") != want {
		t.Errorf("history %v, want %s", got, want)
	}
	if !rec.FirstSeen.Equal(t0) {
		t.Errorf("first seen %v", rec.FirstSeen)
	}
	c, _ := l.Counts()
	if c[580] != (Counts{Operations: 1}) {
		t.Errorf("counts %+v", c[580])
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestIndexesFollowChanges(t *testing.T) {
	l := openTemp(t)
	a := sale(10000000000000001, "pay-1", "success")
	refund := sale(10000000000000005, "pay-1", "success")
	refund.OperationType = domain.OpRefund
	other := sale(10000000000000003, "pay-2", "processing")
	mustUpsert(t, l, a, refund, other)

	recs, err := l.ByPayment(580, "pay-1")
	if err != nil || len(recs) != 2 || recs[0].OperationID != a.OperationID || recs[1].OperationID != refund.OperationID {
		t.Fatalf("ByPayment(pay-1) = %d records, %v", len(recs), err)
	}
	// A payment id that is a prefix of another does not match it.
	mustUpsert(t, l, sale(10000000000000007, "pay-10", "success"))
	if recs, _ := l.ByPayment(580, "pay-1"); len(recs) != 2 {
		t.Fatalf("ByPayment(pay-1) matched pay-10: %d records", len(recs))
	}
	if recs, _ := l.ByPayment(579, "pay-1"); len(recs) != 0 {
		t.Fatalf("ByPayment is per project")
	}
	// The processing operation gets a provider id and another creation time.
	done := sale(other.OperationID, "pay-2", "success")
	done.CreatedAt = done.CreatedAt.Add(time.Second)
	mustUpsert(t, l, done)
	recs, err = l.ByProviderPaymentID(done.ProviderPaymentID)
	if err != nil || len(recs) != 1 || recs[0].OperationID != other.OperationID {
		t.Fatalf("ByProviderPaymentID = %v, %v", recs, err)
	}
	var order []uint64
	if err := l.ForEach(context.Background(), Range{}, func(op *domain.Operation) error {
		order = append(order, op.OperationID%100)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[1 3 5 7]" {
		t.Errorf("ForEach order %v", order)
	}
	order = nil
	l.ForEach(context.Background(), Range{From: a.CreatedAt.Add(time.Minute), To: refund.CreatedAt.Add(time.Minute)}, func(op *domain.Operation) error {
		order = append(order, op.OperationID%100)
		return nil
	})
	if fmt.Sprint(order) != "[3 5]" {
		t.Errorf("ForEach over a range: %v", order)
	}
}

func TestBadPageStoresNothing(t *testing.T) {
	l := openTemp(t)
	bad := sale(10000000000000002, "p2", "success")
	bad.SumInitial.Currency = "XYZ"
	_, err := l.UpsertPage([]domain.Operation{sale(10000000000000001, "p1", "success"), bad}, t0)
	if err == nil || !strings.Contains(err.Error(), "XYZ") {
		t.Fatalf("err = %v, want the bad currency named", err)
	}
	if _, ok, _ := l.Get(10000000000000001); ok {
		t.Error("first operation of a failed page was stored")
	}
	if c, _ := l.Counts(); len(c) != 0 {
		t.Errorf("counts after a failed page: %v", c)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestWatermarkOnlyMovesForward(t *testing.T) {
	l := openTemp(t)
	if err := l.AdvanceWatermark([]int64{580, 579}, t0); err != nil {
		t.Fatal(err)
	}
	l.AdvanceWatermark([]int64{580}, t0.Add(-time.Hour))
	l.RecordSync([]int64{580}, t0, errors.New("boom"))
	l.RecordSync([]int64{580}, t0.Add(time.Minute), nil)
	s, err := l.SyncState(580)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Watermark.Equal(t0) || s.LastError != "boom" || !s.LastSuccess.Equal(t0.Add(time.Minute)) {
		t.Errorf("state %+v", s)
	}
	all, _ := l.SyncStates()
	if len(all) != 2 || all[0].Project != 579 {
		t.Errorf("states %+v", all)
	}
}

func TestOpenFailsWhileAnotherProcessHoldsIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "held.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LEDGER_TEST_HOLD="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "holding" {
		t.Fatalf("holder says %q", line)
	}
	begin := time.Now()
	_, err := Open(path, Options{LockTimeout: 500 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "another reconciled process") {
		t.Errorf("message %q does not say who holds it", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("took %v to give up", d)
	}
	_, err = Open(path, Options{ReadOnly: true, LockTimeout: 500 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("read-only open: err = %v, want ErrLocked", err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.db.Update(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 99))
	})
	l.Close()
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("err = %v, want a schema error", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none.db"), Options{ReadOnly: true}); !errors.Is(err, ErrNotExist) {
		t.Fatalf("read-only open of a missing file: %v", err)
	}
}

func TestCodecRoundTripAndCorruption(t *testing.T) {
	op := sale(12345678901234567, "ид-платежа", "success")
	op.SumInitial.Amount = -1 << 62
	op.CompletedAt = time.Time{}
	op.PaymentMethod = "not in the dictionary"
	earlier := []StatusChange{changeOf(&op, t0)}
	earlier[0].OperationStatus = "processing"
	rec := appendRecord(nil, appendOp(nil, &op), t0, t0.Add(time.Hour), earlier)
	var got Record
	if err := decodeRecord(rec, op.OperationID, &got); err != nil {
		t.Fatal(err)
	}
	if h := got.History(); got.Operation != op || len(h) != 2 || h[0].OperationStatus != "processing" || !h[1].SeenAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, op)
	}
	for i := 0; i < len(rec); i++ {
		var r Record
		if err := decodeRecord(rec[:i], op.OperationID, &r); err == nil {
			t.Fatalf("a record cut at %d of %d decodes", i, len(rec))
		}
	}
}

func TestForEachToWithAFraction(t *testing.T) {
	l := openTemp(t)
	op := sale(10000000000000001, "p1", "success")
	op.CreatedAt = t0
	mustUpsert(t, l, op)
	n := 0
	l.ForEach(context.Background(), Range{To: t0.Add(500 * time.Millisecond)}, func(*domain.Operation) error { n++; return nil })
	if n != 1 {
		t.Errorf("ForEach up to %v returned %d operations created at %v", t0.Add(500*time.Millisecond), n, t0)
	}
}

// New operations' index keys are queued and put sorted at the end of the
// page; an operation that appears twice in one page, moved the second
// time, must still leave exactly its last keys.
func TestSameOperationTwiceInAPageWithNewKeys(t *testing.T) {
	l := openTemp(t)
	a := sale(10000000000000001, "p1", "processing")
	b := sale(10000000000000001, "p1-renamed", "success")
	b.CreatedAt = a.CreatedAt.Add(3 * time.Hour)
	st := mustUpsert(t, l, a, sale(10000000000000002, "p2", "success"), b)
	if st != (PageStats{New: 2, Updated: 1}) {
		t.Errorf("stats %+v", st)
	}
	if recs, _ := l.ByPayment(580, "p1"); len(recs) != 0 {
		t.Errorf("old payment id still indexed: %d", len(recs))
	}
	if recs, _ := l.ByPayment(580, "p1-renamed"); len(recs) != 1 {
		t.Errorf("new payment id not indexed: %d", len(recs))
	}
}
