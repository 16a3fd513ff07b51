package syncer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
)

// With Fees, a run also stores the fee of every operation, from
// /financial-reporting/operations, with a watermark of its own; again, it
// changes nothing; off, no fee is pulled.
func TestFeesAreSyncedBesideTheOperations(t *testing.T) {
	e := newEnv(t, 1500, 2*time.Minute)
	res, err := e.syncer.Run(context.Background(), Options{})
	if err != nil || res.Fees.Pages != 0 {
		t.Fatalf("fees off: %+v, %v", res.Fees, err)
	}
	if _, _, ok, _ := e.ledger.Fee(e.fake.Operations(e.clock.Now())[0].OperationID); ok {
		t.Fatal("a fee was stored with fees off")
	}
	e.syncer.Fees = true
	res, err = e.syncer.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fees.New != 1500 || res.Fees.Records < 1500 || res.Fees.Unreported != 0 {
		t.Fatalf("first fee sync: %+v", res.Fees)
	}
	want := map[uint64]domain.Money{}
	for _, op := range e.fake.Operations(e.clock.Now()) {
		want[op.OperationID] = fakeapi.FeeOf(&op)
	}
	n := 0
	err = e.ledger.ForEach(context.Background(), ledger.Range{}, func(op *domain.Operation) error {
		if op.Fee != want[op.OperationID] {
			t.Errorf("operation %d: fee %+v, the API charged %+v", op.OperationID, op.Fee, want[op.OperationID])
		}
		n++
		return nil
	})
	if err != nil || n != 1500 {
		t.Fatalf("%d operations read, %v", n, err)
	}
	for _, p := range []int64{580, 579} {
		st, _ := e.ledger.SyncState(p)
		if !st.Fees.Watermark.Equal(e.clock.Now()) || st.Fees.LastSuccess.IsZero() || st.Fees.LastError != "" || !st.Watermark.Equal(e.clock.Now()) {
			t.Errorf("project %d: %+v", p, st)
		}
	}
	res, err = e.syncer.Run(context.Background(), Options{})
	if err != nil || res.Fees.New != 0 || res.Fees.Updated != 0 || res.Fees.Unchanged == 0 {
		t.Fatalf("again with no change: %+v, %v", res.Fees, err)
	}
	if err := e.ledger.Check(); err != nil {
		t.Fatal(err)
	}
}

// A fee sync the API refuses (a user not allowed to see financial
// reports) fails the run and is recorded as the fees' error, not the
// operations': they are stored and their watermark moves.
func TestARefusedFeeSyncIsTheFeesError(t *testing.T) {
	e := newEnv(t, 600, 2*time.Minute)
	inner := e.fake.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == dataapi.PathFinancialOperations {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"status":"error","code":"forbidden","message":"financial reports are not allowed for this user"}`))
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	client, err := dataapi.New(dataapi.Options{BaseURL: srv.URL, Token: token, Secret: []byte(secret), PageSize: 200,
		Retry: dataapi.Retry{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	e.syncer.Client, e.syncer.Fees = client, true
	res, err := e.syncer.Run(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "financial reports are not allowed") {
		t.Fatalf("run: %v", err)
	}
	if res.New != 600 {
		t.Fatalf("operations stored: %+v", res)
	}
	for _, p := range []int64{580, 579} {
		st, _ := e.ledger.SyncState(p)
		if st.LastError != "" || !st.Watermark.Equal(e.clock.Now()) {
			t.Errorf("project %d: the operations' state %+v", p, st)
		}
		if !st.Fees.Failing() || !st.Fees.Watermark.IsZero() {
			t.Errorf("project %d: the fees' state %+v", p, st.Fees)
		}
	}
}

// The fee sync rides the same retries as the operations': through 5xx,
// 429 and a row repeated across pages, every fee arrives once.
func TestFeeSyncSurvivesFaults(t *testing.T) {
	e := newEnv(t, 2000, time.Minute)
	e.syncer.Fees = true
	e.fake.SetFaults(fakeapi.Faults{ServerErrorEvery: 3, RateLimitEvery: 7, RepeatRow: true})
	res, err := e.syncer.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fees.New != 2000 {
		t.Fatalf("fees stored: %+v", res.Fees)
	}
	for _, op := range e.fake.Operations(e.clock.Now()) {
		fee, _, ok, err := e.ledger.Fee(op.OperationID)
		if err != nil || !ok || fee != fakeapi.FeeOf(&op) {
			t.Fatalf("operation %d: fee %+v %v %v, want %+v", op.OperationID, fee, ok, err, fakeapi.FeeOf(&op))
		}
	}
}
