package export

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// oldItemRow is how the reconciliation's cells were made before itemRow:
// one string per number and t.In(loc).Format per time. itemRow must give
// the same cells.
func oldItemRow(row []string, it *domain.Item, loc *time.Location) []string {
	var mAmount, mCur, mStatus, pAmount, pCur, pStatus string
	if r := it.Merchant; r != nil {
		mAmount, mCur, mStatus = major(r.Amount), r.Amount.Currency, r.Status
	}
	if op := it.Provider; op != nil {
		pAmount, pCur, pStatus = major(op.SumInitial), op.SumInitial.Currency, op.OperationStatus
	}
	opID := ""
	if it.OperationID != 0 {
		opID = strconv.FormatUint(it.OperationID, 10)
	}
	return append(row,
		it.Result, it.MatchedBy, Neutralize(it.PaymentID), it.Type,
		mAmount, Neutralize(mCur), Neutralize(mStatus),
		pAmount, pCur, Neutralize(pStatus),
		opID, Neutralize(it.ProviderPaymentID), optionalInt(it.ProjectID), Neutralize(it.Method),
		formatTime(it.CreatedAt, loc), Neutralize(it.Reason))
}

// The reconciliation's cells are those of the way before, for items with
// and without either side, at and around daylight-saving changes, in
// time order and not, with odd currencies and ids.
func TestItemRowMakesTheCellsAsBefore(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(13, 1))
	currencies := []string{"EUR", "JPY", "KWD", "UZS", "", "XXQ"}
	base := []time.Time{time.Date(2026, 3, 29, 0, 59, 58, 0, time.UTC), time.Date(2026, 10, 25, 0, 59, 59, 0, time.UTC),
		time.Date(2026, 12, 31, 22, 59, 59, 0, time.UTC), time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, loc := range []*time.Location{time.UTC, berlin, time.FixedZone("odd", -(3*3600 + 30*60))} {
		r := newItemRow(loc)
		for i := range 5000 {
			it := domain.Item{Result: domain.ResultAmountMismatch, MatchedBy: "payment_id", PaymentID: "=p" + strconv.Itoa(i), Type: domain.RecordPurchase,
				ProviderPaymentID: "v" + strconv.Itoa(i), Method: "card", Reason: "-reason"}
			if rng.IntN(4) > 0 {
				it.Merchant = &domain.Record{Amount: domain.Money{Amount: rng.Int64N(2e9) - 1e9, Currency: currencies[rng.IntN(len(currencies))]}, Status: "paid"}
			}
			if rng.IntN(4) > 0 {
				it.Provider = &domain.Operation{SumInitial: domain.Money{Amount: rng.Int64N(2e12), Currency: currencies[rng.IntN(len(currencies))]}, OperationStatus: "success"}
			}
			if rng.IntN(5) > 0 {
				it.OperationID = rng.Uint64()
			}
			if rng.IntN(5) > 0 {
				it.ProjectID = rng.Int64N(1000) - 10
			}
			if rng.IntN(10) > 0 {
				it.CreatedAt = base[rng.IntN(len(base))].Add(time.Duration(rng.Int64N(7200)-3600) * time.Second)
			}
			got, want := r.append(nil, &it), oldItemRow(nil, &it, loc)
			if !slices.Equal(got, want) {
				t.Fatalf("%s, item %d:\n got %q\nwant %q", loc, i, got, want)
			}
		}
	}
}
