package domain

// Operation types, as ECommPay names them.
const (
	OpSale                = "sale"
	OpRefund              = "refund"
	OpReversal            = "reversal"
	OpPayout              = "payout"
	OpAuth                = "auth"
	OpCapture             = "capture"
	OpCancel              = "cancel"
	OpRecurring           = "recurring"
	OpAccountVerification = "account verification"
)

// Payment types.
const (
	PaymentPurchase            = "purchase"
	PaymentPayout              = "payout"
	PaymentRecurring           = "recurring"
	PaymentInvoice             = "invoice"
	PaymentAccountVerification = "account verification"
)

// Operation and payment statuses. Payments use all of them; operations use
// success, decline, error, processing and the "awaiting" ones.
const (
	StatusSuccess               = "success"
	StatusDecline               = "decline"
	StatusError                 = "error"
	StatusProcessing            = "processing"
	StatusAwaiting3DS           = "awaiting 3ds result"
	StatusAwaitingRedirect      = "awaiting redirect result"
	StatusAwaitingClarification = "awaiting clarification"
	StatusAwaitingCustomer      = "awaiting customer"
	StatusAwaitingCapture       = "awaiting capture"
	StatusCanceled              = "canceled"
	StatusCancelled             = "cancelled" // older spelling, accepted as canceled
	StatusRefunded              = "refunded"
	StatusPartiallyRefunded     = "partially refunded"
	StatusReversed              = "reversed"
	StatusPartiallyReversed     = "partially reversed"
)

// IsFinalOperationStatus reports whether an operation in this status will not
// change any more.
func IsFinalOperationStatus(s string) bool {
	switch s {
	case StatusSuccess, StatusDecline, StatusError, StatusCanceled, StatusCancelled:
		return true
	}
	return false
}

// IsFinalPaymentStatus reports whether a payment in this status is final.
// "partially refunded" and "partially reversed" are not: more may follow.
func IsFinalPaymentStatus(s string) bool {
	switch s {
	case StatusSuccess, StatusDecline, StatusError, StatusCanceled, StatusCancelled,
		StatusRefunded, StatusReversed:
		return true
	}
	return false
}
