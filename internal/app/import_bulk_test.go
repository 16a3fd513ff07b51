package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// booksOf is a CSV of n purchases p-0 … p-(n-1) of 1.00 EUR, with extra
// lines (text without the newline) after the data line of their index.
func booksOf(n int, extra map[int]string) string {
	var b strings.Builder
	b.WriteString("payment_id,type,amount,currency,status\n")
	for i := range n {
		fmt.Fprintf(&b, "p-%d,purchase,1.00,EUR,paid\n", i)
		if s, ok := extra[i]; ok {
			b.WriteString(s + "\n")
		}
	}
	return b.String()
}

// Duplicates are numbered in file order: the checkers' batches must not
// number them in the order they finish. The second file drops the later
// duplicate (far from the first, in another batch), which removes that
// one and leaves the first unchanged.
func TestDuplicatesFarApartAreNumberedInFileOrder(t *testing.T) {
	a := testApp(t, nil, nil)
	ctx := context.Background()
	first := writeBooks(t, "a.csv", booksOf(5000, map[int]string{0: "p-dup,purchase,1.00,EUR,paid", 4000: "p-dup,purchase,2.00,EUR,paid"}))
	res, err := a.Import(ctx, ImportRequest{Path: first, Source: "records"})
	if err != nil || res.Stats.New != 5002 {
		t.Fatalf("first file: %+v, %v", res.Stats, err)
	}
	second := writeBooks(t, "b.csv", booksOf(5000, map[int]string{0: "p-dup,purchase,1.00,EUR,paid"}))
	res, err = a.Import(ctx, ImportRequest{Path: second, Source: "records"})
	if err != nil || res.Stats.Unchanged != 5001 || res.Stats.Removed != 1 || res.Stats.New+res.Stats.Updated != 0 {
		t.Fatalf("second file: %+v, %v; want 5,001 unchanged and the later duplicate removed", res.Stats, err)
	}
	dup, err := a.Ledger.RecordsOf("p-dup", "", 0)
	if err != nil || len(dup) != 1 || dup[0].Amount.Amount != 100 || dup[0].Origin != "a.csv:3" {
		t.Fatalf("p-dup: %+v, %v; want the 1.00 line, as a.csv stored it (an unchanged record keeps its origin)", dup, err)
	}
}

// An import whose context is done (Ctrl-C, through the daemon too) stops
// and stores nothing.
func TestACancelledImportStoresNothing(t *testing.T) {
	a := testApp(t, nil, nil)
	path := writeBooks(t, "a.csv", booksOf(3000, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	opened := 0
	_, err := Import(ctx, a.Config, ImportRequest{Path: path, Source: "records"}, func() (*App, error) { opened++; return a, nil })
	if !errors.Is(err, context.Canceled) || opened != 0 {
		t.Fatalf("cancelled: %v, opened %d times", err, opened)
	}
	if n, _ := a.Ledger.RecordCount(); n != 0 {
		t.Fatalf("%d records stored", n)
	}
}
