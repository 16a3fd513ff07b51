package reconcile

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// TestPlantedDiscrepancies builds consistent books on both sides, plants
// random discrepancies of every kind in some payments, and checks that the
// engine reports exactly those, and matched for everything else.
func TestPlantedDiscrepancies(t *testing.T) {
	kinds := []string{
		domain.ResultAmountMismatch, domain.ResultCurrencyMismatch, domain.ResultStatusMismatch,
		domain.ResultMissingAtProvider, domain.ResultMissingInRecords, domain.ResultDuplicate,
		domain.ResultPending, domain.ResultOverdue, domain.ResultResolved,
	}
	for seed := uint64(1); seed <= 5; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		var ops []domain.Operation
		var recs []domain.Record
		want := map[string]string{} // payment id → result
		resolutions := map[ResolutionKey]Resolution{}
		var toResolve []string
		const n = 3000
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("pay-%d-%05d", seed, i)
			created := now.Add(-time.Duration(40+rng.IntN(20)) * day)
			amount := int64(100 + rng.IntN(1_000_000))
			cur := []string{"UAH", "EUR", "RUB", "UZS"}[rng.IntN(4)]
			typ, opType := domain.RecordPurchase, domain.OpSale
			if rng.IntN(3) == 0 {
				typ, opType = domain.RecordPayout, domain.OpPayout
			}
			status, opStatus := domain.RecordPaid, domain.StatusSuccess
			if rng.IntN(5) == 0 {
				status, opStatus = domain.RecordFailed, domain.StatusDecline
			}
			o := op(uint64(10_000_000_000_000_000+int(seed)*1_000_000+i), id, opType, opStatus, amount, cur, created)
			r := rec(id, typ, status, amount, cur, created)
			r.Origin = fmt.Sprintf("books.csv:%d", i+2)
			kind := domain.ResultMatched
			if rng.IntN(4) == 0 {
				kind = kinds[rng.IntN(len(kinds))]
			}
			switch kind {
			case domain.ResultAmountMismatch:
				r.Amount.Amount += int64(1 + rng.IntN(500))
			case domain.ResultCurrencyMismatch:
				r.Amount.Currency = "USD"
			case domain.ResultStatusMismatch:
				if r.Status == domain.RecordPaid {
					r.Status = domain.RecordFailed
				} else {
					r.Status = domain.RecordPaid
				}
			case domain.ResultMissingAtProvider:
				o = domain.Operation{}
			case domain.ResultMissingInRecords:
				o.OperationStatus, o.PaymentStatus = domain.StatusSuccess, domain.StatusSuccess
				r = domain.Record{}
			case domain.ResultDuplicate:
				dup := r
				dup.Origin += "-again"
				recs = append(recs, dup)
			case domain.ResultPending:
				o.CreatedAt, r.CreatedAt = now.Add(-time.Hour), now.Add(-time.Hour)
				o.OperationStatus, o.PaymentStatus, o.CompletedAt = domain.StatusProcessing, domain.StatusProcessing, time.Time{}
			case domain.ResultOverdue:
				o.OperationStatus, o.PaymentStatus, o.CompletedAt = domain.StatusProcessing, domain.StatusProcessing, time.Time{}
			case domain.ResultResolved:
				r.Amount.Amount++ // an amount_mismatch, resolved below
				toResolve = append(toResolve, id)
			}
			if o.OperationID != 0 {
				ops = append(ops, o)
			}
			if r.Type != "" {
				recs = append(recs, r)
			}
			want[id] = kind
		}
		// Resolve the planted ones as a person would: from the items the
		// engine shows.
		first := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
		byID := map[string]domain.Item{}
		for _, it := range first.Items {
			byID[it.PaymentID] = it
		}
		for _, id := range toResolve {
			it := byID[id]
			r := Resolution{ProjectID: it.ProjectID, ID: it.PaymentID, Type: it.Type, Code: it.Code, Reason: "test", User: "t", At: now, Fingerprint: it.Fingerprint}
			resolutions[r.Key()] = r
		}
		out := Run(Input{Operations: ops, Records: recs, Resolutions: resolutions}, Config{Now: now})
		got := map[string]string{}
		for _, it := range out.Items {
			if prev, dup := got[it.PaymentID]; dup {
				t.Fatalf("seed %d: payment %s has two items (%s, %s)", seed, it.PaymentID, prev, it.Result)
			}
			got[it.PaymentID] = it.Result
		}
		counts := map[string]int{}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("seed %d: %s planted %s, engine says %q", seed, id, w, got[id])
			}
			counts[w]++
		}
		if len(got) != len(want) {
			t.Errorf("seed %d: %d items for %d payments", seed, len(got), len(want))
		}
		for _, k := range kinds {
			if counts[k] == 0 {
				t.Errorf("seed %d planted no %s", seed, k)
			}
		}
	}
}
