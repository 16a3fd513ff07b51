package reconcile

import (
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// A record without a payment id, named by a provider id that two
// operations of different payments share, goes to the same payment
// whatever the order of the input (the lowest operation id's).
func TestProviderIDLookupDependsOnInputOrder(t *testing.T) {
	old := now.Add(-40 * day)
	a := op(1, "pa", "sale", "success", 9000, "EUR", old)
	b := op(2, "pb", "sale", "success", 9000, "EUR", old.Add(time.Minute))
	a.ProviderPaymentID, b.ProviderPaymentID = "pp-shared", "pp-shared"
	r := rec("", "purchase", "paid", 9000, "EUR", old)
	r.ProviderPaymentID = "pp-shared"
	x := outputText(Run(Input{Operations: []domain.Operation{a, b}, Records: []domain.Record{r}}, Config{Now: now}))
	y := outputText(Run(Input{Operations: []domain.Operation{b, a}, Records: []domain.Record{r}}, Config{Now: now}))
	if !slices.Equal(x, y) {
		t.Errorf("the same data gives other items in another order:\n%s\n--\n%s", strings.Join(x, "\n"), strings.Join(y, "\n"))
	}
}

// A record that names its refund by operation_id takes that refund, even
// when its provider_payment_id is one that another refund of the payment
// also carries (a provider that reuses the payment's id on refunds, a
// merchant book that keeps the payment's provider id on every line).
// Taking the first refund that matches either id, in time order, would
// give both records the first refund: a false duplicate, and the second
// refund missing_in_records.
func TestOperationIDBeatsProviderID(t *testing.T) {
	old := now.Add(-40 * day)
	sale := op(1, "p", "sale", "success", 10000, "EUR", old)
	sale.PaymentStatus = domain.StatusRefunded
	r1 := op(2, "p", "refund", "success", 4000, "EUR", old.Add(time.Hour))
	r2 := op(3, "p", "refund", "success", 6000, "EUR", old.Add(2*time.Hour))
	r1.ProviderPaymentID, r2.ProviderPaymentID = "pp-p", "pp-p"
	r1.PaymentStatus, r2.PaymentStatus = domain.StatusPartiallyRefunded, domain.StatusRefunded
	purchase := rec("p", "purchase", "refunded", 10000, "EUR", old)
	rec1 := withOpID(rec("p", "refund", "paid", 4000, "EUR", old), 2)
	rec2 := withOpID(rec("p", "refund", "paid", 6000, "EUR", old), 3)
	rec1.ProviderPaymentID, rec2.ProviderPaymentID = "pp-p", "pp-p"
	rec1.Origin, rec2.Origin = "r.csv:2", "r.csv:3"
	out := Run(Input{Operations: []domain.Operation{sale, r1, r2}, Records: []domain.Record{purchase, rec1, rec2}}, Config{Now: now})
	check(t, out, []wantItem{
		{"purchase", "matched", "payment_id", 1, ""},
		{"refund", "matched", "operation_id", 2, "refund 1 of 2"},
		{"refund", "matched", "operation_id", 3, "refund 2 of 2"},
	})
}

// A refund record with no refund operation is keyed by what it says, not
// by its place among the records left over: that place moves when another
// record of the payment is paired or added, and a resolution would stop
// holding, or land on another record, although neither changed.
func TestRecordPartKeyIsStable(t *testing.T) {
	old := now.Add(-40 * day)
	sale := op(1, "p", "sale", "success", 10000, "EUR", old)
	purchase := rec("p", "purchase", "paid", 10000, "EUR", old)
	ra := rec("p", "refund", "paid", 1000, "EUR", old.Add(time.Hour))
	rb := rec("p", "refund", "paid", 2000, "EUR", old.Add(2*time.Hour))
	ra.Origin, rb.Origin = "r.csv:2", "r.csv:3"
	in := Input{Operations: []domain.Operation{sale}, Records: []domain.Record{purchase, ra, rb}}
	first := Run(in, Config{Now: now})
	var target domain.Item
	for _, it := range first.Items {
		if it.Merchant != nil && it.Merchant.Origin == "r.csv:3" {
			target = it
		}
	}
	if target.Result != domain.ResultMissingAtProvider {
		t.Fatalf("setup:%s", summary(first.Items))
	}
	res := Resolution{ProjectID: target.ProjectID, ID: target.PaymentID, Type: target.Type, Part: target.Part, Code: target.Code,
		Reason: "booked-later", User: "alice", At: now, Fingerprint: target.Fingerprint, Summary: target.Reason}
	resolutions := map[ResolutionKey]Resolution{res.Key(): res}

	resultOf := func(out Output, origin string) string {
		for _, it := range out.Items {
			if it.Merchant != nil && it.Merchant.Origin == origin {
				return it.Result
			}
		}
		return "no item"
	}
	t.Run("another record is paired", func(t *testing.T) {
		// ECommPay's refund of the 10.00 record arrives: the 20.00 record,
		// resolved and unchanged, moves from record:2 to record:1.
		refund := op(5, "p", "refund", "success", 1000, "EUR", old.Add(time.Hour))
		out := Run(Input{Operations: []domain.Operation{sale, refund}, Records: in.Records, Resolutions: resolutions}, Config{Now: now})
		if got := resultOf(out, "r.csv:3"); got != domain.ResultResolved {
			t.Errorf("the resolved record is %s, want resolved:%s", got, summary(out.Items))
		}
	})
	t.Run("another record is added", func(t *testing.T) {
		r0 := rec("p", "refund", "paid", 500, "EUR", old.Add(30*time.Minute))
		r0.Origin = "r.csv:9"
		out := Run(Input{Operations: []domain.Operation{sale}, Records: append(slices.Clone(in.Records), r0), Resolutions: resolutions},
			Config{Now: now})
		if got := resultOf(out, "r.csv:3"); got != domain.ResultResolved {
			t.Errorf("the resolved record is %s, want resolved:%s", got, summary(out.Items))
		}
		if len(out.Reopened) != 0 {
			t.Errorf("an unchanged resolution is re-opened on another record: %+v", out.Reopened)
		}
	})
}

// A resolution made before parts had keys, for the one refund item of a
// payment with two refunds (then a "duplicate"), that no part's data
// matches is re-opened once, so that the person who resolved it is told
// why it is open again.
func TestLegacyResolutionOfSeveralRefundsIsReopened(t *testing.T) {
	old := now.Add(-40 * day)
	ops := []domain.Operation{op(1, "p", "sale", "success", 10000, "EUR", old),
		op(2, "p", "refund", "success", 4000, "EUR", old.Add(time.Hour)), op(3, "p", "refund", "success", 6000, "EUR", old.Add(2*time.Hour))}
	recs := []domain.Record{rec("p", "purchase", "paid", 10000, "EUR", old)}
	// The item before parts: one per payment and type, a duplicate
	// of the two successful refunds, fingerprinted over both.
	was := domain.Item{Code: domain.ResultDuplicate, Type: "refund", ProjectID: 580, PaymentID: "p"}
	legacy := Resolution{ProjectID: 580, ID: "p", Type: "refund", Code: domain.ResultDuplicate, Reason: "partial-refunds",
		User: "bob", At: now.Add(-day), Fingerprint: fingerprint(&was, []*domain.Operation{&ops[1], &ops[2]}, nil),
		Summary: "2 successful ECommPay refund operations for one payment: 2, 3"}
	out := Run(Input{Operations: ops, Records: recs, Resolutions: map[ResolutionKey]Resolution{legacy.Key(): legacy}}, Config{Now: now})
	if len(out.Reopened) != 1 {
		t.Errorf("the old resolution: %d re-opened, want 1:%s", len(out.Reopened), summary(out.Items))
	}
}

// Words the vocabulary does not know are read as not final: no item that
// rests on one may be "matched", and a successful charge with no record
// must still be an item.
func TestUnknownWordsNeverMatch(t *testing.T) {
	old := now.Add(-40 * day)
	recent := now.Add(-time.Hour)
	t.Run("a second sale in an unknown status", func(t *testing.T) {
		ops := []domain.Operation{op(1, "p", "sale", "success", 9000, "EUR", recent),
			op(2, "p", "sale", "awaiting foo", 9000, "EUR", recent.Add(time.Minute))}
		out := Run(Input{Operations: ops, Records: []domain.Record{rec("p", "purchase", "paid", 9000, "EUR", recent)}}, Config{Now: now})
		if len(out.Items) != 1 || out.Items[0].Result == domain.ResultMatched {
			t.Errorf("matched although operation 2 is in a status reconciled does not know:%s", summary(out.Items))
		}
	})
	t.Run("a payment status not known", func(t *testing.T) {
		sale := op(1, "p", "sale", "success", 9000, "EUR", recent)
		sale.PaymentStatus = "chargeback lost"
		out := Run(Input{Operations: []domain.Operation{sale}, Records: []domain.Record{rec("p", "purchase", "paid", 9000, "EUR", recent)}}, Config{Now: now})
		if len(out.Items) != 1 || out.Items[0].Result == domain.ResultMatched {
			t.Errorf("matched although the payment's status is one reconciled does not know:%s", summary(out.Items))
		}
	})
	t.Run("an unknown type beside a successful sale, no record", func(t *testing.T) {
		ops := []domain.Operation{op(1, "p", "sale", "success", 9000, "EUR", old),
			op(2, "p", "gift", "success", 9000, "EUR", old.Add(time.Minute))}
		out := Run(Input{Operations: ops}, Config{Now: now})
		if len(out.Items) != 1 {
			t.Fatalf("the sale of 90.00 EUR that has no record is not an item at all (%d items):%s", len(out.Items), summary(out.Items))
		}
	})
	t.Run("an unknown type with a record", func(t *testing.T) {
		ops := []domain.Operation{op(1, "p", "sale", "success", 9000, "EUR", recent),
			op(2, "p", "gift", "success", 9000, "EUR", recent.Add(time.Minute))}
		out := Run(Input{Operations: ops, Records: []domain.Record{rec("p", "purchase", "paid", 9000, "EUR", recent)}}, Config{Now: now})
		if len(out.Items) != 1 || out.Items[0].Result != domain.ResultPending {
			t.Errorf("want pending:%s", summary(out.Items))
		}
	})
}

// A commission never makes an item; internal error, external
// error, expired and invoice cancelled agree with a failed record; a
// refund taken back agrees with a failed refund record.
func TestVocabularyHolds(t *testing.T) {
	old := now.Add(-40 * day)
	out := Run(Input{Operations: []domain.Operation{op(1, "p", "commission", "success", 90, "EUR", old)}}, Config{Now: now})
	if len(out.Items) != 0 {
		t.Errorf("a commission made items:%s", summary(out.Items))
	}
	rc := rec("p", "purchase", "paid", 90, "EUR", old)
	out = Run(Input{Operations: []domain.Operation{op(1, "p", "commission", "success", 90, "EUR", old)}, Records: []domain.Record{rc}}, Config{Now: now})
	if len(out.Items) != 1 || out.Items[0].Result != domain.ResultMissingAtProvider {
		t.Errorf("a record beside a commission only:%s", summary(out.Items))
	}
	for _, st := range []string{"internal error", "external error", "expired", "invoice cancelled", "decline", "error"} {
		out := Run(Input{Operations: []domain.Operation{op(1, "p", "sale", st, 9000, "EUR", old)},
			Records: []domain.Record{rec("p", "purchase", "failed", 9000, "EUR", old)}}, Config{Now: now})
		if len(out.Items) != 1 || out.Items[0].Result != domain.ResultMatched {
			t.Errorf("%s vs failed:%s", st, summary(out.Items))
		}
	}
}

// With [reconcile] amount_tolerance, refunds pair with records within the
// tolerance, the closest: two refunds booked a cent off each are each
// matched with their own, not paired crosswise in time order and both
// reported amount_mismatch.
func TestPairingHonoursTheTolerance(t *testing.T) {
	old := now.Add(-40 * day)
	sale := op(1, "p", "sale", "success", 10000, "EUR", old)
	a := op(2, "p", "refund", "success", 4000, "EUR", old.Add(time.Hour))
	b := op(3, "p", "refund", "success", 6000, "EUR", old.Add(2*time.Hour))
	a.ProviderPaymentID, b.ProviderPaymentID = "pp-a", "pp-b"
	r1 := rec("p", "refund", "paid", 6001, "EUR", old.Add(time.Hour))
	r2 := rec("p", "refund", "paid", 4001, "EUR", old.Add(2*time.Hour))
	r1.Origin, r2.Origin = "r.csv:2", "r.csv:3"
	out := Run(Input{Operations: []domain.Operation{sale, a, b}, Records: []domain.Record{rec("p", "purchase", "paid", 10000, "EUR", old), r1, r2}},
		Config{Now: now, AmountTolerance: 5})
	check(t, out, []wantItem{
		{"purchase", "matched", "payment_id", 1, ""},
		{"refund", "matched", "payment_id", 2, "refund 1 of 2"},
		{"refund", "matched", "payment_id", 3, "refund 2 of 2"},
	})
}
