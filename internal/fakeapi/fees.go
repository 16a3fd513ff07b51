package fakeapi

import "reconciled/internal/domain"

// The fake's fees, served by /financial-reporting/operations: what a
// tariff per method and operation type charges on each successful
// operation, in its currency, and a deliberate error on some of them so
// that a tariff check has something to find. Failed and refunding
// operations are charged nothing (a fee of zero is reported).

// Tariff is what the fake charges on one method's operations of one type:
// Percent hundredths of a percent of the amount (basis points), plus Fixed,
// at least Min, in minor units of the operation's currency; the percent is
// rounded half up to a minor unit.
type Tariff struct {
	Method, OperationType string
	BasisPoints           int64
	Fixed, Min            int64
}

// Tariffs are the fake's contract.
var Tariffs = []Tariff{
	{Method: MethodADVCash, OperationType: domain.OpSale, BasisPoints: 250, Min: 50},
	{Method: MethodADVCash, OperationType: domain.OpPayout, BasisPoints: 100, Fixed: 30},
	{Method: MethodCardPartner, OperationType: domain.OpSale, BasisPoints: 180, Fixed: 50000},
	{Method: MethodCardPartner, OperationType: domain.OpCapture, BasisPoints: 180, Fixed: 50000},
	{Method: MethodCardPartner, OperationType: domain.OpPayout, BasisPoints: 120},
}

// FeeErrorEvery: the fee of every operation whose id is a multiple of it
// is one minor unit more than its tariff's (a charge to find).
const FeeErrorEvery = 97

// FeeOf is the fee the fake reports for op.
func FeeOf(op *domain.Operation) domain.Money {
	fee := domain.Money{Currency: op.SumInitial.Currency}
	if op.OperationStatus != domain.StatusSuccess {
		return fee
	}
	for _, t := range Tariffs {
		if t.Method == op.PaymentMethod && t.OperationType == op.OperationType {
			fee.Amount = max((op.SumInitial.Amount*t.BasisPoints+5000)/10000+t.Fixed, t.Min)
			if op.OperationID%FeeErrorEvery == 0 {
				fee.Amount++
			}
			return fee
		}
	}
	return fee
}
