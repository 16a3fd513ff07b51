package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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
	benchOneProc = flag.Bool("cb.oneprocess", false, "run ECommPay's side (the fake Data API and the posting clients) in the benchmark's own process, in the daemon's Go runtime, instead of a process of its own")
)

// TestMain lets the test binary be ECommPay's side of
// BenchmarkCallbacksDuringASync: a process of its own (peerEnv).
func TestMain(m *testing.M) {
	if spec := os.Getenv(peerEnv); spec != "" {
		os.Exit(runPeer(spec))
	}
	os.Exit(m.Run())
}

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
//
// ECommPay's side, the fake Data API and the clients that post, runs in a
// process of its own (the test binary again, TestMain), as it does in
// production on ECommPay's machines; here it shares the two cores but not
// the daemon's Go runtime. In one runtime (-cb.oneprocess) the fake's
// page generating and signing holds the daemon's two Ps for whole
// time slices, and a callback's connection, made ready by the network
// poller, waits behind them: 20-30 ms before its handler starts in the
// slowest callbacks (BENCHMARKS.md, issue 15 point 5).
func BenchmarkCallbacksDuringASync(b *testing.B) {
	for range b.N {
		benchCallbacks(b)
	}
}

// peerEnv holds a peer's spec (JSON): the test binary started with it is
// one of ECommPay's sides of the benchmark.
const peerEnv = "RECONCILED_BENCH_ECOMMPAY"

// peerSpec is what a peer serves or posts.
type peerSpec struct {
	Role      string // "api": the fake Data API; "post": the callbacks' sender
	SyncOps   int
	APIDelay  time.Duration
	Rate      int
	Seconds   int
	SyncStart time.Time
	End       time.Time
}

// peerResult is what the posting measured.
type peerResult struct {
	Latencies []time.Duration // per callback, from when it was due to its answer
	Status    []int           // per callback: the HTTP status, -1 for no answer
	Took      time.Duration
}

const benchToken = "WKiarERJ5pcceNerpM9R5TNnyPTQMl"

// fakeAPI is the Data API of a peer spec, served on loopback.
func (p peerSpec) fakeAPI() (*httptest.Server, error) {
	fake, err := fakeapi.New(fakeapi.Config{Token: benchToken, Secret: []byte("s"), Seed: 7, Start: p.SyncStart,
		Count: p.SyncOps, Step: 10 * time.Second, Now: func() time.Time { return p.End }})
	if err != nil {
		return nil, err
	}
	fake.SetFaults(fakeapi.Faults{Delay: p.APIDelay})
	return httptest.NewServer(fake.Handler()), nil
}

// bodies are the callbacks: new operations of projects 580 and 579, one in
// ten a retry of an earlier one.
func (p peerSpec) bodies() [][]byte {
	n := p.Rate * p.Seconds
	bodies := make([][]byte, n)
	for i := range n {
		k := i
		if i%10 == 9 {
			k = i - 5 // a retry of one posted half a second before
		}
		op := benchOp(k, p.End)
		key := "k580"
		if op.ProjectID == 579 {
			key = "k579"
		}
		bodies[i] = callback.Signed([]byte(key), &op)
	}
	return bodies
}

// post posts bodies at url, open load at rate a second from 128 clients.
func post(url string, bodies [][]byte, rate int) peerResult {
	n := len(bodies)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}
	res := peerResult{Latencies: make([]time.Duration, n), Status: make([]int, n)}
	jobs := make(chan int, n)
	var wg sync.WaitGroup
	begin := time.Now()
	for range 128 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				due := begin.Add(time.Duration(i) * time.Second / time.Duration(rate))
				if w := time.Until(due); w > 0 {
					time.Sleep(w)
				}
				resp, err := client.Post(url, "application/json", bytes.NewReader(bodies[i]))
				if err != nil {
					res.Status[i] = -1
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					res.Status[i] = resp.StatusCode
				}
				res.Latencies[i] = time.Since(due)
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	res.Took = time.Since(begin)
	return res
}

// runPeer is one of ECommPay's sides in a process of its own. The Data
// API says its address ("api URL") and serves until stdin closes; the
// sender says "ready", posts the callbacks when told where ("post URL" on
// stdin) and answers with its peerResult as JSON.
func runPeer(spec string) int {
	var p peerSpec
	if err := json.Unmarshal([]byte(spec), &p); err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		return 2
	}
	in := bufio.NewScanner(os.Stdin)
	switch p.Role {
	case "api":
		api, err := p.fakeAPI()
		if err != nil {
			fmt.Fprintln(os.Stderr, "peer:", err)
			return 1
		}
		defer api.Close()
		fmt.Printf("api %s\n", api.URL)
		for in.Scan() {
		}
		return 0
	case "post":
		bodies := p.bodies()
		fmt.Println("ready")
		if !in.Scan() {
			return 0 // the benchmark gave up
		}
		url, ok := strings.CutPrefix(in.Text(), "post ")
		if !ok {
			fmt.Fprintf(os.Stderr, "peer: %q is not post URL\n", in.Text())
			return 2
		}
		if err := json.NewEncoder(os.Stdout).Encode(post(url, bodies, p.Rate)); err != nil {
			fmt.Fprintln(os.Stderr, "peer:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "peer: no role %q\n", p.Role)
	return 2
}

// peer is one of ECommPay's sides as the benchmark drives it: in a process
// of its own, or (oneprocess) in this one.
type peer struct {
	spec   peerSpec
	said   string           // its first line: "api URL" or "ready"
	bodies [][]byte         // oneprocess sender
	server *httptest.Server // oneprocess Data API
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

func startPeer(b *testing.B, spec peerSpec, oneProcess bool) *peer {
	b.Helper()
	p := &peer{spec: spec}
	if oneProcess {
		if spec.Role == "post" {
			p.bodies, p.said = spec.bodies(), "ready"
			return p
		}
		s, err := spec.fakeAPI()
		if err != nil {
			b.Fatal(err)
		}
		p.server, p.said = s, "api "+s.URL
		return p
	}
	text, err := json.Marshal(spec)
	if err != nil {
		b.Fatal(err)
	}
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = append(os.Environ(), peerEnv+"="+string(text))
	p.cmd.Stderr = os.Stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p.stdout = bufio.NewReaderSize(out, 1<<20)
	line, err := p.stdout.ReadString('\n')
	if err != nil {
		p.stop()
		b.Fatalf("the %s peer did not start: %v", spec.Role, err)
	}
	p.said = strings.TrimSpace(line)
	return p
}

// post has the sender post its callbacks at url and returns what it
// measured.
func (p *peer) post(b *testing.B, url string) peerResult {
	b.Helper()
	if p.cmd == nil {
		return post(url, p.bodies, p.spec.Rate)
	}
	if _, err := fmt.Fprintf(p.stdin, "post %s\n", url); err != nil {
		b.Fatal(err)
	}
	var res peerResult
	if err := json.NewDecoder(p.stdout).Decode(&res); err != nil {
		b.Fatalf("the sender's result: %v", err)
	}
	return res
}

func (p *peer) stop() {
	switch {
	case p.server != nil:
		p.server.Close()
	case p.cmd != nil:
		p.stdin.Close()
		p.cmd.Wait()
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
	spec := peerSpec{Role: "api", SyncOps: *benchSyncOps, APIDelay: *benchAPIWait, Rate: *benchRate, Seconds: *benchSeconds, SyncStart: syncStart, End: end}
	dataAPI := startPeer(b, spec, *benchOneProc)
	defer dataAPI.stop()
	apiURL, ok := strings.CutPrefix(dataAPI.said, "api ")
	if !ok {
		b.Fatalf("the Data API peer said %q, not api URL", dataAPI.said)
	}
	spec.Role = "post"
	sender := startPeer(b, spec, *benchOneProc)
	defer sender.stop()
	addr := freePort(b)
	path, db := filepath.Join(dir, "reconciled.toml"), filepath.Join(dir, "reconciled.db")
	text := fmt.Sprintf("[storage]\npath = %q\n[data_api]\nbase_url = %q\ntoken = %q\nsecret = \"s\"\n"+
		"projects = [580, 579]\nstart = %q\n[balances]\nsync = false\n[callbacks]\nlisten = %q\nmax_connections = 256\n"+
		"[[callbacks.project]]\nid = 580\nsecret = \"k580\"\n[[callbacks.project]]\nid = 579\nsecret = \"k579\"\n",
		db, apiURL, benchToken, syncStart.Format(time.DateOnly), addr)
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
	b.StartTimer()
	res := sender.post(b, url)
	b.StopTimer()
	c, _ := l.Counts()
	stopSync()
	synced := <-syncing
	cancel()
	if err := <-ran; err != nil {
		b.Fatal(err)
	}
	n := len(res.Latencies)
	if n == 0 {
		b.Fatal("no callbacks were posted")
	}
	bad := 0
	for _, s := range res.Status {
		if s != 200 {
			bad++
		}
	}
	if bad > 0 {
		b.Errorf("%d of %d callbacks not answered 200; the daemon said:\n%s", bad, n, log.String())
	}
	lat := res.Latencies
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(n-bad)/res.Took.Seconds(), "answered/s")
	b.ReportMetric(ms(lat[n/2]), "p50_ms")
	b.ReportMetric(ms(lat[n*99/100]), "p99_ms")
	b.ReportMetric(ms(lat[n-1]), "max_ms")
	during := c[580].Operations + c[579].Operations - c0[580].Operations - c0[579].Operations - int64(n-n/10)
	b.ReportMetric(float64(during), "sync_ops")
	where := "a process of its own"
	if *benchOneProc {
		where = "the daemon's process"
	}
	b.Logf("%d callbacks in %s, ECommPay's side in %s; the sync stored %d operations meanwhile, %d in all", n, res.Took.Round(time.Millisecond), where, during, synced)
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
