package report

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Kyiv wherever the tests run

	"golang.org/x/net/html"

	"reconciled/internal/domain"
)

func kyiv(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// fixture is a reconciliation seen on 2026-11-24 07:00 in Kyiv (UTC+2),
// reported for 2026-11-23: every code, three currencies (UAH 2 decimals,
// JPY 0, KWD 3), items on the day, before it and after it, ages on both
// sides of every bucket boundary.
type fixture struct {
	loc            *time.Location
	day, end, now  time.Time
	items          []domain.Item
	sync           []SyncState
	weirdPaymentID string
}

func newFixture(t testing.TB) fixture {
	loc := kyiv(t)
	f := fixture{loc: loc, weirdPaymentID: `<b>&"x'</b>`}
	f.day = time.Date(2026, 11, 23, 0, 0, 0, 0, loc)
	f.end = time.Date(2026, 11, 24, 0, 0, 0, 0, loc)
	f.now = time.Date(2026, 11, 24, 7, 0, 0, 0, loc)
	noon := f.day.Add(12 * time.Hour)
	uah := func(a int64) *domain.Money { return &domain.Money{Amount: a, Currency: "UAH"} }
	jpy := func(a int64) *domain.Money { return &domain.Money{Amount: a, Currency: "JPY"} }
	kwd := func(a int64) *domain.Money { return &domain.Money{Amount: a, Currency: "KWD"} }
	item := func(result, id, method string, created time.Time, merchant, provider *domain.Money) domain.Item {
		it := domain.Item{Result: result, Code: result, PaymentID: id, Type: domain.RecordPurchase, ProjectID: 580,
			Method: method, CreatedAt: created, Reason: "because " + result}
		if merchant != nil {
			it.Merchant = &domain.Record{PaymentID: id, Amount: *merchant, Status: domain.RecordPaid}
		}
		if provider != nil {
			it.Provider = &domain.Operation{PaymentID: id, SumInitial: *provider, OperationStatus: domain.StatusSuccess, OperationID: 1000 + uint64(len(id))}
			it.OperationID = it.Provider.OperationID
		}
		return it
	}
	f.items = []domain.Item{
		item(domain.ResultMatched, "p01", "card", noon, uah(100000), uah(100000)),
		item(domain.ResultMatched, "p02", "card", noon, jpy(200), jpy(200)),
		item(domain.ResultPending, "p03", "advcash", noon, kwd(150155), nil), // the merchant's amount: no operation
		item(domain.ResultResolved, "p04", "card", f.now.Add(-10*24*time.Hour), uah(3000), uah(3000)),
		// The provider's amount counts, not the merchant's 1000.50.
		item(domain.ResultAmountMismatch, "p05", "card", f.end.Add(-time.Second), uah(100050), uah(100000)),
		item(domain.ResultOverdue, "p06", "card", f.now.Add(-24*time.Hour), uah(5000), uah(5000)),                         // exactly 1 day: 0–1
		item(domain.ResultOverdue, "p07", "card", f.now.Add(-24*time.Hour-time.Second), nil, jpy(300)),                    // just over: 1–3
		item(domain.ResultOverdue, "p08", "", f.now.Add(-72*time.Hour), kwd(1000), kwd(1000)),                             // exactly 3 days: 1–3
		item(domain.ResultMissingAtProvider, "p09", "advcash", f.now.Add(-72*time.Hour-time.Second), kwd(2500), nil),      // 3–7
		item(domain.ResultMissingInRecords, "p10", "card", f.now.Add(-168*time.Hour), nil, uah(7777)),                     // exactly 7 days: 3–7
		item(domain.ResultDuplicate, f.weirdPaymentID, "card", f.now.Add(-168*time.Hour-time.Second), jpy(999), jpy(999)), // over 7
		item(domain.ResultCurrencyMismatch, "p12", "card", f.day, kwd(100), uah(10000)),                                   // the day's first instant
		item(domain.ResultStatusMismatch, "p13", "card", f.end, uah(4000), uah(4000)),                                     // the next day's first instant
		item(domain.ResultPending, "p14", "card", f.day.Add(-time.Second), nil, jpy(50)),                                  // the day before
	}
	f.sync = []SyncState{
		{Project: 582, LastSuccess: f.now.Add(-time.Hour), LastAttempt: f.now.Add(-time.Hour), Watermark: f.end.Add(-time.Hour)},
		{Project: 580, LastSuccess: f.now.Add(-10 * time.Minute), LastAttempt: f.now.Add(-10 * time.Minute), Watermark: f.now.Add(-10 * time.Minute),
			LastError: "old timeout", LastErrorAt: f.now.Add(-48 * time.Hour), Operations: 123456, NotFinal: 7},
		{Project: 579, LastSuccess: f.now.Add(-48 * time.Hour), LastAttempt: f.now.Add(-5 * time.Minute), Watermark: f.now.Add(-48 * time.Hour),
			LastError: "data_api: 401 <script>alert(1)</script>", LastErrorAt: f.now.Add(-5 * time.Minute), Failing: true, Operations: 10},
		{Project: 581},
	}
	return f
}

func (f fixture) build() *Report {
	return Build(Input{Date: f.day, Location: f.loc, Now: f.now, Items: f.items, Sync: f.sync})
}

func TestBuildByCode(t *testing.T) {
	r := newFixture(t).build()
	if got, want := r.Items, 14; got != want {
		t.Errorf("Items = %d, want %d", got, want)
	}
	if got, want := r.DayItems, 7; got != want {
		t.Errorf("DayItems = %d, want %d", got, want)
	}
	type k struct{ code, cur string }
	want := map[k]CodeRow{
		{"matched", "UAH"}:             {Day: Tally{1, 100000}, ToDate: Tally{1, 100000}},
		{"matched", "JPY"}:             {Day: Tally{1, 200}, ToDate: Tally{1, 200}},
		{"amount_mismatch", "UAH"}:     {Day: Tally{1, 100000}, ToDate: Tally{1, 100000}},
		{"currency_mismatch", "UAH"}:   {Day: Tally{1, 10000}, ToDate: Tally{1, 10000}},
		{"status_mismatch", "UAH"}:     {ToDate: Tally{1, 4000}},
		{"missing_at_provider", "KWD"}: {ToDate: Tally{1, 2500}},
		{"missing_in_records", "UAH"}:  {ToDate: Tally{1, 7777}},
		{"duplicate", "JPY"}:           {ToDate: Tally{1, 999}},
		{"pending", "JPY"}:             {ToDate: Tally{1, 50}},
		{"pending", "KWD"}:             {Day: Tally{1, 150155}, ToDate: Tally{1, 150155}},
		{"overdue", "JPY"}:             {Day: Tally{1, 300}, ToDate: Tally{1, 300}},
		{"overdue", "KWD"}:             {ToDate: Tally{1, 1000}},
		{"overdue", "UAH"}:             {Day: Tally{1, 5000}, ToDate: Tally{1, 5000}},
		{"resolved", "UAH"}:            {ToDate: Tally{1, 3000}},
	}
	if len(r.ByCode) != len(want) {
		t.Errorf("%d rows by code, want %d: %+v", len(r.ByCode), len(want), r.ByCode)
	}
	for _, row := range r.ByCode {
		w, ok := want[k{row.Code, row.Currency}]
		if !ok {
			t.Errorf("unexpected row %+v", row)
			continue
		}
		if row.Day != w.Day || row.ToDate != w.ToDate {
			t.Errorf("%s %s: day %+v to date %+v, want %+v %+v", row.Code, row.Currency, row.Day, row.ToDate, w.Day, w.ToDate)
		}
	}
	// Codes in the order of domain.Results, currencies by code within one.
	var order []string
	for _, row := range r.ByCode {
		order = append(order, row.Code+"/"+row.Currency)
	}
	if got, want := strings.Join(order, " "), "matched/JPY matched/UAH amount_mismatch/UAH currency_mismatch/UAH status_mismatch/UAH "+
		"missing_at_provider/KWD missing_in_records/UAH duplicate/JPY pending/JPY pending/KWD overdue/JPY overdue/KWD overdue/UAH resolved/UAH"; got != want {
		t.Errorf("order\n got %s\nwant %s", got, want)
	}
	wantTotals := []CodeRow{
		{Currency: "JPY", Day: Tally{2, 500}, ToDate: Tally{4, 1549}},
		{Currency: "KWD", Day: Tally{1, 150155}, ToDate: Tally{3, 153655}},
		{Currency: "UAH", Day: Tally{4, 215000}, ToDate: Tally{7, 229777}},
	}
	if !slices.Equal(r.Totals, wantTotals) {
		t.Errorf("totals\n got %+v\nwant %+v", r.Totals, wantTotals)
	}
}

func TestBuildOpenExceptions(t *testing.T) {
	f := newFixture(t)
	r := f.build()
	var ids []string
	for _, e := range r.Open {
		ids = append(ids, e.PaymentID)
	}
	// Oldest first; matched, pending and resolved are never listed.
	if got, want := ids, []string{f.weirdPaymentID, "p10", "p09", "p08", "p12", "p07", "p06", "p05", "p13"}; !slices.Equal(got, want) {
		t.Errorf("open exceptions %q, want %q", got, want)
	}
	e := r.Open[7] // p05, amount_mismatch
	if e.Result != domain.ResultAmountMismatch || e.Amount != (domain.Money{Amount: 100000, Currency: "UAH"}) ||
		e.Merchant == nil || e.Merchant.Amount.Amount != 100050 || e.Merchant.Status != "paid" ||
		e.Provider == nil || e.Provider.Amount.Amount != 100000 || e.Provider.Status != "success" ||
		e.Age != 7*time.Hour+time.Second || e.Reason != "because amount_mismatch" || e.ProjectID != 580 || e.Method != "card" {
		t.Errorf("p05 = %+v", e)
	}
	if r.Open[2].Provider != nil || r.Open[2].Merchant == nil { // p09, missing at the provider
		t.Errorf("p09 sides %+v %+v", r.Open[2].Merchant, r.Open[2].Provider)
	}
	if got, want := r.OverdueCount(), 3; got != want {
		t.Errorf("OverdueCount = %d, want %d", got, want)
	}
}

func TestOnlyExceptionsAreOpen(t *testing.T) {
	open := []string{"amount_mismatch", "currency_mismatch", "status_mismatch", "missing_at_provider", "missing_in_records", "duplicate", "overdue", "fee_mismatch", "chargeback"}
	now := time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC)
	for _, code := range domain.Results {
		t.Run(code, func(t *testing.T) {
			items := []domain.Item{{Result: code, PaymentID: "x", CreatedAt: now.Add(-time.Hour),
				Provider: &domain.Operation{SumInitial: domain.Money{Amount: 1, Currency: "UAH"}}}}
			r := Build(Input{Date: now, Now: now, Items: items})
			if got, want := len(r.Open) == 1, slices.Contains(open, code); got != want {
				t.Errorf("open = %v, want %v", got, want)
			}
			if len(r.ByCode) != 1 || r.ByCode[0].Code != code || r.ByCode[0].Day != (Tally{1, 1}) {
				t.Errorf("by code %+v", r.ByCode)
			}
		})
	}
}

func TestAgeingBoundaries(t *testing.T) {
	const day = 24 * time.Hour
	// Buckets hold ages in (From, To]: an age of exactly 1, 3 or 7 days
	// is still in the younger bucket; "over 7 days" is strictly over.
	for _, tt := range []struct {
		age  time.Duration
		want string
	}{
		{-time.Hour, "0–1 day"}, // created after Now: a clock ahead
		{0, "0–1 day"},
		{day - time.Nanosecond, "0–1 day"},
		{day, "0–1 day"},
		{day + time.Nanosecond, "1–3 days"},
		{3 * day, "1–3 days"},
		{3*day + time.Nanosecond, "3–7 days"},
		{7 * day, "3–7 days"},
		{7*day + time.Nanosecond, "over 7 days"},
		{400 * day, "over 7 days"},
	} {
		if got := ageing[bucketOf(tt.age)].Label; got != tt.want {
			t.Errorf("age %v in %q, want %q", tt.age, got, tt.want)
		}
	}
}

func TestBuildAgeing(t *testing.T) {
	r := newFixture(t).build()
	want := []Bucket{
		{Label: "0–1 day", Count: 3, Sums: []Sum{{"UAH", Tally{3, 109000}}}},
		{Label: "1–3 days", Count: 3, Sums: []Sum{{"JPY", Tally{1, 300}}, {"KWD", Tally{1, 1000}}, {"UAH", Tally{1, 10000}}}},
		{Label: "3–7 days", Count: 2, Sums: []Sum{{"KWD", Tally{1, 2500}}, {"UAH", Tally{1, 7777}}}},
		{Label: "over 7 days", Count: 1, Sums: []Sum{{"JPY", Tally{1, 999}}}},
	}
	if len(r.Ageing) != len(want) {
		t.Fatalf("%d buckets", len(r.Ageing))
	}
	for i, w := range want {
		b := r.Ageing[i]
		if b.Label != w.Label || b.Count != w.Count || !slices.Equal(b.Sums, w.Sums) {
			t.Errorf("bucket %d = %+v, want %+v", i, b, w)
		}
	}
	for _, e := range r.Open {
		if e.Bucket != bucketOf(e.Age) {
			t.Errorf("%s in bucket %d, age %v", e.PaymentID, e.Bucket, e.Age)
		}
	}
}

func TestBuildOverdueByMethod(t *testing.T) {
	r := newFixture(t).build()
	want := []MethodRow{
		{Method: "card", Count: 2, Sums: []Sum{{"JPY", Tally{1, 300}}, {"UAH", Tally{1, 5000}}}},
		{Method: "", Count: 1, Sums: []Sum{{"KWD", Tally{1, 1000}}}}, // no method: last
	}
	if len(r.Overdue) != len(want) {
		t.Fatalf("overdue %+v", r.Overdue)
	}
	for i, w := range want {
		if g := r.Overdue[i]; g.Method != w.Method || g.Count != w.Count || !slices.Equal(g.Sums, w.Sums) {
			t.Errorf("overdue[%d] = %+v, want %+v", i, g, w)
		}
	}
}

func TestBuildSync(t *testing.T) {
	r := newFixture(t).build()
	var got []string
	for _, s := range r.Sync {
		got = append(got, s.Health)
	}
	// 579's last error is newer than its last success; 582 has not
	// pulled the report's day to its end; 581 never synced.
	if want := []string{HealthFailing, HealthOK, HealthNever, HealthBehind}; !slices.Equal(got, want) {
		t.Errorf("health %q, want %q", got, want)
	}
	if s := r.Sync[1]; s.Project != 580 || s.Operations != 123456 || s.NotFinal != 7 || s.LastError != "old timeout" {
		t.Errorf("580 = %+v", s)
	}
	// A day that is not over yet is not behind.
	f := newFixture(t)
	today := Build(Input{Date: f.now, Location: f.loc, Now: f.now, Sync: f.sync})
	if got := today.Sync[3].Health; got != HealthOK {
		t.Errorf("582 today: %s", got)
	}
}

func TestBuildDayInZone(t *testing.T) {
	loc := kyiv(t)
	// 2026-10-25: Kyiv leaves summer time, the day has 25 hours.
	start := time.Date(2026, 10, 25, 0, 0, 0, 0, loc)
	at := func(d time.Duration) domain.Item {
		return domain.Item{Result: domain.ResultMatched, CreatedAt: start.Add(d), Merchant: &domain.Record{Amount: domain.Money{Amount: 1, Currency: "UAH"}}}
	}
	items := []domain.Item{at(-time.Nanosecond), at(0), at(24*time.Hour + 30*time.Minute), at(25 * time.Hour)}
	// Any time of the day names the day.
	r := Build(Input{Date: start.Add(15 * time.Hour), Location: loc, Now: start.Add(48 * time.Hour), Items: items})
	if !r.Date.Equal(start) || r.End.Sub(r.Date) != 25*time.Hour || r.Day() != "2026-10-25" {
		t.Errorf("day [%v, %v) %s", r.Date, r.End, r.Day())
	}
	if r.DayItems != 2 {
		t.Errorf("DayItems = %d, want 2", r.DayItems)
	}
}

func TestSortTies(t *testing.T) {
	now := time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC)
	at := now.Add(-time.Hour)
	mk := func(id, typ string) domain.Item {
		return domain.Item{Result: domain.ResultMissingAtProvider, PaymentID: id, Type: typ, CreatedAt: at,
			Merchant: &domain.Record{Amount: domain.Money{Amount: 1, Currency: "UAH"}}}
	}
	r := Build(Input{Date: now, Now: now, Items: []domain.Item{mk("b", "purchase"), mk("a", "refund"), mk("a", "purchase")}})
	var got []string
	for _, e := range r.Open {
		got = append(got, e.PaymentID+"/"+e.Type)
	}
	if want := []string{"a/purchase", "a/refund", "b/purchase"}; !slices.Equal(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
}

func TestSubject(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		name string
		in   Input
		want string
	}{
		{"full", Input{Date: f.day, Location: f.loc, Now: f.now, Items: f.items, Sync: f.sync},
			"reconciled: 2026-11-23 — 9 open exceptions (3 overdue); sync failing: 579, 581"},
		{"one", Input{Date: f.day, Location: f.loc, Now: f.now, Items: f.items[4:5]}, "reconciled: 2026-11-23 — 1 open exception"},
		{"none", Input{Date: f.day, Location: f.loc, Now: f.now, Items: f.items[:4]}, "reconciled: 2026-11-23 — no open exceptions"},
	} {
		if got := Build(tt.in).Subject(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for _, tt := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{100000, "UAH", "1 000.00"},
		{-123456789, "UAH", "-1 234 567.89"},
		{999, "JPY", "999"},
		{1000, "JPY", "1 000"},
		{150155, "KWD", "150.155"},
		{1234567, "KWD", "1 234.567"},
		{5, "KWD", "0.005"},
		{7, "XXY", "7 minor"},
		{7, "", ""},
	} {
		if got := amount(tt.minor, tt.currency, " "); got != tt.want {
			t.Errorf("amount(%d, %s) = %q, want %q", tt.minor, tt.currency, got, tt.want)
		}
	}
	for d, want := range map[time.Duration]string{-time.Minute: "0m", 59 * time.Second: "0m", 12 * time.Minute: "12m",
		5*time.Hour + 20*time.Minute: "5h 20m", 8*24*time.Hour + 3*time.Hour + 59*time.Minute: "8d 3h"} {
		if got := age(d); got != want {
			t.Errorf("age(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRef(t *testing.T) {
	for e, want := range map[*Exception]string{
		{PaymentID: "p", ProviderPaymentID: "x", OperationID: 5}: "p",
		{ProviderPaymentID: "x", OperationID: 5}:                 "provider:x",
		{OperationID: 5}:                                         "operation:5",
	} {
		if got := e.Ref(); got != want {
			t.Errorf("Ref() = %q, want %q", got, want)
		}
	}
}

// parseHTML parses a document and returns every element.
func parseHTML(t *testing.T, doc string) []*html.Node {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var all []*html.Node
	for n := range root.Descendants() {
		if n.Type == html.ElementNode {
			all = append(all, n)
		}
	}
	return all
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func TestHTML(t *testing.T) {
	f := newFixture(t)
	r := f.build()
	var b bytes.Buffer
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	if !strings.HasPrefix(doc, "<!DOCTYPE html>") || !strings.HasSuffix(strings.TrimSpace(doc), "</html>") {
		t.Error("not a complete document")
	}
	for _, bad := range []string{"<script", "<style", "<img", "<link", "src=", "href=", "url(", "http:", "https:", "ZgotmplZ"} {
		if strings.Contains(strings.ToLower(doc), bad) {
			t.Errorf("the document contains %q", bad)
		}
	}
	// The payment id and the sync error are escaped, and read back as they were.
	if !strings.Contains(doc, "&lt;b&gt;&amp;&#34;x&#39;&lt;/b&gt;") || strings.Contains(doc, f.weirdPaymentID) {
		t.Error("payment id not escaped")
	}
	elems := parseHTML(t, doc)
	var cells, rightCells []string
	tables := 0
	for _, n := range elems {
		switch n.Data {
		case "script", "style", "img", "link", "iframe", "object":
			t.Errorf("element <%s>", n.Data)
		case "table":
			tables++
		case "td":
			cells = append(cells, textOf(n))
			for _, a := range n.Attr {
				if a.Key == "style" && strings.Contains(a.Val, "text-align:right") {
					rightCells = append(rightCells, textOf(n))
				}
			}
		}
		for _, a := range n.Attr {
			if a.Key == "src" || a.Key == "href" || a.Key == "background" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
		}
	}
	// What changed, what needs a person, the day, to date, ageing,
	// overdue, sync, every open exception.
	if tables != 8 {
		t.Errorf("%d tables, want 8", tables)
	}
	for _, want := range []string{f.weirdPaymentID, "data_api: 401 <script>alert(1)</script>", "because duplicate", "over 7 days", "(no method)"} {
		if !slices.Contains(cells, want) {
			t.Errorf("no cell %q", want)
		}
	}
	// Amounts: the currency's decimals, a no-break space between thousands, right-aligned.
	for _, want := range []string{"2\u00a0297.77", "150.155", "1\u00a0549", "1\u00a0000.50 UAH", "123456"} {
		if !slices.Contains(rightCells, want) {
			t.Errorf("no right-aligned cell %q", want)
		}
	}
	var title string
	for _, n := range elems {
		if n.Data == "title" {
			title = textOf(n)
		}
	}
	if title != r.Subject() {
		t.Errorf("title %q", title)
	}
}

func TestEmptySectionsSayNone(t *testing.T) {
	now := time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC)
	r := Build(Input{Date: now.Add(-24 * time.Hour), Now: now})
	var h, txt bytes.Buffer
	if err := r.HTML(&h); err != nil {
		t.Fatal(err)
	}
	if err := r.Text(&txt); err != nil {
		t.Fatal(err)
	}
	nones := 0
	for _, n := range parseHTML(t, h.String()) {
		if n.Data == "p" && textOf(n) == "none" {
			nones++
		}
		if n.Data == "table" {
			t.Error("a table in an empty report")
		}
	}
	if nones != 9 {
		t.Errorf("%d sections say none, want 9", nones)
	}
	if got := strings.Count(txt.String(), "\nnone\n"); got != 9 {
		t.Errorf("%d text sections say none, want 9:\n%s", got, txt.String())
	}
}

func TestListLimit(t *testing.T) {
	r := newFixture(t).build()
	r.ListLimit = 2
	var h, txt bytes.Buffer
	if err := r.HTML(&h); err != nil {
		t.Fatal(err)
	}
	if err := r.Text(&txt); err != nil {
		t.Fatal(err)
	}
	// The list of every open exception is cut; the few that need a
	// person first (all 9 here) are listed above it whatever the limit.
	for _, out := range []string{h.String(), txt.String()} {
		if !strings.Contains(out, "… and 7 more open exceptions") || strings.Count(out, "because amount_mismatch") != 1 {
			t.Error("the list is not cut at 2")
		}
	}
}

func TestText(t *testing.T) {
	f := newFixture(t)
	f.items[0].Reason = "a\ttab\nand a newline"
	r := Build(Input{Date: f.day, Location: f.loc, Now: f.now, Items: f.items, Sync: f.sync})
	var b bytes.Buffer
	if err := r.Text(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	fields := func(l string) string { return strings.Join(strings.Fields(l), " ") }
	// The totals per currency: the day's items and amount, then to date.
	for _, want := range []string{"total JPY 2 500", "total KWD 1 150.155", "total UAH 4 2 150.00", "total JPY 4 1 549", "total KWD 3 153.655",
		"total UAH 7 2 297.77"} {
		found := false
		for _, l := range lines {
			found = found || fields(l) == want
		}
		if !found {
			t.Errorf("no line %q in\n%s", want, out)
		}
	}
	for _, want := range []string{"Reconciliation report for 2026-11-23", "9 open exceptions, 3 of them overdue", "0–1 day", f.weirdPaymentID,
		"data_api: 401 <script>alert(1)</script>"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q", want)
		}
	}
	if strings.Contains(out, "\t") {
		t.Error("a tab in the text")
	}
	// The summary's lines are aligned: its last column is a number padded
	// to the column's width, so every line has the same length.
	start := slices.Index(lines, "The whole reconciliation, by result") + 2
	if start < 2 || !strings.HasPrefix(lines[start], "result ") {
		t.Fatal("no summary header")
	}
	width := len([]rune(lines[start]))
	for _, l := range lines[start+1 : start+1+len(r.ByCode)+len(r.Totals)] {
		if len([]rune(l)) != width {
			t.Errorf("line %q is %d wide, the header %d", l, len([]rune(l)), width)
		}
	}
}

func TestReportNamesUnknownWords(t *testing.T) {
	r := Build(Input{Date: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Now: time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC),
		Unknown: []domain.WordCount{{Field: domain.FieldOperationStatus, Word: "awaiting foo", Count: 2},
			{Field: domain.FieldOperationType, Word: "gift <card>", Count: 1}}})
	var text, html strings.Builder
	if err := r.Text(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.HTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`2 operations in an unknown status "awaiting foo"`, `1 operation of an unknown type "gift <card>"`,
		"ECommPay words reconciled does not know", "[reconcile.operation_statuses]", "[reconcile.operation_types]"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text report does not say %q:\n%s", want, text.String())
		}
	}
	if !strings.Contains(html.String(), "gift &lt;card&gt;") || strings.Contains(html.String(), "gift <card>") {
		t.Error("the HTML report does not escape the word")
	}
	// Without unknown words, no such table.
	r = Build(Input{Now: time.Now()})
	text.Reset()
	r.Text(&text)
	if strings.Contains(text.String(), "does not know") {
		t.Error("a report without unknown words has the table")
	}
}

// A broken upstream sending a new word with every operation does not make
// the report endless.
func TestReportListsTheMostFrequentUnknownWords(t *testing.T) {
	var words []domain.WordCount
	for i := 0; i < 500; i++ {
		words = append(words, domain.WordCount{Field: domain.FieldOperationStatus, Word: "odd " + strconv.Itoa(i), Count: int64(1 + i%7)})
	}
	r := Build(Input{Now: time.Now(), Unknown: words})
	if len(r.Unknown) != MaxUnknown || r.UnknownMore != 500-MaxUnknown || r.Unknown[0].Count != 7 {
		t.Fatalf("%d listed, %d more, first %+v", len(r.Unknown), r.UnknownMore, r.Unknown[0])
	}
	var text strings.Builder
	r.Text(&text)
	if !strings.Contains(text.String(), "480 more words") || !strings.Contains(text.String(), "500 words reconciled does not know") {
		t.Errorf("the report does not say how many it left out:\n%s", text.String())
	}
}

// The day's net settlement is a table of its own, per project and
// currency, amounts with their currency's decimals, a negative net shown
// as an alert.
func TestReportShowsTheDaysSettlement(t *testing.T) {
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	r := Build(Input{Date: day, Now: day.Add(30 * time.Hour), Settlement: []SettlementRow{
		{Project: 580, Currency: "EUR", Purchases: 1000000, Refunds: 20000, Payouts: 50000, Fees: 2550, Net: 927450},
		{Project: 580, Currency: "USD", Fees: 50, Net: -50},
	}})
	var txt bytes.Buffer
	if err := r.Text(&txt); err != nil {
		t.Fatal(err)
	}
	out := txt.String()
	for _, want := range []string{"Net settlement on 2026-11-24", "10 000.00", "9 274.50", "-0.50"} {
		if !strings.Contains(out, want) {
			t.Errorf("the text lacks %q:\n%s", want, out)
		}
	}
}

// The chargeback totals stop at the int64 limit instead of wrapping:
// 10,000 lost chargebacks at their bound are not a negative total.
func TestChargebackTotalsDoNotWrap(t *testing.T) {
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var rows []ChargebackRow
	for i := range 10000 {
		rows = append(rows, ChargebackRow{ID: uint64(i + 1), Project: 1, PaymentID: "p", Amount: domain.Money{Amount: domain.MaxChargebackAmount, Currency: "EUR"},
			Status: "lost", State: domain.ChargebackLost, Opened: day})
	}
	r := Build(Input{Date: day, Location: time.UTC, Now: day.Add(30 * time.Hour), Chargebacks: rows})
	if len(r.ChargebackTotals) != 1 || r.ChargebackTotals[0].Count != 10000 || r.ChargebackTotals[0].Amount != math.MaxInt64 {
		t.Fatalf("%+v", r.ChargebackTotals)
	}
}
