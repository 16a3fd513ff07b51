package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// withOpID is a record that names its operation.
func withOpID(r domain.Record, id uint64) domain.Record {
	r.OperationID = id
	return r
}

// summary is "result part: reason" per item, for failure messages.
func summary(items []domain.Item) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "\n  %s %s %s by %q: %s", it.Type, it.Part, it.Result, it.MatchedBy, it.Reason)
	}
	return b.String()
}

type wantItem struct {
	typ, result, by string
	opID            uint64 // the operation the item shows, 0 for none
	reason          string // a part of the reason
}

func check(t *testing.T, out Output, want []wantItem) {
	t.Helper()
	if len(out.Items) != len(want) {
		t.Fatalf("%d items, want %d:%s", len(out.Items), len(want), summary(out.Items))
	}
	for i, w := range want {
		it := out.Items[i]
		var opID uint64
		if it.Provider != nil {
			opID = it.Provider.OperationID
		}
		if it.Type != w.typ || it.Result != w.result || it.MatchedBy != w.by || opID != w.opID || !strings.Contains(it.Reason, w.reason) {
			t.Errorf("item %d: %s %s by %q op %d: %s\nwant %s %s by %q op %d: …%s…", i, it.Type, it.Result, it.MatchedBy, opID, it.Reason,
				w.typ, w.result, w.by, w.opID, w.reason)
		}
	}
}

func TestRefundsInParts(t *testing.T) {
	old := now.Add(-40 * day)
	sale := op(1, "p", "sale", "success", 10000, "EUR", old)
	sale.PaymentStatus = domain.StatusRefunded
	r1 := op(2, "p", "refund", "success", 4000, "EUR", old.Add(time.Hour))
	r2 := op(3, "p", "refund", "success", 6000, "EUR", old.Add(2*time.Hour))
	r1.ProviderPaymentID, r2.ProviderPaymentID = "pp-r1", "pp-r2"
	// Every operation tells the payment's status as of when it was read:
	// the latest is the newest.
	r1.PaymentStatus, r2.PaymentStatus = domain.StatusPartiallyRefunded, domain.StatusRefunded
	ops := []domain.Operation{sale, r1, r2}
	purchase := rec("p", "purchase", "refunded", 10000, "EUR", old)

	t.Run("both recorded", func(t *testing.T) {
		recs := []domain.Record{purchase, rec("p", "refund", "paid", 6000, "EUR", old), rec("p", "refund", "paid", 4000, "EUR", old)}
		out := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, "agree"},
			{"refund", "matched", "payment_id", 2, "refund 1 of 2: amount, currency and status agree"},
			{"refund", "matched", "payment_id", 3, "refund 2 of 2"},
		})
		if out.Items[1].Merchant.Amount.Amount != 4000 || out.Items[2].Merchant.Amount.Amount != 6000 {
			t.Errorf("records paired with the wrong refunds:%s", summary(out.Items))
		}
		if out.Items[1].Part == out.Items[2].Part || out.Items[1].Part != "operation:2" {
			t.Errorf("parts %q and %q", out.Items[1].Part, out.Items[2].Part)
		}
	})
	t.Run("one recorded", func(t *testing.T) {
		recs := []domain.Record{purchase, rec("p", "refund", "paid", 6000, "EUR", old)}
		out := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, ""},
			{"refund", "missing_in_records", "", 2, "refund 1 of 2: ECommPay refund 2 of 40.00 EUR succeeded"},
			{"refund", "matched", "payment_id", 3, "refund 2 of 2"},
		})
	})
	t.Run("recorded with operation ids", func(t *testing.T) {
		// The same amounts: only the ids tell them apart, and they are
		// given the other way round from the time order.
		a := op(2, "p", "refund", "success", 5000, "EUR", old.Add(time.Hour))
		b := op(3, "p", "refund", "success", 5000, "EUR", old.Add(2*time.Hour))
		b.PaymentStatus = domain.StatusRefunded
		ra := withOpID(rec("", "refund", "paid", 5000, "EUR", old.Add(3*time.Hour)), 3)
		rb := withOpID(rec("p", "refund", "paid", 5000, "EUR", old.Add(4*time.Hour)), 2)
		out := Run(Input{Operations: []domain.Operation{sale, a, b}, Records: []domain.Record{purchase, ra, rb}}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, ""},
			{"refund", "matched", "operation_id", 2, "refund 1 of 2"},
			{"refund", "matched", "operation_id", 3, "refund 2 of 2"},
		})
		if out.Items[1].Merchant.OperationID != 2 || out.Items[2].Merchant.OperationID != 3 {
			t.Errorf("records not paired by their operation ids:%s", summary(out.Items))
		}
	})
	t.Run("recorded with provider ids", func(t *testing.T) {
		ra := rec("p", "refund", "paid", 6000, "EUR", old)
		ra.ProviderPaymentID = "pp-r1" // names refund 2 (40.00), says 60.00
		out := Run(Input{Operations: ops, Records: []domain.Record{purchase, ra}}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, ""},
			{"refund", "amount_mismatch", "provider_payment_id", 2, "refund 1 of 2: amount: merchant 60.00 EUR, ECommPay 40.00 EUR"},
			{"refund", "missing_in_records", "", 3, "refund 2 of 2"},
		})
	})
	t.Run("a part left differs in amount", func(t *testing.T) {
		recs := []domain.Record{purchase, rec("p", "refund", "paid", 4000, "EUR", old), rec("p", "refund", "paid", 6100, "EUR", old)}
		out := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, ""},
			{"refund", "matched", "payment_id", 2, "refund 1 of 2"},
			{"refund", "amount_mismatch", "payment_id", 3, "refund 2 of 2: amount: merchant 61.00 EUR, ECommPay 60.00 EUR (operation 3)"},
		})
	})
	t.Run("a record more than ECommPay has", func(t *testing.T) {
		recs := []domain.Record{purchase, rec("p", "refund", "paid", 4000, "EUR", old), rec("p", "refund", "paid", 6000, "EUR", old),
			rec("p", "refund", "paid", 1500, "EUR", old)}
		out := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, ""},
			{"refund", "matched", "payment_id", 2, "refund 1 of 3"},
			{"refund", "matched", "payment_id", 3, "refund 2 of 3"},
			{"refund", "missing_at_provider", "payment_id", 0, "refund 3 of 3: no ECommPay operation for the merchant's paid record of 15.00 EUR"},
		})
	})
	t.Run("one record line twice", func(t *testing.T) {
		twice := rec("p", "refund", "paid", 4000, "EUR", old)
		again := twice
		again.Origin = "r.csv:again"
		recs := []domain.Record{purchase, twice, again, rec("p", "refund", "paid", 6000, "EUR", old)}
		out := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, ""},
			{"refund", "duplicate", "payment_id", 2, "2 merchant records for one refund (ECommPay refund 2): r.csv:again, r.csv:p"},
			{"refund", "matched", "payment_id", 3, ""},
		})
	})
	t.Run("one operation claimed by two records", func(t *testing.T) {
		recs := []domain.Record{purchase, withOpID(rec("p", "refund", "paid", 4000, "EUR", old), 2),
			withOpID(rec("p", "refund", "paid", 6000, "EUR", old), 2)}
		out := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, ""},
			{"refund", "duplicate", "operation_id", 2, "2 merchant records for one refund (ECommPay refund 2)"},
			{"refund", "missing_in_records", "", 3, ""},
		})
	})
	t.Run("a declined attempt and its retry", func(t *testing.T) {
		declined := op(4, "p", "refund", "decline", 6000, "EUR", old.Add(90*time.Minute))
		recs := []domain.Record{purchase, rec("p", "refund", "paid", 4000, "EUR", old), rec("p", "refund", "paid", 6000, "EUR", old),
			rec("p", "refund", "failed", 6000, "EUR", old)}
		out := Run(Input{Operations: []domain.Operation{sale, r1, declined, r2}, Records: recs}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, ""},
			{"refund", "matched", "payment_id", 2, "refund 1 of 3"},
			{"refund", "matched", "payment_id", 4, "refund 2 of 3"},
			{"refund", "matched", "payment_id", 3, "refund 3 of 3"},
		})
		if out.Items[2].Merchant.Status != "failed" || out.Items[3].Merchant.Status != "paid" {
			t.Errorf("the paid record took the declined attempt:%s", summary(out.Items))
		}
	})
}

func TestRefundReverse(t *testing.T) {
	old := now.Add(-40 * day)
	sale := op(1, "p", "sale", "success", 10000, "EUR", old)
	refund := op(2, "p", "refund", "success", 10000, "EUR", old.Add(time.Hour))
	reverse := op(3, "p", "refund reverse", "success", 10000, "EUR", old.Add(2*time.Hour))
	ops := []domain.Operation{sale, refund, reverse}
	purchase := rec("p", "purchase", "paid", 10000, "EUR", old)
	for _, tt := range []struct {
		status, result, reason string
	}{
		{"failed", "matched", "was taken back by refund reverse 3"},
		{"paid", "status_mismatch", "status: merchant paid, ECommPay reversed (ECommPay refund 2 of 100.00 EUR was taken back by refund reverse 3"},
	} {
		t.Run("record "+tt.status, func(t *testing.T) {
			out := Run(Input{Operations: ops, Records: []domain.Record{purchase, rec("p", "refund", tt.status, 10000, "EUR", old)}}, Config{Now: now})
			check(t, out, []wantItem{
				{"purchase", "matched", "payment_id", 1, ""},
				{"refund", tt.result, "payment_id", 2, tt.reason},
			})
		})
	}
	t.Run("no record", func(t *testing.T) {
		// The refund moved no money in the end: nothing to reconcile.
		out := Run(Input{Operations: ops, Records: []domain.Record{purchase}}, Config{Now: now})
		check(t, out, []wantItem{{"purchase", "matched", "payment_id", 1, ""}})
	})
	t.Run("no refund to take back", func(t *testing.T) {
		out := Run(Input{Operations: []domain.Operation{sale, reverse}, Records: []domain.Record{purchase}}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, ""},
			{"refund", "missing_in_records", "", 3, "refund reverse 3 of 100.00 EUR succeeded at 2026-10-14 14:01 UTC, with no refund of this payment to take back"},
		})
	})
	t.Run("still running", func(t *testing.T) {
		running := op(3, "p", "refund reverse", "processing", 10000, "EUR", now.Add(-time.Hour))
		out := Run(Input{Operations: []domain.Operation{sale, refund, running}, Records: []domain.Record{purchase, rec("p", "refund", "paid", 10000, "EUR", old)}}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, ""},
			{"refund", "overdue", "payment_id", 2, "is being taken back: refund reverse 3 is processing"},
		})
	})
	t.Run("of one part of two", func(t *testing.T) {
		a := op(2, "p", "refund", "success", 3000, "EUR", old.Add(time.Hour))
		b := op(4, "p", "refund", "success", 7000, "EUR", old.Add(90*time.Minute))
		rv := op(3, "p", "refund reverse", "success", 3000, "EUR", old.Add(2*time.Hour))
		recs := []domain.Record{purchase, rec("p", "refund", "paid", 7000, "EUR", old), rec("p", "refund", "failed", 3000, "EUR", old)}
		out := Run(Input{Operations: []domain.Operation{sale, a, b, rv}, Records: recs}, Config{Now: now})
		check(t, out, []wantItem{
			{"purchase", "matched", "payment_id", 1, ""},
			{"refund", "matched", "payment_id", 2, "refund 1 of 2"},
			{"refund", "matched", "payment_id", 4, "refund 2 of 2"},
		})
	})
}

func TestDoubleCharge(t *testing.T) {
	old := now.Add(-40 * day)
	for _, tt := range []struct {
		name   string
		ops    []domain.Operation
		result string
		reason string
	}{
		{"two sales", []domain.Operation{op(1, "p", "sale", "success", 500, "EUR", old), op(2, "p", "sale", "success", 500, "EUR", old.Add(time.Minute))},
			"duplicate", "2 successful ECommPay charges for one payment: sale 1 of 5.00 EUR, sale 2 of 5.00 EUR"},
		{"two captures", []domain.Operation{op(1, "p", "auth", "success", 500, "EUR", old), op(2, "p", "capture", "success", 500, "EUR", old.Add(time.Minute)),
			op(3, "p", "capture", "success", 500, "EUR", old.Add(2*time.Minute))}, "duplicate", "capture 2 of 5.00 EUR, capture 3 of 5.00 EUR"},
		{"a sale declined, then one that succeeded", []domain.Operation{op(1, "p", "sale", "decline", 500, "EUR", old), op(2, "p", "sale", "success", 500, "EUR", old.Add(time.Minute))},
			"matched", ""},
		{"auth then capture", []domain.Operation{op(1, "p", "auth", "success", 500, "EUR", old), op(2, "p", "capture", "success", 500, "EUR", old.Add(time.Minute))},
			"matched", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := Run(Input{Operations: tt.ops, Records: []domain.Record{rec("p", "purchase", "paid", 500, "EUR", old)}}, Config{Now: now})
			if len(out.Items) != 1 || out.Items[0].Result != tt.result || !strings.Contains(out.Items[0].Reason, tt.reason) {
				t.Errorf("want %s …%s…; got%s", tt.result, tt.reason, summary(out.Items))
			}
		})
	}
}

func TestAuthorisations(t *testing.T) {
	recent := now.Add(-time.Hour)
	old := now.Add(-40 * day)
	auth := func(created time.Time) domain.Operation { return op(1, "p", "auth", "success", 700, "EUR", created) }
	cancel := func(created time.Time) domain.Operation {
		return op(2, "p", "cancel", "success", 700, "EUR", created.Add(time.Minute))
	}
	for _, tt := range []struct {
		name   string
		ops    []domain.Operation
		status string
		result string
		reason string
	}{
		{"authorised, not captured yet", []domain.Operation{auth(recent)}, "paid", "pending", "ECommPay auth 1 succeeded: authorised, not captured yet"},
		{"authorised, never captured", []domain.Operation{auth(old)}, "paid", "overdue", "authorised, not captured yet, created 2026-10-14 12:00 UTC, past"},
		{"cancelled, the books say failed", []domain.Operation{auth(old), cancel(old)}, "failed", "matched", "released the authorisation"},
		{"cancelled, the books say paid", []domain.Operation{auth(old), cancel(old)}, "paid", "status_mismatch", "status: merchant paid, ECommPay cancelled (ECommPay cancel 2 released the authorisation: nothing was charged)"},
		{"auth declined", []domain.Operation{op(1, "p", "auth", "decline", 700, "EUR", old)}, "failed", "matched", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			created := tt.ops[0].CreatedAt
			out := Run(Input{Operations: tt.ops, Records: []domain.Record{rec("p", "purchase", tt.status, 700, "EUR", created)}}, Config{Now: now})
			if len(out.Items) != 1 || out.Items[0].Result != tt.result || !strings.Contains(out.Items[0].Reason, tt.reason) {
				t.Errorf("want %s …%s…; got%s", tt.result, tt.reason, summary(out.Items))
			}
		})
	}
	// An authorisation without a record moved no money: no item; a
	// cancelled one neither.
	out := Run(Input{Operations: []domain.Operation{auth(old), cancel(old)}}, Config{Now: now})
	if len(out.Items) != 0 {
		t.Errorf("items for an authorisation cancelled, without a record:%s", summary(out.Items))
	}
}

// Every final failure of ECommPay's list agrees with a merchant's failed;
// success with paid; a commission, an account verification or a recurring
// update is no item.
func TestVocabularyInTheEngine(t *testing.T) {
	old := now.Add(-40 * day)
	for _, status := range []string{"decline", "error", "internal error", "external error", "expired", "invoice cancelled", "canceled", "cancelled"} {
		out := Run(Input{Operations: []domain.Operation{op(1, "p", "sale", status, 100, "EUR", old)},
			Records: []domain.Record{rec("p", "purchase", "failed", 100, "EUR", old)}}, Config{Now: now})
		if len(out.Items) != 1 || out.Items[0].Result != domain.ResultMatched {
			t.Errorf("%s against failed:%s", status, summary(out.Items))
		}
		out = Run(Input{Operations: []domain.Operation{op(1, "p", "sale", status, 100, "EUR", old)},
			Records: []domain.Record{rec("p", "purchase", "paid", 100, "EUR", old)}}, Config{Now: now})
		if len(out.Items) != 1 || out.Items[0].Result != domain.ResultStatusMismatch {
			t.Errorf("%s against paid:%s", status, summary(out.Items))
		}
	}
	payout := op(1, "w", "payout", "success", 10000, "EUR", old)
	fee := op(2, "w", "commission", "success", 150, "EUR", old.Add(time.Minute))
	fee.PaymentType = domain.PaymentPayout
	check(t, Run(Input{Operations: []domain.Operation{payout, fee}, Records: []domain.Record{rec("w", "payout", "paid", 10000, "EUR", old)}}, Config{Now: now}),
		[]wantItem{{"payout", "matched", "payment_id", 1, ""}})
	for _, typ := range []string{"commission", "account verification", "recurring update", "recurring cancel", "contract registration"} {
		out := Run(Input{Operations: []domain.Operation{op(9, "v", typ, "success", 100, "EUR", old)}}, Config{Now: now})
		if len(out.Items) != 0 {
			t.Errorf("a successful %s without a record:%s", typ, summary(out.Items))
		}
	}
}

// A status or a type the vocabulary does not know is not final: within the
// limit pending, past it overdue, with a reason that names the word and the
// config key; given a meaning in the config, it is read so.
func TestUnknownWords(t *testing.T) {
	old := now.Add(-40 * day)
	recent := now.Add(-time.Hour)
	odd := op(1, "p", "sale", "awaiting foo", 100, "EUR", recent)
	r := rec("p", "purchase", "paid", 100, "EUR", recent)
	check(t, Run(Input{Operations: []domain.Operation{odd}, Records: []domain.Record{r}}, Config{Now: now}),
		[]wantItem{{"purchase", "pending", "payment_id", 1, `is "awaiting foo", a status reconciled does not know: read as not final (give it a meaning in [reconcile.operation_statuses])`}})
	odd.CreatedAt, r.CreatedAt = old, old
	check(t, Run(Input{Operations: []domain.Operation{odd}, Records: []domain.Record{r}}, Config{Now: now}),
		[]wantItem{{"purchase", "overdue", "payment_id", 1, "a status reconciled does not know"}})
	// (op() gives the payment the operation's status: it needs a meaning too.)
	v := domain.Builtin.With(nil, map[string]domain.Outcome{"awaiting foo": domain.OutcomeSuccess}, map[string]domain.Outcome{"awaiting foo": domain.OutcomeSuccess})
	check(t, Run(Input{Operations: []domain.Operation{odd}, Records: []domain.Record{r}}, Config{Now: now, Vocabulary: v}),
		[]wantItem{{"purchase", "matched", "payment_id", 1, ""}})

	// An unknown type in a purchase: the purchase is not final while it is
	// there, whatever the sale says.
	sale := op(1, "q", "sale", "success", 100, "EUR", old)
	gift := op(2, "q", "gift card", "success", 100, "EUR", old.Add(time.Minute))
	rq := rec("q", "purchase", "paid", 100, "EUR", old)
	check(t, Run(Input{Operations: []domain.Operation{sale, gift}, Records: []domain.Record{rq}}, Config{Now: now}),
		[]wantItem{{"purchase", "overdue", "payment_id", 1, `operation 2 has the type "gift card", which reconciled does not know: read as not final (give it a meaning in [reconcile.operation_types])`}})
	v = domain.Builtin.With(map[string]domain.Kind{"gift card": domain.KindNone}, nil, nil)
	check(t, Run(Input{Operations: []domain.Operation{sale, gift}, Records: []domain.Record{rq}}, Config{Now: now, Vocabulary: v}),
		[]wantItem{{"purchase", "matched", "payment_id", 1, ""}})

	// A refunded purchase is checked against the payment's status: an
	// unknown one is not final either.
	sale.PaymentStatus = "chargeback pending"
	rr := rec("q", "purchase", "refunded", 100, "EUR", old)
	check(t, Run(Input{Operations: []domain.Operation{sale}, Records: []domain.Record{rr}}, Config{Now: now}),
		[]wantItem{{"purchase", "overdue", "payment_id", 1, `the payment's status "chargeback pending" is one reconciled does not know`}})
}

// The status map of the config replaces the default of the statuses it
// names.
func TestStatusMapOverride(t *testing.T) {
	old := now.Add(-40 * day)
	ops := []domain.Operation{op(1, "p", "sale", "expired", 100, "EUR", old)}
	recs := []domain.Record{rec("p", "purchase", "failed", 100, "EUR", old)}
	check(t, Run(Input{Operations: ops, Records: recs}, Config{Now: now}), []wantItem{{"purchase", "matched", "payment_id", 1, ""}})
	cfg := Config{Now: now, StatusMap: map[string][]string{"failed": {"decline"}}}
	check(t, Run(Input{Operations: ops, Records: recs}, cfg), []wantItem{{"purchase", "status_mismatch", "payment_id", 1, "merchant failed, ECommPay expired"}})
}

// Each refund part is resolved on its own, and a resolution made before
// parts had keys (Part "") holds for a refund whose data is the same.
func TestResolutionsOfParts(t *testing.T) {
	old := now.Add(-40 * day)
	ops := []domain.Operation{op(1, "p", "sale", "success", 10000, "EUR", old),
		op(2, "p", "refund", "success", 4000, "EUR", old.Add(time.Hour)), op(3, "p", "refund", "success", 6000, "EUR", old.Add(2*time.Hour))}
	recs := []domain.Record{rec("p", "purchase", "paid", 10000, "EUR", old)}
	first := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
	if len(first.Items) != 3 {
		t.Fatalf("%s", summary(first.Items))
	}
	it := first.Items[2]
	res := Resolution{ProjectID: it.ProjectID, ID: it.PaymentID, Type: it.Type, Part: it.Part, Code: it.Code, Reason: "known",
		User: "alice", At: now, Fingerprint: it.Fingerprint, Summary: it.Reason}
	out := Run(Input{Operations: ops, Records: recs, Resolutions: map[ResolutionKey]Resolution{res.Key(): res}}, Config{Now: now})
	if got := []string{out.Items[1].Result, out.Items[2].Result}; !slices.Equal(got, []string{"missing_in_records", "resolved"}) {
		t.Errorf("resolving part 2 gave %v:%s", got, summary(out.Items))
	}
	if len(out.Reopened) != 0 {
		t.Errorf("re-opened %+v", out.Reopened)
	}

	// One refund, resolved by an older release with no part.
	one := ops[:2]
	before := Run(Input{Operations: one}, Config{Now: now})
	it = before.Items[0]
	legacy := Resolution{ProjectID: it.ProjectID, ID: it.PaymentID, Type: it.Type, Code: it.Code, Reason: "known",
		User: "bob", At: now, Fingerprint: it.Fingerprint, Summary: it.Reason}
	out = Run(Input{Operations: one, Resolutions: map[ResolutionKey]Resolution{legacy.Key(): legacy}}, Config{Now: now})
	if out.Items[0].Result != domain.ResultResolved {
		t.Errorf("a resolution without a part no longer holds:%s", summary(out.Items))
	}
}

// The same data gives the same items, in the same order, whatever the
// order of the input, with refunds in parts and records named several ways.
func TestPartsOrderFree(t *testing.T) {
	old := now.Add(-40 * day)
	var ops []domain.Operation
	var recs []domain.Record
	for i := 0; i < 40; i++ {
		p := fmt.Sprintf("p%02d", i)
		base := uint64(1000 + 10*i)
		ops = append(ops, op(base, p, "sale", "success", 9000, "EUR", old))
		for k := 0; k < i%4; k++ {
			ops = append(ops, op(base+1+uint64(k), p, "refund", []string{"success", "decline"}[k%2], int64(1000*(k%2+1)), "EUR", old.Add(time.Duration(k+1)*time.Hour)))
		}
		if i%5 == 0 {
			ops = append(ops, op(base+8, p, "refund reverse", "success", 1000, "EUR", old.Add(9*time.Hour)))
		}
		recs = append(recs, rec(p, "purchase", "paid", 9000, "EUR", old))
		for k := 0; k < i%3; k++ {
			r := rec(p, "refund", []string{"paid", "failed"}[k%2], int64(1000*(k%2+1)), "EUR", old)
			if i%7 == 0 {
				r.OperationID = base + 1 + uint64(k)
			}
			r.Origin = fmt.Sprintf("r.csv:%d", len(recs))
			recs = append(recs, r)
		}
	}
	a := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
	slices.Reverse(ops)
	slices.Reverse(recs)
	b := Run(Input{Operations: ops, Records: recs}, Config{Now: now})
	if len(a.Items) != len(b.Items) {
		t.Fatalf("%d items, reversed %d", len(a.Items), len(b.Items))
	}
	codes := map[string]int{}
	for i := range a.Items {
		x, y := a.Items[i], b.Items[i]
		if x.PaymentID != y.PaymentID || x.Part != y.Part || x.Result != y.Result || x.Reason != y.Reason || x.Fingerprint != y.Fingerprint {
			t.Fatalf("item %d differs:\n%+v\n%+v", i, x, y)
		}
		codes[x.Result]++
	}
	t.Logf("codes %v", codes)
	if len(codes) < 4 {
		t.Errorf("the data is too plain to test anything: %v", codes)
	}
}
