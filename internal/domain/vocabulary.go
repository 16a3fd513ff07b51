package domain

import (
	"maps"
	"slices"
)

// ECommPay's vocabulary: every operation type, operation status and payment
// status its platform sends (its own published integrations list them), and
// what each means to a reconciliation. This file is the one table; the
// engine, the ledger's counts, the analytics and the report read it through
// a Vocabulary.
//
// A word the table does not know is never mistaken for a known one: it is
// stored as it came, counted (the ledger keeps counts of every word), shown
// by `status` and in the daily report, and read as not final until the
// config gives it a meaning ([reconcile.operation_types],
// [reconcile.operation_statuses], [reconcile.payment_statuses]), which needs
// no new release.

// Kind says what an operation type stands for: which merchant record, and
// whether money moves.
type Kind string

// The kinds of operation types.
const (
	// KindPurchase charges the customer: sale, capture, recurring, invoice.
	KindPurchase Kind = "purchase"
	// KindHold authorises an amount without charging it (auth,
	// incremental): the purchase is not done until a capture.
	KindHold Kind = "hold"
	// KindRelease ends an authorisation without charging it (cancel).
	KindRelease Kind = "release"
	// KindPayout pays money out to the customer.
	KindPayout Kind = "payout"
	// KindRefund returns a purchase's money, in whole or in part.
	KindRefund Kind = "refund"
	// KindRefundReverse takes a refund back: the money returns to the
	// merchant.
	KindRefundReverse Kind = "refund_reverse"
	// KindFee is a fee ECommPay charges as an operation of its own
	// (commission): never a purchase, never a missing record.
	KindFee Kind = "fee"
	// KindNone moves no money and stands for no merchant record (account
	// verification, recurring update and cancel, …).
	KindNone Kind = "none"
)

// Kinds lists the kinds, for config validation and documentation.
var Kinds = []Kind{KindPurchase, KindHold, KindRelease, KindPayout, KindRefund, KindRefundReverse, KindFee, KindNone}

// Record is the merchant record type an operation of this kind stands for
// (RecordPurchase, RecordPayout, RecordRefund), or "" for none.
func (k Kind) Record() string {
	switch k {
	case KindPurchase, KindHold, KindRelease:
		return RecordPurchase
	case KindPayout:
		return RecordPayout
	case KindRefund, KindRefundReverse:
		return RecordRefund
	}
	return ""
}

// MovesMoney reports whether a successful operation of this kind moved
// money.
func (k Kind) MovesMoney() bool {
	switch k {
	case KindPurchase, KindPayout, KindRefund, KindRefundReverse, KindFee:
		return true
	}
	return false
}

// Outcome is what a status means.
type Outcome string

// The outcomes of statuses.
const (
	// OutcomeSuccess is final: the operation did what it was for (and
	// moved money if its type moves any).
	OutcomeSuccess Outcome = "success"
	// OutcomeFailure is final: nothing moved. A merchant's "failed"
	// agrees with every such status.
	OutcomeFailure Outcome = "failure"
	// OutcomePending is not final: more will follow.
	OutcomePending Outcome = "pending"
	// OutcomeRefunded (payment statuses only) is final: the payment's money
	// went back, in whole.
	OutcomeRefunded Outcome = "refunded"
	// OutcomePartlyRefunded (payment statuses only) is not final: part of
	// the money went back and more may follow.
	OutcomePartlyRefunded Outcome = "partly_refunded"
)

// OperationOutcomes and PaymentOutcomes list the outcomes each kind of
// status can have.
var (
	OperationOutcomes = []Outcome{OutcomeSuccess, OutcomeFailure, OutcomePending}
	PaymentOutcomes   = []Outcome{OutcomeSuccess, OutcomeFailure, OutcomePending, OutcomeRefunded, OutcomePartlyRefunded}
)

// Final reports whether the outcome is final.
func (o Outcome) Final() bool {
	return o == OutcomeSuccess || o == OutcomeFailure || o == OutcomeRefunded
}

// TypeInfo is one operation type.
type TypeInfo struct {
	Name  string
	Kind  Kind
	Known bool   // in the table or given a meaning by the config
	Note  string // what it is, for people
}

// StatusInfo is one status.
type StatusInfo struct {
	Name    string
	Outcome Outcome
	Known   bool
	Note    string
}

// operationTypes is the table of operation types.
var operationTypes = []TypeInfo{
	{OpSale, KindPurchase, true, "one-step purchase: charges the customer"},
	{OpAuth, KindHold, true, "authorises an amount; a capture charges it, a cancel releases it"},
	{OpCapture, KindPurchase, true, "charges an authorised amount (second step of a two-step purchase)"},
	{OpCancel, KindRelease, true, "releases an authorisation; nothing was charged"},
	{OpIncremental, KindHold, true, "increases an authorised amount; the capture charges it"},
	{OpCaptureSettlement, KindNone, true, "settlement of a capture with the acquirer; the capture moved the money (assumed)"},
	{OpRecurring, KindPurchase, true, "one charge of a recurring series"},
	{OpRecurringUpdate, KindNone, true, "changes a recurring series; charges nothing"},
	{OpRecurringCancel, KindNone, true, "ends a recurring series; charges nothing"},
	{OpInvoice, KindPurchase, true, "a payment by invoice: charges the customer when paid"},
	{OpRefund, KindRefund, true, "returns a purchase's money, in whole or in part"},
	{OpReversal, KindRefund, true, "returns a purchase's money before it settled"},
	{OpRefundReverse, KindRefundReverse, true, "takes a refund back: the money returns to the merchant"},
	{OpPayout, KindPayout, true, "pays money out to the customer"},
	{OpCommission, KindFee, true, "a fee ECommPay charges as its own operation"},
	{OpAccountVerification, KindNone, true, "checks a card or account; charges nothing"},
	{OpManualChange, KindNone, true, "a manual correction by ECommPay; the payment's status shows its effect (assumed)"},
	{OpCustomerAction, KindNone, true, "waits for the customer to act; moves nothing"},
	{OpPaymentConfirmation, KindNone, true, "a confirmation step; moves nothing by itself (assumed)"},
	{OpCreateCashVoucher, KindHold, true, "issues a voucher the customer pays in cash; nothing is charged yet (assumed)"},
	{OpContractRegistration, KindNone, true, "registers a contract; moves nothing"},
}

// operationStatuses is the table of operation statuses.
var operationStatuses = []StatusInfo{
	{StatusSuccess, OutcomeSuccess, true, "done"},
	{StatusDecline, OutcomeFailure, true, "declined"},
	{StatusError, OutcomeFailure, true, "failed (older material's word)"},
	{StatusInternalError, OutcomeFailure, true, "failed inside ECommPay"},
	{StatusExternalError, OutcomeFailure, true, "failed at the provider"},
	{StatusExpired, OutcomeFailure, true, "not completed in time"},
	{StatusInvoiceCancelled, OutcomeFailure, true, "the invoice was cancelled"},
	{StatusCanceled, OutcomeFailure, true, "cancelled"},
	{StatusCancelled, OutcomeFailure, true, "cancelled"},
	{StatusUnknown, OutcomePending, true, "ECommPay does not know the result yet"},
	{StatusProcessing, OutcomePending, true, "in progress"},
	{StatusExternalProcessing, OutcomePending, true, "in progress at the provider"},
	{StatusAwaitingApproval, OutcomePending, true, "waits for approval"},
	{StatusAwaiting3DS, OutcomePending, true, "waits for 3-D Secure"},
	{StatusAwaitingRedirect, OutcomePending, true, "waits for the customer's redirect"},
	{StatusAwaitingCustomer, OutcomePending, true, "waits for the customer"},
	{StatusAwaitingCustomerAction, OutcomePending, true, "waits for the customer to act"},
	{StatusAwaitingClarification, OutcomePending, true, "waits for clarification"},
	{StatusAwaitingMerchantAuth, OutcomePending, true, "waits for the merchant's authentication"},
	{StatusAwaitingPayment, OutcomePending, true, "waits for payment"},
	{StatusAwaitingFinalization, OutcomePending, true, "waits for finalisation"},
	{StatusAwaitingConfirmation, OutcomePending, true, "waits for confirmation"},
	{StatusInvoiceSent, OutcomePending, true, "the invoice was sent"},
}

// paymentStatuses is the table of payment statuses.
var paymentStatuses = []StatusInfo{
	{StatusInitial, OutcomePending, true, "created"},
	{StatusProcessing, OutcomePending, true, "in progress"},
	{StatusExternalProcessing, OutcomePending, true, "in progress at the provider"},
	{StatusScheduledRecurring, OutcomePending, true, "a recurring charge is scheduled"},
	{StatusAwaitingApproval, OutcomePending, true, "waits for approval"},
	{StatusAwaitingClarifyData, OutcomePending, true, "waits for data to be clarified"},
	{StatusAwaiting3DS, OutcomePending, true, "waits for 3-D Secure"},
	{StatusAwaitingMerchantAuth, OutcomePending, true, "waits for the merchant's authentication"},
	{StatusAwaitingRedirect, OutcomePending, true, "waits for the customer's redirect"},
	{StatusAwaitingCustomer, OutcomePending, true, "waits for the customer"},
	{StatusAwaitingCustomerAction, OutcomePending, true, "waits for the customer to act"},
	{StatusAwaitingClarification, OutcomePending, true, "waits for clarification"},
	{StatusAwaitingCapture, OutcomePending, true, "authorised, waits for a capture or a cancel"},
	{StatusAwaitingPayment, OutcomePending, true, "waits for payment"},
	{StatusAwaitingRetry, OutcomePending, true, "waits for a retry"},
	{StatusAwaitingClearing, OutcomePending, true, "waits for clearing"},
	{StatusAwaitingPartlyClearing, OutcomePending, true, "waits for partial clearing"},
	{StatusClearingProcessing, OutcomePending, true, "clearing in progress"},
	{StatusAwaitingConfirmation, OutcomePending, true, "waits for confirmation"},
	{StatusInvoiceSent, OutcomePending, true, "the invoice was sent"},
	{StatusSuccess, OutcomeSuccess, true, "paid (or paid out)"},
	{StatusPartiallyPaid, OutcomePending, true, "part of an invoice is paid; more may follow"},
	{StatusPartiallyPaidOut, OutcomePending, true, "part of a payout is paid; more may follow"},
	{StatusDecline, OutcomeFailure, true, "declined"},
	{StatusDeclineRenewal, OutcomeFailure, true, "the renewal of a recurring series was declined"},
	{StatusError, OutcomeFailure, true, "failed"},
	{StatusInternalError, OutcomeFailure, true, "failed inside ECommPay"},
	{StatusExternalError, OutcomeFailure, true, "failed at the provider"},
	{StatusExpired, OutcomeFailure, true, "not completed in time"},
	{StatusInvoiceCancelled, OutcomeFailure, true, "the invoice was cancelled"},
	{StatusCancelled, OutcomeFailure, true, "cancelled"},
	{StatusCanceled, OutcomeFailure, true, "cancelled"},
	{StatusReversed, OutcomeRefunded, true, "reversed: the money went back"},
	{StatusPartiallyReversed, OutcomePartlyRefunded, true, "partly reversed; more may follow"},
	{StatusRefunded, OutcomeRefunded, true, "refunded in whole"},
	{StatusPartiallyRefunded, OutcomePartlyRefunded, true, "refunded in part; more may follow"},
}

// Vocabulary answers what a word means: the table, with the config's
// meanings over it. The zero value is not usable; use Builtin or With.
type Vocabulary struct {
	types   map[string]TypeInfo
	op      map[string]StatusInfo
	payment map[string]StatusInfo
}

// Builtin is the table as this release knows it.
var Builtin = func() *Vocabulary {
	v := &Vocabulary{types: map[string]TypeInfo{}, op: map[string]StatusInfo{}, payment: map[string]StatusInfo{}}
	for _, t := range operationTypes {
		v.types[t.Name] = t
	}
	for _, s := range operationStatuses {
		v.op[s.Name] = s
	}
	for _, s := range paymentStatuses {
		v.payment[s.Name] = s
	}
	return v
}()

// With returns v with the config's meanings over it: new words, or new
// meanings of known ones. The maps are not kept.
func (v *Vocabulary) With(types map[string]Kind, opStatuses, paymentStatuses map[string]Outcome) *Vocabulary {
	if len(types)+len(opStatuses)+len(paymentStatuses) == 0 {
		return v
	}
	w := &Vocabulary{types: maps.Clone(v.types), op: maps.Clone(v.op), payment: maps.Clone(v.payment)}
	for name, k := range types {
		w.types[name] = TypeInfo{Name: name, Kind: k, Known: true, Note: "meaning given by the config"}
	}
	for name, o := range opStatuses {
		w.op[name] = StatusInfo{Name: name, Outcome: o, Known: true, Note: "meaning given by the config"}
	}
	for name, o := range paymentStatuses {
		w.payment[name] = StatusInfo{Name: name, Outcome: o, Known: true, Note: "meaning given by the config"}
	}
	return w
}

// Type is what an operation type means. A type not known has Known false
// and Kind "": it stands for no record, and the engine reads the payment
// it belongs to as not final.
func (v *Vocabulary) Type(name string) TypeInfo {
	if t, ok := v.types[name]; ok {
		return t
	}
	return TypeInfo{Name: name}
}

// OperationStatus is what an operation status means; one not known is
// pending (not final).
func (v *Vocabulary) OperationStatus(name string) StatusInfo {
	if s, ok := v.op[name]; ok {
		return s
	}
	return StatusInfo{Name: name, Outcome: OutcomePending}
}

// PaymentStatus is what a payment status means; one not known is pending.
func (v *Vocabulary) PaymentStatus(name string) StatusInfo {
	if s, ok := v.payment[name]; ok {
		return s
	}
	return StatusInfo{Name: name, Outcome: OutcomePending}
}

// Outcome is the outcome of an operation's own status.
func (v *Vocabulary) Outcome(op *Operation) Outcome {
	return v.OperationStatus(op.OperationStatus).Outcome
}

// RecordType is the merchant record an operation type stands for, "" for
// none (and for a type not known).
func (v *Vocabulary) RecordType(operationType string) string {
	return v.Type(operationType).Kind.Record()
}

// Field names a word's list, for counting and reporting them.
type Field byte

// The three lists of words.
const (
	FieldOperationType   Field = 't'
	FieldOperationStatus Field = 'o'
	FieldPaymentStatus   Field = 'p'
)

// WordCount is how many operations carry one word in one field (the
// ledger counts what it stores; the sync, status and the report show the
// words the vocabulary does not know).
type WordCount struct {
	Field Field
	Word  string
	Count int64
}

// Fields lists them in the order reports show them.
var Fields = []Field{FieldOperationType, FieldOperationStatus, FieldPaymentStatus}

// String names the field as the Data API does.
func (f Field) String() string {
	switch f {
	case FieldOperationType:
		return "operation_type"
	case FieldOperationStatus:
		return "operation_status"
	case FieldPaymentStatus:
		return "payment_status"
	}
	return "?"
}

// Describe says what a word of the field is in a sentence: "type", "status",
// "payment status".
func (f Field) Describe() string {
	switch f {
	case FieldOperationType:
		return "type"
	case FieldOperationStatus:
		return "status"
	case FieldPaymentStatus:
		return "payment status"
	}
	return "word"
}

// Word is the value of field f of op.
func (f Field) Word(op *Operation) string {
	switch f {
	case FieldOperationType:
		return op.OperationType
	case FieldOperationStatus:
		return op.OperationStatus
	case FieldPaymentStatus:
		return op.PaymentStatus
	}
	return ""
}

// Known reports whether v knows a word of field f. An empty payment status
// (the field was not asked for) counts as known: it is no news.
func (v *Vocabulary) Known(f Field, word string) bool {
	switch f {
	case FieldOperationType:
		return v.Type(word).Known
	case FieldOperationStatus:
		return v.OperationStatus(word).Known
	case FieldPaymentStatus:
		return word == "" || v.PaymentStatus(word).Known
	}
	return false
}

// Words lists the known words of field f, sorted.
func (v *Vocabulary) Words(f Field) []string {
	switch f {
	case FieldOperationType:
		return slices.Sorted(maps.Keys(v.types))
	case FieldOperationStatus:
		return slices.Sorted(maps.Keys(v.op))
	case FieldPaymentStatus:
		return slices.Sorted(maps.Keys(v.payment))
	}
	return nil
}

// Table lists the built-in table, in its order, for documentation and
// tests.
func Table() (types []TypeInfo, opStatuses, paymentStatusList []StatusInfo) {
	return slices.Clone(operationTypes), slices.Clone(operationStatuses), slices.Clone(paymentStatuses)
}

// Shorten is a word from upstream as people are shown it: at most 80
// characters (a broken upstream may send a status of 40,000), the rest
// marked with "…". Escaping is the job of what shows it.
func Shorten(w string) string {
	const max = 80
	n := 0
	for i := range w {
		if n == max {
			return w[:i] + "…"
		}
		n++
	}
	return w
}
