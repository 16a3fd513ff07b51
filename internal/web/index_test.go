package web

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// randomItems are n items of every result, a few methods, currencies
// (merchant and ECommPay's may differ, or be missing), projects, times
// (some none) and ids.
func randomItems(r *rand.Rand, n int) []domain.Item {
	methods := []string{"card", "Card", "sepa", "", "wallet"}
	curs := []string{"EUR", "USD", "eur", "JPY"}
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	items := make([]domain.Item, n)
	for i := range items {
		it := &items[i]
		it.Result = domain.Results[r.IntN(len(domain.Results))]
		it.Code = it.Result
		it.PaymentID = "p-" + strconv.Itoa(r.IntN(n))
		it.Type = domain.RecordPurchase
		it.Method = methods[r.IntN(len(methods))]
		it.ProjectID = int64(r.IntN(3))
		if r.IntN(10) > 0 {
			it.CreatedAt = base.Add(time.Duration(r.IntN(60*24)) * time.Hour)
		}
		if r.IntN(4) > 0 {
			it.Merchant = &domain.Record{Amount: domain.Money{Amount: int64(r.IntN(5000)), Currency: curs[r.IntN(len(curs))]}, Status: "paid"}
		}
		if r.IntN(4) > 0 {
			it.Provider = &domain.Operation{SumInitial: domain.Money{Amount: int64(r.IntN(5000)), Currency: curs[r.IntN(len(curs))]}}
		}
		it.Reason = "reason " + strconv.Itoa(i)
	}
	return items
}

// The index selects the rows export.ItemFilter selects, in the order
// each sort asks for, paged.
func TestIndexSelectsWhatTheExportFilterSelects(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	items := randomItems(r, 3000)
	b := newBuilder("k")
	for i := range items {
		b.add(&items[i])
	}
	ix := b.done(time.Now())
	day := func(d int) time.Time { return time.Date(2026, 10, 1+d, 0, 0, 0, 0, time.UTC) }
	queries := []Query{
		{},
		{Codes: []string{domain.ResultAmountMismatch, domain.ResultDuplicate}},
		{Methods: []string{"CARD"}},
		{Currencies: []string{"eur"}},
		{Projects: []int64{0, 2}},
		{From: day(5)},
		{To: day(20)},
		{From: day(5), To: day(20), Currencies: []string{"USD"}, Methods: []string{"sepa", "wallet"}},
		{Text: "p-1"},
		{Codes: []string{domain.ResultMissingAtProvider}, Text: "9", Projects: []int64{1}},
	}
	for k, q := range queries {
		for _, sort := range []string{SortAge, SortNewest, SortAmount} {
			q := q
			q.Sort, q.Per = sort, 37
			f := q.Filter()
			// The expected rows, by brute force, in the sort's order.
			var want []int
			for i := range items {
				if f.Match(&items[i]) {
					want = append(want, i)
				}
			}
			created := func(i int) int64 {
				if items[i].CreatedAt.IsZero() {
					return minTime
				}
				return items[i].CreatedAt.UnixNano()
			}
			switch sort {
			case SortAge:
				slices.SortStableFunc(want, func(x, y int) int { return cmpInt(created(x), created(y)) })
			case SortNewest:
				slices.SortStableFunc(want, func(x, y int) int { return cmpInt(created(x), created(y)) })
				slices.Reverse(want)
			case SortAmount:
				slices.SortStableFunc(want, func(x, y int) int {
					ax, ay := items[x].Amount(), items[y].Amount()
					if ax.Currency != ay.Currency {
						if ax.Currency < ay.Currency {
							return -1
						}
						return 1
					}
					return cmpInt(ay.Amount, ax.Amount)
				})
			}
			if len(want) == 0 {
				t.Fatalf("query %d selects nothing: a vacuous case", k)
			}
			pages := (len(want) + q.Per - 1) / q.Per
			for _, pg := range []int{1, 2, pages, pages + 1} {
				q.Page = pg
				p := ix.page(&q)
				if p.Total != len(want) {
					t.Fatalf("query %d %s: %d matches, want %d", k, sort, p.Total, len(want))
				}
				lo := min((pg-1)*q.Per, len(want))
				exp := want[lo:min(lo+q.Per, len(want))]
				if len(p.Rows) != len(exp) {
					t.Fatalf("query %d %s page %d: %d rows, want %d", k, sort, pg, len(p.Rows), len(exp))
				}
				for j, e := range p.Rows {
					it := &items[exp[j]]
					if ix.str(e.reason) != it.Reason {
						t.Fatalf("query %d %s page %d row %d: %s, want %s", k, sort, pg, j, ix.str(e.reason), it.Reason)
					}
				}
			}
		}
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// millionExceptions are 1,000,000 open exceptions: the index's worst
// case (a real result holds far fewer: 2 % of the benchmark books').
func millionExceptions() []domain.Item {
	items := randomItems(rand.New(rand.NewPCG(3, 4)), 1_000_000)
	codes := exceptionCodes()
	for i := range items {
		items[i].Result = codes[i%len(codes)]
	}
	return items
}

// BenchmarkIndexBuild is the index of 1,000,000 open exceptions made
// from their items (the first exceptions page after a reconcile also
// reads them from the database: BenchmarkWebPages in cmd/reconciled).
func BenchmarkIndexBuild(b *testing.B) {
	items := millionExceptions()
	var ix *index
	for b.Loop() {
		bl := newBuilder("k")
		for i := range items {
			bl.add(&items[i])
		}
		ix = bl.done(time.Now())
	}
	b.ReportMetric(float64(ix.Size())/1e6, "index-MB")
}

// BenchmarkIndexPage is one page of 1,000,000 open exceptions, per
// filter: the one pass over the index every exceptions page makes.
func BenchmarkIndexPage(b *testing.B) {
	items := millionExceptions()
	bl := newBuilder("k")
	for i := range items {
		bl.add(&items[i])
	}
	ix := bl.done(time.Now())
	// The first page of a fresh index (cold: just built, none of it in a
	// cache yet), then every filter on the warm one.
	b.Run("all-first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			bl := newBuilder("k")
			for i := range items {
				bl.add(&items[i])
			}
			fresh := bl.done(time.Now())
			b.StartTimer()
			fresh.page(&Query{Per: 50, Page: 1})
		}
	})
	items = nil
	for _, c := range []struct {
		name string
		q    Query
	}{
		{"all", Query{Per: 50, Page: 1}},
		{"code-currency-method", Query{Codes: []string{domain.ResultAmountMismatch}, Currencies: []string{"EUR"}, Methods: []string{"card"}, Sort: SortAmount, Per: 50, Page: 3}},
		{"window-newest", Query{From: time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Sort: SortNewest, Per: 100, Page: 2}},
		{"text", Query{Text: "p-99", Per: 50, Page: 1}},
		{"last-page", Query{Per: 500, Page: 2000}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				ix.page(&c.q)
			}
		})
	}
}
