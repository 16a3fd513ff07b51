package ledger

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// A full recompute of a few payments (the daemon's first reconcile of a
// small book, a config change) allocates about what it stores, not the
// chunks sized for a million items: the items' arena and the units'
// buffers were 16 MB and more each, whatever the size, in a daemon that
// idles at a few tens of MB.
func TestAFullWriteOfAFewItemsAllocatesLittle(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fw, err := l.BeginFull()
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fw.Expect(10, 10)
	for i := range 10 {
		u := domain.PaymentUnit(fmt.Sprintf("p-%02d", i))
		it := domain.Item{Result: domain.ResultMatched, Code: domain.ResultMatched, PaymentID: string(u[1:]), Type: domain.RecordPurchase,
			CreatedAt: time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC)}
		if err := fw.Add(u, []domain.Item{it}, []domain.Place{{Key: fmt.Sprintf("g%08d", i), Owner: u}}, []uint64{uint64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fw.Finish(ResultWrite{At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Config: "c"}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("a full write of 10 items allocated %.1f MB", float64(got)/(1<<20))
	}
}
