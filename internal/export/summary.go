package export

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/analytics"
	"reconciled/internal/domain"
)

// Summary tables, by the name --by takes.
var SummaryTables = []string{"day", "method", "status", "currency", "project"}

// SummaryRows returns one of the summary's grouped tables.
func SummaryRows(s *analytics.Summary, by string) ([]analytics.Row, error) {
	switch by {
	case "day":
		return s.ByDay, nil
	case "method":
		return s.ByMethod, nil
	case "status":
		return s.ByStatus, nil
	case "currency":
		return s.ByCurrency, nil
	case "project":
		return s.ByProject, nil
	}
	return nil, fmt.Errorf("no summary table %q (use day, method, status, currency or project)", by)
}

// Currencies lists the currencies with volume in a summary.
func Currencies(s *analytics.Summary) []string { return slices.Sorted(maps.Keys(s.Total.Volume)) }

// SummaryColumns are the columns of a grouped table: the key, the counts,
// the approval rate, then one volume column per currency.
func SummaryColumns(by string, currencies []string) []string {
	cols := []string{by, "operations", "success", "declined", "pending", "approval_rate"}
	for _, c := range currencies {
		cols = append(cols, "volume_"+c)
	}
	return cols
}

// SummaryCSV writes one grouped table of s (by day, method, …) as CSV.
// Volumes are in major units; the approval rate is a fraction (0.935).
func SummaryCSV(w io.Writer, s *analytics.Summary, by string, o CSVOptions) (int, error) {
	o.defaults()
	rows, err := SummaryRows(s, by)
	if err != nil {
		return 0, err
	}
	curs := Currencies(s)
	err = writeCSV(w, SummaryColumns(by, curs), o, func(emit func([]string) error) error {
		for _, r := range rows {
			line := []string{Neutralize(r.Key), strconv.Itoa(r.Operations), strconv.Itoa(r.Success), strconv.Itoa(r.Decline),
				strconv.Itoa(r.Pending), rate(r.Totals)}
			for _, c := range curs {
				line = append(line, major(domain.Money{Amount: r.Volume[c], Currency: c}))
			}
			if err := emit(line); err != nil {
				return err
			}
		}
		return nil
	})
	return len(rows), err
}

func rate(t analytics.Totals) string {
	r, ok := t.ApprovalRate()
	if !ok {
		return ""
	}
	return strconv.FormatFloat(r, 'f', 4, 64)
}

// SummaryXLSX writes the whole summary, one sheet a table, and a sheet of
// native charts: daily operations, the daily approval rate and the daily
// net settlement.
func SummaryXLSX(w io.Writer, s *analytics.Summary, o XLSXOptions) error {
	b, err := newBook(o)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		b.f.Close()
		return err
	}
	curs := Currencies(s)
	for _, by := range SummaryTables {
		rows, _ := SummaryRows(s, by)
		if err := b.groupSheet(by, rows, curs); err != nil {
			return fail(err)
		}
	}
	if err := b.approvalSheet(s.Approval); err != nil {
		return fail(err)
	}
	if err := b.declinesSheet(s); err != nil {
		return fail(err)
	}
	if err := b.volumeSheet(s.Volume); err != nil {
		return fail(err)
	}
	if err := b.timeSheet(s.TimeToFinal); err != nil {
		return fail(err)
	}
	if err := b.settlementSheet(s.Settlement); err != nil {
		return fail(err)
	}
	net := pivotNet(s.Settlement)
	if err := b.netSheet(net); err != nil {
		return fail(err)
	}
	if err := b.chartsSheet(len(s.ByDay), net); err != nil {
		return fail(err)
	}
	return b.writeTo(w)
}

var sheetNames = map[string]string{"day": "By day", "method": "By method", "status": "By status", "currency": "By currency", "project": "By project"}

func (b *book) groupSheet(by string, rows []analytics.Row, curs []string) error {
	cols := []column{{by, 16}, {"operations", 12}, {"success", 10}, {"declined", 10}, {"pending", 10}, {"approval rate", 14}}
	for _, c := range curs {
		cols = append(cols, column{"volume " + c, 18})
	}
	s, err := b.sheet(sheetNames[by], cols)
	if err != nil {
		return err
	}
	for _, r := range rows {
		var key any = r.Key
		if by == "day" {
			if d, err := time.Parse(time.DateOnly, r.Key); err == nil {
				key = excelize.Cell{StyleID: b.dayStyle(), Value: d}
			}
		}
		if by == "project" {
			if p, err := strconv.ParseInt(r.Key, 10, 64); err == nil {
				key = p
			}
		}
		row := []any{key, r.Operations, r.Success, r.Decline, r.Pending, b.rateCell(r.Totals)}
		for _, c := range curs {
			row = append(row, b.money(domain.Money{Amount: r.Volume[c], Currency: c}))
		}
		if err := s.write(row); err != nil {
			return err
		}
	}
	return s.finish()
}

func (b *book) rateCell(t analytics.Totals) any {
	r, ok := t.ApprovalRate()
	if !ok {
		return nil
	}
	return excelize.Cell{StyleID: b.pct, Value: r}
}

// dayStyle is a date cell without a time.
func (b *book) dayStyle() int { return b.day }

func (b *book) approvalSheet(rows []analytics.Approval) error {
	s, err := b.sheet("Approval", []column{{"method", 16}, {"day", 14}, {"success", 10}, {"declined", 10}, {"approval rate", 14}})
	if err != nil {
		return err
	}
	for _, a := range rows {
		var day any = a.Day
		if d, err := time.Parse(time.DateOnly, a.Day); err == nil {
			day = excelize.Cell{StyleID: b.dayStyle(), Value: d}
		}
		if err := s.write([]any{a.Method, day, a.Success, a.Decline, b.rateCell(a.Totals)}); err != nil {
			return err
		}
	}
	return s.finish()
}

func (b *book) declinesSheet(sum *analytics.Summary) error {
	s, err := b.sheet("Declines", []column{{"code", 10}, {"message", 44}, {"count", 10}, {"share of declines", 18}})
	if err != nil {
		return err
	}
	total := 0
	for _, d := range sum.Declines {
		total += d.Count
	}
	for _, d := range sum.Declines {
		if err := s.write([]any{d.Code, d.Message, d.Count, excelize.Cell{StyleID: b.pct, Value: float64(d.Count) / float64(total)}}); err != nil {
			return err
		}
	}
	return s.finish()
}

func (b *book) volumeSheet(rows []analytics.Volume) error {
	s, err := b.sheet("Volume", []column{{"currency", 10}, {"purchases", 12}, {"purchase volume", 18}, {"payouts", 10},
		{"payout volume", 18}, {"refunds", 10}, {"refund volume", 18}})
	if err != nil {
		return err
	}
	for _, v := range rows {
		m := func(a int64) any { return b.money(domain.Money{Amount: a, Currency: v.Currency}) }
		if err := s.write([]any{v.Currency, v.NPurchases, m(v.Purchases), v.NPayouts, m(v.Payouts), v.NRefunds, m(v.Refunds)}); err != nil {
			return err
		}
	}
	return s.finish()
}

func (b *book) timeSheet(rows []analytics.TimeToFinal) error {
	s, err := b.sheet("Time to final", []column{{"method", 16}, {"final operations", 16}, {"median", 12}, {"p95", 12}})
	if err != nil {
		return err
	}
	for _, t := range rows {
		if err := s.write([]any{t.Method, t.Count, excelize.Cell{StyleID: b.duration, Value: t.Median},
			excelize.Cell{StyleID: b.duration, Value: t.P95}}); err != nil {
			return err
		}
	}
	return s.finish()
}

// chartsSheet draws the "By day" sheet's operations and approval rate,
// and below them the net settlement of the "Net per day" sheet.
func (b *book) chartsSheet(nDays int, net *netTable) error {
	if _, err := b.f.NewSheet("Charts"); err != nil {
		return err
	}
	if nDays == 0 {
		return b.f.SetCellValue("Charts", "A1", "no operations in the period")
	}
	last := nDays + 1
	cats := fmt.Sprintf("'By day'!$A$2:$A$%d", last)
	days := excelize.ChartAxis{NumFmt: excelize.ChartNumFmt{CustomNumFmt: "yyyy-mm-dd"}}
	zero, no := 0.0, false
	if err := b.f.AddChart("Charts", "A1", &excelize.Chart{
		Type:       excelize.Col,
		Series:     []excelize.ChartSeries{{Name: "'By day'!$B$1", Categories: cats, Values: fmt.Sprintf("'By day'!$B$2:$B$%d", last)}},
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Operations per day"}}},
		Legend:     excelize.ChartLegend{Position: "none"},
		XAxis:      days,
		YAxis:      excelize.ChartAxis{Minimum: &zero, MajorGridLines: true},
		VaryColors: &no,
		Format:     excelize.GraphicOptions{OffsetX: 10, OffsetY: 10},
		Dimension:  excelize.ChartDimension{Width: 720, Height: 320},
	}); err != nil {
		return err
	}
	if err := b.f.AddChart("Charts", "A18", &excelize.Chart{
		Type:      excelize.Line,
		Series:    []excelize.ChartSeries{{Name: "'By day'!$F$1", Categories: cats, Values: fmt.Sprintf("'By day'!$F$2:$F$%d", last)}},
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Approval rate per day"}}},
		Legend:    excelize.ChartLegend{Position: "none"},
		XAxis:     days,
		YAxis:     excelize.ChartAxis{NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}, MajorGridLines: true},
		Format:    excelize.GraphicOptions{OffsetX: 10, OffsetY: 10},
		Dimension: excelize.ChartDimension{Width: 720, Height: 320},
	}); err != nil {
		return err
	}
	return b.netChart(net)
}

// netChart draws the net per day of the "Net per day" sheet below the
// charts of "By day": one chart per currency, each on its own axis (a
// shared one flattens EUR beside UZS), one line per project; lines are
// never added up. A35 says why when it draws nothing or not every line.
func (b *book) netChart(net *netTable) error {
	if len(net.lines) == 0 {
		return b.f.SetCellValue("Charts", "A35", "no settlement in the period: no chart of the net")
	}
	drawn := net.charted()
	if len(drawn) < len(net.lines) {
		note := fmt.Sprintf("The net settlement charts draw %d of the %d currency and project lines, those with the most operations; %q has them all.",
			len(drawn), len(net.lines), netSheetName)
		if err := b.f.SetCellValue("Charts", "A35", note); err != nil {
			return err
		}
	}
	// cells is a reference to rows from..to of a column of Net per day.
	cells := func(col, from, to int) string {
		a, _ := excelize.CoordinatesToCellName(col, from, true)
		z, _ := excelize.CoordinatesToCellName(col, to, true)
		if from == to {
			return fmt.Sprintf("'%s'!%s", netSheetName, a)
		}
		return fmt.Sprintf("'%s'!%s:%s", netSheetName, a, z)
	}
	last := len(net.days) + 1
	row := 36
	for len(drawn) > 0 {
		cur := net.lines[drawn[0]].currency
		var series []excelize.ChartSeries
		for len(drawn) > 0 && net.lines[drawn[0]].currency == cur { // lines are by currency
			col := drawn[0] + 2 // A is the day
			series = append(series, excelize.ChartSeries{Name: cells(col, 1, 1), Categories: cells(1, 2, last), Values: cells(col, 2, last)})
			drawn = drawn[1:]
		}
		if err := b.f.AddChart("Charts", "A"+strconv.Itoa(row), &excelize.Chart{
			Type:         excelize.Line,
			Series:       series,
			Title:        excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Net settlement per day, " + cur}}},
			Legend:       excelize.ChartLegend{Position: "bottom"},
			XAxis:        excelize.ChartAxis{NumFmt: excelize.ChartNumFmt{CustomNumFmt: "yyyy-mm-dd"}},
			YAxis:        excelize.ChartAxis{MajorGridLines: true},
			ShowBlanksAs: "zero",
			Format:       excelize.GraphicOptions{OffsetX: 10, OffsetY: 10},
			Dimension:    excelize.ChartDimension{Width: 720, Height: 320},
		}); err != nil {
			return err
		}
		row += 17 // 320 px and the offset, in rows of 20 px
	}
	return nil
}
