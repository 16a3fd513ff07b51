package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
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

var benchReconcileN = flag.Int("reconcile.n", 1_000_000, "operations and records in BenchmarkReconcileCommand")

// bigWorld is a database with n operations of the fake (seed 3) and n
// merchant records that agree with them but for every 50th (amount off),
// plus a CSV file of those records.
func bigWorld(b *testing.B, n int) (*world, string) {
	b.Helper()
	w := newWorld(b, n, time.Second, "")
	w.now = start.Add(time.Duration(n)*time.Second + 30*24*time.Hour)
	ops := w.fake.Operations(w.now)
	l, err := ledger.Open(w.db, ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(ops); i += 1000 {
		page := ops[i:min(i+1000, len(ops))]
		for j := range page {
			page[j].AccountNumber = domain.MaskAccount(page[j].AccountNumber)
		}
		if _, err := l.UpsertPage(page, w.now); err != nil {
			b.Fatal(err)
		}
	}
	l.Close()
	csvPath := filepath.Join(w.dir, "records.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(bw, "payment_id;type;amount;currency;status;created_at;operation_id;project_id")
	for i, op := range ops {
		m := op.SumInitial
		if i%50 == 0 {
			m.Amount++
		}
		amount, _ := domain.FormatMajor(m.Amount, m.Currency)
		status := map[string]string{"success": "paid", "decline": "failed"}[op.OperationStatus]
		if status == "" {
			status = "pending"
		}
		fmt.Fprintf(bw, "%s;%s;%s;%s;%s;%s;%d;%d\n", op.PaymentID, domain.RecordType(op.OperationType), strings.Replace(amount, ".", ",", 1),
			m.Currency, status, op.CreatedAt.Format(time.DateTime), op.OperationID, op.ProjectID)
	}
	bw.Flush()
	f.Close()
	return w, csvPath
}

// BenchmarkImportAndReconcileCommands runs, each as its own process as a
// user would, `import` of a 1,000,000-line CSV and then `reconcile
// --no-recheck` of 1,000,000 operations against those 1,000,000 records.
// It reports each command's time and peak RSS (getrusage).
func BenchmarkImportAndReconcileCommands(b *testing.B) {
	n := *benchReconcileN
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w, csvPath := bigWorld(b, n)
		run := func(args ...string) (time.Duration, float64) {
			begin := time.Now()
			cmd, out := w.child(b, args...)
			if err := cmd.Wait(); err != nil {
				b.Fatalf("%v: %v\n%s", args, err, out)
			}
			return time.Since(begin), float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
		}
		b.StartTimer()
		importTime, importRSS := run("import", csvPath)
		reconcileTime, reconcileRSS := run("reconcile", "--no-recheck")
		b.StopTimer()
		b.ReportMetric(importTime.Seconds(), "import-s")
		b.ReportMetric(importRSS, "import-peak-RSS-MB")
		b.ReportMetric(reconcileTime.Seconds(), "reconcile-s")
		b.ReportMetric(reconcileRSS, "reconcile-peak-RSS-MB")
		os.RemoveAll(w.dir)
	}
}
