package fakeapi

import (
	"testing"

	"reconciled/internal/domain"
)

// The fake's tariff: basis points of the amount rounded half up to a
// minor unit, plus the fixed part, at least the minimum; nothing on a
// failure or on a type without a tariff; one minor unit more on every
// FeeErrorEvery-th operation id.
func TestFeeOfFollowsTheTariff(t *testing.T) {
	op := func(id uint64, method, typ, status string, amount int64, cur string) *domain.Operation {
		return &domain.Operation{OperationID: id, PaymentMethod: method, OperationType: typ, OperationStatus: status,
			SumInitial: domain.Money{Amount: amount, Currency: cur}}
	}
	for _, c := range []struct {
		name string
		op   *domain.Operation
		want int64
	}{
		{"ADVCash sale, 2.5 %", op(1, MethodADVCash, domain.OpSale, domain.StatusSuccess, 10000, "EUR"), 250},
		{"ADVCash sale, half a unit rounds up", op(1, MethodADVCash, domain.OpSale, domain.StatusSuccess, 10020, "EUR"), 251},
		{"ADVCash sale, under half rounds down", op(1, MethodADVCash, domain.OpSale, domain.StatusSuccess, 10019, "EUR"), 250},
		{"ADVCash sale, the minimum", op(1, MethodADVCash, domain.OpSale, domain.StatusSuccess, 100, "EUR"), 50},
		{"ADVCash payout, 1 % and 30", op(1, MethodADVCash, domain.OpPayout, domain.StatusSuccess, 10000, "USD"), 130},
		{"card sale, 1.8 % and 500.00 UZS", op(1, MethodCardPartner, domain.OpSale, domain.StatusSuccess, 100000000, "UZS"), 1850000},
		{"declined: nothing", op(1, MethodADVCash, domain.OpSale, domain.StatusDecline, 10000, "EUR"), 0},
		{"a refund: no tariff", op(1, MethodADVCash, domain.OpRefund, domain.StatusSuccess, 10000, "EUR"), 0},
		{"a wrong charge", op(FeeErrorEvery*5, MethodADVCash, domain.OpSale, domain.StatusSuccess, 10000, "EUR"), 251},
	} {
		got := FeeOf(c.op)
		if got.Amount != c.want || got.Currency != c.op.SumInitial.Currency {
			t.Errorf("%s: %+v, want %d %s", c.name, got, c.want, c.op.SumInitial.Currency)
		}
	}
}
