package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"reconciled/internal/domain"
)

// previous is what a report made a day before the fixture's saw: p05 open
// as now, p06 under another code, and four that are no longer open.
func (f fixture) previous() *Previous {
	key := func(id string) domain.ResolutionKey {
		return domain.ResolutionKey{ProjectID: 580, ID: id, Type: domain.RecordPurchase}
	}
	uah := func(a int64) domain.Money { return domain.Money{Amount: a, Currency: "UAH"} }
	at := f.now.Add(-24 * time.Hour)
	return &Previous{Day: f.day.AddDate(0, 0, -1), At: at, Open: []Seen{
		{Key: key("p05"), Code: domain.ResultAmountMismatch, Amount: uah(100000), CreatedAt: at},
		{Key: key("p06"), Code: domain.ResultStatusMismatch, Amount: uah(5000), CreatedAt: at},
		{Key: key("p04"), Code: domain.ResultAmountMismatch, Amount: uah(3100), CreatedAt: at},                                        // resolved by hand since
		{Key: key("p01"), Code: domain.ResultAmountMismatch, Amount: uah(99900), CreatedAt: at},                                       // matched since
		{Key: key("gone-1"), Code: domain.ResultOverdue, Amount: uah(123456), CreatedAt: at},                                          // no longer an item
		{Key: key("p03"), Code: domain.ResultMissingAtProvider, Amount: domain.Money{Amount: 150155, Currency: "KWD"}, CreatedAt: at}, // pending again
	}}
}

func TestChangesSinceThePreviousReport(t *testing.T) {
	f := newFixture(t)
	r := Build(Input{Date: f.day, Location: f.loc, Now: f.now, Items: f.items, Sync: f.sync, Previous: f.previous()})
	if got := [4]int{r.ChangeCount(ChangeNew), r.ChangeCount(ChangeStill), r.ChangeCount(ChangeResolved), r.ChangeCount(ChangePending)}; got != [4]int{8, 1, 3, 1} {
		t.Errorf("new, still open, resolved, pending = %v, want [8 1 3 1]", got)
	}
	for _, e := range r.Open {
		if want := e.PaymentID != "p05"; e.New != want {
			t.Errorf("%s (%s): New = %v, want %v", e.PaymentID, e.Result, e.New, want)
		}
	}
	want := []ChangeRow{
		{ChangeNew, "JPY", Tally{2, 1299}}, {ChangeNew, "KWD", Tally{2, 3500}}, {ChangeNew, "UAH", Tally{4, 26777}},
		{ChangeStill, "UAH", Tally{1, 100000}},
		{ChangeResolved, "UAH", Tally{3, 226456}}, // the amounts the previous report showed
		{ChangePending, "KWD", Tally{1, 150155}},
	}
	if !slices.Equal(r.Changes, want) {
		t.Errorf("changes\n%+v, want\n%+v", r.Changes, want)
	}
	var closed []string
	for _, c := range r.Closed {
		closed = append(closed, c.Ref()+"="+c.Now)
	}
	if want := []string{"p03=pending", "gone-1=", "p01=matched", "p04=resolved"}; !slices.Equal(closed, want) {
		t.Errorf("closed %v, want %v (per currency, the largest first)", closed, want)
	}

	var h, txt bytes.Buffer
	if err := r.HTML(&h); err != nil {
		t.Fatal(err)
	}
	if err := r.Text(&txt); err != nil {
		t.Fatal(err)
	}
	lead := "Since the previous report (of 2026-11-22, made 2026-11-23 07:00): 8 new, 1 still open, 3 resolved, 1 back to pending."
	out := strings.Join(strings.Fields(txt.String()), " ")
	for _, want := range []string{lead, "resolved UAH 3 2 264.56", "resolved no longer an item overdue gone-1 purchase 580 2026-11-23 07:00 1 234.56 UAH",
		"resolved resolved by hand amount_mismatch p04 purchase 580 2026-11-23 07:00 31.00 UAH"} {
		if !strings.Contains(out, want) {
			t.Errorf("the text lacks %q:\n%s", want, out)
		}
	}
	tables := htmlTables(t, h.String())
	changes := tables["What changed since the previous report"]
	if !slices.Contains(changes, "resolved|UAH|3|2\u00a0264.56") || !slices.Contains(changes, "new|JPY|2|1\u00a0299") {
		t.Errorf("the HTML's changes: %q", changes)
	}
	if got := tables["Resolved since the previous report"]; len(got) != 4 || !strings.HasPrefix(got[3], "resolved|resolved by hand|amount_mismatch|p04|") {
		t.Errorf("the HTML's resolved list: %q", got)
	}
	// What changed comes first, then what needs a person, then the totals.
	titles := h2s(t, h.String())
	if len(titles) < 5 || titles[0] != "What changed since the previous report" || titles[1] != "Resolved since the previous report" ||
		!strings.HasPrefix(titles[2], "Open exceptions that need a person") || !strings.HasPrefix(titles[3], "Created on ") {
		t.Errorf("sections %q", titles)
	}
}

// The first report has nothing to compare with: it says so, and every
// open exception is new.
func TestTheFirstReportCountsEveryOpenExceptionAsNew(t *testing.T) {
	f := newFixture(t)
	r := f.build()
	if r.Previous != nil || r.ChangeCount(ChangeNew) != len(r.Open) || len(r.Closed) != 0 {
		t.Fatalf("previous %v, %d new of %d open, %d closed", r.Previous, r.ChangeCount(ChangeNew), len(r.Open), len(r.Closed))
	}
	var txt bytes.Buffer
	r.Text(&txt)
	if !strings.Contains(txt.String(), "No previous report to compare with: every open exception counts as new.") ||
		strings.Contains(txt.String(), "Resolved since") {
		t.Errorf("the first report:\n%s", txt.String())
	}
	// The next report, over the same items, sees nothing new.
	next := Build(Input{Date: f.day, Location: f.loc, Now: f.now, Items: f.items, Previous: &Previous{Day: f.day, At: f.now, Open: r.Seen()}})
	if next.ChangeCount(ChangeStill) != len(r.Open) || next.ChangeCount(ChangeNew) != 0 || len(next.Closed) != 0 {
		t.Errorf("the same items again: %+v", next.Changes)
	}
}

// No count of zero is shown: the day's table has only the codes with
// items that day, the ageing only the buckets with exceptions.
func TestTheReportShowsNoZeroRows(t *testing.T) {
	f := newFixture(t)
	r := Build(Input{Date: f.day, Location: f.loc, Now: f.now, Items: f.items, Sync: f.sync, Previous: f.previous()})
	var h bytes.Buffer
	if err := r.HTML(&h); err != nil {
		t.Fatal(err)
	}
	tables := htmlTables(t, h.String())
	checked := 0
	for title, rows := range tables {
		if strings.HasPrefix(title, "Sync health") || strings.HasPrefix(title, "Open exceptions,") || strings.HasPrefix(title, "Open exceptions that") ||
			strings.HasPrefix(title, "Resolved since") {
			continue // no counts
		}
		for _, row := range rows {
			checked++
			for _, c := range strings.Split(row, "|") {
				if c == "0" || c == "0.00" || c == "0.000" {
					t.Errorf("%s: a zero row %q", title, row)
				}
			}
		}
	}
	day := tables["Created on 2026-11-23, by result"]
	if len(day) != 10 || checked < 30 {
		t.Errorf("the day's table has %d rows (want 7 codes × currencies and 3 totals); %d rows checked:\n%q", len(day), checked, day)
	}
}

// A merchant's text reaches the mail as text: escaped by html/template,
// whatever field it is in.
func TestHostileMerchantTextIsEscaped(t *testing.T) {
	f := newFixture(t)
	hostile := `<script>alert("x")</script>`
	f.items = append(f.items, domain.Item{Result: domain.ResultMissingInRecords, Code: domain.ResultMissingInRecords, PaymentID: hostile,
		Type: domain.RecordPurchase, ProjectID: 580, Method: hostile, CreatedAt: f.now.Add(-time.Hour), Reason: "because " + hostile,
		Merchant: &domain.Record{PaymentID: hostile, Amount: domain.Money{Amount: 100, Currency: "UAH"}, Status: hostile}})
	r := Build(Input{Date: f.day, Location: f.loc, Now: f.now, Items: f.items, Previous: f.previous()})
	var h bytes.Buffer
	if err := r.HTML(&h); err != nil {
		t.Fatal(err)
	}
	doc := h.String()
	if strings.Contains(strings.ToLower(doc), "<script") {
		t.Fatal("a <script> element in the report")
	}
	if n := strings.Count(doc, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"); n < 4 {
		t.Errorf("the merchant's text escaped %d times, want it in both lists (payment and reason)", n)
	}
	// Read back, the cells hold the merchant's text as it was.
	found := false
	for _, row := range htmlTables(t, doc)["Open exceptions that need a person, oldest and largest first"] {
		found = found || strings.Contains(row, "|"+hostile+"|")
	}
	if !found {
		t.Error("the merchant's text does not read back as it was")
	}
}

// htmlTables reads the document's tables by the title (h2) before each:
// each row's cells joined by "|", the header left out.
func htmlTables(t *testing.T, doc string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	title := ""
	for _, n := range parseHTML(t, doc) {
		switch n.Data {
		case "h2":
			title = textOf(n)
		case "tr":
			var cells []string
			for c := range n.ChildNodes() {
				if c.Type == html.ElementNode && c.Data == "td" {
					cells = append(cells, textOf(c))
				}
			}
			if len(cells) > 0 {
				out[title] = append(out[title], strings.Join(cells, "|"))
			}
		}
	}
	return out
}

func h2s(t *testing.T, doc string) []string {
	var out []string
	for _, n := range parseHTML(t, doc) {
		if n.Data == "h2" {
			out = append(out, textOf(n))
		}
	}
	return out
}
