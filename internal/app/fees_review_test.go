package app

import (
	"bytes"
	"context"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/reconcile"
)

// A fee is stored by operation id and joined to the operation of that id,
// whatever payment the fee's record names: a record naming another
// payment (another project's, or one the Data API got wrong) still
// changes the stored operation's verdict, so that payment must be marked,
// or the incremental reconcile keeps the verdict of before the fee.
func TestAFeeNamingAnotherPaymentMarksItsOperationsPayment(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p1", at, 1000)}, []domain.Record{paid("p1", at, 1000)})
	cfg := *a.Config
	cfg.Fees.Tariffs = []config.Tariff{{Method: "card", Type: domain.RecordPurchase, Percent: "2.5"}}
	a = a.On(&cfg)
	ctx := context.Background()
	if _, err := a.RunReconcile(ctx, RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	charged := sale(1, "p-elsewhere", at, 1000)
	charged.ProjectID = 8
	charged.Fee = domain.Money{Amount: 30, Currency: "EUR"} // the tariff: 25
	if _, err := a.Ledger.UpsertFees([]domain.Operation{charged}, now); err != nil {
		t.Fatal(err)
	}
	res, err := a.RunReconcile(ctx, RunRequest{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Full {
		t.Fatal("the reconcile after the fee was a full one")
	}
	in, err := LoadInput(ctx, a.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	fresh := reconcile.Run(in, a.EngineConfig())
	var want, got bytes.Buffer
	if _, err := export.ReconciliationCSV(&want, export.ItemsOf(fresh.Items), export.ItemFilter{}, export.CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := export.ReconciliationCSV(&got, a.Ledger.ForEachItem, export.ItemFilter{}, export.CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("stored result differs from a run from scratch:\n%s", lineDiff(got.String(), want.String()))
	}
	if !bytes.Contains(got.Bytes(), []byte(domain.ResultFeeMismatch)) {
		t.Fatalf("no fee_mismatch for operation 1:\n%s", got.String())
	}
}

// operation:ID names the operation's items, not its fee_mismatch, which
// fee:ID (or the payment id) names: unresolve operation:ID takes back a
// refund part's resolution only, so a resolve of operation:ID that also
// accepted the fee left a resolution nothing but fee:ID took back.
func TestOperationIDDoesNotNameTheFeeMismatch(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p1", at, 1000)}, nil) // no record: an exception of the sale
	cfg := *a.Config
	cfg.Fees.Tariffs = []config.Tariff{{Method: "card", Type: domain.RecordPurchase, Percent: "2.5"}}
	a = a.On(&cfg)
	charged := sale(1, "p1", at, 1000)
	charged.Fee = domain.Money{Amount: 30, Currency: "EUR"} // the tariff: 25
	if _, err := a.Ledger.UpsertFees([]domain.Operation{charged}, now); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rs, err := a.Resolve(ctx, ResolveRequest{ID: "operation:1", Reason: "checked", User: "tester"})
	if err != nil || len(rs) != 1 || rs[0].Code == domain.ResultFeeMismatch || rs[0].Part != "" {
		t.Fatalf("resolve operation:1: %+v, %v; want the sale's exception alone", rs, err)
	}
	rs, err = a.Resolve(ctx, ResolveRequest{ID: "fee:1", Reason: "fee-disputed", User: "tester"})
	if err != nil || len(rs) != 1 || rs[0].Part != "fee:1" {
		t.Fatalf("resolve fee:1: %+v, %v", rs, err)
	}
	keys, err := a.Unresolve(ctx, ResolveRequest{ID: "fee:1", User: "tester"})
	if err != nil || len(keys) != 1 || keys[0].Part != "fee:1" {
		t.Fatalf("unresolve fee:1: %+v, %v", keys, err)
	}
	left, err := a.Ledger.Resolutions()
	if err != nil || len(left) != 1 {
		t.Fatalf("left %+v, %v; want the sale's resolution alone", left, err)
	}
}
