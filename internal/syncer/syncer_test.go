package syncer

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
)

const (
	token  = "WKiarERJ5pcceNerpM9R5TNnyPTQMl"
	secret = "test-secret"
)

var start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// clock is a settable time shared by the fake and the syncer.
type clock struct{ t atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Set(t time.Time)     { c.t.Store(t.UnixNano()) }
func (c *clock) Add(d time.Duration) { c.t.Add(int64(d)) }

type env struct {
	fake   *fakeapi.Server
	clock  *clock
	ledger *ledger.Ledger
	syncer *Syncer
}

func newEnv(t testing.TB, count int, step time.Duration) *env {
	t.Helper()
	clk := &clock{}
	clk.Set(start.Add(time.Duration(count) * step))
	fake, err := fakeapi.New(fakeapi.Config{Token: token, Secret: []byte(secret), Seed: 42, Start: start, Count: count, Step: step, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	client, err := dataapi.New(dataapi.Options{BaseURL: srv.URL, Token: token, Secret: []byte(secret), PageSize: 200,
		Retry: dataapi.Retry{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(filepath.Join(t.TempDir(), "sync.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &env{fake: fake, clock: clk, ledger: l, syncer: &Syncer{
		Client: client, Ledger: l, Projects: []int64{580, 579}, Lookback: 72 * time.Hour, Start: start, Now: clk.Now,
	}}
}

// assertMirror checks that the ledger holds exactly what the fake shows now.
func (e *env) assertMirror(t *testing.T) {
	t.Helper()
	want := map[uint64]domain.Operation{}
	for _, op := range e.fake.Operations(e.clock.Now()) {
		op.AccountNumber = domain.MaskAccount(op.AccountNumber)
		want[op.OperationID] = op
	}
	got := 0
	err := e.ledger.ForEach(context.Background(), ledger.Range{}, func(op *domain.Operation) error {
		got++
		if w, ok := want[op.OperationID]; !ok {
			t.Errorf("stored operation %d the API does not have", op.OperationID)
		} else if w != *op {
			t.Errorf("operation %d\n stored %+v\n    api %+v", op.OperationID, *op, w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != len(want) {
		t.Errorf("ledger has %d operations, the API %d", got, len(want))
	}
	if err := e.ledger.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestSyncMirrorsTheAPIAndIsIdempotent(t *testing.T) {
	e := newEnv(t, 3000, 2*time.Minute) // about four days
	res, err := e.syncer.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 3000 || res.Updated != 0 {
		t.Errorf("first run: %+v", res)
	}
	e.assertMirror(t)
	for _, p := range []int64{580, 579} {
		st, _ := e.ledger.SyncState(p)
		if !st.Watermark.Equal(e.clock.Now()) || st.LastSuccess.IsZero() || st.LastError != "" {
			t.Errorf("project %d state %+v", p, st)
		}
	}

	// Nothing changed upstream: nothing new is stored.
	res, err = e.syncer.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 0 || res.Updated != 0 || res.Unchanged == 0 {
		t.Errorf("second run with no change: %+v", res)
	}

	// Two hours later: operations that were processing are final, and new
	// ones exist. The lookback window brings both.
	e.clock.Add(2 * time.Hour)
	res, err = e.syncer.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Updated == 0 {
		t.Errorf("no status change picked up: %+v", res)
	}
	e.assertMirror(t)
}

func TestSyncSurvivesFaults(t *testing.T) {
	e := newEnv(t, 2000, time.Minute)
	e.fake.SetFaults(fakeapi.Faults{ServerErrorEvery: 3, RateLimitEvery: 7, RepeatRow: true})
	if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	e.assertMirror(t)
}

func TestBadResponseStopsAndIsRecorded(t *testing.T) {
	e := newEnv(t, 2000, 5*time.Minute) // about a week: several chunks
	e.syncer.Progress = func(r Result) {
		if r.Pages == 3 { // every answer from now on is tampered with
			e.fake.SetFaults(fakeapi.Faults{BadSignatureEvery: 1})
		}
	}
	_, err := e.syncer.Run(context.Background(), Options{})
	e.syncer.Progress = nil
	if !errors.Is(err, dataapi.ErrBadSignature) {
		t.Fatalf("err = %v, want ErrBadSignature", err)
	}
	st, _ := e.ledger.SyncState(580)
	if st.LastError == "" || !st.LastSuccess.IsZero() {
		t.Errorf("state after a failed sync: %+v", st)
	}
	if !st.Watermark.Before(e.clock.Now()) {
		t.Errorf("watermark %v moved to the end though the sync failed", st.Watermark)
	}
	if err := e.ledger.Check(); err != nil {
		t.Fatal(err)
	}
	e.fake.SetFaults(fakeapi.Faults{})
	if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	e.assertMirror(t)
}

func TestExplicitWindowAfterTheWatermarkLeavesItAlone(t *testing.T) {
	e := newEnv(t, 1000, 5*time.Minute)
	now := e.clock.Now()
	mid := start.Add(24 * time.Hour)
	if _, err := e.syncer.Run(context.Background(), Options{From: start, To: mid}); err != nil {
		t.Fatal(err)
	}
	st, _ := e.ledger.SyncState(580)
	if !st.Watermark.Equal(mid) {
		t.Fatalf("watermark %v, want %v", st.Watermark, mid)
	}
	if _, err := e.syncer.Run(context.Background(), Options{From: mid.Add(12 * time.Hour), To: now}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.ledger.SyncState(580); !st.Watermark.Equal(mid) {
		t.Errorf("watermark moved to %v over a gap", st.Watermark)
	}
}

func TestCancelledSyncResumes(t *testing.T) {
	e := newEnv(t, 3000, 3*time.Minute)
	e.fake.SetFaults(fakeapi.Faults{Delay: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	e.syncer.Progress = func(r Result) {
		if r.Pages == 5 {
			cancel()
		}
	}
	if _, err := e.syncer.Run(ctx, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	c, _ := e.ledger.Counts()
	if n := c[580].Operations + c[579].Operations; n == 0 || n >= 3000 {
		t.Fatalf("after cancel %d operations stored", n)
	}
	e.syncer.Progress = nil
	e.fake.SetFaults(fakeapi.Faults{})
	if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	e.assertMirror(t)
}

// A window that ends in the future moves the watermark to now, not past it:
// operations created later must still be pulled.
func TestFutureToStopsAtNow(t *testing.T) {
	e := newEnv(t, 3000, 2*time.Minute)
	end := e.clock.Now()
	e.clock.Set(start.Add(48 * time.Hour))
	if _, err := e.syncer.Run(context.Background(), Options{From: start, To: start.Add(30 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.ledger.SyncState(580); !st.Watermark.Equal(e.clock.Now()) {
		t.Fatalf("watermark %v, want now %v", st.Watermark, e.clock.Now())
	}
	e.clock.Set(end)
	if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	e.assertMirror(t)
}

// The first explicit window of a project that was never synced moves the
// watermark only if it starts where a first sync would (data_api.start).
func TestFirstExplicitWindowLeavesNoGap(t *testing.T) {
	e := newEnv(t, 3000, 3*time.Minute)
	if _, err := e.syncer.Run(context.Background(), Options{From: start.Add(96 * time.Hour), To: start.Add(120 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.ledger.SyncState(580); !st.Watermark.IsZero() {
		t.Fatalf("watermark moved to %v over [start, from)", st.Watermark)
	}
	if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	e.assertMirror(t)
}

// A project the API refuses does not stop the others, and its error is
// recorded.
func TestOneRefusedProjectDoesNotStopTheOthers(t *testing.T) {
	e := newEnv(t, 1000, 5*time.Minute)
	// 580 has a watermark, 4242 (unknown to the fake) does not: two groups.
	e.ledger.AdvanceWatermark([]int64{580}, start.Add(time.Hour))
	_, err := e.syncer.Run(context.Background(), Options{Projects: []int64{4242, 580}})
	if err == nil || !strings.Contains(err.Error(), "4242") {
		t.Fatalf("err = %v, want project 4242 refused", err)
	}
	if st, _ := e.ledger.SyncState(580); !st.Watermark.Equal(e.clock.Now()) || st.LastError != "" {
		t.Errorf("project 580 not synced: %+v", st)
	}
	if st, _ := e.ledger.SyncState(4242); st.LastError == "" {
		t.Errorf("project 4242's error not recorded: %+v", st)
	}
}

func TestRecheckStoresWhatItLearns(t *testing.T) {
	e := newEnv(t, 500, time.Minute)
	if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	// Operations still processing now; later they are final.
	var refs []PaymentRef
	for _, op := range e.fake.Operations(e.clock.Now()) {
		if !op.Final() && op.OperationType != "refund" {
			refs = append(refs, PaymentRef{ProjectID: op.ProjectID, PaymentID: op.PaymentID})
		}
	}
	if len(refs) < 3 {
		t.Fatalf("only %d processing operations", len(refs))
	}
	refs = append(refs, PaymentRef{PaymentID: "adv-order-999999"}) // unknown: asked in both projects
	e.clock.Add(48 * time.Hour)
	changed := 0 // processing then, final now (stuck ones stay processing)
	final := map[string]bool{}
	for _, op := range e.fake.Operations(e.clock.Now()) {
		final[op.PaymentID] = final[op.PaymentID] || op.Final()
	}
	for _, r := range refs {
		if final[r.PaymentID] {
			changed++
		}
	}
	o := RecheckOptions{Max: 100, Interval: 10 * time.Millisecond, Every: time.Hour}
	begin := time.Now()
	res, err := e.syncer.Recheck(context.Background(), refs, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Asked != len(refs)+1 || res.Found != len(refs)-1 || res.Updated < changed || changed == 0 || res.Failed != 0 {
		t.Errorf("result %+v for %d refs", res, len(refs))
	}
	if d := time.Since(begin); d < time.Duration(res.Asked-1)*10*time.Millisecond {
		t.Errorf("%d calls in %v: faster than one per 10ms", res.Asked, d)
	}
	// Asked within the hour: not again. And Max bounds the calls.
	if res, _ := e.syncer.Recheck(context.Background(), refs, o); res.Asked != 0 || res.Skipped != len(refs)+1 {
		t.Errorf("second re-check within the hour: %+v", res)
	}
	e.clock.Add(2 * time.Hour)
	if res, _ := e.syncer.Recheck(context.Background(), refs, RecheckOptions{Max: 2, Every: time.Hour}); res.Asked != 2 {
		t.Errorf("max 2: %+v", res)
	}
	if err := e.ledger.Check(); err != nil {
		t.Fatal(err)
	}
}
