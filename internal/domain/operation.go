package domain

import (
	"fmt"
	"time"
)

// Operation is one ECommPay operation (a sale, refund, payout, …) as the
// Data API reports it. Several operations share one PaymentID. All times are
// UTC; CompletedAt is zero while the operation is not final.
type Operation struct {
	ProjectID         int64
	OperationID       uint64
	PaymentID         string
	PaymentType       string
	PaymentStatus     string
	OperationType     string
	OperationStatus   string
	PaymentMethod     string
	AccountNumber     string // always masked, see MaskAccount
	CustomerID        string
	CreatedAt         time.Time
	CompletedAt       time.Time
	SumInitial        Money
	SumConverted      Money
	ProviderID        int64
	ProviderPaymentID string
	Code              string
	Message           string
	// Fee is what ECommPay charged on the operation, as
	// /financial-reporting/operations reports it (no currency: not
	// reported). /operations/get does not carry it.
	Fee Money
}

// MaxUpstreamIDBytes is the longest payment_id or provider_payment_id taken
// from the Data API. Both are parts of the ledger's index keys, which bbolt
// caps at 32 KiB; 255 characters (what ECommPay's payment ids are said to
// be held to) of four-byte UTF-8 are 1,020 bytes, so no real id comes
// near it.
const MaxUpstreamIDBytes = 1024

// Final reports whether the operation has reached a final status.
func (op *Operation) Final() bool { return IsFinalOperationStatus(op.OperationStatus) }

// ValidateIDs checks the ids every record of an operation must have (a
// fee's too): a non-zero id, a positive project, a payment id.
func (op *Operation) ValidateIDs() error {
	switch {
	case op.OperationID == 0:
		return fmt.Errorf("operation has no operation_id")
	case op.ProjectID <= 0:
		return fmt.Errorf("operation %d: project_id %d is not positive", op.OperationID, op.ProjectID)
	case op.PaymentID == "":
		return fmt.Errorf("operation %d: no payment_id", op.OperationID)
	}
	return nil
}

// Validate checks what every stored operation must have: a positive project,
// a non-zero id, a payment id, a type, a status and a known currency.
func (op *Operation) Validate() error {
	if err := op.ValidateIDs(); err != nil {
		return err
	}
	switch {
	case op.OperationType == "":
		return fmt.Errorf("operation %d: no operation_type", op.OperationID)
	case op.OperationStatus == "":
		return fmt.Errorf("operation %d: no operation_status", op.OperationID)
	case op.CreatedAt.IsZero():
		return fmt.Errorf("operation %d: no operation_created_at", op.OperationID)
	case op.CreatedAt.Unix() <= 0:
		return fmt.Errorf("operation %d: operation_created_at %s is not after 1970", op.OperationID, op.CreatedAt)
	case !op.CompletedAt.IsZero() && op.CompletedAt.Unix() <= 0:
		return fmt.Errorf("operation %d: operation_completed_at %s is not after 1970", op.OperationID, op.CompletedAt)
	}
	if err := CheckTime(op.CreatedAt); err != nil {
		return fmt.Errorf("operation %d: operation_created_at %w", op.OperationID, err)
	}
	if err := CheckTime(op.CompletedAt); err != nil {
		return fmt.Errorf("operation %d: operation_completed_at %w", op.OperationID, err)
	}
	if _, err := Exponent(op.SumInitial.Currency); err != nil {
		return fmt.Errorf("operation %d: sum_initial: %w", op.OperationID, err)
	}
	for _, m := range [...]struct {
		name string
		a    int64
	}{{"sum_initial", op.SumInitial.Amount}, {"sum_converted", op.SumConverted.Amount}} {
		if err := CheckAmount(m.a); err != nil {
			return fmt.Errorf("operation %d: %s: %w", op.OperationID, m.name, err)
		}
	}
	if op.SumConverted.Currency != "" {
		if _, err := Exponent(op.SumConverted.Currency); err != nil {
			return fmt.Errorf("operation %d: sum_converted: %w", op.OperationID, err)
		}
	}
	return nil
}

// The times reconciled stores: from 1700 up to, not including, 2200. The
// stored result keeps an item's creation, and indexes its deadlines, as
// nanoseconds since 1970 in an int64 (1677 to 2262), and a deadline is a
// creation plus a limit: a time past these bounds would be stored as
// another (an operation created in 9999 read back as created in 1816).
// The Data API's layout allows every four-digit year; no payment is
// created in either century, so such a time is refused, with the field
// named, rather than stored wrong.
var (
	EarliestTime = time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)
	LatestTime   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// CheckTime refuses a time outside [EarliestTime, LatestTime); the zero
// time (none) is no time and passes.
func CheckTime(t time.Time) error {
	if t.IsZero() || !t.Before(EarliestTime) && t.Before(LatestTime) {
		return nil
	}
	return fmt.Errorf("%s is not between %d and %d", t.UTC().Format(time.RFC3339), EarliestTime.Year(), LatestTime.Year()-1)
}
