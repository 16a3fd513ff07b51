package analytics

import (
	"testing"
	"time"

	"reconciled/internal/domain"
)

var t0 = time.Date(2026, 11, 20, 22, 30, 0, 0, time.UTC)

func op(method, status, typ string, amount int64, cur string, created time.Time, took time.Duration, code, msg string) domain.Operation {
	o := domain.Operation{ProjectID: 580, OperationID: uint64(created.UnixNano()), PaymentMethod: method, OperationStatus: status,
		OperationType: typ, SumInitial: domain.Money{Amount: amount, Currency: cur}, CreatedAt: created, Code: code, Message: msg}
	if domain.IsFinalOperationStatus(status) {
		o.CompletedAt = created.Add(took)
	}
	return o
}

func TestSummary(t *testing.T) {
	tash, _ := time.LoadLocation("Asia/Tashkent") // UTC+5: 22:30 UTC is the next day there
	b := NewBuilder(tash)
	ops := []domain.Operation{
		op("advcash", "success", "sale", 1000, "UAH", t0, time.Minute, "0", "Success"),
		op("advcash", "success", "payout", 500, "UAH", t0, 2*time.Minute, "0", "Success"),
		op("advcash", "decline", "sale", 40000, "UAH", t0, 3*time.Minute, "100", "General decline"),
		op("advcash", "decline", "sale", 70, "EUR", t0.Add(-23*time.Hour), 10*time.Minute, "100", "General decline"),
		op("Card partner", "decline", "sale", 9, "UZS", t0, time.Hour, "20105", "Insufficient funds"),
		op("Card partner", "processing", "sale", 9, "UZS", t0, 0, "", ""),
		op("Card partner", "success", "refund", 300, "UZS", t0, 20*time.Minute, "0", "Success"),
	}
	for i := range ops {
		b.Add(&ops[i])
	}
	s := b.Summary(time.Time{}, time.Time{})
	if s.Total.Operations != 7 || s.Total.Success != 3 || s.Total.Decline != 3 || s.Total.Pending != 1 {
		t.Errorf("total %+v", s.Total)
	}
	if len(s.ByDay) != 2 || s.ByDay[0].Key != "2026-11-20" || s.ByDay[1].Key != "2026-11-21" || s.ByDay[1].Operations != 6 {
		t.Errorf("by day (in Tashkent) %+v", s.ByDay)
	}
	if r, ok := s.ByMethod[1].ApprovalRate(); s.ByMethod[1].Key != "advcash" || !ok || r != 0.5 {
		t.Errorf("advcash approval %v %+v", r, s.ByMethod[1])
	}
	if s.ByCurrency[1].Key != "UAH" || s.ByCurrency[1].Volume["UAH"] != 1500 {
		t.Errorf("UAH volume counts successful only: %+v", s.ByCurrency[1])
	}
	if len(s.Declines) != 2 || s.Declines[0].Code != "100" || s.Declines[0].Count != 2 || s.Declines[0].Message != "General decline" {
		t.Errorf("declines %+v", s.Declines)
	}
	if len(s.Approval) != 3 || s.Approval[0].Method != "Card partner" {
		t.Errorf("approval %+v", s.Approval)
	}
	v := s.Volume[len(s.Volume)-1]
	if v.Currency != "UZS" || v.Refunds != 300 || v.NRefunds != 1 || s.Volume[0].Purchases != 1000 || s.Volume[0].Payouts != 500 {
		t.Errorf("volume %+v", s.Volume)
	}
	adv := s.TimeToFinal[1]
	if adv.Method != "advcash" || adv.Count != 4 || adv.Median != 2*time.Minute || adv.P95 != 10*time.Minute {
		t.Errorf("time to final %+v", adv)
	}
}

func TestPercentile(t *testing.T) {
	d := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	ones := map[int64]int{}
	for _, v := range d {
		ones[v] = 1
	}
	if percentile(d, ones, 10, 50) != 5 || percentile(d, ones, 10, 95) != 10 || percentile(d[:1], ones, 1, 95) != 1 || percentile(nil, nil, 0, 50) != 0 {
		t.Error("percentile")
	}
	// Counted: 1×3, 7×1, 9×6 is 1 1 1 7 9 9 9 9 9 9.
	if c := map[int64]int{1: 3, 7: 1, 9: 6}; percentile([]int64{1, 7, 9}, c, 10, 30) != 1 || percentile([]int64{1, 7, 9}, c, 10, 40) != 7 ||
		percentile([]int64{1, 7, 9}, c, 10, 50) != 9 {
		t.Error("percentile of counted values")
	}
}

// Only what moved money is volume: an auth is not a purchase (its capture
// is), a commission is no purchase, a refund reverse takes a refund back;
// every final failure of ECommPay's list counts as declined.
func TestVolumeFollowsTheVocabulary(t *testing.T) {
	b := NewBuilder(time.UTC)
	ops := []domain.Operation{
		op("card", "success", "auth", 1000, "EUR", t0, time.Minute, "0", "Success"),
		op("card", "success", "capture", 1000, "EUR", t0, time.Minute, "0", "Success"),
		op("card", "success", "refund", 400, "EUR", t0, time.Minute, "0", "Success"),
		op("card", "success", "refund reverse", 400, "EUR", t0, time.Minute, "0", "Success"),
		op("card", "success", "commission", 15, "EUR", t0, time.Minute, "0", "Success"),
		op("card", "internal error", "sale", 70, "EUR", t0, time.Minute, "3000", "Internal error"),
		op("card", "expired", "sale", 70, "EUR", t0, time.Minute, "", ""),
		op("card", "awaiting foo", "sale", 70, "EUR", t0, time.Minute, "", ""),
	}
	for i := range ops {
		b.Add(&ops[i])
	}
	s := b.Summary(time.Time{}, time.Time{})
	if s.Total.Decline != 2 || s.Total.Pending != 1 || s.Total.Success != 5 {
		t.Errorf("totals %+v", s.Total)
	}
	if len(s.Volume) != 1 {
		t.Fatalf("volume %+v", s.Volume)
	}
	if v := s.Volume[0]; v.Purchases != 1000 || v.NPurchases != 1 || v.Refunds != 0 {
		t.Errorf("volume %+v: want the capture only as purchases, refunds net of the reverse", v)
	}
	if len(s.Declines) != 1 || s.Declines[0].Code != "3000" {
		t.Errorf("declines %+v", s.Declines)
	}
}
