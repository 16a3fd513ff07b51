package reconcile

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/fees"
)

// itemText is every field of an item, the sides by what they say.
func itemText(it *domain.Item) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%s|%d|%d|%s|%s|%s|%s|%s", it.Result, it.Code, it.MatchedBy, it.PaymentID, it.Type, it.Part,
		it.ProjectID, it.OperationID, it.ProviderPaymentID, it.Method, it.CreatedAt.Format(time.RFC3339Nano), it.Reason, it.Fingerprint)
	if it.Merchant != nil {
		fmt.Fprintf(&b, "|rec %+v", *it.Merchant)
	}
	if it.Provider != nil {
		fmt.Fprintf(&b, "|op %d", it.Provider.OperationID)
	}
	return b.String()
}

func outputText(out Output) []string {
	var lines []string
	for i := range out.Items {
		lines = append(lines, itemText(&out.Items[i]))
	}
	for _, r := range out.Recheck {
		lines = append(lines, fmt.Sprintf("recheck %+v", r))
	}
	for _, r := range out.Reopened {
		lines = append(lines, fmt.Sprintf("reopened %+v", r))
	}
	return lines
}

// reviewData is a randomised book: refunds in parts, reverses, double
// charges, auths, commissions, unknown words, records with and without
// payment ids, with operation or provider ids, the same line twice.
func reviewData(rng *rand.Rand, sharedProviderIDs bool) ([]domain.Operation, []domain.Record) {
	old := now.Add(-40 * day)
	var ops []domain.Operation
	var recs []domain.Record
	id := uint64(1000)
	next := func() uint64 { id += 1 + rng.Uint64N(3); return id }
	line := 0
	addRec := func(r domain.Record) {
		line++
		r.Origin = fmt.Sprintf("r.csv:%d", line)
		recs = append(recs, r)
		if rng.IntN(8) == 0 { // the same line twice
			line++
			r.Origin = fmt.Sprintf("r.csv:%d", line)
			recs = append(recs, r)
		}
	}
	amounts := []int64{1000, 2000, 3000}
	// A provider id: drawn from a small pool (operations of different
	// payments may share one), or unique to the operation.
	ppid := func(prefix string, n int, opID uint64) string {
		if sharedProviderIDs {
			return fmt.Sprintf("%s-%d", prefix, rng.IntN(n))
		}
		return fmt.Sprintf("%s-%d", prefix, opID)
	}
	for p := 0; p < 60; p++ {
		pid := fmt.Sprintf("p%02d", p)
		t0 := old.Add(time.Duration(p) * time.Minute)
		sale := op(next(), pid, "sale", "success", 9000, "EUR", t0)
		sale.ProviderPaymentID = ppid("pp", 40, sale.OperationID)
		ops = append(ops, sale)
		if rng.IntN(10) == 0 {
			ops = append(ops, op(next(), pid, "sale", "success", 9000, "EUR", t0.Add(time.Second)))
		}
		if rng.IntN(10) == 0 {
			ops = append(ops, op(next(), pid, "commission", "success", 90, "EUR", t0.Add(2*time.Second)))
		}
		if rng.IntN(12) == 0 {
			ops = append(ops, op(next(), pid, "sale", "awaiting foo", 9000, "EUR", t0.Add(3*time.Second)))
		}
		var refunds []domain.Operation
		for k := 0; k < rng.IntN(4); k++ {
			st := []string{"success", "success", "decline", "internal error", "processing"}[rng.IntN(5)]
			r := op(next(), pid, "refund", st, amounts[rng.IntN(3)], "EUR", t0.Add(time.Duration(k+1)*time.Hour))
			r.ProviderPaymentID = ppid("ppr", 80, r.OperationID)
			if rng.IntN(3) == 0 {
				r.CreatedAt = t0.Add(time.Hour) // same time as another refund
			}
			refunds = append(refunds, r)
			ops = append(ops, r)
		}
		if len(refunds) > 0 && rng.IntN(3) == 0 {
			src := refunds[rng.IntN(len(refunds))]
			st := []string{"success", "processing"}[rng.IntN(2)]
			ops = append(ops, op(next(), pid, "refund reverse", st, src.SumInitial.Amount, "EUR", t0.Add(10*time.Hour)))
		}
		if rng.IntN(6) != 0 {
			addRec(rec(pid, "purchase", "paid", 9000, "EUR", t0))
		}
		for k := 0; k < rng.IntN(4); k++ {
			st := []string{"paid", "paid", "failed", "pending"}[rng.IntN(4)]
			r := rec(pid, "refund", st, amounts[rng.IntN(3)], "EUR", t0.Add(time.Duration(rng.IntN(3))*time.Hour))
			switch rng.IntN(5) {
			case 0:
				if len(refunds) > 0 {
					r.OperationID = refunds[rng.IntN(len(refunds))].OperationID
				}
			case 1, 2:
				if len(refunds) > 0 {
					r.ProviderPaymentID = refunds[rng.IntN(len(refunds))].ProviderPaymentID
				}
				if rng.IntN(2) == 0 {
					// Only a provider id: the record finds its payment by it.
					r.PaymentID = ""
				}
			}
			addRec(r)
		}
		if rng.IntN(8) == 0 {
			r := rec("", "purchase", "paid", 9000, "EUR", t0)
			r.ProviderPaymentID = sale.ProviderPaymentID
			addRec(r)
		}
	}
	return ops, recs
}

// The same data, in any order of arrival, gives byte-identical items.
// Every operation has a provider id of its own: this holds.
func TestDeterminismUnderShuffle(t *testing.T) { testDeterminism(t, false) }

// Operations of different payments that share a provider_payment_id (two
// providers' ids can collide; some send the sale's id on its refunds): a
// record that names only the provider id lands on whichever of them came
// last in the input (engine.go lazyIndexes, byProviderID), so the items
// change with the order of arrival.
func TestDeterminismWithSharedProviderIDs(t *testing.T) { testDeterminism(t, true) }

func testDeterminism(t *testing.T, shared bool) {
	for seed := uint64(1); seed <= 30; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		ops, recs := reviewData(rng, shared)
		want := outputText(Run(Input{Operations: slices.Clone(ops), Records: slices.Clone(recs)}, Config{Now: now}))
		for round := 0; round < 20; round++ {
			o, r := slices.Clone(ops), slices.Clone(recs)
			rng.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
			rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
			got := outputText(Run(Input{Operations: o, Records: r}, Config{Now: now}))
			if len(got) != len(want) {
				t.Fatalf("seed %d round %d: %d lines, want %d", seed, round, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("seed %d round %d: line %d differs\n got %s\nwant %s", seed, round, i, got[i], want[i])
				}
			}
		}
	}
}

// The fees charged, against a contract, in any order of arrival, give
// byte-identical items too: the fee_mismatch items of a payment after its
// type's, in operation id order, whatever order the operations came in.
func TestDeterminismWithFees(t *testing.T) {
	contract, _, err := fees.NewContract([]fees.Tariff{
		{Method: "advcash", Type: domain.RecordPurchase, Percent: 2_500_000, Min: 50},
		{Method: "ADVCASH", Type: domain.RecordRefund, Currency: "EUR", Fixed: 30},
		{Method: "advcash", Type: domain.RecordRefund, Fixed: 40},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Now: now, Fees: contract, FeeTolerance: 1}
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		ops, recs := reviewData(rng, false)
		flagged := 0
		for i := range ops {
			switch rng.IntN(4) {
			case 0: // none reported
			case 1:
				ops[i].Fee = domain.Money{Amount: 30, Currency: "EUR"}
			default:
				ops[i].Fee = domain.Money{Amount: ops[i].SumInitial.Amount * 25 / 1000, Currency: "EUR"}
			}
		}
		base := Run(Input{Operations: slices.Clone(ops), Records: slices.Clone(recs)}, cfg)
		for _, it := range base.Items {
			if it.Code == domain.ResultFeeMismatch {
				flagged++
			}
		}
		if flagged == 0 {
			t.Fatalf("seed %d: no fee_mismatch: the test checks nothing", seed)
		}
		want := outputText(base)
		for round := 0; round < 10; round++ {
			o, r := slices.Clone(ops), slices.Clone(recs)
			rng.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
			rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
			got := outputText(Run(Input{Operations: o, Records: r}, cfg))
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d round %d: the items differ with the order of arrival", seed, round)
			}
		}
	}
}
