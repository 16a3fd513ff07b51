package web

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/domain"
)

// manyApp is emptyApp's App holding n operations over n/600 hours.
func manyApp(t *testing.T, n int) *app.App {
	t.Helper()
	a := emptyApp(t)
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var page []domain.Operation
	for i := range n {
		m := domain.Money{Amount: int64(100 + i%1000), Currency: "EUR"}
		c := at.Add(time.Duration(i) * 6 * time.Second)
		page = append(page, domain.Operation{ProjectID: 7, OperationID: uint64(1000 + i), PaymentID: "p-" + strconv.Itoa(i), PaymentType: "purchase",
			PaymentStatus: "success", OperationType: "sale", OperationStatus: "success", PaymentMethod: "card", CreatedAt: c, CompletedAt: c,
			SumInitial: m, SumConverted: m})
		if len(page) == 10_000 || i == n-1 {
			if _, err := a.Ledger.UpsertPage(page, c); err != nil {
				t.Fatal(err)
			}
			page = page[:0]
		}
	}
	return a
}

// Drop (a stopping daemon or `reconciled web`, whose ledger's Close
// waits for every read transaction) stops the builds under way: they
// end cancelled, reading no further, instead of finishing a pass of
// seconds at a million operations that nobody will see.
func TestReviewDropStopsTheBuildsUnderWay(t *testing.T) {
	a := manyApp(t, 60_000)
	if _, err := a.RunReconcile(context.Background(), app.RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	s := New(Options{App: func() *app.App { return a }, FirstWait: -1})
	s.Prepare()
	s.sumMu.Lock()
	days := s.daysJob
	s.sumMu.Unlock()
	s.mu.Lock()
	ix := s.ixJob
	s.mu.Unlock()
	s.Drop()
	s.Wait()
	if days == nil {
		t.Fatal("Prepare started no analytics' build")
	}
	if !errors.Is(days.err, context.Canceled) || days.read.Load() >= days.total.Load() {
		t.Errorf("the analytics' build after Drop: err %v, %d of %d operations read", days.err, days.read.Load(), days.total.Load())
	}
	if ix != nil && !errors.Is(ix.err, context.Canceled) { // nil: Prepare's index() had not started it yet
		t.Errorf("the index's build after Drop: err %v", ix.err)
	}
	s.sumMu.Lock()
	failed := s.daysFailed
	s.sumMu.Unlock()
	if failed != nil {
		t.Error("a build stopped by Drop is kept as failed: the next page would say the database cannot be read")
	}
	// Serving again after Drop (a benchmark's first page) builds anew.
	s.o.FirstWait = 0
	s.Prepare()
	s.Wait()
	if s.AnalyticsEntries() == 0 || !s.Indexed() {
		t.Errorf("after Drop a new Prepare holds nothing: %d entries, indexed %v", s.AnalyticsEntries(), s.Indexed())
	}
}
