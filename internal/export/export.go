// Package export writes what the ledger holds as files the finance team
// opens in a spreadsheet: the Dashboard's payment register (operations) as
// CSV, with the columns of docs/exports.md.
//
// Amounts are formatted from their integer minor units with the currency's
// ISO 4217 decimals, never through a float. Text cells that a spreadsheet
// would run as a formula are neutralised (see Neutralize). Files are written
// through a Target (file.go): to a temporary name renamed into place, so a
// failed or interrupted export leaves no partial file, and never over a
// device, a pipe, a folder or a protected file (the database).
//
// The register is a million rows: its CSV writer reads the Source and
// formats the rows in a goroutine of its own while the caller's writes them
// (pipeline.go), a row's numbers and times cost one allocation (row.go),
// and a workbook is compressed on every core (deflate.go). Its files are
// pinned byte for byte (pin_test.go).
//
// The summary workbook charts the net settlement from a sheet of its own,
// "Net per day" (the Settlement sheet interleaves currencies, and a series
// is one range): one chart per currency, because one axis for EUR and UZS
// draws every EUR line flat on zero, one line per project in it. At most
// maxNetLines lines in all, the ones with the most operations (a count
// compares across currencies, an amount does not); a note cell says when
// some are left out, and every line stays on the sheet.
//
// A file's bytes depend on what it shows and nothing else: no time of
// writing in a cell, and an XLSX keeps excelize's fixed document properties
// (created 2006-09-16) and zip entries without a modification time.
package export

import (
	"strconv"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// OperationColumns are the columns of --what operations, in order.
var OperationColumns = []string{
	"project_id", "payment_id", "payment_type", "payment_status", "operation_id", "operation_type",
	"operation_status", "payment_method", "amount", "currency", "converted_amount", "converted_currency",
	"account_number", "customer_id", "provider_id", "provider_payment_id", "code", "message",
	"created_at", "completed_at", "fee_amount", "fee_currency", "chargeback",
}

// Chargebacks say, for the register, the chargebacks of each payment that
// has any: its project and payment id → "ID status", several joined by
// "; " in id order (the chargeback column). By project too: a payment id
// is unique within its project only, as the engine groups them.
type Chargebacks map[PaymentKey]string

// PaymentKey names one payment: its project and payment id.
type PaymentKey struct {
	Project int64
	Payment string
}

// of is the chargeback column of op's row.
func (c Chargebacks) of(op *domain.Operation) string {
	if len(c) == 0 {
		return ""
	}
	return c[PaymentKey{op.ProjectID, op.PaymentID}]
}

// TimeLayout is how times are written: the Dashboard's and the Data API's.
const TimeLayout = "2006-01-02 15:04:05"

// Filter selects operations; an empty field selects all.
type Filter struct {
	Projects   []int64
	Methods    []string // payment_method, compared case-insensitively
	Statuses   []string // operation_status or payment_status
	Types      []string // operation_type or payment_type
	Currencies []string // of sum_initial
}

// Match reports whether op passes f.
func (f *Filter) Match(op *domain.Operation) bool {
	if len(f.Projects) > 0 && !containsInt(f.Projects, op.ProjectID) {
		return false
	}
	if len(f.Methods) > 0 && !containsFold(f.Methods, op.PaymentMethod) {
		return false
	}
	if len(f.Statuses) > 0 && !containsFold(f.Statuses, op.OperationStatus) && !containsFold(f.Statuses, op.PaymentStatus) {
		return false
	}
	if len(f.Types) > 0 && !containsFold(f.Types, op.OperationType) && !containsFold(f.Types, op.PaymentType) {
		return false
	}
	if len(f.Currencies) > 0 && !containsFold(f.Currencies, op.SumInitial.Currency) {
		return false
	}
	return true
}

func major(m domain.Money) string {
	if m.Currency == "" {
		return ""
	}
	s, err := domain.FormatMajor(m.Amount, m.Currency)
	if err != nil { // unreachable for stored operations: the ledger validates currencies
		return strconv.FormatInt(m.Amount, 10)
	}
	return s
}

func optionalInt(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(TimeLayout)
}

// Neutralize defuses a text cell that a spreadsheet would read as a
// formula: one starting with '=', '+', '-', '@', a tab, a carriage return
// or a NUL, after any spaces (a spreadsheet that trims cells as it reads
// them sees the formula), gets a leading apostrophe, the OWASP advice for
// CSV injection. Every text column goes through it; numeric columns
// (amounts, ids) are not text and are never changed.
func Neutralize(s string) string {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i == len(s) {
		return s
	}
	switch s[i] {
	case '=', '+', '-', '@', '\t', '\r', 0:
		return "'" + s
	}
	return s
}

func containsInt(list []int64, v int64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
