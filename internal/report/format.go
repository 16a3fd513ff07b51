package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// The HTML and text forms show the same tables: tables lays them out once,
// as text cells, and each form only draws them.

type column struct {
	Name string
	Num  bool // right-aligned
}

type cell struct {
	Text  string
	Num   bool // right-aligned
	Total bool // a totals row: bold
	Alert bool // needs a person: red
}

type row []cell

type table struct {
	Title string
	Cols  []column
	Rows  []row
	More  string // said after the rows: what was left out
}

// timeLayout is how the report shows times, in its zone.
const timeLayout = "2006-01-02 15:04"

// amount formats minor units in the currency's decimals, with sep between
// thousands: "1 234 567.89". An unknown currency shows its minor units.
func amount(minor int64, currency, sep string) string {
	if currency == "" {
		return ""
	}
	s, err := domain.FormatMajor(minor, currency)
	if err != nil {
		return strconv.FormatInt(minor, 10) + " minor"
	}
	return domain.GroupThousands(s, sep)
}

// money is an amount with its currency: "1 000.00 UAH".
func money(m domain.Money, sep string) string {
	if m.Currency == "" {
		return "—"
	}
	return amount(m.Amount, m.Currency, sep) + " " + m.Currency
}

func count(n int) string { return strconv.Itoa(n) }

func (r *Report) when(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.In(r.Location).Format(timeLayout)
}

// age shows a duration as a person reads an age: "8d 3h", "5h 20m", "12m".
func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}

// orNone shows an empty name.
func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func numCell(s string) cell { return cell{Text: s, Num: true} }

// Day is the report's day as a date: "2026-11-23".
func (r *Report) Day() string { return r.Date.Format(time.DateOnly) }

// Subject is the subject line of the report's mail: "reconciled:
// 2026-11-23 — 12 open exceptions (3 overdue)", and the projects whose
// sync fails or never ran.
func (r *Report) Subject() string {
	var b strings.Builder
	b.WriteString("reconciled: ")
	b.WriteString(r.Day())
	b.WriteString(" — ")
	b.WriteString(r.openCount())
	if n := r.OverdueCount(); n > 0 {
		fmt.Fprintf(&b, " (%d overdue)", n)
	}
	var failing []string
	for _, s := range r.Sync {
		if s.Health == HealthFailing || s.Health == HealthNever {
			failing = append(failing, strconv.FormatInt(s.Project, 10))
		}
	}
	if len(failing) > 0 {
		b.WriteString("; sync failing: ")
		b.WriteString(strings.Join(failing, ", "))
	}
	return b.String()
}

// openCount is "no open exceptions", "1 open exception" or "12 open
// exceptions".
func (r *Report) openCount() string {
	switch n := len(r.Open); n {
	case 0:
		return "no open exceptions"
	case 1:
		return "1 open exception"
	default:
		return strconv.Itoa(n) + " open exceptions"
	}
}

// lead is the sentence under the heading.
func (r *Report) lead() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Made %s (%s)", r.when(r.Now, "—"), r.Location)
	if r.Basis != "" {
		b.WriteString(", " + r.Basis)
	}
	b.WriteString(". ")
	if len(r.Open) == 0 {
		b.WriteString("No open exceptions")
	} else {
		b.WriteString(r.openCount())
	}
	if n := r.OverdueCount(); n > 0 {
		fmt.Fprintf(&b, ", %d of them overdue", n)
	}
	fmt.Fprintf(&b, ". %d items created on %s; %d items in the whole reconciliation. %s", r.DayItems, r.Day(), r.Items, r.changesLead())
	switch n := len(r.Unknown) + r.UnknownMore; {
	case n == 0:
	case n <= 3:
		parts := make([]string, len(r.Unknown))
		for i, w := range r.Unknown {
			parts[i] = DescribeUnknown(w)
		}
		fmt.Fprintf(&b, " ECommPay sent words reconciled does not know, read as not final: %s.", strings.Join(parts, "; "))
	default:
		fmt.Fprintf(&b, " ECommPay sent %d words reconciled does not know, read as not final (the table below).", n)
	}
	return b.String()
}

// tables lays out the report's tables; sep goes between thousands.
func (r *Report) tables(sep string) []table {
	// What changed and what needs a person come first, then the totals
	// (non-zero rows only), then the rest as before.
	tables := []table{r.changesTable(sep)}
	if r.Previous != nil {
		tables = append(tables, r.closedTable(sep))
	}
	tables = append(tables, r.attentionTable(sep), r.dayTable(sep), r.summaryTable(sep), r.settlementTable(sep))
	tables = append(tables, r.chargebackTables(sep)...)
	if len(r.Balances) > 0 {
		tables = append(tables, r.balancesTable(sep))
	}
	tables = append(tables, r.ageingTable(sep), r.overdueTable(sep), r.syncTable())
	if len(r.Unknown) > 0 {
		tables = append(tables, r.unknownTable())
	}
	return append(tables, r.openTable(sep))
}

// unknownTable lists the types and statuses no one has given a meaning.
func (r *Report) unknownTable() table {
	t := table{
		Title: "ECommPay words reconciled does not know",
		Cols:  []column{{"field", false}, {"word", false}, {"operations", true}, {"read as", false}, {"to give it a meaning", false}},
	}
	for _, w := range r.Unknown {
		t.Rows = append(t.Rows, row{{Text: w.Field.String()}, {Text: strconv.Quote(domain.Shorten(w.Word)), Alert: true}, numCell(strconv.FormatInt(w.Count, 10)),
			{Text: "not final"}, {Text: UnknownKey(w.Field)}})
	}
	if r.UnknownMore > 0 {
		t.More = fmt.Sprintf("%d more words, less frequent: reconciled status lists them too, the most frequent first", r.UnknownMore)
	}
	return t
}

// dayTable counts the items created on the report's day by result code
// and currency: only the codes and currencies that have some.
func (r *Report) dayTable(sep string) table {
	return r.codeTable("Created on "+r.Day()+", by result", sep, func(c CodeRow) Tally { return c.Day })
}

// summaryTable counts the whole reconciliation by result code and
// currency: only the codes and currencies that have some.
func (r *Report) summaryTable(sep string) table {
	return r.codeTable("The whole reconciliation, by result", sep, func(c CodeRow) Tally { return c.ToDate })
}

// codeTable is a count by code and currency, then the totals per
// currency, of the tally of each row that pick gives; a row counting no
// item is left out.
func (r *Report) codeTable(title, sep string, pick func(CodeRow) Tally) table {
	t := table{Title: title, Cols: []column{{"result", false}, {"currency", false}, {"items", true}, {"amount", true}}}
	for _, c := range r.ByCode {
		if n := pick(c); n.Count > 0 {
			t.Rows = append(t.Rows, row{{Text: c.Code, Alert: domain.IsException(c.Code)}, {Text: orNone(c.Currency, "—")},
				numCell(count(n.Count)), numCell(amount(n.Amount, c.Currency, sep))})
		}
	}
	for _, c := range r.Totals {
		if n := pick(c); n.Count > 0 {
			t.Rows = append(t.Rows, row{{Text: "total", Total: true}, {Text: orNone(c.Currency, "—"), Total: true},
				{Text: count(n.Count), Num: true, Total: true}, {Text: amount(n.Amount, c.Currency, sep), Num: true, Total: true}})
		}
	}
	return t
}

// settlementTable is the day's net settlement per project and currency.
func (r *Report) settlementTable(sep string) table {
	t := table{
		Title: "Net settlement on " + r.Day(),
		Cols: []column{{"project", true}, {"currency", false}, {"purchases", true}, {"refunds", true}, {"payouts", true},
			{"fees", true}, {"chargebacks", true}, {"net", true}},
	}
	for _, s := range r.Settlement {
		m := func(a int64) cell { return numCell(amount(a, s.Currency, sep)) }
		t.Rows = append(t.Rows, row{numCell(strconv.FormatInt(s.Project, 10)), {Text: s.Currency}, m(s.Purchases), m(s.Refunds), m(s.Payouts),
			m(s.Fees), m(s.Chargebacks), {Text: amount(s.Net, s.Currency, sep), Num: true, Alert: s.Net < 0}})
	}
	return t
}

func (r *Report) ageingTable(sep string) table {
	t := table{
		Title: "Open exceptions by age",
		Cols:  []column{{"age", false}, {"currency", false}, {"items", true}, {"amount", true}},
	}
	if len(r.Open) == 0 {
		return t
	}
	for _, b := range r.Ageing { // an empty bucket has no row
		for _, s := range b.Sums {
			t.Rows = append(t.Rows, row{{Text: b.Label}, {Text: orNone(s.Currency, "—")}, numCell(count(s.Count)),
				numCell(amount(s.Amount, s.Currency, sep))})
		}
	}
	return t
}

func (r *Report) overdueTable(sep string) table {
	t := table{
		Title: "Overdue operations by payment method",
		Cols:  []column{{"method", false}, {"currency", false}, {"items", true}, {"amount", true}},
	}
	for _, m := range r.Overdue {
		for _, s := range m.Sums {
			t.Rows = append(t.Rows, row{{Text: orNone(m.Method, "(no method)")}, {Text: orNone(s.Currency, "—")},
				numCell(count(s.Count)), numCell(amount(s.Amount, s.Currency, sep))})
		}
	}
	return t
}

func (r *Report) syncTable() table {
	t := table{
		Title: "Sync health per project",
		Cols: []column{{"project", true}, {"health", false}, {"last success", false}, {"last error at", false},
			{"last error", false}, {"watermark", false}, {"operations", true}, {"not final", true}},
	}
	for _, s := range r.Sync {
		t.Rows = append(t.Rows, row{numCell(strconv.FormatInt(s.Project, 10)),
			{Text: s.Health, Alert: s.Health != HealthOK},
			{Text: r.when(s.LastSuccess, "never")}, {Text: r.when(s.LastErrorAt, "—")}, {Text: orNone(s.LastError, "—")},
			{Text: r.when(s.Watermark, "—")}, numCell(strconv.FormatInt(s.Operations, 10)), numCell(strconv.FormatInt(s.NotFinal, 10))})
	}
	return t
}

func (r *Report) openTable(sep string) table {
	t := table{
		Title: "Open exceptions, oldest first",
		Cols: []column{{"created", false}, {"age", true}, {"result", false}, {"payment", false}, {"type", false},
			{"project", true}, {"method", false}, {"merchant", true}, {"ECommPay", true}, {"reason", false}},
	}
	list := r.Open
	if r.ListLimit > 0 && len(list) > r.ListLimit {
		list = list[:r.ListLimit]
		t.More = fmt.Sprintf("… and %d more open exceptions: the XLSX (or CSV) form of this report lists them all.", len(r.Open)-r.ListLimit)
	}
	side := func(s *Side) cell {
		if s == nil {
			return numCell("—")
		}
		return numCell(money(s.Amount, sep))
	}
	for i := range list {
		e := &list[i]
		project := ""
		if e.ProjectID != 0 {
			project = strconv.FormatInt(e.ProjectID, 10)
		}
		t.Rows = append(t.Rows, row{{Text: r.when(e.CreatedAt, "—")}, numCell(age(e.Age)), {Text: e.Result, Alert: true},
			{Text: e.Ref()}, {Text: e.Type}, numCell(project), {Text: e.Method}, side(e.Merchant), side(e.Provider), {Text: e.Reason}})
	}
	return t
}
