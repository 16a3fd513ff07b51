package ledger

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// ForEach gives every operation of a range once, whole, in creation order
// and by id among equal times, whatever order the payment index holds them
// in: payments whose ids sort against their times, many to an hour, equal
// times, fractions of seconds, hours without any, ranges that cut hours.
func TestForEachIsInCreationOrder(t *testing.T) {
	l := openTemp(t)
	rng := rand.New(rand.NewPCG(4, 13))
	var all []domain.Operation
	page := make([]domain.Operation, 0, 500)
	for i := range 5000 {
		op := sale(uint64(10_000_000_000_000_000+rng.IntN(1<<40)), "pay-"+strconv.Itoa(rng.IntN(100000)), "success")
		op.CreatedAt = t0.Add(time.Duration(rng.IntN(40*3600)) * time.Second)
		if i%7 == 0 {
			op.CreatedAt = op.CreatedAt.Add(time.Duration(rng.IntN(1e9)))
		}
		if i%11 == 0 && len(all) > 0 { // the same time as another
			op.CreatedAt = all[rng.IntN(len(all))].CreatedAt
		}
		op.Message = "m" + strconv.Itoa(i) // a string of its own, not of the dictionary
		op.CompletedAt = op.CreatedAt.Add(time.Minute)
		all = append(all, op)
		if page = append(page, op); len(page) == cap(page) {
			mustUpsert(t, l, page...)
			page = page[:0]
		}
	}
	slices.SortFunc(all, func(a, b domain.Operation) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.OperationID, b.OperationID)
	})
	all = slices.CompactFunc(all, func(a, b domain.Operation) bool { return a.OperationID == b.OperationID })
	for _, r := range []Range{{}, {From: t0.Add(90 * time.Minute), To: t0.Add(30*time.Hour + 17*time.Second + 1)}, {From: t0.Add(39 * time.Hour)}, {To: t0.Add(1)}} {
		var want []domain.Operation
		for _, op := range all {
			if r.contains(op.CreatedAt) {
				want = append(want, op)
			}
		}
		var got []domain.Operation
		if err := l.ForEach(context.Background(), r, func(op *domain.Operation) error { got = append(got, *op); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("range %v: %d operations, want %d", r, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("range %v, operation %d:\n got %+v\nwant %+v", r, i, got[i], want[i])
			}
		}
	}
}
