package syncer

import (
	"context"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
)

// assertChargebacks checks that the ledger holds exactly the fake's
// chargebacks at its clock.
func (e *env) assertChargebacks(t *testing.T) map[domain.ChargebackState]int {
	t.Helper()
	want := map[uint64]domain.Chargeback{}
	for _, cb := range e.fake.Chargebacks(e.clock.Now()) {
		want[cb.ID] = cb
	}
	states := map[domain.ChargebackState]int{}
	n := 0
	if err := e.ledger.ForEachChargeback(func(sc *ledger.StoredChargeback) error {
		n++
		if sc.Chargeback != want[sc.ID] {
			t.Errorf("chargeback %d:\n stored %+v\n    api %+v", sc.ID, sc.Chargeback, want[sc.ID])
		}
		s, _ := sc.State()
		states[s]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("%d chargebacks stored, the API has %d", n, len(want))
	}
	return states
}

// With Chargebacks, a run stores every chargeback of the window with a
// watermark of its own; later runs see their status change (within the
// lookback) and keep the history; through faults each arrives once.
func TestChargebacksAreSyncedAndFollowed(t *testing.T) {
	e := newEnv(t, 12000, 30*time.Second) // 100 hours
	e.syncer.Chargebacks, e.syncer.ChargebackLookback = true, 30*24*time.Hour
	e.fake.SetFaults(fakeapi.Faults{ServerErrorEvery: 3})
	end := e.clock.Now()
	e.clock.Set(start.Add(50 * time.Hour)) // half of them made yet
	res, err := e.syncer.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := e.assertChargebacks(t)
	if res.Chargebacks.New == 0 || first[domain.ChargebackOpen] == 0 {
		t.Fatalf("first run: %+v, states %v", res.Chargebacks, first)
	}
	e.clock.Set(end.Add(48 * time.Hour)) // every one decided
	res, err = e.syncer.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	later := e.assertChargebacks(t)
	if res.Chargebacks.Updated == 0 || later[domain.ChargebackWon] == 0 || later[domain.ChargebackLost] == 0 {
		t.Fatalf("second run: %+v, states %v", res.Chargebacks, later)
	}
	changed := 0
	e.ledger.ForEachChargeback(func(sc *ledger.StoredChargeback) error {
		if len(sc.History) > 1 {
			changed++
			if sc.History[0].Status != "open" || sc.History[len(sc.History)-1].Status != sc.Status {
				t.Errorf("chargeback %d: history %+v, status %q", sc.ID, sc.History, sc.Status)
			}
		}
		return nil
	})
	if changed == 0 {
		t.Fatal("no chargeback kept the status it was first seen in")
	}
	for _, p := range []int64{580, 579} {
		st, _ := e.ledger.SyncState(p)
		if !st.Chargebacks.Watermark.Equal(e.clock.Now()) || st.Chargebacks.Failing() {
			t.Errorf("project %d: %+v", p, st.Chargebacks)
		}
	}
	res, err = e.syncer.Run(context.Background(), Options{})
	if err != nil || res.Chargebacks.New+res.Chargebacks.Updated != 0 || res.Chargebacks.Unchanged == 0 {
		t.Fatalf("again with no change: %+v %v", res.Chargebacks, err)
	}
}
