package domain

// ECommPay's words. The names are the wire's; what each means is the table
// in vocabulary.go.

// Operation types.
const (
	OpSale                 = "sale"
	OpAuth                 = "auth"
	OpCapture              = "capture"
	OpCancel               = "cancel"
	OpRefund               = "refund"
	OpReversal             = "reversal"
	OpPayout               = "payout"
	OpRecurring            = "recurring"
	OpRecurringUpdate      = "recurring update"
	OpRecurringCancel      = "recurring cancel"
	OpAccountVerification  = "account verification"
	OpRefundReverse        = "refund reverse"
	OpIncremental          = "incremental"
	OpCaptureSettlement    = "capture settlement"
	OpCommission           = "commission"
	OpInvoice              = "invoice"
	OpManualChange         = "manual change"
	OpCustomerAction       = "customer action"
	OpPaymentConfirmation  = "payment confirmation"
	OpCreateCashVoucher    = "create_cash_voucher"
	OpContractRegistration = "contract registration"
)

// Payment types.
const (
	PaymentPurchase            = "purchase"
	PaymentPayout              = "payout"
	PaymentRecurring           = "recurring"
	PaymentInvoice             = "invoice"
	PaymentAccountVerification = "account verification"
)

// Operation and payment statuses. Most are shared; the table says which
// list each belongs to.
const (
	StatusSuccess                = "success"
	StatusDecline                = "decline"
	StatusError                  = "error" // older material
	StatusInternalError          = "internal error"
	StatusExternalError          = "external error"
	StatusExpired                = "expired"
	StatusInvoiceCancelled       = "invoice cancelled"
	StatusUnknown                = "unknown" // ECommPay's own word: the result is not known yet
	StatusProcessing             = "processing"
	StatusExternalProcessing     = "external processing"
	StatusAwaitingApproval       = "awaiting approval"
	StatusAwaiting3DS            = "awaiting 3ds result"
	StatusAwaitingRedirect       = "awaiting redirect result"
	StatusAwaitingCustomer       = "awaiting customer"
	StatusAwaitingCustomerAction = "awaiting customer action"
	StatusAwaitingClarification  = "awaiting clarification"
	StatusAwaitingMerchantAuth   = "awaiting merchant auth"
	StatusAwaitingPayment        = "awaiting payment"
	StatusAwaitingFinalization   = "awaiting finalization"
	StatusAwaitingConfirmation   = "awaiting confirmation"
	StatusInvoiceSent            = "invoice sent"
	StatusInitial                = "initial"
	StatusScheduledRecurring     = "scheduled recurring processing"
	StatusAwaitingClarifyData    = "awaiting clarify data"
	StatusAwaitingCapture        = "awaiting capture"
	StatusAwaitingRetry          = "awaiting retry"
	StatusAwaitingClearing       = "awaiting clearing"
	StatusAwaitingPartlyClearing = "awaiting partially clearing"
	StatusClearingProcessing     = "clearing processing"
	StatusPartiallyPaid          = "partially paid"
	StatusPartiallyPaidOut       = "partially paid out"
	StatusDeclineRenewal         = "decline renewal"
	StatusCanceled               = "canceled"
	StatusCancelled              = "cancelled" // the other spelling; both come
	StatusReversed               = "reversed"
	StatusPartiallyReversed      = "partially reversed"
	StatusRefunded               = "refunded"
	StatusPartiallyRefunded      = "partially refunded"
)

// IsFinalOperationStatus reports whether an operation in this status will not
// change any more, by the built-in table. A status the table does not know
// is not final.
func IsFinalOperationStatus(s string) bool { return Builtin.OperationStatus(s).Outcome.Final() }

// IsFinalPaymentStatus reports whether a payment in this status is final, by
// the built-in table. "partially refunded" and "partially reversed" are not:
// more may follow.
func IsFinalPaymentStatus(s string) bool { return Builtin.PaymentStatus(s).Outcome.Final() }
