package fakeapi

import (
	"reflect"
	"testing"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
)

// The fake's balances are its operations' money: OUT is IN less the
// successful payouts, in each currency; a project's balances are in its
// own currencies; the same seed and clock give the same numbers, and two
// projects asked together are their sum.
func TestBalancesFollowTheOperations(t *testing.T) {
	now := t0.Add(3 * 24 * time.Hour)
	f, err := New(Config{Token: "tok", Secret: []byte("s"), Seed: 1, Start: t0, Count: 3000, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	byName := func(es []dataapi.BalanceEntry) map[string]map[string]int64 {
		out := map[string]map[string]int64{}
		for _, e := range es {
			out[e.Name] = map[string]int64{}
			for _, m := range e.Amounts {
				out[e.Name][m.Currency] = m.Amount
			}
		}
		return out
	}
	payouts := map[string]int64{}
	for _, op := range f.Operations(now) {
		if op.ProjectID == 580 && op.OperationType == domain.OpPayout && op.OperationStatus == domain.StatusSuccess {
			payouts[op.SumInitial.Currency] += op.SumInitial.Amount
		}
	}
	adv := byName(f.Balances([]int64{580}, now))
	if len(adv[BalanceOut]) != 7 || len(adv[BalanceIn]) != 7 {
		t.Fatalf("project 580's balances: %v", adv)
	}
	for cur, in := range adv[BalanceIn] {
		if in <= 0 {
			t.Errorf("%s: IN %d", cur, in)
		}
		if got := in - adv[BalanceOut][cur]; got != payouts[cur] {
			t.Errorf("%s: IN - OUT = %d, the successful payouts are %d", cur, got, payouts[cur])
		}
	}
	card := byName(f.Balances([]int64{579}, now))
	if len(card[BalanceOut]) != 1 || card[BalanceOut]["UZS"] == 0 {
		t.Errorf("project 579's balances: %v", card)
	}
	both := byName(f.Balances(nil, now))
	for name, byCur := range both {
		for cur, v := range byCur {
			if v != adv[name][cur]+card[name][cur] {
				t.Errorf("%s %s: all projects %d, 580 %d + 579 %d", name, cur, v, adv[name][cur], card[name][cur])
			}
		}
	}
	g, _ := New(Config{Token: "tok", Secret: []byte("s"), Seed: 1, Start: t0, Count: 3000, Now: func() time.Time { return now }})
	if !reflect.DeepEqual(g.Balances([]int64{580}, now), f.Balances([]int64{580}, now)) {
		t.Error("the same seed and clock gave other balances")
	}
	if reflect.DeepEqual(f.Balances([]int64{580}, now.Add(-24*time.Hour)), f.Balances([]int64{580}, now)) {
		t.Error("a day earlier the balances were the same: they follow no operation")
	}
}
