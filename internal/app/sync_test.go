package app

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
)

const (
	apiToken  = "WKiarERJ5pcceNerpM9R5TNnyPTQMl" // 30 characters, as the Data API's
	apiSecret = "app-test-secret"
)

// apiWorld is an App on a real ledger whose config points at a fake Data
// API over HTTP serving count operations, one a minute, ending at now.
type apiWorld struct {
	app  *App
	fake *fakeapi.Server
}

func newAPIWorld(t *testing.T, count int, token string) *apiWorld {
	t.Helper()
	step := time.Minute
	first := now.Add(-time.Duration(count) * step)
	fake, err := fakeapi.New(fakeapi.Config{Token: apiToken, Secret: []byte(apiSecret), Seed: 3, Start: first, Count: count, Step: step,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "reconciled.toml")
	text := fmt.Sprintf(`[storage]
path = %q
[data_api]
base_url = %q
token = %q
secret = %q
projects = [580, 579]
start = %q
max_attempts = 2
`, filepath.Join(dir, "reconciled.db"), srv.URL, token, apiSecret, first.Add(-24*time.Hour).Format(time.DateOnly))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(cfg.Storage.Path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &apiWorld{app: New(App{Config: cfg, Ledger: l, Now: func() time.Time { return now }}), fake: fake}
}

// stored is every operation the ledger holds, by id.
func (w *apiWorld) stored(t *testing.T) map[uint64]domain.Operation {
	t.Helper()
	got := map[uint64]domain.Operation{}
	err := w.app.Ledger.ForEach(context.Background(), ledger.Range{}, func(op *domain.Operation) error {
		got[op.OperationID] = *op
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestSyncStoresWhatTheDataAPIHoldsAndAgainNothingNew(t *testing.T) {
	w := newAPIWorld(t, 300, apiToken)
	want := w.fake.Operations(now)

	var p countingProgress
	res, err := w.app.Sync(context.Background(), SyncRequest{Progress: &p})
	if err != nil {
		t.Fatal(err)
	}
	if res.Operations != len(want) || res.New != len(want) || res.Pages == 0 {
		t.Fatalf("first sync: %+v, want %d new operations", res, len(want))
	}
	if p.sets == 0 || p.done != 1 || !strings.HasPrefix(p.last, fmt.Sprintf("sync: %d pages, %d operations (new %d, updated 0)", res.Pages, len(want), len(want))) {
		t.Fatalf("progress set %d times (last %q), done %d times; want the totals and done once", p.sets, p.last, p.done)
	}
	got := w.stored(t)
	if len(got) != len(want) {
		t.Fatalf("the ledger holds %d operations, the Data API %d", len(got), len(want))
	}
	for _, op := range want {
		s, ok := got[op.OperationID]
		if !ok || s.SumInitial != op.SumInitial || s.PaymentID != op.PaymentID {
			t.Fatalf("operation %d stored as %+v, the Data API has %+v", op.OperationID, s, op)
		}
	}

	again, err := w.app.Sync(context.Background(), SyncRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if again.New != 0 || again.Updated != 0 || again.Unchanged == 0 {
		t.Fatalf("second sync: %+v, want nothing new or updated", again)
	}
}

func TestSyncOfAProjectAndAWindowPullsOnlyThose(t *testing.T) {
	w := newAPIWorld(t, 300, apiToken)
	from, to := now.Add(-200*time.Minute), now.Add(-100*time.Minute)
	want := 0
	for _, op := range w.fake.Operations(now) {
		if op.ProjectID == 580 && !op.CreatedAt.Before(from) && op.CreatedAt.Before(to) {
			want++
		}
	}
	if want == 0 {
		t.Fatal("the fake has no operation of project 580 in the window; the test proves nothing")
	}
	res, err := w.app.Sync(context.Background(), SyncRequest{Projects: []int64{580}, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	got := w.stored(t)
	for _, op := range got {
		if op.ProjectID != 580 || op.CreatedAt.Before(from) || !op.CreatedAt.Before(to) {
			t.Fatalf("stored %d of project %d created %s, outside what was asked", op.OperationID, op.ProjectID, op.CreatedAt)
		}
	}
	if len(got) != want || res.New != want {
		t.Fatalf("stored %d (result %+v), want %d", len(got), res, want)
	}
}

func TestSyncRefusedByTheDataAPIIsAnErrorAndStoresNothing(t *testing.T) {
	w := newAPIWorld(t, 50, strings.Repeat("x", 30)) // a token of the right length the fake does not know
	_, err := w.app.Sync(context.Background(), SyncRequest{})
	if err == nil || !strings.HasPrefix(err.Error(), "sync: ") {
		t.Fatalf("err = %v, want the sync's error", err)
	}
	if strings.Contains(err.Error(), apiToken) || strings.Contains(err.Error(), apiSecret) {
		t.Fatalf("the error shows a credential: %v", err)
	}
	if got := w.stored(t); len(got) != 0 {
		t.Fatalf("stored %d operations", len(got))
	}
}

// With fees.sync, the progress moves on through the fee pass too and
// says so: a bar standing still for half the sync reads as a hang.
func TestSyncProgressCountsTheFeePass(t *testing.T) {
	w := newAPIWorld(t, 300, apiToken)
	cfg := *w.app.Config
	cfg.Fees.Sync = true
	a := w.app.On(&cfg)
	var p countingProgress
	res, err := a.Sync(context.Background(), SyncRequest{Progress: &p})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fees.Records != 300 || p.lastN != int64(res.Operations+res.Fees.Records) || !strings.Contains(p.last, "; fees: 300 records (new 300, updated 0)") {
		t.Fatalf("fees %+v; progress at %d, %q", res.Fees, p.lastN, p.last)
	}
}
