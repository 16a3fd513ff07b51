package syncer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
)

// The fake follows the reference: only what the request's "fields" names
// comes back. A sync whose answers lack a needed parameter for some
// operations stops at that page and stores nothing of it: no amount is ever
// stored as zero, no type or status as empty. Once the answers are whole
// again, the next sync stores everything, nothing lost.
func TestSyncNeverStoresAnEmptyField(t *testing.T) {
	for _, omit := range []string{"sum_initial", "operation_type", "operation_status", "payment_status"} {
		t.Run(omit, func(t *testing.T) {
			e := newEnv(t, 2000, 5*time.Minute) // about a week: several day chunks
			e.syncer.Progress = func(r Result) {
				if r.Pages == 4 { // from the fifth page on, every 37th record lacks it
					e.fake.SetFaults(fakeapi.Faults{OmitField: omit, OmitEvery: 37})
				}
			}
			res, err := e.syncer.Run(context.Background(), Options{})
			e.syncer.Progress = nil
			if !errors.Is(err, dataapi.ErrMissingField) {
				t.Fatalf("err = %v, want ErrMissingField", err)
			}
			if !strings.Contains(err.Error(), "data_api.fields") {
				t.Errorf("err = %v, want it to name the config key", err)
			}
			if res.Pages < 4 {
				t.Fatalf("%d pages stored before the bad one", res.Pages)
			}
			stored := 0
			err = e.ledger.ForEach(context.Background(), ledger.Range{}, func(op *domain.Operation) error {
				stored++
				if op.SumInitial.Amount == 0 || op.SumInitial.Currency == "" || op.OperationType == "" ||
					op.OperationStatus == "" || op.PaymentStatus == "" {
					t.Errorf("operation %d stored without %s: %+v", op.OperationID, omit, *op)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if stored != res.Operations || stored >= 2000 {
				t.Errorf("%d operations stored, %d received in whole pages", stored, res.Operations)
			}
			st, _ := e.ledger.SyncState(580)
			if st.LastError == "" || !strings.Contains(st.LastError, omit) {
				t.Errorf("the sync state does not say what was missing: %q", st.LastError)
			}
			e.fake.SetFaults(fakeapi.Faults{})
			if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
				t.Fatal(err)
			}
			e.assertMirror(t)
		})
	}
}

// An optional parameter that does not come is stored empty and counted;
// a word the vocabulary does not know is stored as it came and counted.
func TestSyncCountsWhatIsWorthAWarning(t *testing.T) {
	e := newEnv(t, 1000, 5*time.Minute) // the fake's unknown status is at 850
	e.fake.SetFaults(fakeapi.Faults{OmitField: "customer_id", OmitEvery: 10})
	res, err := e.syncer.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Missing["customer_id"] != res.Operations/10 {
		t.Errorf("missing customer_id %d times in %d operations", res.Missing["customer_id"], res.Operations)
	}
	unknown := 0
	for _, op := range e.fake.Operations(e.clock.Now()) {
		if !domain.Builtin.Known(domain.FieldOperationStatus, op.OperationStatus) {
			unknown++
		}
	}
	if unknown == 0 {
		t.Fatal("the fake sent no status the vocabulary does not know")
	}
	if got := res.Unknown[ledger.WordKey{Field: domain.FieldOperationStatus, Word: "awaiting review"}]; got != unknown {
		t.Errorf("unknown status counted %d times, the fake sent %d (%v)", got, unknown, res.Unknown)
	}
	e.syncer.Vocabulary = domain.Builtin.With(nil, map[string]domain.Outcome{"awaiting review": domain.OutcomePending}, nil)
	res, err = e.syncer.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unknown) != 0 {
		t.Errorf("a word the config gives a meaning is still counted as unknown: %v", res.Unknown)
	}
}
