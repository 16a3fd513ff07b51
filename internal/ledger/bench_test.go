package ledger

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
)

var (
	benchOnce sync.Once
	benchOps  []domain.Operation
)

// benchData is 100,000 operations of the fake's seed 1, as a sync sees them.
func benchData(b *testing.B) []domain.Operation {
	benchOnce.Do(func() {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		f, err := fakeapi.New(fakeapi.Config{Token: "t", Secret: []byte("s"), Seed: 1, Start: start, Count: 100_000, Step: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		benchOps = f.Operations(start.AddDate(1, 0, 0))
		for i := range benchOps {
			benchOps[i].AccountNumber = domain.MaskAccount(benchOps[i].AccountNumber)
		}
	})
	return benchOps
}

// BenchmarkIngest stores pages of 1,000 new operations, one write
// transaction each, as a sync does. One iteration is one page; the ops/s
// metric is the figure in BENCHMARKS.md.
func BenchmarkIngest(b *testing.B) { benchIngest(b, false) }

// BenchmarkIngestMarked is BenchmarkIngest with a stored result kept:
// every new operation's payment is marked for the next reconcile.
func BenchmarkIngestMarked(b *testing.B) { benchIngest(b, true) }

func benchIngest(b *testing.B, marked bool) {
	data := benchData(b)
	l, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	if marked {
		fw, err := l.BeginFull() // marks from now on
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fw.Finish(ResultWrite{At: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	const pageSize = 1000
	pages := len(data) / pageSize
	page := make([]domain.Operation, pageSize)
	seen := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Past the data set, shift ids and times so that every page is new.
		round := i / pages
		copy(page, data[(i%pages)*pageSize:])
		for j := range page {
			page[j].OperationID += uint64(round) * 1_000_000_000
			page[j].CreatedAt = page[j].CreatedAt.AddDate(round, 0, 0)
		}
		st, err := l.UpsertPage(page, seen)
		if err != nil {
			b.Fatal(err)
		}
		if st.New != pageSize {
			b.Fatalf("page %d: %+v", i, st)
		}
	}
	b.ReportMetric(float64(b.N*pageSize)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkReingest stores pages that are already stored, unchanged: the
// lookback re-pull of every sync.
func BenchmarkReingest(b *testing.B) {
	data := benchData(b)
	l, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	const pageSize = 1000
	for i := 0; i+pageSize <= len(data); i += pageSize {
		if _, err := l.UpsertPage(data[i:i+pageSize], time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	pages := len(data) / pageSize
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := l.UpsertPage(data[(i%pages)*pageSize:(i%pages+1)*pageSize], time.Now())
		if err != nil || st.Unchanged != pageSize {
			b.Fatalf("%+v %v", st, err)
		}
	}
	b.ReportMetric(float64(b.N*pageSize)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkForEach reads 100,000 stored operations in creation order, as
// the register's export and the analytics do: one read transaction, every
// operation decoded. One iteration is the whole read.
func BenchmarkForEach(b *testing.B) {
	data := benchData(b)
	l, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	for i := 0; i < len(data); i += 1000 {
		if _, err := l.UpsertPage(data[i:min(i+1000, len(data))], time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		n := 0
		if err := l.ForEach(context.Background(), Range{}, func(*domain.Operation) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != len(data) {
			b.Fatalf("%d operations, want %d", n, len(data))
		}
	}
	b.ReportMetric(float64(b.N*len(data))/b.Elapsed().Seconds(), "ops/s")
}
