package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/web"
)

// bigWorld is a stored reconciliation of n amount mismatches: a download
// of them is megabytes, more than the sockets buffer.
func bigWorld(t testing.TB, n int) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.DataAPI.Projects = []int64{7}
	cfg.Storage.Path = filepath.Join(t.TempDir(), "reconciled.db")
	l, err := ledger.Open(cfg.Storage.Path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var ops []domain.Operation
	var recs []domain.Record
	for i := range n {
		id := fmt.Sprintf("payment-%08d-with-a-long-enough-id", i)
		day := at.Add(time.Duration(i) * time.Second)
		ops = append(ops, sale(uint64(1000+i), id, "card", day, 1000, "EUR"))
		recs = append(recs, paid(id, "card", day, 1007, "EUR"))
	}
	for len(ops) > 0 {
		k := min(len(ops), 5000)
		if _, err := l.UpsertPage(ops[:k], now); err != nil {
			t.Fatal(err)
		}
		ops = ops[k:]
	}
	if _, err := l.ImportRecords(recs, ledger.Import{At: now, User: "tester", File: "books.csv", Format: "csv", Lines: len(recs)}, now); err != nil {
		t.Fatal(err)
	}
	a := app.New(app.App{Config: cfg, Ledger: l, Now: func() time.Time { return now }})
	if _, err := a.RunReconcile(context.Background(), app.RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	return a
}

// BenchmarkDownload is the CSV download of every open exception of
// bigWorld(100,000), through a server on 127.0.0.1 (BENCHMARKS.md).
func BenchmarkDownload(b *testing.B) {
	a := bigWorld(b, 100000)
	ts := httptest.NewServer(web.New(web.Options{App: func() *app.App { return a }}))
	defer ts.Close()
	b.ResetTimer()
	var n int64
	for range b.N {
		res, err := http.Get(ts.URL + "/exceptions.csv")
		if err != nil {
			b.Fatal(err)
		}
		n, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			b.Fatal(res.StatusCode, err)
		}
	}
	b.ReportMetric(float64(n)/1e6, "MB/file")
}
