package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"reconciled/internal/domain"
)

// Alert is the mail of the new exceptions one alert check found
// ([alerts]): the first of them listed, all of them counted by code.
// Its text and HTML forms are drawn as the report's are (tables, every
// value escaped, card numbers in reasons masked).
type Alert struct {
	Now      time.Time      // when it is made
	Location *time.Location // where times are shown (data_api.tz)
	Interval time.Duration  // alerts.interval, said at the end
	Items    []domain.Item  // the ones listed
	Counts   map[string]int // every new one, by result code
	Total    int
}

// Subject is "reconciled: 3 new exceptions (1 amount_mismatch, 2
// status_mismatch)".
func (a *Alert) Subject() string {
	noun := "exceptions"
	if a.Total == 1 {
		noun = "exception"
	}
	parts := make([]string, 0, len(a.Counts))
	for _, code := range a.codes() {
		if a.Total == 1 {
			parts = append(parts, code)
		} else {
			parts = append(parts, fmt.Sprintf("%d %s", a.Counts[code], code))
		}
	}
	return fmt.Sprintf("reconciled: %d new %s (%s)", a.Total, noun, strings.Join(parts, ", "))
}

// codes are the codes of the news, in the order summaries show them
// (domain.Results), an unknown one after them.
func (a *Alert) codes() []string {
	var out []string
	for code, n := range a.Counts {
		if n > 0 {
			out = append(out, code)
		}
	}
	slices.SortFunc(out, func(x, y string) int { return cmp.Or(cmp.Compare(codeRank(x), codeRank(y)), strings.Compare(x, y)) })
	return out
}

func codeRank(code string) int {
	if i := slices.Index(domain.Results, code); i >= 0 {
		return i
	}
	return len(domain.Results)
}

// lead is the sentence under the heading.
func (a *Alert) lead() string {
	listed := ""
	if len(a.Items) < a.Total {
		listed = fmt.Sprintf(", the first %d listed", len(a.Items))
	}
	return fmt.Sprintf("Found by the reconciliations stored up to %s (%s): %d new %s%s.", a.Now.In(a.Location).Format(timeLayout),
		a.Location, a.Total, map[bool]string{true: "exception", false: "exceptions"}[a.Total == 1], listed)
}

// more says what was left out, and the export that lists it.
func (a *Alert) more() string {
	if n := a.Total - len(a.Items); n > 0 {
		return fmt.Sprintf("… and %d more new exceptions, not listed here.", n)
	}
	return ""
}

// Hint is the command that lists every open exception of the news's
// codes.
func (a *Alert) Hint() string {
	return "reconciled export --what reconciliation --format csv --result " + strings.Join(a.codes(), ",") + " -o exceptions.csv"
}

// footnote ends the mail.
func (a *Alert) footnote() string {
	return fmt.Sprintf("To list every open exception of these codes, new or not: %s. reconciled mails new exceptions as it finds them, "+
		"at most one mail every %s ([alerts] interval); each is mailed once, and again only when its result changes or it opens again "+
		"after it was settled. The daily report lists every open exception.", a.Hint(), shortDuration(a.Interval))
}

// table lays out the listed exceptions, by code as summaries order them,
// then oldest first; sep goes between thousands.
func (a *Alert) table(sep string) table {
	t := table{
		Cols: []column{{"created", false}, {"result", false}, {"payment", false}, {"type", false}, {"project", true},
			{"method", false}, {"merchant", true}, {"ECommPay", true}, {"reason", false}},
		More: a.more(),
	}
	list := make([]Exception, len(a.Items))
	for i := range a.Items {
		list[i] = exception(&a.Items[i], a.Items[i].Amount(), a.Now)
	}
	slices.SortStableFunc(list, func(x, y Exception) int {
		return cmp.Or(cmp.Compare(codeRank(x.Result), codeRank(y.Result)), strings.Compare(x.Result, y.Result), x.CreatedAt.Compare(y.CreatedAt))
	})
	side := func(s *Side) cell {
		if s == nil {
			return numCell("—")
		}
		return numCell(strings.TrimSpace(money(s.Amount, sep) + " " + s.Status))
	}
	when := func(at time.Time) string {
		if at.IsZero() {
			return "—"
		}
		return at.In(a.Location).Format(timeLayout)
	}
	for i := range list {
		e := &list[i]
		project := ""
		if e.ProjectID != 0 {
			project = strconv.FormatInt(e.ProjectID, 10)
		}
		t.Rows = append(t.Rows, row{{Text: when(e.CreatedAt)}, {Text: e.Result, Alert: true}, {Text: e.Ref()}, {Text: e.Type},
			numCell(project), {Text: e.Method}, side(e.Merchant), side(e.Provider), {Text: domain.MaskCardNumbers(e.Reason)}})
	}
	return t
}

// Text writes the alert as plain text: the mail's text/plain part.
func (a *Alert) Text(w io.Writer) error {
	bw := bufio.NewWriter(w)
	title := a.Subject()
	fmt.Fprintf(bw, "%s\n%s\n%s\n\n", title, strings.Repeat("=", utf8.RuneCountInString(title)), a.lead())
	t := a.table(" ")
	writeTable(bw, t)
	if t.More != "" {
		fmt.Fprintln(bw, t.More)
	}
	fmt.Fprintf(bw, "\n%s\n", a.footnote())
	return bw.Flush()
}

var alertPage = pageTemplate("alert", `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="{{.Style.Body}}">
<h1 style="{{.Style.H1}}">{{.Subject}}</h1>
<p style="{{.Style.None}}">{{.Lead}}</p>
{{template "table" .Table}}
<p style="{{.Style.Footnote}}">{{.Footnote}}</p>
</body>
</html>
`)

// HTML writes the alert as a standalone HTML document for a mail body:
// inline styles, nothing fetched, every value escaped by html/template.
func (a *Alert) HTML(w io.Writer) error {
	t := a.table("\u00a0")
	for _, r := range t.Rows {
		for i := range r {
			r[i].Text = strings.ToValidUTF8(plain(r[i].Text), "\uFFFD")
		}
	}
	bw := bufio.NewWriter(w)
	if err := alertPage.Execute(bw, struct {
		Subject, Lead, Footnote string
		Table                   table
		Style                   htmlStyle
	}{
		Subject: a.Subject(), Lead: a.lead(), Footnote: a.footnote(), Table: t,
		Style: mailStyle,
	}); err != nil {
		return err
	}
	return bw.Flush()
}

// shortDuration writes a duration as a config does: "15m", "1h30m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
