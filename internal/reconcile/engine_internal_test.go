package reconcile

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// fingerprintFmt is fingerprint as it was first written, with fmt: stored
// resolutions hold its results, so the fast one must agree byte for byte.
func fingerprintFmt(it *domain.Item, ops []*domain.Operation, recs []*domain.Record) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%d|%s\n", it.Code, it.Type, it.ProjectID, it.PaymentID)
	for _, op := range ops {
		fmt.Fprintf(h, "op|%d|%s|%s|%s|%d|%s\n", op.OperationID, op.OperationType, op.OperationStatus, op.PaymentStatus, op.SumInitial.Amount, op.SumInitial.Currency)
	}
	for _, r := range recs {
		fmt.Fprintf(h, "rec|%s|%s|%d|%s|%s\n", r.Source, r.ID(), r.Amount.Amount, r.Amount.Currency, r.Status)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func TestFingerprintUnchanged(t *testing.T) {
	ops := []*domain.Operation{
		{OperationID: 18446744073709551615, OperationType: "sale", OperationStatus: "success", PaymentStatus: "success",
			SumInitial: domain.Money{Amount: -150, Currency: "UZS"}, CreatedAt: time.Now()},
		{OperationID: 1, OperationType: "refund", OperationStatus: "awaiting 3ds result", SumInitial: domain.Money{Amount: 0, Currency: ""}},
	}
	recs := []*domain.Record{
		{Source: "books", PaymentID: "ord-1|x", Amount: domain.Money{Amount: 123456789012, Currency: "USD"}, Status: "paid"},
		{Source: "", ProviderPaymentID: "pp-7", Amount: domain.Money{Amount: -1, Currency: "EUR"}, Status: "пending"},
		{Source: "b", OperationID: 42, Status: "failed"},
	}
	for _, c := range []struct {
		it   domain.Item
		ops  []*domain.Operation
		recs []*domain.Record
	}{
		{domain.Item{Code: "amount_mismatch", Type: "purchase", ProjectID: 580, PaymentID: "ord-1"}, ops, recs},
		{domain.Item{Code: "duplicate", Type: "payout", ProjectID: -3, PaymentID: ""}, ops[:1], nil},
		{domain.Item{Code: "missing_at_provider"}, nil, recs[1:]},
		{domain.Item{Code: "x", PaymentID: string(make([]byte, 600))}, ops, recs}, // past the stack buffer
	} {
		if got, want := fingerprint(&c.it, c.ops, c.recs), fingerprintFmt(&c.it, c.ops, c.recs); got != want {
			t.Errorf("%s: fingerprint %s, with fmt %s", c.it.Code, got, want)
		}
	}
}

// The index a record without a payment id of ours is looked up in answers
// as the maps it replaced did: a provider id goes to the lowest operation
// id that carries it (the first in the input of equals), an operation id
// to the last in the input of equals; operations whose type stands for no
// record are not in it; the input's order does not matter.
func TestIDIndexAnswersAsTheMapsDid(t *testing.T) {
	op := func(id uint64, pp string) domain.Operation {
		return domain.Operation{OperationID: id, ProviderPaymentID: pp}
	}
	ops := []domain.Operation{op(5, "shared"), op(3, "shared"), op(3, "shared"), op(9, "own"), op(7, ""), op(7, "x"), op(math.MaxUint64, "max"), op(2, "skipped")}
	counts := func(i int) bool { return ops[i].ProviderPaymentID != "skipped" }
	x := newIDIndex(NewOpTableOf(ops), counts)
	for _, c := range []struct {
		pp   string
		want int32
	}{{"shared", 1}, {"own", 3}, {"x", 5}, {"max", 6}, {"skipped", -1}, {"nope", -1}, {"sha", -1}, {"sharedd", -1}} {
		if got, ok := x.provider(c.pp); got != c.want || ok != (c.want >= 0) {
			t.Errorf("provider %q: %d %v, want %d", c.pp, got, ok, c.want)
		}
	}
	for _, c := range []struct {
		id   uint64
		want int32
	}{{5, 0}, {3, 2}, {9, 3}, {7, 5}, {math.MaxUint64, 6}, {2, -1}, {1, -1}, {8, -1}, {0, -1}} {
		if got, ok := x.operation(c.id); got != c.want || ok != (c.want >= 0) {
			t.Errorf("operation %d: %d %v, want %d", c.id, got, ok, c.want)
		}
	}
	// In id order (as the ledger reads them), the same answers by id.
	sorted := []domain.Operation{op(2, "a"), op(3, "b"), op(3, "c"), op(8, "d")}
	y := newIDIndex(NewOpTableOf(sorted), func(int) bool { return true })
	if got, _ := y.operation(3); got != 2 {
		t.Errorf("sorted input, operation 3: %d, want 2 (the last of equals)", got)
	}
	if got, _ := y.operation(8); got != 3 {
		t.Errorf("sorted input, operation 8: %d, want 3", got)
	}
}

// On random inputs, in random order and in id order, the index answers
// every provider id and operation id as the two maps it replaced did
// (engine.go before 078e1cc): provider ids sharing their first eight
// bytes, ending in zero bytes, empty; operation ids repeated.
func TestIDIndexAnswersAsTheMapsDidOnRandomInputs(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 13))
	pps := []string{"", "", "a", "a\x00", "a\x00\x00", "abcdefgh", "abcdefgh1", "abcdefgh2", "abcdefg", "abcdefgi",
		"\x00", "\xff\xff\xff\xff\xff\xff\xff\xff", "\xff\xff\xff\xff\xff\xff\xff\xff\x00", "zzzzzzzzzzzzzzzzzzzzzz"}
	for round := range 300 {
		ops := make([]domain.Operation, rnd.IntN(60))
		for i := range ops {
			ops[i] = domain.Operation{OperationID: uint64(rnd.IntN(25)), ProviderPaymentID: pps[rnd.IntN(len(pps))]}
		}
		if round%2 == 1 {
			slices.SortStableFunc(ops, func(a, b domain.Operation) int { return cmp.Compare(a.OperationID, b.OperationID) })
		}
		skip := make([]bool, len(ops))
		for i := range skip {
			skip[i] = rnd.IntN(4) == 0
		}
		counts := func(i int) bool { return !skip[i] }
		// The maps, as they were.
		byProviderID := map[string]int32{}
		byOperationID := map[uint64]int32{}
		for i := range ops {
			if !counts(i) {
				continue
			}
			if pp := ops[i].ProviderPaymentID; pp != "" {
				if j, ok := byProviderID[pp]; !ok || ops[i].OperationID < ops[j].OperationID {
					byProviderID[pp] = int32(i)
				}
			}
			byOperationID[ops[i].OperationID] = int32(i)
		}
		x := newIDIndex(NewOpTableOf(ops), counts)
		for _, pp := range append(pps, "b", "abcdefgh0") {
			want, wok := byProviderID[pp]
			if got, ok := x.provider(pp); ok != wok || ok && got != want {
				t.Fatalf("round %d, provider %q: %d %v, the maps %d %v", round, pp, got, ok, want, wok)
			}
		}
		for id := range uint64(27) {
			want, wok := byOperationID[id]
			if got, ok := x.operation(id); ok != wok || ok && got != want {
				t.Fatalf("round %d, operation %d: %d %v, the maps %d %v", round, id, got, ok, want, wok)
			}
		}
	}
}
