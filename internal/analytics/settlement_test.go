package analytics

import (
	"math"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// The settlement of a day, project and currency: successful purchases,
// refunds less refunds taken back, payouts, the fees charged (on any
// status, in their own currency, and commissions), and the net; failed
// and unfinished operations and holds move nothing; never summed across
// currencies or days.
func TestSettlementSumsPerDayProjectAndCurrency(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	day1 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	late := time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC) // 21 November in Berlin
	op := func(id uint64, typ, status string, amount int64, cur string, at time.Time, fee int64, feeCur string) *domain.Operation {
		return &domain.Operation{OperationID: id, ProjectID: 580, OperationType: typ, OperationStatus: status, PaymentStatus: status,
			SumInitial: domain.Money{Amount: amount, Currency: cur}, CreatedAt: at, Fee: domain.Money{Amount: fee, Currency: feeCur}}
	}
	b := NewBuilder(berlin)
	for _, o := range []*domain.Operation{
		op(1, "sale", "success", 10000, "EUR", day1, 250, "EUR"),
		op(2, "sale", "success", 5000, "EUR", day1, 125, "EUR"),
		op(3, "sale", "decline", 7000, "EUR", day1, 10, "EUR"), // no money, a fee charged all the same
		op(4, "refund", "success", 3000, "EUR", day1, 30, "EUR"),
		op(5, "refund reverse", "success", 1000, "EUR", day1, 0, "EUR"),
		op(6, "payout", "success", 2000, "EUR", day1, 50, "USD"), // the fee in another currency
		op(7, "auth", "success", 9999, "EUR", day1, 0, ""),       // a hold moves nothing
		op(8, "sale", "processing", 9999, "EUR", day1, 0, ""),
		op(9, "commission", "success", 40, "EUR", day1, 0, ""),
		op(10, "sale", "success", 20000, "UAH", day1, 0, ""),
		op(11, "sale", "success", 600, "EUR", late, 0, ""), // the next day in Berlin
	} {
		b.Add(o)
	}
	got := b.Summary(time.Time{}, time.Time{}).Settlement
	want := []Settlement{
		{Day: "2026-11-20", Project: 580, Currency: "EUR", Purchases: 15000, Refunds: 2000, Payouts: 2000, Fees: 250 + 125 + 10 + 30 + 0 + 40,
			Net: 15000 - 2000 - 2000 - 455, Operations: 6, Charged: 5},
		{Day: "2026-11-20", Project: 580, Currency: "UAH", Purchases: 20000, Net: 20000, Operations: 1},
		{Day: "2026-11-20", Project: 580, Currency: "USD", Fees: 50, Net: -50, Charged: 1},
		{Day: "2026-11-21", Project: 580, Currency: "EUR", Purchases: 600, Net: 600, Operations: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// Chargebacks count on the day they were opened, in their currency, while
// open or lost; a won one counts nothing; each lowers the net of its own
// day, project and currency only.
func TestSettlementCountsChargebacksNotWon(t *testing.T) {
	day1 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	b := NewBuilder(time.UTC)
	b.Add(&domain.Operation{OperationID: 1, ProjectID: 579, OperationType: "sale", OperationStatus: "success", PaymentStatus: "success",
		SumInitial: domain.Money{Amount: 100000, Currency: "UZS"}, CreatedAt: day1})
	for _, cb := range []domain.Chargeback{
		{ID: 1, ProjectID: 579, Amount: domain.Money{Amount: 30000, Currency: "UZS"}, Status: "open", CreatedAt: day1},
		{ID: 2, ProjectID: 579, Amount: domain.Money{Amount: 20000, Currency: "UZS"}, Status: "lost", CreatedAt: day1},
		{ID: 3, ProjectID: 579, Amount: domain.Money{Amount: 99999, Currency: "UZS"}, Status: "won", CreatedAt: day1},
		{ID: 4, ProjectID: 579, Amount: domain.Money{Amount: 500, Currency: "EUR"}, Status: "odd", CreatedAt: day1}, // unknown: open
		{ID: 5, ProjectID: 579, Amount: domain.Money{Amount: 7000, Currency: "UZS"}, Status: "open", CreatedAt: day2},
	} {
		b.AddChargeback(&cb)
	}
	got := b.Summary(time.Time{}, time.Time{}).Settlement
	want := []Settlement{
		{Day: "2026-11-20", Project: 579, Currency: "EUR", Chargebacks: 500, Net: -500},
		{Day: "2026-11-20", Project: 579, Currency: "UZS", Purchases: 100000, Chargebacks: 50000, Net: 50000, Operations: 1},
		{Day: "2026-11-21", Project: 579, Currency: "UZS", Chargebacks: 7000, Net: -7000},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// Sums stop at the int64 limits instead of wrapping: 10,000 chargebacks
// at their bound (domain.MaxChargebackAmount) and purchases near 2^63
// are not a small or positive number, nor a net of the wrong sign.
func TestSettlementSumsDoNotWrap(t *testing.T) {
	day := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	b := NewBuilder(time.UTC)
	for i := range 10000 {
		b.AddChargeback(&domain.Chargeback{ID: uint64(i + 1), ProjectID: 579, Amount: domain.Money{Amount: domain.MaxChargebackAmount, Currency: "EUR"},
			Status: "lost", CreatedAt: day})
	}
	for i := range 2 {
		b.Add(&domain.Operation{OperationID: uint64(i + 1), ProjectID: 580, OperationType: "sale", OperationStatus: "success", PaymentStatus: "success",
			SumInitial: domain.Money{Amount: math.MaxInt64/2 + 1, Currency: "EUR"}, CreatedAt: day})
	}
	got := b.Summary(time.Time{}, time.Time{}).Settlement
	if len(got) != 2 || got[0].Chargebacks != math.MaxInt64 || got[0].Net != -math.MaxInt64 ||
		got[1].Purchases != math.MaxInt64 || got[1].Net != math.MaxInt64 {
		t.Fatalf("%+v", got)
	}
}
