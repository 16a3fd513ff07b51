package daemon

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/callback"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
)

var (
	benchRate    = flag.Int("cb.rate", 1000, "callbacks per second BenchmarkCallbacksDuringASync posts")
	benchSeconds = flag.Int("cb.seconds", 5, "seconds BenchmarkCallbacksDuringASync posts for")
	benchSyncOps = flag.Int("cb.syncops", 400_000, "operations of the sync that runs meanwhile")
	benchAPIWait = flag.Duration("cb.apidelay", 0, "how long the fake Data API takes over each answer (0: as fast as it can, on the same two cores)")
)

// BenchmarkCallbacksDuringASync posts signed callbacks at the daemon's
// receiver on loopback, at -cb.rate a second for -cb.seconds, while a
// sync of -cb.syncops operations from the fake Data API stores its pages
// into the same database, and the daemon reconciles what the callbacks
// changed (a stored result exists). The fake answers at once on the same
// two cores by default: a sync storing pages back to back, harder than
// the real Data API's (-cb.apidelay gives each answer a wait). The load is open: callback k is due
// at k/rate from the start whatever the answers before it did, and its
// latency counts from when it was due to its 200 (a receiver that falls
// behind shows it). One iteration is one whole run; run it with
// -benchtime=1x. Metrics: answered/s, p50/p99/max latency in ms,
// sync_ops (operations the sync stored while callbacks were posted).
func BenchmarkCallbacksDuringASync(b *testing.B) {
	for range b.N {
		benchCallbacks(b)
	}
}

func benchCallbacks(b *testing.B) {
	b.StopTimer()
	dir, err := os.MkdirTemp("", "cb")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	syncStart := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	end := syncStart.Add(time.Duration(*benchSyncOps) * 10 * time.Second)
	fake, err := fakeapi.New(fakeapi.Config{Token: "WKiarERJ5pcceNerpM9R5TNnyPTQMl", Secret: []byte("s"), Seed: 7, Start: syncStart,
		Count: *benchSyncOps, Step: 10 * time.Second, Now: func() time.Time { return end }})
	if err != nil {
		b.Fatal(err)
	}
	fake.SetFaults(fakeapi.Faults{Delay: *benchAPIWait})
	api := httptest.NewServer(fake.Handler())
	defer api.Close()
	addr := freePort(b)
	path, db := filepath.Join(dir, "reconciled.toml"), filepath.Join(dir, "reconciled.db")
	text := fmt.Sprintf("[storage]\npath = %q\n[data_api]\nbase_url = %q\ntoken = \"WKiarERJ5pcceNerpM9R5TNnyPTQMl\"\nsecret = \"s\"\n"+
		"projects = [580, 579]\nstart = %q\n[balances]\nsync = false\n[callbacks]\nlisten = %q\nmax_connections = 256\n"+
		"[[callbacks.project]]\nid = 580\nsecret = \"k580\"\n[[callbacks.project]]\nid = 579\nsecret = \"k579\"\n",
		db, api.URL, syncStart.Format(time.DateOnly), addr)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.LoadAll(path, func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	l, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	now := func() time.Time { return end }
	// A stored (empty) result: the callbacks' payments are reconciled as
	// they come.
	a := app.New(app.App{Config: cfg, Ledger: l, Now: now})
	if _, err := a.RunReconcile(context.Background(), app.RunRequest{}); err != nil {
		b.Fatal(err)
	}
	log := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d := New(Options{ConfigPath: path, Config: cfg, Ledger: l, Getenv: func(string) string { return "" }, Now: now,
		Log: func() *slog.Logger { return logger }})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- d.Run(ctx) }()
	url := "http://" + addr + config.DefaultCallbackPath
	waitUp(b, url)

	// The callbacks: new operations of projects 580 and 579, one in ten
	// a retry of an earlier one.
	n := *benchRate * *benchSeconds
	bodies := make([][]byte, n)
	for i := range n {
		k := i
		if i%10 == 9 {
			k = i - 5 // a retry of one posted half a second before
		}
		op := benchOp(k, end)
		key := "k580"
		if op.ProjectID == 579 {
			key = "k579"
		}
		bodies[i] = callback.Signed([]byte(key), &op)
	}

	syncing := make(chan int, 1)
	syncCtx, stopSync := context.WithCancel(context.Background())
	go func() {
		res, err := a.Sync(syncCtx, app.SyncRequest{})
		if err != nil && syncCtx.Err() == nil {
			b.Error(err)
		}
		syncing <- res.New
	}()
	for c, _ := l.Counts(); c[580].Operations+c[579].Operations < 2000; c, _ = l.Counts() {
		time.Sleep(time.Millisecond) // until the sync is storing pages
	}

	c0, _ := l.Counts()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}
	lat := make([]time.Duration, n)
	status := make([]int, n)
	jobs := make(chan int, n)
	var wg sync.WaitGroup
	b.StartTimer()
	begin := time.Now()
	for range 128 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				due := begin.Add(time.Duration(i) * time.Second / time.Duration(*benchRate))
				if w := time.Until(due); w > 0 {
					time.Sleep(w)
				}
				resp, err := client.Post(url, "application/json", bytes.NewReader(bodies[i]))
				if err != nil {
					status[i] = -1
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status[i] = resp.StatusCode
				}
				lat[i] = time.Since(due)
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	took := time.Since(begin)
	b.StopTimer()
	c, _ := l.Counts()
	stopSync()
	synced := <-syncing
	cancel()
	if err := <-ran; err != nil {
		b.Fatal(err)
	}
	bad := 0
	for _, s := range status {
		if s != 200 {
			bad++
		}
	}
	if bad > 0 {
		b.Errorf("%d of %d callbacks not answered 200; the daemon said:\n%s", bad, n, log.String())
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(n-bad)/took.Seconds(), "answered/s")
	b.ReportMetric(ms(lat[n/2]), "p50_ms")
	b.ReportMetric(ms(lat[n*99/100]), "p99_ms")
	b.ReportMetric(ms(lat[n-1]), "max_ms")
	during := c[580].Operations + c[579].Operations - c0[580].Operations - c0[579].Operations - int64(n-n/10)
	b.ReportMetric(float64(during), "sync_ops")
	b.Logf("%d callbacks in %s; the sync stored %d operations meanwhile, %d in all", n, took.Round(time.Millisecond), during, synced)
}

// benchOp is the operation of callback k: ids past the fake's.
func benchOp(k int, at time.Time) domain.Operation {
	project, method, currency := int64(580), "advcash", "EUR"
	if k%3 == 0 {
		project, method, currency = 579, "Card partner", "UZS"
	}
	created := at.Add(-time.Duration(k%3600) * time.Second)
	return domain.Operation{ProjectID: project, OperationID: 30000000000000000 + uint64(k), PaymentID: fmt.Sprintf("cb-%d", k),
		PaymentType: "purchase", PaymentStatus: "success", OperationType: "sale", OperationStatus: "success", PaymentMethod: method,
		AccountNumber: "q***@example.com", CustomerID: "c1", CreatedAt: created, CompletedAt: created.Add(time.Minute),
		SumInitial: domain.Money{Amount: int64(10000 + k), Currency: currency}, SumConverted: domain.Money{Amount: int64(10000 + k), Currency: currency},
		ProviderID: 1203, ProviderPaymentID: fmt.Sprintf("prov-cb-%d", k), Code: "0", Message: "Success"}
}

// waitUp waits until the receiver answers (a GET is 405).
func waitUp(b *testing.B, url string) {
	b.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the receiver did not come up: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
