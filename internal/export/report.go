package export

import (
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
	"reconciled/internal/report"
)

// ReportXLSX writes the daily reconciliation report as a workbook, one
// sheet a table: "Summary" (by result code and currency, the day and to
// date), "Open exceptions" (every one, with both sides), "Ageing",
// "Overdue by method", "Sync", "Settlement", "Balances" when balances were
// read, and "Unknown words" when ECommPay sent a type
// or status reconciled does not know. Times are shown in o.Location, else in
// the report's zone. Totals are left to the spreadsheet: a total row
// inside a filtered table would be counted twice by a SUM.
func ReportXLSX(w io.Writer, r *report.Report, o XLSXOptions) error {
	if o.Location == nil {
		o.Location = r.Location
	}
	b, err := newBook(o)
	if err != nil {
		return err
	}
	sheets := []func(*report.Report) error{b.reportSummary, b.reportOpen, b.reportAgeing, b.reportOverdue, b.reportSync, b.reportSettlement}
	if len(r.ChargebackTotals) > 0 {
		sheets = append(sheets, b.reportChargebacks)
	}
	if len(r.Balances) > 0 {
		sheets = append(sheets, b.reportBalances) // report_balances.go
	}
	if len(r.Unknown) > 0 {
		sheets = append(sheets, b.reportUnknown)
	}
	for _, sheet := range sheets {
		if err := sheet(r); err != nil {
			b.f.Close()
			return err
		}
	}
	return b.writeTo(w)
}

func (b *book) reportSummary(r *report.Report) error {
	day := r.Day()
	s, err := b.sheet("Summary", []column{{"result", 20}, {"currency", 10}, {"items on " + day, 18}, {"amount on " + day, 20},
		{"items to date", 14}, {"amount to date", 20}})
	if err != nil {
		return err
	}
	for _, c := range r.ByCode {
		if err := s.write([]any{c.Code, c.Currency, c.Day.Count, b.money(domain.Money{Amount: c.Day.Amount, Currency: c.Currency}),
			c.ToDate.Count, b.money(domain.Money{Amount: c.ToDate.Amount, Currency: c.Currency})}); err != nil {
			return err
		}
	}
	return s.finish()
}

// reportSettlement is the day's net settlement per project and currency.
func (b *book) reportSettlement(r *report.Report) error {
	s, err := b.sheet("Settlement", []column{{"project id", 12}, {"currency", 10}, {"purchases", 18}, {"refunds", 18}, {"payouts", 18},
		{"fees", 16}, {"chargebacks", 16}, {"net", 18}})
	if err != nil {
		return err
	}
	for _, x := range r.Settlement {
		m := func(a int64) any { return b.money(domain.Money{Amount: a, Currency: x.Currency}) }
		if err := s.write([]any{x.Project, x.Currency, m(x.Purchases), m(x.Refunds), m(x.Payouts), m(x.Fees), m(x.Chargebacks), m(x.Net)}); err != nil {
			return err
		}
	}
	return s.finish()
}

func (b *book) reportOpen(r *report.Report) error {
	s, err := b.sheet("Open exceptions", []column{{"created at", 20}, {"age (days)", 12}, {"age", 12}, {"result", 20},
		{"payment id", 22}, {"type", 10}, {"project id", 12}, {"method", 14}, {"merchant amount", 18}, {"merchant currency", 12},
		{"merchant status", 12}, {"provider amount", 18}, {"provider currency", 12}, {"provider status", 14},
		{"operation id", 20}, {"provider payment id", 22}, {"reason", 80}})
	if err != nil {
		return err
	}
	days, err := b.f.NewStyle(&excelize.Style{CustomNumFmt: new("0.0")})
	if err != nil {
		return err
	}
	for i := range r.Open {
		e := &r.Open[i]
		var mAmount, pAmount any
		var mCur, mStatus, pCur, pStatus string
		if m := e.Merchant; m != nil {
			mAmount, mCur, mStatus = b.money(m.Amount), m.Amount.Currency, m.Status
		}
		if p := e.Provider; p != nil {
			pAmount, pCur, pStatus = b.money(p.Amount), p.Amount.Currency, p.Status
		}
		age := excelize.Cell{StyleID: days, Value: float64(e.Age) / float64(24*time.Hour)}
		if err := s.write([]any{b.dateCell(e.CreatedAt), age, r.Ageing[e.Bucket].Label, e.Result, e.PaymentID, e.Type,
			optionalNum(e.ProjectID), e.Method, mAmount, mCur, mStatus, pAmount, pCur, pStatus, b.idText(e.OperationID),
			e.ProviderPaymentID, e.Reason}); err != nil {
			return err
		}
	}
	return s.finish()
}

func (b *book) reportAgeing(r *report.Report) error {
	s, err := b.sheet("Ageing", []column{{"age", 14}, {"currency", 10}, {"items", 10}, {"amount", 20}})
	if err != nil {
		return err
	}
	for _, a := range r.Ageing {
		if len(a.Sums) == 0 {
			if err := s.write([]any{a.Label, nil, 0, nil}); err != nil {
				return err
			}
		}
		if err := b.sumRows(s, a.Label, a.Sums); err != nil {
			return err
		}
	}
	return s.finish()
}

func (b *book) reportOverdue(r *report.Report) error {
	s, err := b.sheet("Overdue by method", []column{{"method", 16}, {"currency", 10}, {"items", 10}, {"amount", 20}})
	if err != nil {
		return err
	}
	for _, row := range r.Overdue {
		if err := b.sumRows(s, row.Method, row.Sums); err != nil {
			return err
		}
	}
	return s.finish()
}

// sumRows writes one row per currency: label, currency, items, amount.
func (b *book) sumRows(s *sheetWriter, label string, sums []report.Sum) error {
	for _, m := range sums {
		if err := s.write([]any{label, m.Currency, m.Count, b.money(domain.Money{Amount: m.Amount, Currency: m.Currency})}); err != nil {
			return err
		}
	}
	return nil
}

func (b *book) reportSync(r *report.Report) error {
	s, err := b.sheet("Sync", []column{{"project id", 12}, {"health", 14}, {"last success", 20}, {"last attempt", 20},
		{"last error at", 20}, {"last error", 60}, {"watermark", 20}, {"operations", 12}, {"not final", 12}})
	if err != nil {
		return err
	}
	for _, p := range r.Sync {
		if err := s.write([]any{p.Project, p.Health, b.dateCell(p.LastSuccess), b.dateCell(p.LastAttempt), b.dateCell(p.LastErrorAt),
			p.LastError, b.dateCell(p.Watermark), p.Operations, p.NotFinal}); err != nil {
			return err
		}
	}
	return s.finish()
}

func (b *book) reportUnknown(r *report.Report) error {
	s, err := b.sheet("Unknown words", []column{{"field", 18}, {"word", 28}, {"operations", 12}, {"read as", 12}, {"to give it a meaning", 32}})
	if err != nil {
		return err
	}
	for _, w := range r.Unknown {
		if err := s.write([]any{w.Field.String(), domain.Shorten(w.Word), w.Count, "not final", report.UnknownKey(w.Field)}); err != nil {
			return err
		}
	}
	return s.finish()
}

// reportChargebacks lists the open chargebacks and those decided on the
// report's day, as the report's tables do, every one of them.
func (b *book) reportChargebacks(r *report.Report) error {
	s, err := b.sheet("Chargebacks", []column{{"opened at", 20}, {"chargeback id", 20}, {"payment id", 22}, {"project id", 12},
		{"amount", 18}, {"currency", 10}, {"reason code", 12}, {"status", 16}, {"state", 8}, {"answer by", 20}, {"decided at", 20}})
	if err != nil {
		return err
	}
	for _, c := range r.ChargebackList {
		if err := s.write([]any{b.dateCell(c.Opened), b.idText(c.ID), c.PaymentID, c.Project, b.money(c.Amount), c.Amount.Currency,
			c.ReasonCode, c.Status, c.State.String(), b.dateCell(c.Deadline), b.dateCell(c.Decided)}); err != nil {
			return err
		}
	}
	return s.finish()
}
