package syncer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// balancesEnv is newEnv with a switch that makes /balance/get answer 500
// (the operations are served as ever), and a count of its requests.
func balancesEnv(t *testing.T) (*env, *atomic.Bool, *atomic.Int64) {
	e := newEnv(t, 1200, 3*time.Minute)
	var fail atomic.Bool
	var asked atomic.Int64
	inner := e.fake.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == dataapi.PathBalance {
			asked.Add(1)
			if fail.Load() {
				w.WriteHeader(http.StatusInternalServerError)
				w.Write([]byte(`{"status":"error","code":"internal_error","message":"balances are not available"}`))
				return
			}
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	client, err := dataapi.New(dataapi.Options{BaseURL: srv.URL, Token: token, Secret: []byte(secret), PageSize: 200,
		Retry: dataapi.Retry{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	e.syncer.Client = client
	return e, &fail, &asked
}

// wantBalances is what the fake says project p's balances are now.
func (e *env) wantBalances(p int64) []domain.Balance {
	var out []domain.Balance
	for _, b := range e.fake.Balances([]int64{p}, e.clock.Now()) {
		for _, m := range b.Amounts {
			out = append(out, domain.Balance{Name: b.Name, Out: dataapi.IsOutBalance(b.Name), Money: m})
		}
	}
	ledger.SortBalances(out)
	return out
}

// With Balances, a run reads and stores each project's balances after the
// operations, with the time read; off, it asks for none.
func TestBalancesAreReadAfterTheOperations(t *testing.T) {
	e, _, asked := balancesEnv(t)
	if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	if rs, _ := e.ledger.Balances(); asked.Load() != 0 || len(rs) != 0 {
		t.Fatalf("balances off: %d requests, %+v", asked.Load(), rs)
	}
	e.syncer.Balances = true
	res, err := e.syncer.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Balances, BalanceResult{Read: []int64{580, 579}}) || asked.Load() != 2 {
		t.Fatalf("%+v, %d requests", res.Balances, asked.Load())
	}
	rs, err := e.ledger.Balances()
	if err != nil || len(rs) != 2 {
		t.Fatalf("%+v, %v", rs, err)
	}
	for _, r := range rs {
		if want := e.wantBalances(r.Project); len(want) == 0 || !reflect.DeepEqual(r.Balances, want) {
			t.Errorf("project %d: stored\n%+v\nthe API has\n%+v", r.Project, r.Balances, want)
		}
		if !r.ReadAt.Equal(e.clock.Now()) || r.Failing() {
			t.Errorf("project %d: %+v", r.Project, r)
		}
	}
}

// A read that fails does not fail the run: the operations are synced, the
// last reading stays with the time it was read, the error is recorded for
// each project; the next good read replaces it.
func TestAFailedBalanceReadKeepsTheLastReading(t *testing.T) {
	e, fail, _ := balancesEnv(t)
	e.syncer.Balances = true
	if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	before, _ := e.ledger.Balances()
	readAt := e.clock.Now()

	e.clock.Add(time.Hour)
	fail.Store(true)
	res, err := e.syncer.Run(context.Background(), Options{})
	if err != nil {
		t.Fatalf("a failed balance read failed the sync: %v", err)
	}
	if !reflect.DeepEqual(res.Balances, BalanceResult{Failed: []int64{580, 579}}) {
		t.Fatalf("%+v", res.Balances)
	}
	for _, p := range []int64{580, 579} {
		if st, _ := e.ledger.SyncState(p); st.Failing() || !st.Watermark.Equal(e.clock.Now()) {
			t.Errorf("project %d: the operations' sync %+v", p, st.Stream)
		}
	}
	after, err := e.ledger.Balances()
	if err != nil || len(after) != 2 {
		t.Fatalf("%+v, %v", after, err)
	}
	for i, r := range after {
		if !reflect.DeepEqual(r.Balances, before[i].Balances) || !r.ReadAt.Equal(readAt) {
			t.Errorf("project %d: the reading changed: %+v", r.Project, r)
		}
		if !r.Failing() || !strings.Contains(r.LastError, "balances are not available") || !r.LastErrorAt.Equal(e.clock.Now()) {
			t.Errorf("project %d: the error is not recorded: %+v", r.Project, r.Stream)
		}
		if strings.Contains(r.LastError, token) {
			t.Errorf("the token shows: %s", r.LastError)
		}
	}

	e.clock.Add(time.Hour)
	fail.Store(false)
	if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	again, _ := e.ledger.Balances()
	for _, r := range again {
		if r.Failing() || !r.ReadAt.Equal(e.clock.Now()) {
			t.Errorf("project %d after a good read: %+v", r.Project, r)
		}
	}
}

// A sync stopped (Ctrl-C, SIGTERM) reads no balance and records no error.
func TestAStoppedSyncReadsNoBalances(t *testing.T) {
	e, _, asked := balancesEnv(t)
	e.syncer.Balances = true
	ctx, cancel := context.WithCancel(context.Background())
	e.syncer.Progress = func(Result) { cancel() }
	if _, err := e.syncer.Run(ctx, Options{}); !Stopped(ctx, err) {
		t.Fatalf("%v", err)
	}
	if rs, _ := e.ledger.Balances(); asked.Load() != 0 || len(rs) != 0 {
		t.Fatalf("%d requests, %+v", asked.Load(), rs)
	}
}
