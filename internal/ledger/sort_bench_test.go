package ledger

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"reconciled/internal/domain"
)

// sortWorld is a writer holding a million parts, a payment each, in the
// engine's order (about the ids' order).
func sortWorld() *FullWriter {
	r := rand.New(rand.NewPCG(1, 1))
	f := &FullWriter{}
	pre := []string{"adv-payout-", "uz-order-", "adv-order-", "refund-"}
	for i := range 1000000 {
		f.parts = append(f.parts, unitPart{unit: domain.PaymentUnit(fmt.Sprintf("%s%d", pre[r.IntN(4)], i))})
	}
	return f
}

// BenchmarkSortedParts: the units' sort of a full recompute of a million
// payments, ids shaped as the demo's (go test ./internal/ledger -run '^$'
// -bench SortedParts).
func BenchmarkSortedParts(b *testing.B) {
	f := sortWorld()
	for b.Loop() {
		f.sortedParts()
	}
}
