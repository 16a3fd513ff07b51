package export

import (
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/analytics"
	"reconciled/internal/domain"
)

// SettlementColumns are the columns of --what settlement: one row per
// day, project and currency, amounts in major units of the row's currency.
var SettlementColumns = []string{"day", "project_id", "currency", "purchases", "refunds", "payouts", "fees", "chargebacks", "net",
	"operations", "charged"}

// SettlementCells are a row's cells as text (amounts in major units).
func SettlementCells(r *analytics.Settlement) []string {
	m := func(a int64) string { return major(domain.Money{Amount: a, Currency: r.Currency}) }
	return []string{r.Day, strconv.FormatInt(r.Project, 10), r.Currency, m(r.Purchases), m(r.Refunds), m(r.Payouts), m(r.Fees),
		m(r.Chargebacks), m(r.Net), strconv.Itoa(r.Operations), strconv.Itoa(r.Charged)}
}

// SettlementCSV writes the settlement rows of s.
func SettlementCSV(w io.Writer, s *analytics.Summary, o CSVOptions) (int, error) {
	o.defaults()
	err := writeCSV(w, SettlementColumns, o, func(emit func([]string) error) error {
		for i := range s.Settlement {
			if err := emit(SettlementCells(&s.Settlement[i])); err != nil {
				return err
			}
		}
		return nil
	})
	return len(s.Settlement), err
}

// SettlementXLSX writes the settlement rows of s as one sheet.
func SettlementXLSX(w io.Writer, s *analytics.Summary, o XLSXOptions) (int, error) {
	b, err := newBook(o)
	if err != nil {
		return 0, err
	}
	if err := b.settlementSheet(s.Settlement); err != nil {
		b.f.Close()
		return 0, err
	}
	return len(s.Settlement), b.writeTo(w)
}

// settlementSheet is the "Settlement" sheet: days as date cells, amounts
// as numbers with their currency's decimals.
func (b *book) settlementSheet(rows []analytics.Settlement) error {
	cols := []column{{"day", 12}, {"project_id", 12}, {"currency", 10}}
	for _, c := range SettlementColumns[3:] {
		cols = append(cols, column{c, 16})
	}
	s, err := b.sheet("Settlement", cols)
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		var day any = r.Day
		if d, err := time.Parse(time.DateOnly, r.Day); err == nil {
			day = excelize.Cell{StyleID: b.dayStyle(), Value: d}
		}
		m := func(a int64) any { return b.money(domain.Money{Amount: a, Currency: r.Currency}) }
		if err := s.write([]any{day, r.Project, r.Currency, m(r.Purchases), m(r.Refunds), m(r.Payouts), m(r.Fees), m(r.Chargebacks), m(r.Net),
			r.Operations, r.Charged}); err != nil {
			return err
		}
	}
	return s.finish()
}
