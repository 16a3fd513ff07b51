package reconcile

import (
	"math"
	"strings"
	"testing"

	"reconciled/internal/domain"
	"reconciled/internal/fees"
)

// A successful operation whose charged fee is not its tariff's gets a
// fee_mismatch item of its own, beside its payment's, with both fees and
// the tariff in the reason; within the tolerance, failed, without a fee
// or without a tariff it gets none (the last counted); a resolution holds
// until the fee changes.
func TestFeeMismatchItems(t *testing.T) {
	contract, _, err := fees.NewContract([]fees.Tariff{
		{Method: "advcash", Type: domain.RecordPurchase, Percent: 2_500_000, Min: 50},
		{Method: "advcash", Type: domain.RecordRefund, Fixed: 30},
	})
	if err != nil {
		t.Fatal(err)
	}
	at := now.Add(-2 * day)
	withFee := func(o domain.Operation, fee int64, cur string) domain.Operation {
		o.Fee = domain.Money{Amount: fee, Currency: cur}
		return o
	}
	other := op(9, "p-other", domain.OpSale, domain.StatusSuccess, 10000, "EUR", at)
	other.PaymentMethod = "card"
	in := Input{Operations: []domain.Operation{
		withFee(op(1, "p-right", domain.OpSale, domain.StatusSuccess, 10000, "EUR", at), 250, "EUR"),
		withFee(op(2, "p-wrong", domain.OpSale, domain.StatusSuccess, 10000, "EUR", at), 252, "EUR"),
		withFee(op(3, "p-close", domain.OpSale, domain.StatusSuccess, 10000, "EUR", at), 251, "EUR"),
		withFee(op(4, "p-declined", domain.OpSale, domain.StatusDecline, 10000, "EUR", at), 999, "EUR"),
		op(5, "p-unreported", domain.OpSale, domain.StatusSuccess, 10000, "EUR", at),
		withFee(op(6, "p-wrong", domain.OpRefund, domain.StatusSuccess, 4000, "EUR", at.Add(day)), 30, "USD"),
		withFee(other, 1, "EUR"),
	}, Records: []domain.Record{rec("p-wrong", domain.RecordPurchase, domain.RecordPaid, 10000, "EUR", at)}}
	cfg := Config{Now: now, Fees: contract, FeeTolerance: 1}
	out := Run(in, cfg)
	var feeItems []domain.Item
	for _, it := range out.Items {
		if it.Code == domain.ResultFeeMismatch {
			feeItems = append(feeItems, it)
		}
	}
	if len(feeItems) != 2 || out.FeesChecked != 4 || out.FeesUnchecked != 1 {
		t.Fatalf("%d fee items, %d checked, %d unchecked: %+v", len(feeItems), out.FeesChecked, out.FeesUnchecked, feeItems)
	}
	sale, refund := feeItems[0], feeItems[1]
	if sale.PaymentID != "p-wrong" || sale.OperationID != 2 || sale.Type != domain.RecordPurchase || sale.Part != "fee:2" || sale.Provider == nil ||
		!strings.Contains(sale.Reason, "ECommPay charged 2.52 EUR on sale 2 advcash, the tariff 2.50 EUR (2.5 % of 100.00 EUR, at least 0.50 EUR); off by 0.02 EUR, more than the tolerance of 0.01 EUR") {
		t.Errorf("the sale's fee item: %+v", sale)
	}
	if refund.OperationID != 6 || refund.Type != domain.RecordRefund || !strings.Contains(refund.Reason, "charged in another currency") {
		t.Errorf("the refund's fee item: %+v", refund)
	}
	for _, it := range out.Items {
		if it.PaymentID == "p-wrong" && it.Type == domain.RecordPurchase && it.Code != domain.ResultFeeMismatch && it.Code != domain.ResultMatched {
			t.Errorf("the payment's own item is %s, want matched beside its fee item", it.Code)
		}
	}
	// No contract: no fee item, nothing counted.
	if plain := Run(in, Config{Now: now}); plain.FeesChecked+plain.FeesUnchecked != 0 || len(plain.Items) != len(out.Items)-2 {
		t.Errorf("without a contract: %d items (with: %d), %d checked", len(plain.Items), len(out.Items), plain.FeesChecked)
	}
	// Resolved, it stays so while the fee stays; corrected again, it
	// re-opens.
	k := KeyOf(&sale)
	r := Resolution{ProjectID: k.ProjectID, ID: k.ID, Type: k.Type, Part: k.Part, Code: sale.Code, Fingerprint: sale.Fingerprint, User: "u", At: now}
	in.Resolutions = map[ResolutionKey]Resolution{k: r}
	if got := find(Run(in, cfg).Items, 2, domain.ResultFeeMismatch); got == nil || got.Result != domain.ResultResolved {
		t.Errorf("resolved fee item: %+v", got)
	}
	in.Operations[1].Fee.Amount = 260
	again := Run(in, cfg)
	if got := find(again.Items, 2, domain.ResultFeeMismatch); got == nil || got.Result != domain.ResultFeeMismatch || len(again.Reopened) != 1 {
		t.Errorf("after the fee changed: %+v, %d re-opened", got, len(again.Reopened))
	}
}

// find is the item of operation id with code (the one it had, when resolved).
func find(items []domain.Item, id uint64, code string) *domain.Item {
	for i := range items {
		if items[i].OperationID == id && items[i].Code == code {
			return &items[i]
		}
	}
	return nil
}

// The distance between a charged fee and its tariff's is taken without
// wrapping: a charge of the smallest int64 against a tariff's 0, or of -1
// against the largest, is far off, not within any tolerance.
func TestFeeMismatchAtTheEdgesOfInt64(t *testing.T) {
	contract, _, err := fees.NewContract([]fees.Tariff{{Method: "advcash", Type: domain.RecordPurchase, Percent: 100 * fees.PercentScale}})
	if err != nil {
		t.Fatal(err)
	}
	at := now.Add(-2 * day)
	smallest := op(1, "p-smallest", domain.OpSale, domain.StatusSuccess, 0, "EUR", at)
	smallest.Fee = domain.Money{Amount: math.MinInt64, Currency: "EUR"}
	largest := op(2, "p-largest", domain.OpSale, domain.StatusSuccess, math.MaxInt64, "EUR", at)
	largest.Fee = domain.Money{Amount: -1, Currency: "EUR"}
	out := Run(Input{Operations: []domain.Operation{smallest, largest}}, Config{Now: now, Fees: contract, FeeTolerance: 1})
	var got []uint64
	for _, it := range out.Items {
		if it.Code == domain.ResultFeeMismatch {
			got = append(got, it.OperationID)
			if strings.Contains(it.Reason, "off by -") {
				t.Errorf("a negative distance: %s", it.Reason)
			}
		}
	}
	if len(got) != 2 {
		t.Fatalf("fee_mismatch items of operations %v, want 1 and 2", got)
	}
}

// An amount's distance from the other side's is measured without
// wrapping: -2^63 against 0 is as far as it gets, not "within tolerance".
func TestAmountsAtTheEdgesOfInt64Differ(t *testing.T) {
	at := now.Add(-2 * day)
	for _, c := range []struct{ rec, op int64 }{{math.MinInt64, 0}, {-1, math.MaxInt64}, {math.MaxInt64, -1}} {
		o := op(1, "p", domain.OpSale, domain.StatusSuccess, c.op, "EUR", at)
		r := rec("p", domain.RecordPurchase, domain.RecordPaid, c.rec, "EUR", at)
		out := Run(Input{Operations: []domain.Operation{o}, Records: []domain.Record{r}}, Config{Now: now, AmountTolerance: 5})
		if len(out.Items) != 1 || out.Items[0].Code != domain.ResultAmountMismatch {
			t.Errorf("record %d against %d: %+v", c.rec, c.op, out.Items)
		}
	}
}
