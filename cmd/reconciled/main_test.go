package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
	"reconciled/internal/scratch"
)

// TestMain lets the test binary run as the reconciled command, for tests
// that need a separate process (SIGKILL, a held lock).
func TestMain(m *testing.M) {
	if os.Getenv("RECONCILED_TEST_RUNNER") == "1" {
		os.Exit(runMeasured(os.Args[1:]))
	}
	if os.Getenv("RECONCILED_TEST_CHILD") == "1" {
		if limit, err := strconv.ParseUint(os.Getenv("RECONCILED_TEST_FSIZE"), 10, 64); err == nil { // a full disk
			if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
				panic(err)
			}
		}
		m := NewMain()
		if at, err := time.Parse(time.RFC3339Nano, os.Getenv("RECONCILED_TEST_NOW")); err == nil { // a fixed clock
			m.Now = func() time.Time { return at }
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := m.Run(ctx, os.Args[1:])
		stop()
		scratch.Remove() // as main does
		os.Exit(code)
	}
	code := m.Run()
	scratch.Remove()
	os.Exit(code)
}

const (
	testToken  = "WKiarERJ5pcceNerpM9R5TNnyPTQMl"
	testSecret = "e2e-secret-value"
)

var (
	start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
)

// world is a fake Data API and a config pointing at it.
type world struct {
	dir, config, db string
	fake            *fakeapi.Server
	now             time.Time
	clock           sync.Mutex // guards now against the fake's handlers (setNow)
}

// setNow sets the clock while the fake may be serving a child process.
func (w *world) setNow(t time.Time) {
	w.clock.Lock()
	defer w.clock.Unlock()
	w.now = t
}

func newWorld(t testing.TB, count int, step time.Duration, extra string) *world {
	t.Helper()
	return newWorldFrom(t, start, count, step, extra)
}

// newWorldFrom is newWorld with the fake's operations from first on.
func newWorldFrom(t testing.TB, first time.Time, count int, step time.Duration, extra string) *world {
	t.Helper()
	w := &world{dir: t.TempDir(), now: first.Add(time.Duration(count) * step)}
	w.db = filepath.Join(w.dir, "reconciled.db")
	var err error
	w.fake, err = fakeapi.New(fakeapi.Config{Token: testToken, Secret: []byte(testSecret), Seed: 5, Start: first, Count: count, Step: step,
		Now: func() time.Time { w.clock.Lock(); defer w.clock.Unlock(); return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.fake.Handler())
	t.Cleanup(srv.Close)
	w.config = filepath.Join(w.dir, "reconciled.toml")
	text := fmt.Sprintf(`[storage]
path = %q
[data_api]
base_url = %q
token = %q
secret = %q
projects = [580, 579]
start = %q
max_attempts = 3
%s`, w.db, srv.URL, testToken, testSecret, first.Format(time.DateOnly), extra)
	if err := os.WriteFile(w.config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// run runs reconciled in-process with the clock at w.now.
func (w *world) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: func() time.Time { return w.now }}
	code = m.Run(context.Background(), append([]string{"--config", w.config}, args...))
	return code, out.String(), errb.String()
}

// mirror asserts the database holds exactly the fake's operations.
func (w *world) mirror(t *testing.T) { t.Helper(); w.mirrorWith(t, false) }

// mirrorWith is mirror, with the fee of each operation when fees (the
// fake's, fees.sync).
func (w *world) mirrorWith(t *testing.T, fees bool) {
	t.Helper()
	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	want := map[uint64]domain.Operation{}
	for _, op := range w.fake.Operations(w.now) {
		op.AccountNumber = domain.MaskAccount(op.AccountNumber)
		if fees {
			op.Fee = fakeapi.FeeOf(&op)
		}
		want[op.OperationID] = op
	}
	n := 0
	l.ForEach(context.Background(), ledger.Range{}, func(op *domain.Operation) error {
		n++
		if want[op.OperationID] != *op {
			t.Errorf("operation %d differs from the API", op.OperationID)
		}
		return nil
	})
	if n != len(want) {
		t.Fatalf("database has %d operations, the API %d", n, len(want))
	}
}

func TestSyncStatusExport(t *testing.T) {
	w := newWorld(t, 3000, 2*time.Minute, "")
	code, out, errOut := w.run(t, "sync")
	if code != 0 || !strings.Contains(out, "3000 new, 0 updated, 0 unchanged") {
		t.Fatalf("sync: exit %d\n%s\n%s", code, out, errOut)
	}
	w.mirror(t)
	code, out, _ = w.run(t, "sync")
	if code != 0 || !strings.Contains(out, " 0 new, 0 updated") {
		t.Fatalf("second sync: exit %d\n%s", code, out)
	}
	code, out, _ = w.run(t, "status")
	if code != 0 || !strings.Contains(out, "580") || !strings.Contains(out, "2026-11-05 04:00:00") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	file := filepath.Join(w.dir, "ops.csv")
	code, _, errOut = w.run(t, "export", "--what", "operations", "--format", "csv", "-o", file)
	if code != 0 {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	data, _ := os.ReadFile(file)
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(recs) != 3001 {
		t.Fatalf("export read back: %d records, %v", len(recs), err)
	}
	// To standard output, filtered.
	code, out, _ = w.run(t, "export", "--what", "operations", "--format", "csv", "--method", "advcash", "--currency", "UAH")
	recs, _ = csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || len(recs) < 2 {
		t.Fatalf("filtered export: exit %d, %d records", code, len(recs))
	}
	for _, r := range recs[1:] {
		if r[7] != "advcash" || r[9] != "UAH" {
			t.Fatalf("filter let through %v", r)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	code, out, errOut := w.run(t, "check-config")
	if code != 0 || !strings.Contains(out, "OK") || strings.Contains(out+errOut, testSecret) || strings.Contains(out+errOut, testToken) {
		t.Fatalf("good config: exit %d\n%s\n%s", code, out, errOut)
	}
	os.WriteFile(w.config, []byte("[data_api]\npage_size = 5000\ntokn = 1\n"), 0o600)
	code, _, errOut = w.run(t, "check-config")
	if code != 2 {
		t.Fatalf("bad config: exit %d, want 2", code)
	}
	for _, want := range []string{"reconciled.toml:2: data_api.page_size: 5000 is not in 1..1000", "reconciled.toml:3: data_api.tokn: unknown key", "data_api.token: missing"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	for _, args := range [][]string{{"nope"}, {"sync", "--bogus"}, {"sync", "--from", "yesterday"}, {"export", "--what", "nonsense"}, {"sync", "extra"},
		{"export", "--what", "operations", "--result", "matched"}, {"export", "--format", "ods"}, {"export", "--delimiter", ";;"}} {
		if code, _, errOut := w.run(t, args...); code != 2 || !strings.Contains(errOut, "reconciled:") {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, errOut)
		}
	}
	var errb bytes.Buffer
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &errb, Getenv: func(string) string { return "" }, Now: time.Now}
	t.Chdir(t.TempDir())
	if code := m.Run(context.Background(), []string{"status"}); code != 2 || !strings.Contains(errb.String(), "no config file") {
		t.Errorf("no config: exit %d\n%s", code, errb.String())
	}
}

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: time.Now}
	if code := m.Run(context.Background(), []string{"demo", "--dir", dir}); code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	data, err := os.ReadFile(filepath.Join(dir, "operations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(recs) != 5001 {
		t.Fatalf("demo export: %d records, %v", len(recs), err)
	}
	for _, want := range []string{"5000 new", "0 new, 0 updated", "exported 5000 operations", filepath.Join(dir, "operations.csv"),
		"imported", "windows-1251", "re-checked", "resolved",
		// One of each of ECommPay's rarer cases, read as the vocabulary says.
		"two-step purchase", "authorisation cancelled", "refunded in parts", "a part not booked", "refund taken back",
		"internal error", "external error", "expired", "unknown status", "commission operations",
		`5 operations in an unknown status "awaiting review"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	// Every result code is in the reconciliation it wrote.
	recon, err := os.ReadFile(filepath.Join(dir, "reconciliation.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(recon)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range rows[1:] {
		seen[r[0]]++
	}
	for _, code := range domain.Results {
		if seen[code] == 0 {
			t.Errorf("the demo's reconciliation has no %s: %v", code, seen)
		}
	}
	// The config it leaves behind works for status.
	out.Reset()
	if code := m.Run(context.Background(), []string{"--config", filepath.Join(dir, "reconciled.toml"), "status"}); code != 0 || !strings.Contains(out.String(), "5000") {
		t.Fatalf("status on the demo: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
}

func TestDemoLeavesForeignFoldersAlone(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "reconciled.toml")
	os.WriteFile(real, []byte("# the finance team's config\n"), 0o600)
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: time.Now}
	if code := m.Run(context.Background(), []string{"demo", "--dir", dir, "--operations", "10"}); code != 2 || !strings.Contains(errb.String(), "not made by the demo") {
		t.Fatalf("demo into a foreign folder: exit %d\n%s", code, errb.String())
	}
	if b, _ := os.ReadFile(real); string(b) != "# the finance team's config\n" {
		t.Errorf("the config was changed: %s", b)
	}
	// Its own folder it reuses.
	own := filepath.Join(dir, "demo")
	for i := 0; i < 2; i++ {
		if code := m.Run(context.Background(), []string{"demo", "--dir", own, "--operations", "10"}); code != 0 {
			t.Fatalf("demo run %d: exit %d\n%s", i+1, code, errb.String())
		}
	}
}

func TestFlagHints(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: time.Now}
	if code := m.Run(context.Background(), []string{"status", "--config", w.config}); code != 2 || !strings.Contains(errb.String(), "go before the command") {
		t.Errorf("--config after the command: exit %d\n%s", code, errb.String())
	}
	if code, _, errOut := w.run(t, "export", "--from", "2030-01-01", "--to", "2020-01-01"); code != 2 || !strings.Contains(errOut, "--to must be after --from") {
		t.Errorf("reversed export window: exit %d\n%s", code, errOut)
	}
}
