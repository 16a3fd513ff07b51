package domain

import "time"

// Result codes: one per reconciled item (docs/results.md).
const (
	ResultMatched           = "matched"
	ResultAmountMismatch    = "amount_mismatch"
	ResultCurrencyMismatch  = "currency_mismatch"
	ResultStatusMismatch    = "status_mismatch"
	ResultMissingAtProvider = "missing_at_provider"
	ResultMissingInRecords  = "missing_in_records"
	ResultDuplicate         = "duplicate"
	ResultPending           = "pending"
	ResultOverdue           = "overdue"
	ResultResolved          = "resolved"
	// ResultFeeMismatch is an item of its own, beside its payment's: the
	// fee ECommPay charged on a successful operation is not its tariff's
	// ([[fees.tariff]], beyond fees.tolerance).
	ResultFeeMismatch = "fee_mismatch"
	// ResultChargeback is an item of its own, beside its payment's: a
	// chargeback open, or lost and not yet resolved (chargeback.go).
	ResultChargeback = "chargeback"
)

// Results lists the result codes in the order summaries show them.
var Results = []string{
	ResultMatched, ResultAmountMismatch, ResultCurrencyMismatch, ResultStatusMismatch,
	ResultMissingAtProvider, ResultMissingInRecords, ResultDuplicate, ResultPending,
	ResultOverdue, ResultFeeMismatch, ResultChargeback, ResultResolved,
}

// IsException reports whether a result needs a person: everything but
// matched, pending and resolved.
func IsException(result string) bool {
	switch result {
	case ResultMatched, ResultPending, ResultResolved:
		return false
	}
	return true
}

// Matched-by values.
const (
	ByPaymentID         = "payment_id"
	ByProviderPaymentID = "provider_payment_id"
	ByOperationID       = "operation_id"
)

// Item is one reconciled (payment, type): the merchant's side, ECommPay's
// side, and the verdict.
type Item struct {
	Result    string
	Code      string // for a resolved item: the code it had before; else = Result
	MatchedBy string // "" when only one side has it
	PaymentID string
	Type      string // RecordPurchase, RecordPayout, RecordRefund
	// Part tells the items of one payment and type apart where there may
	// be several (refunds: "operation:ID", or "record:N" for a record with
	// no refund); "" for purchases and payouts, one item each.
	Part string

	Merchant *Record    // the record compared (the first, for a duplicate)
	Provider *Operation // the operation compared (the successful one, else the latest)

	ProjectID         int64
	OperationID       uint64
	ProviderPaymentID string
	Method            string
	CreatedAt         time.Time
	Reason            string

	// Fingerprint sums up the data the verdict of an exception rests on
	// (a resolution holds while it stays the same); empty for items that
	// are not exceptions.
	Fingerprint string

	// The engine's clock on this item, stored with it: Due is when its
	// verdict changes by itself (a pending item becomes overdue or
	// missing_at_provider after it), AskAt when the engine starts asking
	// ECommPay about its payment again, AskMethod the method whose limit
	// that is. Zero: never.
	Due, AskAt time.Time
	AskMethod  string
}

// Amount is the amount an item counts in summaries and reports:
// ECommPay's sum_initial when it has an operation, else the merchant
// record's amount.
func (it *Item) Amount() Money {
	switch {
	case it.Provider != nil:
		return it.Provider.SumInitial
	case it.Merchant != nil:
		return it.Merchant.Amount
	}
	return Money{}
}
