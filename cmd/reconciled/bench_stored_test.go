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
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

var benchDayN = flag.Int("day.n", 10_000, "operations of the day's change in BenchmarkStoredReconciliation")

// BenchmarkStoredReconciliation times, each command as its own process
// (BenchmarkImportAndReconcileCommands explains the peak RSS figures),
// over -reconcile.n operations (1,000,000) and their books:
//
//   - books → differences: import, the first reconcile (everything) and
//     the export of the reconciliation as CSV;
//   - a day's change: -day.n (10,000) new operations stored as a sync
//     stores them, and a books file of theirs imported; then the
//     reconcile (only those payments) and the export of the day's items;
//   - a reconcile with nothing changed.
func BenchmarkStoredReconciliation(b *testing.B) {
	n, day := *benchReconcileN, *benchDayN
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := newWorld(b, n+day, time.Second, "")
		w.now = start.Add(time.Duration(n+day)*time.Second + 30*24*time.Hour)
		ops := w.fake.Operations(w.now)
		for j := range ops {
			ops[j].AccountNumber = domain.MaskAccount(ops[j].AccountNumber)
		}
		// The books: the first n operations' lines, and the day's.
		cut := n
		for cut < len(ops) && ops[cut].CreatedAt.Equal(ops[cut-1].CreatedAt) {
			cut++
		}
		old, fresh := ops[:cut], ops[cut:]
		upsert := func(ops []domain.Operation) {
			l, err := ledger.Open(w.db, ledger.Options{})
			if err != nil {
				b.Fatal(err)
			}
			for k := 0; k < len(ops); k += 1000 {
				if _, err := l.UpsertPage(ops[k:min(k+1000, len(ops))], w.now); err != nil {
					b.Fatal(err)
				}
			}
			l.Close()
		}
		upsert(old)
		books := writeBooks(b, filepath.Join(w.dir, "books.csv"), booksOf(ops), func(op *domain.Operation) bool { return op.OperationID < fresh[0].OperationID })
		dayBooks := writeBooks(b, filepath.Join(w.dir, "day.csv"), booksOf(ops), func(op *domain.Operation) bool { return op.OperationID >= fresh[0].OperationID })
		run := func(name string, args ...string) time.Duration {
			elapsed, rss, cpu := w.measureCPU(b, args...)
			b.ReportMetric(elapsed.Seconds(), name+"-s")
			b.ReportMetric(cpu.Seconds(), name+"-cpu-s")
			b.ReportMetric(rss, name+"-peak-RSS-MB")
			return elapsed
		}
		b.StartTimer()
		total := run("import", "import", books)
		total += run("reconcile", "reconcile", "--no-recheck")
		total += run("export", "export", "--what", "reconciliation", "--format", "csv", "-o", filepath.Join(w.dir, "recon.csv"))
		b.ReportMetric(total.Seconds(), "books-to-differences-s")
		run("no-change-reconcile", "reconcile", "--no-recheck")
		b.StopTimer()
		// The day's change, through the daemon, which holds the database
		// open (a command on its own opens it first: about a second at a
		// million operations, see BENCHMARKS.md).
		upsert(fresh)
		cmd, logs := startDaemonChild(b, w)
		client := func(name string, args ...string) {
			m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Now: time.Now}
			begin := time.Now()
			if code := m.Run(context.Background(), append([]string{"--config", w.config}, args...)); code != 0 {
				b.Fatalf("%v: exit %d\n%s", args, code, logs.String())
			}
			b.ReportMetric(time.Since(begin).Seconds(), name+"-s")
		}
		rss0, _ := procStatus(b, cmd.Process.Pid)
		b.StartTimer()
		client("daemon-day-import", "import", dayBooks)
		client("daemon-day-reconcile", "reconcile", "--no-recheck")
		from := fresh[0].CreatedAt.UTC().Format(time.RFC3339)
		client("daemon-day-export", "export", "--what", "reconciliation", "--format", "csv", "--from", from, "-o", filepath.Join(w.dir, "day.csv"))
		rss1, _ := procStatus(b, cmd.Process.Pid)
		client("daemon-no-change-reconcile", "reconcile", "--no-recheck")
		b.StopTimer()
		rss2, _ := procStatus(b, cmd.Process.Pid)
		b.ReportMetric(float64(rss0)/1024, "daemon-RSS-before-MB")
		b.ReportMetric(float64(rss1)/1024, "daemon-RSS-after-day-MB")
		b.ReportMetric(float64(rss2)/1024, "daemon-RSS-after-no-change-MB")
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		os.RemoveAll(w.dir)
	}
}

// writeBooks writes the book lines of the operations keep accepts (every
// 50th amount one minor unit off) and returns the file.
func writeBooks(b *testing.B, path string, lines []bookLine, keep func(*domain.Operation) bool) string {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(bw, "payment_id;type;amount;currency;status;created_at;operation_id;project_id")
	for _, line := range lines {
		op := line.op
		if !keep(&op) {
			continue
		}
		m := op.SumInitial
		if line.i%50 == 0 {
			m.Amount++
		}
		amount, _ := domain.FormatMajor(m.Amount, m.Currency)
		fmt.Fprintf(bw, "%s;%s;%s;%s;%s;%s;%d;%d\n", op.PaymentID, line.typ, strings.Replace(amount, ".", ",", 1),
			m.Currency, line.status, op.CreatedAt.Format(time.DateTime), op.OperationID, op.ProjectID)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// startDaemonChild starts `reconciled run` on w's config as a child
// process and waits for its socket.
func startDaemonChild(b *testing.B, w *world) (*exec.Cmd, *bytes.Buffer) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "--config", w.config, "run")
	cmd.Env = append(os.Environ(), "RECONCILED_TEST_CHILD=1")
	logs := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sock := filepath.Join(w.dir, "reconciled.sock")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			return cmd, logs
		}
		if time.Now().After(deadline) {
			b.Fatalf("no socket: %s", logs.String())
		}
	}
}
