package export

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
)

var benchRows = flag.Int("xlsx.rows", 1_000_000, "rows in BenchmarkOperationsXLSX and BenchmarkOperationsCSV")

// manyOps feeds n operations built from a template, each with its own ids,
// amounts and times.
func manyOps(n int) Source {
	return func(fn func(*domain.Operation) error) error {
		base := ops()[0]
		for i := range n {
			op := base
			op.OperationID = uint64(10_000_000_000_000_000 + i)
			op.PaymentID = "order-" + strconv.Itoa(i)
			op.SumInitial.Amount = int64(i%100_000)*100 + int64(i%97)
			op.CreatedAt = t0.Add(time.Duration(i) * time.Second)
			op.CompletedAt = op.CreatedAt.Add(90 * time.Second)
			if err := fn(&op); err != nil {
				return err
			}
		}
		return nil
	}
}

// peakHeap samples the Go heap in use until stop is called and returns its
// maximum in MB. (The command's whole RSS is measured by the command
// benchmark in cmd/reconciled; this one isolates what the zip assembly
// costs.)
func peakHeap() (stop func() float64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() float64 { close(done); <-finished; return float64(peak.Load()) / (1 << 20) }
}

// BenchmarkOperationsXLSX writes the register of -xlsx.rows operations to a
// file, once streaming the archive to it (what export does) and once with
// excelize assembling it in memory (its issue #2357), and reports rows/s
// and the peak Go heap of each.
func BenchmarkOperationsXLSX(b *testing.B) {
	for _, mode := range []struct {
		name     string
		buffered bool
	}{{"zip=streamed", false}, {"zip=buffered", true}} {
		b.Run(mode.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "ops.xlsx")
			for range b.N {
				runtime.GC()
				stop := peakHeap()
				begin := time.Now()
				err := WriteFileAtomic(path, func(w io.Writer) error {
					_, err := OperationsXLSX(w, manyOps(*benchRows), Filter{}, XLSXOptions{BufferedZip: mode.buffered}, nil)
					return err
				})
				elapsed := time.Since(begin)
				heap := stop()
				if err != nil {
					b.Fatal(err)
				}
				fi, _ := os.Stat(path)
				b.ReportMetric(float64(*benchRows)/elapsed.Seconds(), "rows/s")
				b.ReportMetric(heap, "peak-heap-MB")
				b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
			}
		})
	}
}

// BenchmarkOperationsCSV writes the register of -xlsx.rows operations to a
// file as CSV and reports rows/s: the writer alone, without the ledger
// (the command benchmark in cmd/reconciled has both).
func BenchmarkOperationsCSV(b *testing.B) {
	path := filepath.Join(b.TempDir(), "ops.csv")
	for range b.N {
		begin := time.Now()
		err := WriteFileAtomic(path, func(w io.Writer) error {
			_, err := OperationsCSV(w, manyOps(*benchRows), Filter{}, CSVOptions{})
			return err
		})
		elapsed := time.Since(begin)
		if err != nil {
			b.Fatal(err)
		}
		fi, _ := os.Stat(path)
		b.ReportMetric(float64(*benchRows)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	}
}

// The floors of issue 13: what encoding/csv and excelize's StreamWriter
// cost by themselves for the register's rows, made beforehand (1,000
// distinct rows, cycled) and written with nothing around them: no ledger,
// no formatting, no pipeline, excelize's own archive (in memory, the
// standard library's deflate). -xlsx.rows rows each.

// floorRows are the cells of 1,000 operations as the writers make them.
func floorRows(b *testing.B) (csvRows [][]string, xlsxRows [][]any, bk *book) {
	bk, err := newBook(XLSXOptions{})
	if err != nil {
		b.Fatal(err)
	}
	row := newRegisterRow(time.UTC)
	clock := wallClock{loc: time.UTC}
	manyOps(1000)(func(op *domain.Operation) error {
		csvRows = append(csvRows, append([]string(nil), row.format(op)...))
		xlsxRows = append(xlsxRows, bk.operationValues(nil, op, &clock))
		return nil
	})
	return csvRows, xlsxRows, bk
}

func BenchmarkFloorCSV(b *testing.B) {
	rows, _, bk := floorRows(b)
	bk.f.Close()
	path := filepath.Join(b.TempDir(), "floor.csv")
	for range b.N {
		begin := time.Now()
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 64<<10)
		cw := csv.NewWriter(bw)
		cw.Write(OperationColumns)
		for i := range *benchRows {
			cw.Write(rows[i%len(rows)])
		}
		cw.Flush()
		if err := errors.Join(cw.Error(), bw.Flush(), f.Close()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(*benchRows)/time.Since(begin).Seconds(), "rows/s")
	}
}

func BenchmarkFloorXLSX(b *testing.B) {
	_, rows, bk := floorRows(b)
	defer bk.f.Close()
	path := filepath.Join(b.TempDir(), "floor.xlsx")
	for range b.N {
		begin := time.Now()
		sw, err := bk.f.NewStreamWriter("Sheet1")
		if err != nil {
			b.Fatal(err)
		}
		header := make([]any, len(OperationColumns))
		for i, c := range OperationColumns {
			header[i] = c
		}
		sw.SetRow("A1", header)
		for i := range *benchRows {
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			if err := sw.SetRow(cell, rows[i%len(rows)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := sw.Flush(); err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := errors.Join(bk.f.Write(f), f.Close()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(*benchRows)/time.Since(begin).Seconds(), "rows/s")
	}
}
