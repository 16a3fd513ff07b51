package app

import (
	"context"
	"reflect"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// countProgress counts what a Progress is told.
type countProgress struct {
	total, read int64
	done        bool
}

func (p *countProgress) Total(n int64)     { p.total = n }
func (p *countProgress) Add(k int)         { p.read += int64(k) }
func (p *countProgress) Set(int64, string) {}
func (p *countProgress) Done()             { p.done = true }

// SummaryDays' merge of a window's days is Summary's of that window, over
// stored operations and chargebacks on both sides of Berlin's midnight;
// the progress is told every operation.
func TestSummaryDaysIsSummary(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	base := time.Date(2026, 11, 17, 23, 30, 0, 0, time.UTC) // 00:30 on the 18th in Berlin
	var ops []domain.Operation
	for i := range 60 {
		op := sale(uint64(i+1), "p", base.Add(time.Duration(i)*97*time.Minute), int64(100+i))
		if i%4 == 0 {
			op.OperationStatus, op.PaymentStatus, op.Code, op.Message = "decline", "decline", "100", "General decline"
		}
		op.CompletedAt = op.CreatedAt.Add(time.Duration(i%7) * time.Minute)
		ops = append(ops, op)
	}
	a := testApp(t, ops, nil)
	cbs := []domain.Chargeback{
		{ID: 1, ProjectID: 7, PaymentID: "p", Amount: domain.Money{Amount: 700, Currency: "EUR"}, Status: "lost", CreatedAt: base.Add(30 * time.Hour)},
		{ID: 2, ProjectID: 7, PaymentID: "p", Amount: domain.Money{Amount: 900, Currency: "EUR"}, Status: "open", CreatedAt: base.Add(-2 * time.Hour)},
	}
	if _, err := a.Ledger.UpsertChargebacks(cbs, now); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var p countProgress
	days, err := a.SummaryDays(ctx, &p)
	if err != nil {
		t.Fatal(err)
	}
	if p.total != 60 || p.read != 60 || !p.done {
		t.Errorf("progress %+v", p)
	}
	first := time.Date(2026, 11, 17, 0, 0, 0, 0, berlin)
	for _, w := range [][2]int{{0, 1}, {0, 6}, {1, 2}, {1, 3}, {2, 6}} {
		from, to := first.AddDate(0, 0, w[0]), first.AddDate(0, 0, w[1])
		want, err := a.Summary(ctx, SummaryRequest{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := days.Summary(from, to)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("days %v: merged\n%+v\nSummary\n%+v", w, got, want)
		}
	}
	if s, _ := days.Summary(first.AddDate(0, 0, 2), first.AddDate(0, 0, 3)); s.Total.Operations == 0 || s.Settlement[0].Chargebacks != 700 {
		t.Errorf("the 19th has operations and the lost chargeback: %+v", s)
	}
}
