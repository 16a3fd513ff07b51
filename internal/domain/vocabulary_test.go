package domain

import (
	"slices"
	"testing"
)

// The lists of ECommPay's words as its own published integrations give
// them (docs/ecommpay-words.md), and what each must mean.
func TestOperationTypes(t *testing.T) {
	tests := []struct {
		name   string
		record string
		money  bool
	}{
		{"sale", RecordPurchase, true},
		{"auth", RecordPurchase, false},
		{"capture", RecordPurchase, true},
		{"cancel", RecordPurchase, false},
		{"refund", RecordRefund, true},
		{"reversal", RecordRefund, true},
		{"payout", RecordPayout, true},
		{"recurring", RecordPurchase, true},
		{"recurring update", "", false},
		{"recurring cancel", "", false},
		{"account verification", "", false},
		{"refund reverse", RecordRefund, true},
		{"incremental", RecordPurchase, false},
		{"capture settlement", "", false},
		{"commission", "", true},
		{"invoice", RecordPurchase, true},
		{"manual change", "", false},
		{"customer action", "", false},
		{"payment confirmation", "", false},
		{"create_cash_voucher", RecordPurchase, false},
		{"contract registration", "", false},
	}
	types, _, _ := Table()
	if len(types) != len(tests) {
		t.Errorf("the table has %d types, the list %d", len(types), len(tests))
	}
	for _, tt := range tests {
		ti := Builtin.Type(tt.name)
		if !ti.Known {
			t.Errorf("%q is not in the table", tt.name)
			continue
		}
		if got := ti.Kind.Record(); got != tt.record {
			t.Errorf("%q stands for %q, want %q", tt.name, got, tt.record)
		}
		if got := ti.Kind.MovesMoney(); got != tt.money {
			t.Errorf("%q moves money: %v, want %v", tt.name, got, tt.money)
		}
		if ti.Note == "" {
			t.Errorf("%q has no note", tt.name)
		}
	}
	if Builtin.Type(OpCommission).Kind != KindFee || Builtin.Type(OpRefundReverse).Kind != KindRefundReverse {
		t.Error("commission must be a fee and refund reverse take a refund back")
	}
	if ti := Builtin.Type("gift card"); ti.Known || ti.Kind.Record() != "" {
		t.Errorf("an unknown type: %+v", ti)
	}
}

func TestOperationStatuses(t *testing.T) {
	final := []string{"success", "decline", "error", "internal error", "external error", "expired", "invoice cancelled", "canceled", "cancelled"}
	notFinal := []string{"unknown", "processing", "external processing", "awaiting approval", "awaiting 3ds result", "awaiting redirect result",
		"awaiting customer", "awaiting customer action", "awaiting clarification", "awaiting merchant auth", "awaiting payment",
		"awaiting finalization", "awaiting confirmation", "invoice sent"}
	_, ops, _ := Table()
	if len(ops) != len(final)+len(notFinal) {
		t.Errorf("the table has %d operation statuses, the lists %d", len(ops), len(final)+len(notFinal))
	}
	for _, s := range final {
		si := Builtin.OperationStatus(s)
		want := OutcomeFailure
		if s == "success" {
			want = OutcomeSuccess
		}
		if !si.Known || si.Outcome != want || !IsFinalOperationStatus(s) {
			t.Errorf("%q: %+v, want known, final, %s", s, si, want)
		}
	}
	for _, s := range notFinal {
		si := Builtin.OperationStatus(s)
		if !si.Known || si.Outcome != OutcomePending || IsFinalOperationStatus(s) {
			t.Errorf("%q: %+v, want known and not final", s, si)
		}
	}
	if si := Builtin.OperationStatus("awaiting foo"); si.Known || si.Outcome.Final() {
		t.Errorf("an unknown status: %+v, want not known and not final", si)
	}
}

func TestPaymentStatuses(t *testing.T) {
	want := map[string]Outcome{
		"success": OutcomeSuccess,
		"decline": OutcomeFailure, "decline renewal": OutcomeFailure, "error": OutcomeFailure, "internal error": OutcomeFailure,
		"external error": OutcomeFailure, "expired": OutcomeFailure, "invoice cancelled": OutcomeFailure, "cancelled": OutcomeFailure,
		"canceled": OutcomeFailure,
		"refunded": OutcomeRefunded, "reversed": OutcomeRefunded,
		"partially refunded": OutcomePartlyRefunded, "partially reversed": OutcomePartlyRefunded,
	}
	for _, s := range []string{"initial", "processing", "external processing", "scheduled recurring processing", "awaiting approval",
		"awaiting clarify data", "awaiting 3ds result", "awaiting merchant auth", "awaiting redirect result", "awaiting customer",
		"awaiting customer action", "awaiting clarification", "awaiting capture", "awaiting payment", "awaiting retry", "awaiting clearing",
		"awaiting partially clearing", "clearing processing", "awaiting confirmation", "invoice sent", "partially paid", "partially paid out"} {
		want[s] = OutcomePending
	}
	_, _, pays := Table()
	if len(pays) != len(want) {
		t.Errorf("the table has %d payment statuses, the list %d", len(pays), len(want))
	}
	for s, o := range want {
		si := Builtin.PaymentStatus(s)
		if !si.Known || si.Outcome != o {
			t.Errorf("payment status %q: %+v, want %s", s, si, o)
		}
	}
	for _, s := range []string{"refunded", "reversed", "decline renewal"} {
		if !IsFinalPaymentStatus(s) {
			t.Errorf("%q must be final", s)
		}
	}
	for _, s := range []string{"partially refunded", "partially reversed", "partially paid", "partially paid out", ""} {
		if IsFinalPaymentStatus(s) {
			t.Errorf("%q must not be final", s)
		}
	}
}

func TestVocabularyWithConfig(t *testing.T) {
	v := Builtin.With(map[string]Kind{"gift card": KindNone, "capture settlement": KindPurchase},
		map[string]Outcome{"awaiting review": OutcomePending}, map[string]Outcome{"chargeback": OutcomeFailure})
	if !v.Type("gift card").Known || v.Type("capture settlement").Kind != KindPurchase {
		t.Error("the config's types are not read")
	}
	if Builtin.Type("capture settlement").Kind != KindNone || Builtin.Type("gift card").Known {
		t.Error("With changed the built-in table")
	}
	if !v.Known(FieldOperationStatus, "awaiting review") || v.Known(FieldOperationStatus, "awaiting foo") {
		t.Error("Known")
	}
	if !slices.Contains(v.Words(FieldPaymentStatus), "chargeback") {
		t.Error("Words")
	}
	if !Builtin.Known(FieldPaymentStatus, "") || Builtin.Known(FieldOperationStatus, "") {
		t.Error("an empty payment status (not asked for) is no news; an empty operation status is")
	}
}
