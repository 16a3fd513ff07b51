package report

import (
	"strconv"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// benchItems is a reconciliation of n items, one in twenty an open
// exception, in three currencies.
func benchItems(n int, now time.Time) []domain.Item {
	items := make([]domain.Item, n)
	curs := []string{"EUR", "UAH", "USD"}
	for i := range items {
		result := domain.ResultMatched
		if i%20 == 0 {
			result = domain.ResultAmountMismatch
		}
		m := domain.Money{Amount: int64(1000 + i%5000), Currency: curs[i%3]}
		items[i] = domain.Item{Result: result, Code: result, PaymentID: "order-" + strconv.Itoa(i), Type: domain.RecordPurchase, ProjectID: 580,
			Method: "card", CreatedAt: now.Add(-time.Duration(i%(10*24*60)) * time.Minute), Reason: "because",
			Merchant: &domain.Record{Amount: m, Status: domain.RecordPaid}, Provider: &domain.Operation{SumInitial: m, OperationID: uint64(i + 1)}}
	}
	return items
}

// BenchmarkBuild builds the report of a million items (50,000 open
// exceptions): as a first report, and against a previous report that saw
// the same exceptions but every tenth, and some others (what changed).
//
//	go test ./internal/report -run '^$' -bench Build -benchmem
func BenchmarkBuild(b *testing.B) {
	now := time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC)
	items := benchItems(1_000_000, now)
	first := Build(Input{Date: now.Add(-24 * time.Hour), Now: now, Items: items})
	seen := first.Seen()
	var prev []Seen
	for i, s := range seen {
		if i%10 != 0 {
			prev = append(prev, s)
		}
	}
	for i := range len(seen) / 10 {
		prev = append(prev, Seen{Key: domain.ResolutionKey{ProjectID: 580, ID: "gone-" + strconv.Itoa(i), Type: domain.RecordPurchase},
			Code: domain.ResultOverdue, Amount: domain.Money{Amount: 100, Currency: "EUR"}})
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			Build(Input{Date: now.Add(-24 * time.Hour), Now: now, Items: items})
		}
	})
	b.Run("previous", func(b *testing.B) {
		for b.Loop() {
			r := Build(Input{Date: now.Add(-24 * time.Hour), Now: now, Items: items, Previous: &Previous{At: now.Add(-24 * time.Hour), Open: prev}})
			if r.ChangeCount(ChangeNew) != len(seen)/10 || r.ChangeCount(ChangeResolved) != len(seen)/10 {
				b.Fatalf("changes %+v", r.Changes)
			}
		}
	})
}
