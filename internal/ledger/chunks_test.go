package ledger

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// ForEachInChunks calls fn for the operations ForEach does, in its order,
// each once (an hour of 400 is never split, however small the chunks),
// over several read transactions: a write landing meanwhile does not
// wait for the whole pass (bbolt's remap waits for every reader).
func TestForEachInChunksIsForEachOverSeveralTransactions(t *testing.T) {
	l := openTemp(t)
	var ops []domain.Operation
	for i := range 3000 { // 1000 minutes: some 17 hours
		op := sale(uint64(1+i), "p-"+strconv.Itoa(i), domain.StatusSuccess)
		op.CreatedAt = t0.Add(time.Duration(i%1000)*time.Minute + time.Duration(i/1000)*time.Second)
		ops = append(ops, op)
	}
	for i := range 400 { // one busy hour
		op := sale(uint64(10_000+i), "busy-"+strconv.Itoa(i), domain.StatusSuccess)
		op.CreatedAt = t0.Add(5*time.Hour + time.Duration(i)*time.Second)
		ops = append(ops, op)
	}
	mustUpsert(t, l, ops...)
	pass := func(r Range, every int) (ids []uint64, txs int) {
		seen := map[int]bool{}
		fn := func(op *domain.Operation) error {
			ids = append(ids, op.OperationID)
			seen[l.db.Stats().TxN] = true // read transactions started so far
			return nil
		}
		var err error
		if every == 0 {
			err = l.ForEach(context.Background(), r, fn)
		} else {
			err = l.ForEachInChunks(context.Background(), r, every, fn)
		}
		if err != nil {
			t.Fatal(err)
		}
		return ids, len(seen)
	}
	for _, r := range []Range{{}, {From: t0.Add(90 * time.Minute), To: t0.Add(11*time.Hour + 7*time.Minute)}, {From: t0.Add(30 * time.Hour)}} {
		want, one := pass(r, 0)
		if one > 1 {
			t.Fatalf("ForEach used %d transactions", one)
		}
		for _, every := range []int{1, 100, 1000, 1 << 20} {
			got, txs := pass(r, every)
			if !slices.Equal(got, want) {
				t.Errorf("range %v, every %d: %d operations, not ForEach's %d in its order", r, every, len(got), len(want))
			}
			// A chunk ends at the first hour past every operations: at
			// most every plus the busy hour's 400.
			if every <= 100 && txs < len(want)/(every+400) || every == 1<<20 && len(want) > 0 && txs != 1 {
				t.Errorf("range %v, every %d: %d transactions for %d operations", r, every, txs, len(want))
			}
		}
	}
}

// BenchmarkForEachChunks is a pass over 200,000 operations in one read
// transaction and in transactions of 65,536 (the analytics' partials'):
// what the chunks cost.
func BenchmarkForEachChunks(b *testing.B) {
	l := openTemp(b)
	var page []domain.Operation
	for i := range 200_000 {
		op := sale(uint64(1+i), "p-"+strconv.Itoa(i), domain.StatusSuccess)
		op.CreatedAt = t0.Add(time.Duration(i) * 3 * time.Second)
		if page = append(page, op); len(page) == 10_000 {
			mustUpsert(b, l, page...)
			page = page[:0]
		}
	}
	for _, c := range []struct {
		name  string
		every int
	}{{"one", 0}, {"chunks", 65536}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				n := 0
				fn := func(*domain.Operation) error { n++; return nil }
				var err error
				if c.every == 0 {
					err = l.ForEach(context.Background(), Range{}, fn)
				} else {
					err = l.ForEachInChunks(context.Background(), Range{}, c.every, fn)
				}
				if err != nil || n != 200_000 {
					b.Fatal(n, err)
				}
			}
		})
	}
}
