package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
)

func TestResolveAcceptsTheOpenExceptionAndUnresolveReopensIt(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-ok", at, 1000), sale(2, "p-short", at, 1000)},
		[]domain.Record{paid("p-ok", at, 1000), paid("p-short", at, 900)})
	ctx := context.Background()

	rs, err := a.Resolve(ctx, ResolveRequest{ID: "p-short", Reason: "bank-fee", Note: "kept by the bank", User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].ID != "p-short" || rs[0].Type != domain.RecordPurchase || rs[0].Code != domain.ResultAmountMismatch ||
		rs[0].Reason != "bank-fee" || rs[0].User != "tester" || !rs[0].At.Equal(now) {
		t.Fatalf("resolved %+v, want p-short's amount mismatch as bank-fee by tester", rs)
	}
	out, err := a.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Items {
		if it.PaymentID == "p-short" && it.Result != domain.ResultResolved {
			t.Fatalf("p-short is %s after resolve, want resolved", it.Result)
		}
	}
	if _, err := a.Resolve(ctx, ResolveRequest{ID: "p-ok", Reason: "bank-fee", User: "tester"}); err == nil ||
		!strings.Contains(err.Error(), `payment "p-ok" has no open exception`) {
		t.Fatalf("resolve of a matched payment: %v", err)
	}
	if _, err := a.Resolve(ctx, ResolveRequest{ID: "p-short", Reason: "bank-fee", Type: domain.RecordPayout, User: "tester"}); err == nil ||
		!strings.Contains(err.Error(), `no item for payment "p-short"`) {
		t.Fatalf("resolve narrowed to a type the payment has no item of: %v", err)
	}

	keys, err := a.Unresolve(ctx, ResolveRequest{ID: "p-short", User: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].ID != "p-short" || keys[0].Type != domain.RecordPurchase {
		t.Fatalf("unresolved %+v", keys)
	}
	if _, err := a.Unresolve(ctx, ResolveRequest{ID: "p-short", User: "other"}); err == nil ||
		!strings.Contains(err.Error(), `payment "p-short" has no resolution`) {
		t.Fatalf("second unresolve: %v", err)
	}
	audit, err := a.Ledger.Audit()
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 2 || audit[0].Action != domain.AuditResolve || audit[0].User != "tester" || audit[0].Note != "kept by the bank" ||
		audit[1].Action != domain.AuditUnresolve || audit[1].User != "other" || audit[1].Reason != "bank-fee" {
		t.Fatalf("audit trail %+v, want the resolve by tester, then the unresolve by other", audit)
	}
}

// The reason is a short code whoever calls: a resolution with a free-text
// reason is refused before anything is judged or stored.
func TestResolveRefusesAReasonThatIsNoCode(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(2, "p-short", at, 1000)}, []domain.Record{paid("p-short", at, 900)})
	for _, reason := range []string{"", "Bank fee", "-fee", strings.Repeat("x", 65), "fee\x1b[2J"} {
		_, err := a.Resolve(context.Background(), ResolveRequest{ID: "p-short", Reason: reason, User: "tester"})
		var re *RequestError
		if !errors.As(err, &re) || re.Field != "reason" || re.Value != reason {
			t.Errorf("reason %q: err = %v, want a RequestError of the reason", reason, err)
		}
	}
	if err := CheckReason("bank-fee_2.x"); err != nil {
		t.Errorf("a good code refused: %v", err)
	}
	if rs, err := a.Ledger.Resolutions(); err != nil || len(rs) != 0 {
		t.Fatalf("%d resolutions stored (%v)", len(rs), err)
	}
	if audit, err := a.Ledger.Audit(); err != nil || len(audit) != 0 {
		t.Fatalf("%d audit events (%v)", len(audit), err)
	}
}

// "fee:ID" resolves the fee_mismatch of one operation and nothing else of
// its payment; the payment id resolves both.
func TestResolveAFeeMismatchAlone(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-short", at, 1000)}, []domain.Record{paid("p-short", at, 900)})
	cfg := *a.Config
	cfg.Fees.Tariffs = []config.Tariff{{Method: "card", Type: domain.RecordPurchase, Percent: "2.5"}}
	a = a.On(&cfg)
	charged := sale(1, "p-short", at, 1000)
	charged.Fee = domain.Money{Amount: 30, Currency: "EUR"} // the tariff: 25
	if _, err := a.Ledger.UpsertFees([]domain.Operation{charged}, now); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rs, err := a.Resolve(ctx, ResolveRequest{ID: "fee:1", Reason: "fee-disputed", User: "tester"})
	if err != nil || len(rs) != 1 || rs[0].Code != domain.ResultFeeMismatch || rs[0].Part != "fee:1" {
		t.Fatalf("resolve fee:1: %+v, %v", rs, err)
	}
	out, err := a.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range out.Items {
		got[it.Code] = it.Result
	}
	if got[domain.ResultFeeMismatch] != domain.ResultResolved || got[domain.ResultAmountMismatch] != domain.ResultAmountMismatch {
		t.Fatalf("after resolving the fee alone: %v", got)
	}
	if _, err := a.Resolve(ctx, ResolveRequest{ID: "fee:2", Reason: "fee-disputed", User: "tester"}); err == nil {
		t.Fatal("fee:2, which has no item, was resolved")
	}
}

// "chargeback:ID" resolves one chargeback's item and nothing else of its
// payment, also a chargeback whose payment was never synced; neither
// "operation:ID" of the disputed operation nor another chargeback's id
// names it; unresolve takes it back by the same name.
func TestResolveAChargebackAlone(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-short", at, 1000)}, []domain.Record{paid("p-short", at, 900)})
	cbs := []domain.Chargeback{
		{ID: 501, ProjectID: 1, PaymentID: "p-short", OperationID: 1, Amount: domain.Money{Amount: 1000, Currency: "EUR"}, Status: "open", CreatedAt: at},
		{ID: 502, ProjectID: 1, PaymentID: "p-never-synced", Amount: domain.Money{Amount: 700, Currency: "EUR"}, Status: "lost", CreatedAt: at},
	}
	if _, err := a.Ledger.UpsertChargebacks(cbs, now); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// operation:1 names the payment's own item (amount_mismatch), not the
	// chargeback of that operation.
	if rs, err := a.Resolve(ctx, ResolveRequest{ID: "operation:1", Reason: "x", User: "tester"}); err != nil || len(rs) != 1 || rs[0].Code != domain.ResultAmountMismatch {
		t.Fatalf("operation:1: %+v %v", rs, err)
	}
	if _, err := a.Unresolve(ctx, ResolveRequest{ID: "p-short", User: "tester"}); err != nil {
		t.Fatal(err)
	}
	rs, err := a.Resolve(ctx, ResolveRequest{ID: "chargeback:501", Reason: "answered", User: "tester"})
	if err != nil || len(rs) != 1 || rs[0].Code != domain.ResultChargeback || rs[0].Part != "chargeback:501" || rs[0].ID != "p-short" {
		t.Fatalf("resolve chargeback:501: %+v, %v", rs, err)
	}
	rs, err = a.Resolve(ctx, ResolveRequest{ID: "chargeback:502", Reason: "booked", User: "tester"})
	if err != nil || len(rs) != 1 || rs[0].Part != "chargeback:502" || rs[0].ID != "p-never-synced" {
		t.Fatalf("resolve chargeback:502: %+v, %v", rs, err)
	}
	if _, err := a.Resolve(ctx, ResolveRequest{ID: "chargeback:503", Reason: "x", User: "tester"}); err == nil || !strings.Contains(err.Error(), "no chargeback 503 is stored") {
		t.Fatalf("chargeback:503, which does not exist: %v", err)
	}
	out, err := a.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range out.Items {
		got[it.Code+" "+it.Part] = it.Result
	}
	if got["chargeback chargeback:501"] != domain.ResultResolved || got["chargeback chargeback:502"] != domain.ResultResolved ||
		got["amount_mismatch "] != domain.ResultAmountMismatch {
		t.Fatalf("after resolving the chargebacks: %v", got)
	}
	keys, err := a.Unresolve(ctx, ResolveRequest{ID: "chargeback:501", User: "tester"})
	if err != nil || len(keys) != 1 || keys[0].Part != "chargeback:501" {
		t.Fatalf("unresolve: %+v %v", keys, err)
	}
}

// resolve chargeback:ID of a chargeback that is no item says why: it is
// won, or none of that id is stored; not "no item for payment", which
// told the user to give chargeback:ID. Written with leading zeros it
// names the same chargeback, for resolve and unresolve.
func TestResolveAChargebackThatIsNoItem(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-short", at, 1000)}, []domain.Record{paid("p-short", at, 1000)})
	cbs := []domain.Chargeback{
		{ID: 501, ProjectID: 7, PaymentID: "p-short", OperationID: 1, Amount: domain.Money{Amount: 1000, Currency: "EUR"}, Status: "won", CreatedAt: at},
		{ID: 502, ProjectID: 7, PaymentID: "p-short", Amount: domain.Money{Amount: 700, Currency: "EUR"}, Status: "lost", CreatedAt: at},
	}
	if _, err := a.Ledger.UpsertChargebacks(cbs, now); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for id, want := range map[string]string{
		"chargeback:501": "resolve: chargeback 501 is won (status won): no exception to resolve",
		"chargeback:999": "resolve: no chargeback 999 is stored",
	} {
		if _, err := a.Resolve(ctx, ResolveRequest{ID: id, Reason: "x", User: "tester"}); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", id, err, want)
		}
	}
	rs, err := a.Resolve(ctx, ResolveRequest{ID: "chargeback:0502", Reason: "booked", User: "tester"})
	if err != nil || len(rs) != 1 || rs[0].Part != "chargeback:502" {
		t.Fatalf("chargeback:0502: %+v %v", rs, err)
	}
	keys, err := a.Unresolve(ctx, ResolveRequest{ID: "chargeback:00502", User: "tester"})
	if err != nil || len(keys) != 1 || keys[0].Part != "chargeback:502" {
		t.Fatalf("unresolve chargeback:00502: %+v %v", keys, err)
	}
}
