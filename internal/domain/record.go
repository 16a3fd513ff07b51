package domain

import (
	"fmt"
	"time"
)

// Record types: the merchant's words for what happened (docs/commands.md,
// "import").
const (
	RecordPurchase = "purchase"
	RecordPayout   = "payout"
	RecordRefund   = "refund"
)

// RecordTypes are the canonical record types.
var RecordTypes = []string{RecordPurchase, RecordPayout, RecordRefund}

// Record statuses: the merchant's canonical statuses.
const (
	RecordPaid     = "paid"
	RecordFailed   = "failed"
	RecordPending  = "pending"
	RecordRefunded = "refunded"
)

// RecordStatuses are the canonical record statuses.
var RecordStatuses = []string{RecordPaid, RecordFailed, RecordPending, RecordRefunded}

// Record is one line of the merchant's own books: an order, a payout or a
// refund, as their finance system exported it.
type Record struct {
	Source            string // the book it came from (import --source); "records" by default
	PaymentID         string // the merchant's payment id, ECommPay's payment_id
	Type              string // RecordPurchase, RecordPayout or RecordRefund
	Amount            Money
	Status            string // RecordPaid, RecordFailed, RecordPending or RecordRefunded
	CreatedAt         time.Time
	ProviderPaymentID string
	OperationID       uint64
	ProjectID         int64
	CustomerID        string
	Method            string
	Origin            string // "file.csv:12": where it was last read
}

// Final reports whether the merchant considers the record settled.
func (r *Record) Final() bool { return r.Status != RecordPending }

// ID is how the record names its payment: the payment id, else the
// provider's id, else the operation id.
func (r *Record) ID() string {
	switch {
	case r.PaymentID != "":
		return r.PaymentID
	case r.ProviderPaymentID != "":
		return "provider:" + r.ProviderPaymentID
	default:
		return fmt.Sprintf("operation:%d", r.OperationID)
	}
}

// RecordType maps an ECommPay operation type to the records' word for it by
// the built-in table (a sale is a purchase); "" for types no merchant record
// stands for (commission, account verification, …) and for types the table
// does not know.
func RecordType(operationType string) string { return Builtin.RecordType(operationType) }
