package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/web"
)

var now = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

const hostile = `<script>alert("x")</script>`

func sale(id uint64, payment, method string, at time.Time, amount int64, cur string) domain.Operation {
	m := domain.Money{Amount: amount, Currency: cur}
	return domain.Operation{ProjectID: 7, OperationID: id, PaymentID: payment, PaymentType: "purchase", PaymentStatus: "success",
		OperationType: "sale", OperationStatus: "success", PaymentMethod: method, CreatedAt: at, CompletedAt: at,
		SumInitial: m, SumConverted: m, AccountNumber: domain.MaskAccount("4111111111111111")}
}

func paid(payment, method string, at time.Time, amount int64, cur string) domain.Record {
	return domain.Record{Source: "records", PaymentID: payment, Type: domain.RecordPurchase, Status: domain.RecordPaid,
		Amount: domain.Money{Amount: amount, Currency: cur}, CreatedAt: at, Origin: "books.csv:2", Method: method, CustomerID: hostile}
}

// world is an App on a real ledger with a stored reconciliation: matched
// payments, amount mismatches in two currencies, a payment only the
// books have, and one whose id and method are markup.
func world(t *testing.T) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.DataAPI.TZ = "Europe/Berlin"
	cfg.DataAPI.Projects = []int64{7}
	cfg.Storage.Path = filepath.Join(t.TempDir(), "reconciled.db")
	cfg.Web.DashboardURL = "https://dashboard.example.com/search?q={payment_id}"
	l, err := ledger.Open(cfg.Storage.Path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var ops []domain.Operation
	var recs []domain.Record
	for i := range 30 {
		id := "p-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		cur, method := "EUR", "card"
		if i%3 == 0 {
			cur, method = "USD", "sepa"
		}
		day := at.Add(time.Duration(i) * 13 * time.Hour)
		ops = append(ops, sale(uint64(100+i), id, method, day, 1000+int64(i), cur))
		amount := 1000 + int64(i)
		if i%2 == 0 {
			amount += 7 // an amount_mismatch
		}
		recs = append(recs, paid(id, method, day, amount, cur))
	}
	ops = append(ops, sale(500, hostile+"&x", hostile, at, 4200, "EUR"))
	recs = append(recs, paid(hostile+"&x", hostile, at, 4100, "EUR"))
	recs = append(recs, paid("only-in-books", "card", at, 999, "EUR"))
	if _, err := l.UpsertPage(ops, now); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ImportRecords(recs, ledger.Import{At: now, User: "tester", File: "books.csv", Format: "csv", Lines: len(recs)}, now); err != nil {
		t.Fatal(err)
	}
	a := app.New(app.App{Config: cfg, Ledger: l, Now: func() time.Time { return now }})
	if _, err := a.RunReconcile(context.Background(), app.RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	return a
}

func serve(t *testing.T, a *app.App, o web.Options) (*web.Server, *httptest.Server) {
	t.Helper()
	o.App = func() *app.App { return a }
	s := web.New(o)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

func get(t *testing.T, method, u string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestPagesStatusAndHeaders(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{})
	for _, c := range []struct {
		method, path string
		want         int
		has          string
	}{
		{"GET", "/", 200, `id="results"`},
		{"GET", "/exceptions", 200, `id="exceptions"`},
		{"GET", "/exceptions?code=amount_mismatch&currency=usd&sort=amount&per=2&page=2", 200, `id="page-prev"`},
		{"GET", "/exceptions?page=9223372036854775807&per=-3&sort=%3Cx%3E&from=yesterday", 200, `data-total="17"`},
		{"GET", "/payment?id=p-a", 200, `data-payment-id="p-a"`},
		{"GET", "/payment", 200, "Give a payment id"},
		{"GET", "/payment?id=nothing-here", 404, "Nothing is stored"},
		{"GET", "/analytics?from=2026-11-01&to=2026-11-30", 200, `id="chart-approval"`},
		{"GET", "/style.css", 200, "body{"},
		{"GET", "/exceptions.csv", 200, "result,matched_by,payment_id"},
		{"GET", "/no-such-page", 404, ""},
		{"HEAD", "/", 200, ""},
		{"POST", "/", 405, ""},
		{"PUT", "/exceptions", 405, ""},
		{"DELETE", "/no-such-page", 405, ""},
	} {
		res, body := get(t, c.method, ts.URL+c.path)
		if res.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d\n%s", c.method, c.path, res.StatusCode, c.want, body)
		}
		if !strings.Contains(body, c.has) {
			t.Errorf("%s %s: no %q in\n%s", c.method, c.path, c.has, body)
		}
		if c.method == "HEAD" && body != "" {
			t.Errorf("HEAD has a body")
		}
		if c.want == 405 && res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow %q", c.method, c.path, res.Header.Get("Allow"))
		}
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", c.path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", c.path, h)
		}
		html := strings.HasPrefix(res.Header.Get("Content-Type"), "text/html")
		if html && (strings.Contains(body, "<script") || strings.Contains(body, `src="`) || strings.Count(body, "<link") != strings.Count(body, `<link rel="stylesheet" href="style.css">`) || strings.Contains(body, "style=")) {
			t.Errorf("%s: a script or an external resource in\n%s", c.path, body)
		}
		if strings.Contains(body, "4111111111111111") {
			t.Errorf("%s: a full card number", c.path)
		}
	}
}

// A page far past the end shows no row (no overflow of its offset), and
// bad values are read as the defaults.
func TestAPagePastTheEnd(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{})
	_, body := get(t, "GET", ts.URL+"/exceptions?page=9223372036854775807&per=500")
	if !strings.Contains(body, `data-total="17"`) || strings.Contains(body, `class="exception"`) || strings.Contains(body, `id="page-next"`) {
		t.Errorf("a page past the end:\n%s", body)
	}
}

// A payment id and a merchant field of markup render as text, on every
// page that shows them, and in the Dashboard link's URL escaped.
func TestMarkupRendersAsText(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{})
	id := hostile + "&x"
	pages := []string{"/exceptions?q=" + url.QueryEscape("script"), "/payment?id=" + url.QueryEscape(id), "/analytics?from=2026-10-01&to=2026-11-30"}
	for _, p := range pages {
		res, body := get(t, "GET", ts.URL+p)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d\n%s", p, res.StatusCode, body)
		}
		if strings.Contains(body, "<script") {
			t.Errorf("%s: unescaped markup in\n%s", p, body)
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s: the markup is not shown as text in\n%s", p, body)
		}
	}
	_, body := get(t, "GET", ts.URL+"/payment?id="+url.QueryEscape(id))
	want := `href="https://dashboard.example.com/search?q=` + strings.ReplaceAll(url.QueryEscape(id), "&", "&amp;")
	if !strings.Contains(body, `id="dashboard-link"`) || !strings.Contains(body, want) {
		t.Errorf("the Dashboard link is not %s… in\n%s", want, body)
	}
	if !strings.Contains(body, `id="operations"`) || !strings.Contains(body, `id="records"`) || !strings.Contains(body, "amount_mismatch") {
		t.Errorf("the payment page lacks its operations, records or verdict:\n%s", body)
	}
}

func TestAuth(t *testing.T) {
	a := world(t)
	dir := t.TempDir()
	tokenFile, authFile := filepath.Join(dir, "token"), filepath.Join(dir, "auth")
	os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600)
	os.WriteFile(authFile, []byte("finance:pass:word\n"), 0o600)
	var o web.Options
	if err := web.Credentials(&o, tokenFile, authFile, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if o.Token != "s3cret-token" || o.User != "finance" || o.Password != "pass:word" {
		t.Fatalf("credentials read as %q %q %q", o.Token, o.User, o.Password)
	}
	_, ts := serve(t, a, o)
	for _, c := range []struct {
		name string
		hdr  []string
		want int
	}{
		{"nothing", nil, 401},
		{"a wrong token", []string{"Authorization", "Bearer s3cret-tokeN"}, 401},
		{"a token's prefix", []string{"Authorization", "Bearer s3cret"}, 401},
		{"the token", []string{"Authorization", "Bearer s3cret-token"}, 200},
		{"a wrong password", []string{"Authorization", basic("finance", "pass")}, 401},
		{"a wrong user", []string{"Authorization", basic("financ", "pass:word")}, 401},
		{"basic auth", []string{"Authorization", basic("finance", "pass:word")}, 200},
	} {
		res, body := get(t, "GET", ts.URL+"/exceptions", c.hdr...)
		if res.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, res.StatusCode, c.want)
		}
		if c.want == 401 {
			if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") || strings.Contains(body, "exception") {
				t.Errorf("%s: %v\n%s", c.name, res.Header, body)
			}
			if res.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s: a refusal without the headers", c.name)
			}
		}
	}
	// Files that cannot serve refuse to start, naming the key.
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, c := range []struct{ token, auth, want string }{
		{empty, "", "web.token_file"},
		{filepath.Join(dir, "missing"), "", "web.token_file"},
		{"", tokenFile, "web.basic_auth_file"}, // no colon
		{"", "${CREDENTIALS_DIRECTORY}/auth", ""},
	} {
		err := web.Credentials(&web.Options{}, c.token, c.auth, func(k string) string {
			if k == "CREDENTIALS_DIRECTORY" {
				return dir
			}
			return ""
		})
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Credentials(%q, %q): %v, want %q", c.token, c.auth, err, c.want)
		}
	}
}

func basic(u, p string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(u, p)
	return r.Header.Get("Authorization")
}

// The download of the filtered rows is, byte for byte, the reconciliation
// export of the same filter.
func TestDownloadIsTheExport(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{})
	ctx := context.Background()
	exceptions := []string{}
	for _, c := range domain.Results {
		if domain.IsException(c) {
			exceptions = append(exceptions, c)
		}
	}
	for _, c := range []struct {
		query string
		req   app.ExportRequest
	}{
		{"", app.ExportRequest{Results: exceptions}},
		{"code=amount_mismatch&currency=usd", app.ExportRequest{Results: []string{"amount_mismatch"}}},
		{"method=SEPA&from=2026-11-03&to=2026-11-10", app.ExportRequest{Results: exceptions,
			From: time.Date(2026, 11, 3, 0, 0, 0, 0, a.Config.Zone()), To: time.Date(2026, 11, 11, 0, 0, 0, 0, a.Config.Zone())}},
		{"project=7&q=p-c", app.ExportRequest{Results: exceptions, IDContains: "p-c"}},
	} {
		req := c.req
		req.What, req.Format = "reconciliation", "csv"
		v, _ := url.ParseQuery(c.query)
		if cur := v.Get("currency"); cur != "" {
			req.Filter.Currencies = []string{cur}
		}
		if m := v.Get("method"); m != "" {
			req.Filter.Methods = []string{m}
		}
		if v.Get("project") != "" {
			req.Filter.Projects = []int64{7}
		}
		var want bytes.Buffer
		n, err := a.Export(ctx, req, &want)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("%q: the export has no row: a vacuous comparison", c.query)
		}
		res, got := get(t, "GET", ts.URL+"/exceptions.csv?"+c.query)
		if res.StatusCode != 200 || got != want.String() {
			t.Errorf("%q: %d\n%s\nwant\n%s", c.query, res.StatusCode, got, want.String())
		}
		if !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("%q: %v", c.query, res.Header)
		}
		// The page counts the same rows.
		_, page := get(t, "GET", ts.URL+"/exceptions?"+c.query)
		if !strings.Contains(page, `data-total="`+strconv.Itoa(n)+`"`) {
			t.Errorf("%q: the page does not count %d rows", c.query, n)
		}
		res, x := get(t, "GET", ts.URL+"/exceptions.xlsx?"+c.query)
		if res.StatusCode != 200 || !strings.HasPrefix(x, "PK") {
			t.Errorf("%q: xlsx %d", c.query, res.StatusCode)
		}
	}
}

// The index follows the stored result: a reconcile after the books
// changed shows on the next page; an idle index is dropped.
func TestIndexFollowsTheResultAndIsDroppedWhenIdle(t *testing.T) {
	a := world(t)
	s, ts := serve(t, a, web.Options{IdleDrop: 50 * time.Millisecond, KeepIdle: -1})
	_, before := get(t, "GET", ts.URL+"/exceptions?q=p-a")
	if !strings.Contains(before, `data-payment-id="p-a"`) {
		t.Fatalf("p-a is not an exception:\n%s", before)
	}
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	if _, err := a.Ledger.ImportRecords([]domain.Record{paid("p-a", "sepa", at, 1000, "USD")},
		ledger.Import{At: now, User: "tester", File: "fix.csv", Format: "csv", Lines: 1}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RunReconcile(context.Background(), app.RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	// The first page after it shows the index held, and says it is of
	// the older result; the newer one is built meanwhile.
	_, stale := get(t, "GET", ts.URL+"/exceptions?q=p-a")
	if !strings.Contains(stale, `id="stale"`) || !strings.Contains(stale, `data-payment-id="p-a"`) {
		t.Errorf("the first page after the reconcile does not say it is of the older result:\n%s", stale)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, after := get(t, "GET", ts.URL+"/exceptions?q=p-a")
		if !strings.Contains(after, `id="stale"`) {
			if strings.Contains(after, `data-payment-id="p-a"`) {
				t.Errorf("p-a still shows after its books were fixed:\n%s", after)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the newer index never came:\n%s", after)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); s.Indexed(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the index was not dropped")
		}
	}
}

// The analytics come from the cache until the database changes; then the
// cached ones, saying so, while the new ones are made.
func TestAnalyticsFollowTheData(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{})
	page := "/analytics?from=2026-11-01&to=2026-11-30"
	total := func(body string) string {
		_, rest, _ := strings.Cut(body, `<section id="totals">`)
		_, rest, _ = strings.Cut(rest, "<td>all</td><td class=\"n\">")
		n, _, _ := strings.Cut(rest, "<")
		return n
	}
	_, first := get(t, "GET", ts.URL+page)
	if total(first) != "31" || strings.Contains(first, "being summed again") {
		t.Fatalf("first: %q operations\n%s", total(first), first)
	}
	if _, err := a.Ledger.UpsertPage([]domain.Operation{sale(900, "p-new", "card", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), 500, "EUR")}, now); err != nil {
		t.Fatal(err)
	}
	_, stale := get(t, "GET", ts.URL+page)
	if total(stale) != "31" || !strings.Contains(stale, "being summed again") {
		t.Errorf("after a write: %q operations, and no word of the change\n%s", total(stale), stale)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, body := get(t, "GET", ts.URL+page)
		if !strings.Contains(body, "being summed again") {
			if total(body) != "32" {
				t.Errorf("the new summary has %q operations", total(body))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new summary never came")
		}
	}
}

// Pages read the cached summary while its refresh replaces it (run with
// -race: a read of it after the cache's lock was let go raced the
// refresh).
func TestAnalyticsReadWhileRefreshed(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{})
	page := ts.URL + "/analytics?from=2026-11-01&to=2026-11-30"
	get(t, "GET", page)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 30 {
			op := sale(uint64(1000+i), "p-more-"+strconv.Itoa(i), "card", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), 500, "EUR")
			if _, err := a.Ledger.UpsertPage([]domain.Operation{op}, now); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		if res, _ := get(t, "GET", page); res.StatusCode != 200 {
			t.Fatalf("%d", res.StatusCode)
		}
	}
}

// A resolution shows on its payment's page, with its audit event, and
// the item leaves the open exceptions (after the new index is built).
func TestAResolutionShowsOnItsPayment(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{})
	if _, err := a.Resolve(context.Background(), app.ResolveRequest{ID: "p-c", Reason: "rounding", Note: "agreed with " + hostile, User: "anna"}); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, "GET", ts.URL+"/payment?id=p-c")
	_, res, _ := strings.Cut(body, `<section id="resolutions">`)
	_, audit, _ := strings.Cut(body, `<section id="audit">`)
	if !strings.Contains(res, "<td>anna</td>") || !strings.Contains(res, "rounding") || !strings.Contains(audit, "<td>resolve</td>") || !strings.Contains(audit, "&lt;script&gt;") {
		t.Errorf("the resolution or its audit event is missing:\n%s", body)
	}
	if strings.Contains(body, "<script") {
		t.Errorf("the note's markup is not escaped")
	}
	if !strings.Contains(body, `data-code="resolved"`) {
		t.Errorf("the verdict is not resolved:\n%s", body)
	}
	_, page := get(t, "GET", ts.URL+"/exceptions?q=p-c")
	if strings.Contains(page, `data-payment-id="p-c"`) {
		t.Errorf("a resolved item is listed open:\n%s", page)
	}
}
