package analytics

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// randomOps are n operations and a few chargebacks over the days around
// start, with every field the tables read drawn from small sets (so that
// groups, decline messages and durations repeat and tie).
func randomOps(r *rand.Rand, start time.Time, days, n int) ([]domain.Operation, []domain.Chargeback) {
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	ops := make([]domain.Operation, n)
	for i := range ops {
		created := start.Add(time.Duration(r.Int64N(int64(days) * int64(24*time.Hour))))
		o := domain.Operation{ProjectID: int64(579 + r.IntN(3)), OperationID: uint64(i + 1), PaymentID: "p",
			PaymentMethod:   pick("card", "advcash", "Card partner", ""),
			OperationStatus: pick("success", "success", "decline", "processing", "expired", "internal error", "awaiting 3ds"),
			OperationType:   pick(domain.OpSale, domain.OpSale, domain.OpAuth, domain.OpCapture, domain.OpRefund, domain.OpPayout, domain.OpReversal, domain.OpCommission, domain.OpRefundReverse),
			SumInitial:      domain.Money{Amount: r.Int64N(1_000_000), Currency: pick("EUR", "USD", "UZS")},
			CreatedAt:       created, Code: pick("0", "", "100", "20105", "3001"),
			Message: pick("General decline", "Insufficient funds", "card 4111111111111111 refused", "")}
		if r.IntN(3) == 0 {
			o.Fee = domain.Money{Amount: r.Int64N(500), Currency: pick("EUR", "USD")}
		}
		if domain.IsFinalOperationStatus(o.OperationStatus) && r.IntN(5) > 0 {
			// Durations from a small set (ties), now and then before the
			// creation (not counted).
			o.CompletedAt = created.Add(time.Duration(r.IntN(40)-2) * 30 * time.Second)
		}
		ops[i] = o
	}
	cbs := make([]domain.Chargeback, r.IntN(8))
	for i := range cbs {
		cbs[i] = domain.Chargeback{ID: uint64(i + 1), ProjectID: int64(579 + r.IntN(3)), Amount: domain.Money{Amount: r.Int64N(100000), Currency: pick("EUR", "UZS")},
			Status: pick("open", "won", "lost", "arbitration"), CreatedAt: start.Add(time.Duration(r.Int64N(int64(days) * int64(24*time.Hour))))}
	}
	return ops, cbs
}

// The summary of a window of whole days merged from the days' partials
// is deep-equal to one Builder fed the window's operations and
// chargebacks: random operations, random windows (open ends too), in a
// zone whose days are 23 and 25 hours long around its clock changes.
func TestDaysMergeIsExact(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 10, 20, 0, 0, 0, 0, berlin) // the clocks go back on 2026-10-25
	const days = 12
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 16))
		ops, cbs := randomOps(r, start.Add(-6*time.Hour), days+1, 1+r.IntN(400))
		d := NewDays(berlin)
		for i := range ops {
			d.Add(&ops[i])
		}
		for i := range cbs {
			d.AddChargeback(&cbs[i])
		}
		for range 8 {
			a, b := r.IntN(days+1), r.IntN(days+1)
			a, b = min(a, b), max(a, b)+1
			from, to := start.AddDate(0, 0, a), start.AddDate(0, 0, b)
			switch r.IntN(6) {
			case 0:
				from = time.Time{}
			case 1:
				to = time.Time{}
			}
			in := func(t time.Time) bool { return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to)) }
			one := NewBuilder(berlin)
			for i := range ops {
				if in(ops[i].CreatedAt) {
					one.Add(&ops[i])
				}
			}
			for i := range cbs {
				if in(cbs[i].CreatedAt) {
					one.AddChargeback(&cbs[i])
				}
			}
			want := one.Summary(from, to)
			got, ok := d.Summary(from, to)
			if !ok {
				t.Fatalf("seed %d: [%v, %v) is whole days", seed, from, to)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, [%v, %v): merged\n%+v\nwant\n%+v", seed, from, to, got, want)
			}
			if want.Total.Operations == 0 && len(ops) > 100 && !from.IsZero() && !to.IsZero() && b-a > 3 {
				t.Fatalf("seed %d: a window of %d days with nothing in it: the test tests nothing", seed, b-a)
			}
		}
	}
}

// A window that does not start or end at a midnight of the zone is not
// a merge of days: refused, not rounded.
func TestDaysRefusePartDays(t *testing.T) {
	d := NewDays(time.UTC)
	midnight := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if _, ok := d.Summary(midnight, midnight.Add(36*time.Hour)); ok {
		t.Error("a window ending at noon was merged")
	}
	if _, ok := d.Summary(midnight.Add(time.Hour), midnight.AddDate(0, 0, 2)); ok {
		t.Error("a window starting at 01:00 was merged")
	}
	tash, _ := time.LoadLocation("Asia/Tashkent")
	if NewDays(tash).WholeDays(midnight, time.Time{}) {
		t.Error("midnight UTC is 05:00 in Tashkent, not a whole day there")
	}
	if s, ok := d.Summary(midnight, midnight.AddDate(0, 0, 1)); !ok || s.Total.Operations != 0 {
		t.Errorf("an empty day: %v %+v", ok, s)
	}
}

// Merging is what the exactness rests on: the time to final of two
// builders merged is that of the values together (a nearest rank over
// the counted durations), and the decline's message is the most seen
// over both.
func TestMergeTimeToFinalAndMessages(t *testing.T) {
	x, y := NewBuilder(time.UTC), NewBuilder(time.UTC)
	add := func(b *Builder, took time.Duration, msg string) {
		o := op("card", "decline", "sale", 1, "EUR", t0, took, "100", msg)
		b.Add(&o)
	}
	for range 3 {
		add(x, time.Minute, "A")
	}
	for range 4 {
		add(y, 5*time.Minute, "B")
	}
	x.Merge(y)
	s := x.Summary(time.Time{}, time.Time{})
	if tf := s.TimeToFinal[0]; tf.Count != 7 || tf.Median != 5*time.Minute || tf.P95 != 5*time.Minute {
		t.Errorf("time to final %+v", tf)
	}
	if d := s.Declines[0]; d.Count != 7 || d.Message != "B" {
		t.Errorf("declines %+v", d)
	}
}
