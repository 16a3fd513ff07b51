package export

import (
	"cmp"
	"fmt"
	"io"
	"slices"
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

// maxNetLines is how many lines the chart of the net settlement draws at
// most: past that a line chart is a tangle nobody reads.
const maxNetLines = 8

// netSheetName is the sheet of the chart's data.
const netSheetName = "Net per day"

// netLine is a line of the net settlement: a currency in one project.
type netLine struct {
	currency string
	project  int64
}

// netTable is the settlement's net pivoted for the chart: one row per day,
// one column per line (by currency, then project).
type netTable struct {
	days       []string
	lines      []netLine
	operations []int              // per line, the operations that moved money
	net        []map[string]int64 // per line, the net by day; a day without a row is absent
	projects   int
}

// pivotNet makes the table of the settlement rows (sorted by day).
func pivotNet(rows []analytics.Settlement) *netTable {
	t := &netTable{}
	at := map[netLine]int{}
	projects := map[int64]bool{}
	for i := range rows {
		r := &rows[i]
		if n := len(t.days); n == 0 || t.days[n-1] != r.Day {
			t.days = append(t.days, r.Day)
		}
		k := netLine{r.Currency, r.Project}
		if _, ok := at[k]; !ok {
			at[k] = len(t.lines)
			t.lines = append(t.lines, k)
		}
		projects[r.Project] = true
	}
	t.projects = len(projects)
	slices.SortFunc(t.lines, func(x, y netLine) int {
		return cmp.Or(cmp.Compare(x.currency, y.currency), cmp.Compare(x.project, y.project))
	})
	for i, k := range t.lines {
		at[k] = i
	}
	t.operations = make([]int, len(t.lines))
	t.net = make([]map[string]int64, len(t.lines))
	for i := range t.net {
		t.net[i] = map[string]int64{}
	}
	for i := range rows {
		r := &rows[i]
		l := at[netLine{r.Currency, r.Project}]
		t.operations[l] += r.Operations
		t.net[l][r.Day] = r.Net
	}
	return t
}

// name is a line's column header and legend entry: its currency, and its
// project when there are several.
func (t *netTable) name(l int) string {
	k := t.lines[l]
	if t.projects > 1 {
		return fmt.Sprintf("net %s, project %d", k.currency, k.project)
	}
	return "net " + k.currency
}

// charted are the lines the chart draws, in column order: every line, or
// the maxNetLines with the most operations (a count, comparable across
// currencies where amounts are not).
func (t *netTable) charted() []int {
	all := make([]int, len(t.lines))
	for i := range all {
		all[i] = i
	}
	if len(all) <= maxNetLines {
		return all
	}
	slices.SortStableFunc(all, func(x, y int) int { return cmp.Compare(t.operations[y], t.operations[x]) })
	all = all[:maxNetLines]
	slices.Sort(all)
	return all
}

// netSheet is the "Net per day" sheet: the chart's data, every line.
func (b *book) netSheet(t *netTable) error {
	cols := []column{{"day", 12}}
	for l := range t.lines {
		cols = append(cols, column{t.name(l), float64(max(16, len(t.name(l))+4))})
	}
	s, err := b.sheet(netSheetName, cols)
	if err != nil {
		return err
	}
	row := make([]any, 0, len(cols))
	for _, d := range t.days {
		var day any = d
		if v, err := time.Parse(time.DateOnly, d); err == nil {
			day = excelize.Cell{StyleID: b.dayStyle(), Value: v}
		}
		row = append(row[:0], day)
		for l, k := range t.lines {
			var cell any
			if net, ok := t.net[l][d]; ok {
				cell = b.money(domain.Money{Amount: net, Currency: k.currency})
			}
			row = append(row, cell)
		}
		if err := s.write(row); err != nil {
			return err
		}
	}
	return s.finish()
}
