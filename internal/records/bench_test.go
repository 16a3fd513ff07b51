package records

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
)

// writeBig writes an n-line records CSV the way a Russian accounting
// export looks: ';', decimal commas, space thousands.
func writeBig(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "big.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "payment_id;type;amount;currency;status;created_at;provider_payment_id;operation_id;project_id;customer_id;method")
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "order-%d;purchase;%d %03d,%02d;UAH;paid;2026-11-20 10:%02d:%02d;prov-%d;%d;580;cust-%d;advcash\n",
			i, i%1000+1, i%1000, i%100, i/60%60, i%60, i, 10000000000000000+i, i%20000)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkImportCSV reads a 1,000,000-line CSV (one iteration = the whole
// file): detection, parsing, validation. Storing is measured
// by the import command's benchmark.
func BenchmarkImportCSV(b *testing.B) {
	path := writeBig(b, 1_000_000)
	for i := 0; i < b.N; i++ {
		res, err := ReadFile(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Records) != 1_000_000 {
			b.Fatal(len(res.Records))
		}
	}
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "lines/s")
}

// countBatch is a Batch that keeps nothing.
type countBatch struct{ n int }

func (c *countBatch) Add(int, *domain.Record) { c.n++ }

// BenchmarkImportCSVStream reads the same file as the import does
// (records.Stream, both checkers), into batches that keep nothing: what
// the import spends before its ledger encodes and stores.
func BenchmarkImportCSVStream(b *testing.B) {
	path := writeBig(b, 1_000_000)
	for i := 0; i < b.N; i++ {
		n := 0
		_, err := Stream(context.Background(), path, Options{}, func() *countBatch { return &countBatch{} }, func(c *countBatch) { n += c.n })
		if err != nil {
			b.Fatal(err)
		}
		if n != 1_000_000 {
			b.Fatal(n)
		}
	}
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkXLSXCheckZip is what checkZip adds to an XLSX import: one
// unzip of a 200,000-row sheet, every part read to its end and its XML
// looked through for runs without a tag.
func BenchmarkXLSXCheckZip(b *testing.B) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	sw.SetRow("A1", []any{"payment_id", "type", "amount", "currency", "status", "created_at", "customer_id", "method"})
	for i := range 200_000 {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{fmt.Sprintf("order-%d", i), "purchase", float64(i%5000+1) + 0.5, "UAH", "paid", 46327.5, fmt.Sprintf("cust-%d", i), "card"})
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "big.xlsx")
	if err := f.SaveAs(path); err != nil {
		b.Fatal(err)
	}
	f.Close()
	for b.Loop() {
		if err := checkZip(path, 1<<30); err != nil {
			b.Fatal(err)
		}
	}
}
