package syncer

import (
	"context"
	"flag"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
)

var benchOps = flag.Int("sync.ops", 200_000, "operations in BenchmarkSync")

// BenchmarkSync is a full sync from the fake Data API on loopback into a new
// ledger: HTTP, JSON, signature check, store, with pages of 1000. The fake
// runs in the same process and shares the two cores. One iteration is one
// whole sync of -sync.ops operations; ops/s is the figure in BENCHMARKS.md.
func BenchmarkSync(b *testing.B) {
	n := *benchOps
	end := start.Add(time.Duration(n) * time.Second)
	fake, err := fakeapi.New(fakeapi.Config{Token: token, Secret: []byte(secret), Seed: 7, Start: start, Count: n, Step: time.Second,
		Now: func() time.Time { return end }})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	client, err := dataapi.New(dataapi.Options{BaseURL: srv.URL, Token: token, Secret: []byte(secret), PageSize: 1000})
	if err != nil {
		b.Fatal(err)
	}
	var total int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		l, err := ledger.Open(filepath.Join(b.TempDir(), "bench.db"), ledger.Options{})
		if err != nil {
			b.Fatal(err)
		}
		s := &Syncer{Client: client, Ledger: l, Projects: []int64{580, 579}, Start: start, Now: func() time.Time { return end }}
		b.StartTimer()
		res, err := s.Run(context.Background(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		if res.New != n {
			b.Fatalf("stored %d new operations, want %d", res.New, n)
		}
		total += res.New
		b.StopTimer()
		l.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "ops/s")
}
