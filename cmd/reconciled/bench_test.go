package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// Peak RSS of a command is read from getrusage of its process. A child
// started by os/exec shares its parent's memory until it execs, and Linux
// counts that in the child's ru_maxrss: a command started by a benchmark
// that holds a million operations would "peak" at the benchmark's size.
// So the benchmark starts a small runner (this binary, fresh) that starts
// the command and reports its ru_maxrss; the figure is then the command's
// own, plus at most the runner's few megabytes.

// runMeasured runs args as the command and prints its peak RSS in KB.
func runMeasured(args []string) int {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "RECONCILED_TEST_CHILD=1", "RECONCILED_TEST_RUNNER=")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("maxrss-kb %d cpu-ms %d\n", ru.Maxrss, cpu.Milliseconds())
	return cmd.ProcessState.ExitCode()
}

// measure runs reconciled --config … args through the runner and returns
// its time and peak RSS in MB.
func (w *world) measure(b *testing.B, args ...string) (time.Duration, float64) {
	b.Helper()
	elapsed, rss, _ := w.measureCPU(b, args...)
	return elapsed, rss
}

// measureCPU is measure with the command's CPU time (user and system).
func (w *world) measureCPU(b *testing.B, args ...string) (time.Duration, float64, time.Duration) {
	b.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--config", w.config}, args...)...)
	cmd.Env = append(os.Environ(), "RECONCILED_TEST_RUNNER=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// This process's garbage collected first (and its memory given back):
	// the world it just built (a million operations for the fake Data API,
	// the books written from them) left a collection to run, which took
	// the cores from the command measured. Not settled so, the three steps
	// of books → differences measured 4.33 and 4.65 s; settled, 3.47 and
	// 3.51 s, what `../shared/bench/run.sh` measures (BENCHMARKS.md).
	debug.FreeOSMemory()
	begin := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%v: %v\n%s", args, err, stderr.String())
	}
	elapsed := time.Since(begin)
	var kb float64
	var cpuMS int64
	if _, err := fmt.Sscanf(stdout.String(), "maxrss-kb %f cpu-ms %d", &kb, &cpuMS); err != nil {
		b.Fatalf("runner said %q", stdout.String())
	}
	return elapsed, kb / 1024, time.Duration(cpuMS) * time.Millisecond
}

var benchSyncOps = flag.Int("sync.ops", 1_000_000, "operations in BenchmarkSyncCommand")

// BenchmarkSyncCommand runs `reconciled sync` as its own process, as a user
// would, against the fake Data API of this process on loopback, into a new
// database: 1,000,000 operations by default. It reports the child's
// throughput and its peak resident memory (getrusage ru_maxrss), the two
// figures of BENCHMARKS.md.
func BenchmarkSyncCommand(b *testing.B) { benchSync(b, false) }

// BenchmarkSyncCommandWithFees is BenchmarkSyncCommand with fees.sync:
// the operations, then their fees from /financial-reporting/operations
// (issue 14's target: within 1.5 times the sync without fees).
func BenchmarkSyncCommandWithFees(b *testing.B) { benchSync(b, true) }

func benchSync(b *testing.B, fees bool) {
	n := *benchSyncOps
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := newWorld(b, n, time.Second, "")
		if fees {
			appendConfig(b, w, "[fees]\nsync = true\n")
		}
		w.setNow(time.Now())
		b.StartTimer()
		elapsed, rss := w.measure(b, "sync")
		b.StopTimer()
		b.ReportMetric(float64(n)/elapsed.Seconds(), "ops/s")
		b.ReportMetric(rss, "peak-RSS-MB")
		if w.fake.Served() < n {
			b.Fatalf("served %d of %d", w.fake.Served(), n)
		}
		os.RemoveAll(w.dir)
		b.StartTimer()
	}
}

var benchReconcileN = flag.Int("reconcile.n", 1_000_000, "operations and records in BenchmarkReconcileCommand")

// bigWorld is a database with n operations of the fake (seed 5) and n
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
	for _, line := range booksOf(ops) {
		op := line.op
		m := op.SumInitial
		if line.i%50 == 0 {
			m.Amount++
		}
		amount, _ := domain.FormatMajor(m.Amount, m.Currency)
		fmt.Fprintf(bw, "%s;%s;%s;%s;%s;%s;%d;%d\n", op.PaymentID, line.typ, strings.Replace(amount, ".", ",", 1),
			m.Currency, line.status, op.CreatedAt.Format(time.DateTime), op.OperationID, op.ProjectID)
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
		run := func(args ...string) (time.Duration, float64) { return w.measure(b, args...) }
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

// opsWorld is a database with n operations of the fake (seed 5).
func opsWorld(b *testing.B, n int) *world { return opsWorldT(b, n) }

func opsWorldT(b testing.TB, n int) *world {
	b.Helper()
	w := newWorld(b, n, time.Second, "")
	w.now = start.Add(time.Duration(n)*time.Second + 30*24*time.Hour)
	l, err := ledger.Open(w.db, ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	page := make([]domain.Operation, 0, 1000)
	flush := func() {
		if _, err := l.UpsertPage(page, w.now); err != nil {
			b.Fatal(err)
		}
		page = page[:0]
	}
	for _, op := range w.fake.Operations(w.now) {
		op.AccountNumber = domain.MaskAccount(op.AccountNumber)
		if page = append(page, op); len(page) == 1000 {
			flush()
		}
	}
	if len(page) > 0 {
		flush()
	}
	l.Close()
	return w
}

var benchExportN = flag.Int("export.n", 1_000_000, "operations in BenchmarkExportCommands")

// BenchmarkExportCommands runs `export --what operations` as CSV and as
// XLSX, each as its own process, over 1,000,000 stored operations, and
// reports each one's time and peak RSS.
func BenchmarkExportCommands(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := opsWorld(b, *benchExportN)
		b.StartTimer()
		for _, format := range []string{"csv", "xlsx"} {
			elapsed, rss := w.measure(b, "export", "--what", "operations", "--format", format, "-o", filepath.Join(w.dir, "ops."+format))
			b.ReportMetric(elapsed.Seconds(), format+"-s")
			b.ReportMetric(rss, format+"-peak-RSS-MB")
		}
		b.StopTimer()
		os.RemoveAll(w.dir)
		b.StartTimer()
	}
}

var benchIdleOps = flag.Int("idle.ops", 100_000, "operations in BenchmarkDaemonIdle")

// procStatus reads VmRSS (KB) and the CPU time (utime+stime, in clock
// ticks) of pid from /proc.
func procStatus(b *testing.B, pid int) (rssKB int, ticks int) {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%d", &rssKB)
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name in parentheses; utime and stime are the
	// 14th and 15th fields of the line.
	rest := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	var u, s int
	fmt.Sscanf(rest[11], "%d", &u)
	fmt.Sscanf(rest[12], "%d", &s)
	return rssKB, u + s
}

// BenchmarkDaemonIdle starts `reconciled run` over -idle.ops stored
// operations with daily schedules, has it serve a reconcile and an export
// through the control socket (so it has held the data once), then watches
// it idle for 10 s: its resident memory (VmRSS, the highest sample) and
// CPU use over those seconds.
func BenchmarkDaemonIdle(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := opsWorld(b, *benchIdleOps)
		f, err := os.OpenFile(w.config, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprint(f, "[[schedule]]\njob = \"sync\"\ncron = \"0 3 * * *\"\n[[schedule]]\njob = \"reconcile\"\ncron = \"30 3 * * *\"\n")
		f.Close()
		cmd, logs := startDaemonChild(b, w)
		rssStart, _ := procStatus(b, cmd.Process.Pid)
		for _, args := range [][]string{{"reconcile", "--no-recheck"}, {"export", "--what", "operations", "--format", "csv", "-o", filepath.Join(w.dir, "ops.csv")}} {
			m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Now: time.Now}
			if code := m.Run(context.Background(), append([]string{"--config", w.config}, args...)); code != 0 {
				b.Fatalf("%v: exit %d\n%s", args, code, logs.String())
			}
		}
		time.Sleep(2 * time.Second)
		peak, cpu0 := procStatus(b, cmd.Process.Pid)
		begin := time.Now()
		for time.Since(begin) < 10*time.Second {
			time.Sleep(500 * time.Millisecond)
			rss, _ := procStatus(b, cmd.Process.Pid)
			peak = max(peak, rss)
		}
		_, cpu1 := procStatus(b, cmd.Process.Pid)
		elapsed := time.Since(begin)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		const ticksPerSecond = 100 // USER_HZ on Linux
		b.ReportMetric(float64(rssStart)/1024, "start-RSS-MB")
		b.ReportMetric(float64(peak)/1024, "idle-RSS-MB")
		b.ReportMetric(float64(cpu1-cpu0)/ticksPerSecond/elapsed.Seconds()*100, "idle-CPU-%")
		os.RemoveAll(w.dir)
	}
}
