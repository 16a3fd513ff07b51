package reconcile

import (
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func op(id uint64, payment, typ, status string, amount int64, cur string, created time.Time) domain.Operation {
	o := domain.Operation{ProjectID: 580, OperationID: id, PaymentID: payment, OperationType: typ, OperationStatus: status,
		PaymentStatus: status, PaymentMethod: "advcash", CreatedAt: created, SumInitial: domain.Money{Amount: amount, Currency: cur},
		ProviderPaymentID: "pp-" + payment + "-" + typ}
	if typ == domain.OpPayout {
		o.PaymentType = domain.PaymentPayout
	} else {
		o.PaymentType = domain.PaymentPurchase
	}
	if domain.IsFinalOperationStatus(status) {
		o.CompletedAt = created.Add(time.Minute)
	}
	return o
}

func rec(payment, typ, status string, amount int64, cur string, created time.Time) domain.Record {
	return domain.Record{Source: "records", PaymentID: payment, Type: typ, Status: status,
		Amount: domain.Money{Amount: amount, Currency: cur}, CreatedAt: created, Origin: "r.csv:" + payment, Method: "advcash"}
}

var day = 24 * time.Hour

func TestEveryResultCode(t *testing.T) {
	old := now.Add(-40 * day)
	recent := now.Add(-time.Hour)
	tests := []struct {
		name   string
		ops    []domain.Operation
		recs   []domain.Record
		result string
		reason string
		by     string
	}{
		{"matched", []domain.Operation{op(1, "p", "sale", "success", 100000, "UAH", old)}, []domain.Record{rec("p", "purchase", "paid", 100000, "UAH", old)},
			"matched", "amount, currency and status agree", "payment_id"},
		{"matched within tolerance", []domain.Operation{op(1, "p", "sale", "success", 100001, "UAH", old)}, []domain.Record{rec("p", "purchase", "paid", 100000, "UAH", old)},
			"matched", "", "payment_id"},
		{"matched failed", []domain.Operation{op(1, "p", "sale", "decline", 100000, "UAH", old)}, []domain.Record{rec("p", "purchase", "failed", 100000, "UAH", old)},
			"matched", "", "payment_id"},
		{"amount_mismatch", []domain.Operation{op(1, "p", "sale", "success", 100050, "UAH", old)}, []domain.Record{rec("p", "purchase", "paid", 100000, "UAH", old)},
			"amount_mismatch", "amount: merchant 1000.00 UAH, ECommPay 1000.50 UAH (operation 1), difference -0.50 UAH", "payment_id"},
		{"currency_mismatch", []domain.Operation{op(1, "p", "sale", "success", 100000, "EUR", old)}, []domain.Record{rec("p", "purchase", "paid", 100000, "UAH", old)},
			"currency_mismatch", "currency: merchant 1000.00 UAH, ECommPay 1000.00 EUR", "payment_id"},
		{"status_mismatch paid/decline", []domain.Operation{op(1, "p", "sale", "decline", 100000, "UAH", old)}, []domain.Record{rec("p", "purchase", "paid", 100000, "UAH", old)},
			"status_mismatch", "status: merchant paid, ECommPay decline", "payment_id"},
		{"status_mismatch failed/success", []domain.Operation{op(1, "p", "sale", "success", 100000, "UAH", old)}, []domain.Record{rec("p", "purchase", "failed", 100000, "UAH", old)},
			"status_mismatch", "merchant failed, ECommPay success", "payment_id"},
		{"refunded purchase needs a refunded payment", []domain.Operation{op(1, "p", "sale", "success", 100000, "UAH", old)}, []domain.Record{rec("p", "purchase", "refunded", 100000, "UAH", old)},
			"status_mismatch", "merchant refunded", "payment_id"},
		{"missing_at_provider", nil, []domain.Record{rec("gone", "purchase", "paid", 100, "UAH", old)},
			"missing_at_provider", "no ECommPay operation for the merchant's paid record of 1.00 UAH, created 2026-10-14 12:00 UTC, past the 35d limit for advcash purchase (ended 2026-11-18 12:00 UTC)", ""},
		{"pending record without operation", nil, []domain.Record{rec("new", "purchase", "paid", 100, "UAH", recent)},
			"pending", "within the 35d limit for advcash purchase (until 2026-12-28 11:00 UTC)", ""},
		{"missing_in_records", []domain.Operation{op(1, "p", "sale", "success", 100000, "UAH", old)}, nil,
			"missing_in_records", "ECommPay sale 1 of 1000.00 UAH succeeded", ""},
		{"duplicate records", []domain.Operation{op(1, "p", "sale", "success", 100000, "UAH", old)},
			[]domain.Record{rec("p", "purchase", "paid", 100000, "UAH", old), rec("p", "purchase", "paid", 100000, "UAH", old)},
			"duplicate", "2 merchant records for one payment and type", "payment_id"},
		{"duplicate operations: a double charge", []domain.Operation{op(1, "p", "sale", "success", 50, "UAH", old), op(2, "p", "sale", "success", 50, "UAH", old)},
			[]domain.Record{rec("p", "purchase", "paid", 50, "UAH", old)},
			"duplicate", "2 successful ECommPay charges for one payment: sale 1 of 0.50 UAH, sale 2 of 0.50 UAH", "payment_id"},
		{"pending operation", []domain.Operation{op(1, "p", "sale", "processing", 100000, "UAH", recent)}, []domain.Record{rec("p", "purchase", "paid", 100000, "UAH", recent)},
			"pending", "ECommPay operation 1 is processing, created 2026-11-23 11:00 UTC", "payment_id"},
		{"overdue operation", []domain.Operation{op(1, "p", "sale", "processing", 100000, "UAH", old)}, []domain.Record{rec("p", "purchase", "paid", 100000, "UAH", old)},
			"overdue", "past the 35d limit for advcash purchase", "payment_id"},
		{"overdue merchant", []domain.Operation{op(1, "p", "sale", "success", 100000, "UAH", old)}, []domain.Record{rec("p", "purchase", "pending", 100000, "UAH", old)},
			"overdue", "the merchant's record is pending", "payment_id"},
		{"matched by provider id", []domain.Operation{op(1, "p", "sale", "success", 100000, "UAH", old)},
			[]domain.Record{func() domain.Record {
				r := rec("", "purchase", "paid", 100000, "UAH", old)
				r.ProviderPaymentID = "pp-p-sale"
				return r
			}()},
			"matched", "", "provider_payment_id"},
		{"matched by operation id", []domain.Operation{op(12345678901234567, "p", "payout", "success", 100000, "UAH", old)},
			[]domain.Record{func() domain.Record {
				r := rec("", "payout", "paid", 100000, "UAH", old)
				r.OperationID = 12345678901234567
				return r
			}()},
			"matched", "", "operation_id"},
		{"a reversal is a refund", []domain.Operation{op(1, "p", "reversal", "success", 100, "UAH", old)}, []domain.Record{rec("p", "refund", "paid", 100, "UAH", old)},
			"matched", "", "payment_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Run(Input{Operations: tt.ops, Records: tt.recs}, Config{Now: now, AmountTolerance: 1})
			if len(out.Items) != 1 {
				t.Fatalf("%d items: %+v", len(out.Items), out.Items)
			}
			it := out.Items[0]
			if it.Result != tt.result || it.MatchedBy != tt.by || !strings.Contains(it.Reason, tt.reason) {
				t.Errorf("got %s by %q: %s\nwant %s by %q: …%s…", it.Result, it.MatchedBy, it.Reason, tt.result, tt.by, tt.reason)
			}
		})
	}
}

func TestNoItemForAnUnsuccessfulOperationWithoutRecord(t *testing.T) {
	out := Run(Input{Operations: []domain.Operation{op(1, "p", "sale", "decline", 1, "UAH", now), op(2, "q", "sale", "processing", 1, "UAH", now), op(3, "r", "auth", "success", 1, "UAH", now)}}, Config{Now: now})
	if len(out.Items) != 0 {
		t.Errorf("items: %+v", out.Items)
	}
}

func TestCardPartnerPayoutLimit(t *testing.T) {
	o := op(1, "p", "payout", "processing", 100, "UZS", now.Add(-25*time.Hour))
	o.PaymentMethod = "Card partner"
	r := rec("p", "payout", "paid", 100, "UZS", o.CreatedAt)
	out := Run(Input{Operations: []domain.Operation{o}, Records: []domain.Record{r}}, Config{Now: now})
	if it := out.Items[0]; it.Result != domain.ResultOverdue || !strings.Contains(it.Reason, "past the 24h limit for Card partner payout") {
		t.Errorf("%s: %s", it.Result, it.Reason)
	}
	out = Run(Input{Operations: []domain.Operation{o}, Records: []domain.Record{r}}, Config{Now: now.Add(-2 * time.Hour)})
	if it := out.Items[0]; it.Result != domain.ResultPending {
		t.Errorf("23h in: %s: %s", it.Result, it.Reason)
	}
	if len(out.Recheck) != 1 || out.Recheck[0].PaymentID != "p" {
		t.Errorf("past the 20m base time a re-check is due: %+v", out.Recheck)
	}
}

func TestResolutionHoldsUntilTheDataChanges(t *testing.T) {
	ops := []domain.Operation{op(1, "p", "sale", "success", 100050, "UAH", now.Add(-day))}
	recs := []domain.Record{rec("p", "purchase", "paid", 100000, "UAH", now.Add(-day))}
	first := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
	it := first.Items[0]
	res := Resolution{ProjectID: it.ProjectID, ID: it.PaymentID, Type: it.Type, Code: it.Code, Reason: "bank-fee", Note: "50 kopecks fee",
		User: "alice", At: now, Fingerprint: it.Fingerprint, Summary: it.Reason}
	in := Input{Operations: ops, Records: recs, Resolutions: map[ResolutionKey]Resolution{res.Key(): res}}
	out := Run(in, Config{Now: now})
	if got := out.Items[0]; got.Result != domain.ResultResolved || got.Code != domain.ResultAmountMismatch ||
		!strings.Contains(got.Reason, "resolved by alice at 2026-11-23 12:00 UTC as bank-fee (50 kopecks fee); was amount_mismatch") {
		t.Fatalf("resolved: %s %s: %s", got.Result, got.Code, got.Reason)
	}
	// The provider amount changes: the resolution re-opens and says why.
	in.Operations[0].SumInitial.Amount = 100070
	out = Run(in, Config{Now: now})
	if got := out.Items[0]; got.Result != domain.ResultAmountMismatch || !strings.Contains(got.Reason, "re-opened: the data changed since alice resolved it") || len(out.Reopened) != 1 {
		t.Fatalf("re-opened: %s: %s (%d reopened)", got.Result, got.Reason, len(out.Reopened))
	}
}

func TestSameDataSameOrderWhateverTheInputOrder(t *testing.T) {
	var ops []domain.Operation
	var recs []domain.Record
	for i := 0; i < 50; i++ {
		id := string(rune('a'+i%26)) + string(rune('a'+i/26))
		ops = append(ops, op(uint64(100+i), id, "sale", "success", int64(1000+i), "UAH", now.Add(-day)))
		if i%3 != 0 {
			recs = append(recs, rec(id, "purchase", "paid", int64(1000+i%7), "UAH", now.Add(-day)))
		}
	}
	a := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
	// Reverse both inputs.
	rops := append([]domain.Operation(nil), ops...)
	rrecs := append([]domain.Record(nil), recs...)
	for i, j := 0, len(rops)-1; i < j; i, j = i+1, j-1 {
		rops[i], rops[j] = rops[j], rops[i]
	}
	for i, j := 0, len(rrecs)-1; i < j; i, j = i+1, j-1 {
		rrecs[i], rrecs[j] = rrecs[j], rrecs[i]
	}
	b := Run(Input{Operations: rops, Records: rrecs}, Config{Now: now})
	if len(a.Items) != len(b.Items) {
		t.Fatal("different item counts")
	}
	for i := range a.Items {
		x, y := a.Items[i], b.Items[i]
		if x.PaymentID != y.PaymentID || x.Result != y.Result || x.Reason != y.Reason {
			t.Fatalf("item %d differs:\n%+v\n%+v", i, x, y)
		}
	}
}
