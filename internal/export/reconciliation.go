package export

import (
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// ReconciliationColumns are the columns of --what reconciliation.
var ReconciliationColumns = []string{
	"result", "matched_by", "payment_id", "type", "merchant_amount", "merchant_currency", "merchant_status",
	"provider_amount", "provider_currency", "provider_status", "operation_id", "provider_payment_id",
	"project_id", "method", "created_at", "reason",
}

// ItemFilter selects reconciled items; an empty field selects all.
type ItemFilter struct {
	Results    []string
	Projects   []int64
	Methods    []string
	Types      []string // record types: purchase, payout, refund
	Statuses   []string // merchant or ECommPay status
	Currencies []string // merchant or ECommPay currency
	From, To   time.Time
	// IDContains, if set, selects the items whose payment id contains it
	// (the web view's text filter).
	IDContains string
}

// Match reports whether it passes f.
func (f *ItemFilter) Match(it *domain.Item) bool {
	switch {
	case len(f.Results) > 0 && !slices.Contains(f.Results, it.Result):
		return false
	case len(f.Projects) > 0 && !containsInt(f.Projects, it.ProjectID):
		return false
	case len(f.Methods) > 0 && !containsFold(f.Methods, it.Method):
		return false
	case len(f.Types) > 0 && !containsFold(f.Types, it.Type):
		return false
	case !f.From.IsZero() && it.CreatedAt.Before(f.From), !f.To.IsZero() && !it.CreatedAt.Before(f.To):
		return false
	case f.IDContains != "" && !strings.Contains(it.PaymentID, f.IDContains):
		return false
	}
	var mStatus, pStatus, mCur, pCur string
	if it.Merchant != nil {
		mStatus, mCur = it.Merchant.Status, it.Merchant.Amount.Currency
	}
	if it.Provider != nil {
		pStatus, pCur = it.Provider.OperationStatus, it.Provider.SumInitial.Currency
	}
	if len(f.Statuses) > 0 && !containsFold(f.Statuses, mStatus) && !containsFold(f.Statuses, pStatus) {
		return false
	}
	if len(f.Currencies) > 0 && !containsFold(f.Currencies, mCur) && !containsFold(f.Currencies, pCur) {
		return false
	}
	return true
}

// itemRow formats items as the reconciliation's cells, as registerRow
// does operations: the numbers and the time of a row go into one string,
// sliced into its cells; exponents and the zone's offset are looked up
// once (a million items' times were a fifth of the export's CPU).
type itemRow struct {
	clock wallClock
	exp   exponents
	buf   []byte
}

func newItemRow(loc *time.Location) *itemRow { return &itemRow{clock: wallClock{loc: loc}} }

// append appends an item's cells to row.
func (r *itemRow) append(row []string, it *domain.Item) []string {
	var mCur, mStatus, pCur, pStatus string
	var e [5]int
	b := r.buf[:0]
	if m := it.Merchant; m != nil {
		b = r.exp.appendMajor(b, m.Amount)
		mCur, mStatus = m.Amount.Currency, m.Status
	}
	e[0] = len(b)
	if op := it.Provider; op != nil {
		b = r.exp.appendMajor(b, op.SumInitial)
		pCur, pStatus = op.SumInitial.Currency, op.OperationStatus
	}
	e[1] = len(b)
	if it.OperationID != 0 {
		b = strconv.AppendUint(b, it.OperationID, 10)
	}
	e[2] = len(b)
	if it.ProjectID != 0 {
		b = strconv.AppendInt(b, it.ProjectID, 10)
	}
	e[3] = len(b)
	b = r.clock.append(b, it.CreatedAt)
	e[4] = len(b)
	r.buf = b
	s := string(b)
	return append(row,
		it.Result, it.MatchedBy, Neutralize(it.PaymentID), it.Type,
		s[:e[0]], Neutralize(mCur), Neutralize(mStatus),
		s[e[0]:e[1]], pCur, Neutralize(pStatus),
		s[e[1]:e[2]], Neutralize(it.ProviderPaymentID), s[e[2]:e[3]], Neutralize(domain.MaskCardNumbers(it.Method)),
		s[e[3]:e[4]], Neutralize(it.Reason))
}

// Items calls fn with each item in turn, in their order, and stops at
// fn's first error. The item may be reused after fn returns (the stored
// result streams so).
type Items func(fn func(it *domain.Item) error) error

// ItemsOf is the Items of a slice.
func ItemsOf(items []domain.Item) Items {
	return func(fn func(*domain.Item) error) error {
		for i := range items {
			if err := fn(&items[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// ReconciliationCSV writes the items that pass f, one row each, in their
// order (the engine's stable order). It returns the rows written. items
// runs in a goroutine of its own, which also makes the rows, while this
// one writes them (pipelined): it has returned when ReconciliationCSV
// does.
func ReconciliationCSV(w io.Writer, items Items, f ItemFilter, o CSVOptions) (int, error) {
	o.defaults()
	row := newItemRow(o.Location) // the goroutine that makes the rows is the only one to use it
	return pipelinedCSV(w, ReconciliationColumns, o, items, func(cells []string, it *domain.Item) ([]string, bool) {
		if !f.Match(it) {
			return cells, false
		}
		return row.append(cells, it), true
	})
}

// AuditColumns are the columns of --what audit.
// part (last, so that the first columns keep their place) names which
// refund of a payment an event is about.
var AuditColumns = []string{"at", "user", "action", "project_id", "payment_id", "type", "code", "reason", "note", "detail", "part"}

// AuditCSV writes the audit trail of manual resolutions.
func AuditCSV(w io.Writer, events []domain.AuditEvent, o CSVOptions) (int, error) {
	o.defaults()
	err := writeCSV(w, AuditColumns, o, func(emit func([]string) error) error {
		for _, e := range events {
			if err := emit([]string{formatTime(e.At, o.Location), Neutralize(e.User), e.Action, optionalInt(e.ProjectID),
				Neutralize(e.ID), e.Type, e.Code, Neutralize(e.Reason), Neutralize(e.Note), Neutralize(strings.TrimSpace(e.Detail)), e.Part}); err != nil {
				return err
			}
		}
		return nil
	})
	return len(events), err
}
