package dataapi_test

import (
	"context"
	"strings"
	"testing"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
)

// /financial-reporting/operations, asked for the fee alone, gives each
// operation's required parameters and the fee charged on it, verified
// like /operations/get's records; /operations/get gives no fee.
func TestFinancialOperationsCarryTheFee(t *testing.T) {
	fake, url := newFake(t, fakeapi.Config{Seed: 3, Count: 1500})
	c := newClient(t, url, nil)
	var got []domain.Operation
	err := c.FinancialOperations(context.Background(), window(), func(p *dataapi.Page) error {
		if len(p.Missing) != 0 {
			t.Errorf("page at %d: missing %v", p.Offset, p.Missing)
		}
		got = append(got, p.Operations...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := masked(fake.Operations(now))
	if len(got) != len(want) {
		t.Fatalf("%d operations with fees, %d without", len(got), len(want))
	}
	byID := map[uint64]domain.Operation{}
	for _, op := range want {
		byID[op.OperationID] = op
	}
	charged, wrong := 0, 0
	for _, op := range got {
		w := byID[op.OperationID]
		fee := fakeapi.FeeOf(&w)
		if op.Fee != fee || op.Fee.Currency != w.SumInitial.Currency {
			t.Fatalf("operation %d: fee %+v, the fake charged %+v", op.OperationID, op.Fee, fee)
		}
		// Asked for the fee alone: the required parameters and the fee.
		want := domain.Operation{ProjectID: w.ProjectID, OperationID: w.OperationID, PaymentID: w.PaymentID,
			CreatedAt: w.CreatedAt, CompletedAt: w.CompletedAt, Fee: fee}
		if op != want {
			t.Fatalf("operation %d:\n got %+v\nwant %+v", op.OperationID, op, want)
		}
		if fee.Amount > 0 {
			charged++
		}
		if fee.Amount > 0 && op.OperationID%fakeapi.FeeErrorEvery == 0 {
			wrong++
		}
	}
	if charged < 500 || wrong == 0 {
		t.Fatalf("%d operations charged, %d of them wrongly: the fake's tariff is not exercised", charged, wrong)
	}
	plain, _, err := all(t, c, window())
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range plain {
		if op.Fee != (domain.Money{}) {
			t.Fatalf("/operations/get gave operation %d a fee %+v", op.OperationID, op.Fee)
		}
	}
}

// A record of /financial-reporting/operations without a fee has none and
// is counted, like any optional parameter that was asked for and did not
// come.
func TestAFinancialRecordWithoutAFeeIsCounted(t *testing.T) {
	_, url := newFake(t, fakeapi.Config{Seed: 3, Count: 300, Faults: fakeapi.Faults{OmitField: "fee", OmitEvery: 3}})
	c := newClient(t, url, nil)
	missing, without := 0, 0
	err := c.FinancialOperations(context.Background(), window(), func(p *dataapi.Page) error {
		missing += p.Missing["fee:amount"]
		for _, op := range p.Operations {
			if op.Fee.Currency == "" {
				without++
				if op.Fee.Amount != 0 {
					t.Errorf("operation %d: no fee currency but an amount %d", op.OperationID, op.Fee.Amount)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if without != 100 || missing != 100 {
		t.Fatalf("%d records without a fee, %d counted missing; want 100 of 300 both", without, missing)
	}
}

// "fee" is no parameter of data_api.fields: the fee sync asks for it. The
// fake's /operations/get does not know it either.
func TestFeeIsNotAFieldOfOperationsGet(t *testing.T) {
	_, err := dataapi.ParseFields(append(dataapi.DefaultFields(), "fee"))
	if err == nil || !strings.Contains(err.Error(), `"fee" comes from /financial-reporting/operations only`) {
		t.Fatalf("data_api.fields with fee: %v", err)
	}
	for _, f := range dataapi.DefaultFields() {
		if f == "fee" {
			t.Fatal("fee is among the default fields of /operations/get")
		}
	}
	_, url := newFake(t, fakeapi.Config{Seed: 3, Count: 10})
	_, err = dataapi.New(dataapi.Options{BaseURL: url, Token: token, Secret: []byte(secret), Fields: append(dataapi.DefaultFields(), "fee")})
	if err == nil {
		t.Fatal("a client asking /operations/get for fee was made")
	}
}
