package main

import (
	"flag"
	"os"
	"syscall"
	"testing"
	"time"
)

var benchSyncOps = flag.Int("sync.ops", 1_000_000, "operations in BenchmarkSyncCommand")

// BenchmarkSyncCommand runs `reconciled sync` as its own process, as a user
// would, against the fake Data API of this process on loopback, into a new
// database: 1,000,000 operations by default. It reports the child's
// throughput and its peak resident memory (getrusage ru_maxrss), the two
// figures of BENCHMARKS.md.
func BenchmarkSyncCommand(b *testing.B) {
	n := *benchSyncOps
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := newWorld(b, n, time.Second, "")
		w.now = time.Now()
		b.StartTimer()
		begin := time.Now()
		cmd, out := w.child(b, "sync")
		if err := cmd.Wait(); err != nil {
			b.Fatalf("sync: %v\n%s", err, out)
		}
		elapsed := time.Since(begin)
		b.StopTimer()
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		b.ReportMetric(float64(n)/elapsed.Seconds(), "ops/s")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
		if w.fake.Served() < n {
			b.Fatalf("served %d of %d", w.fake.Served(), n)
		}
		os.RemoveAll(w.dir)
		b.StartTimer()
	}
}
