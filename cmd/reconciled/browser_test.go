package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"reconciled/internal/browsertest"
	"reconciled/internal/domain"
)

// hostileMethod is a merchant's text field that would run if a page did
// not escape it (and the CSP did not stop it): it sets window.__pwned.
const hostileMethod = `<script>window.__pwned=1</script>`

// hostilePaymentID is a merchant's payment id ECommPay never saw, as
// markup: a missing_at_provider exception.
const hostilePaymentID = `<script>window.__pwned=2</script>`

// seeded is the web view's database: the fake's operations synced, the
// merchant's books imported with differences of every common kind, and
// reconciled.
type seeded struct {
	*world
	hostile string         // the payment whose record's method is hostileMethod (an amount_mismatch)
	counts  map[string]int // items per result code, as reconcile printed them
}

// seedWorld syncs 600 operations of the fake, imports books that differ
// from them (amount, currency, status, a line missing, a line twice, two
// records ECommPay never saw) and reconciles.
func seedWorld(t *testing.T, extra string) *seeded {
	t.Helper()
	w := newWorld(t, 600, 5*time.Minute, extra)
	w.now = w.now.Add(40 * 24 * time.Hour) // everything final, and old
	w.mustRun(t, "sync", "--from", start.Format(time.DateOnly))
	s := &seeded{world: w, counts: map[string]int{}}
	var b strings.Builder
	b.WriteString("payment_id;type;amount;currency;status;method;created_at\n")
	for _, line := range booksOf(w.fake.Operations(w.now)) {
		op := line.op
		amount, _ := domain.FormatMajor(op.SumInitial.Amount, op.SumInitial.Currency)
		f := []string{op.PaymentID, line.typ, strings.Replace(amount, ".", ",", 1), op.SumInitial.Currency, line.status,
			op.PaymentMethod, op.CreatedAt.UTC().Format(time.DateTime)}
		switch line.i % 41 {
		case 3: // amount_mismatch
			f[2] = "7,00"
			if s.hostile == "" && line.typ == domain.RecordPurchase {
				s.hostile, f[5] = op.PaymentID, hostileMethod
			}
		case 5: // missing_in_records
			continue
		case 8: // status_mismatch
			if f[4] == domain.RecordPaid {
				f[4] = domain.RecordFailed
			} else {
				f[4] = domain.RecordPaid
			}
		case 11: // currency_mismatch
			if f[3] == "EUR" {
				f[3] = "USD"
			} else {
				f[3] = "EUR"
			}
		case 13: // duplicate
			b.WriteString(strings.Join(f, ";") + "\n")
		}
		b.WriteString(strings.Join(f, ";") + "\n")
	}
	if s.hostile == "" {
		t.Fatal("no purchase got the hostile method")
	}
	b.WriteString(hostilePaymentID + ";purchase;12,34;EUR;paid;card;2026-10-01 10:00:00\n") // missing_at_provider
	b.WriteString("not-at-provider-1;purchase;5,00;UAH;paid;card;2026-10-02 10:00:00\n")
	path := filepath.Join(w.dir, "books.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	w.mustRun(t, "import", path)
	out := w.mustRun(t, "reconcile", "--no-recheck")
	for _, m := range regexp.MustCompile(`(?m)^\s*([a-z_]+)\s+(\d+)\s`).FindAllStringSubmatch(out, -1) {
		if slices.Contains(domain.Results, m[1]) {
			s.counts[m[1]], _ = strconv.Atoi(m[2])
		}
	}
	for _, code := range []string{domain.ResultMatched, domain.ResultAmountMismatch, domain.ResultCurrencyMismatch, domain.ResultStatusMismatch,
		domain.ResultMissingAtProvider, domain.ResultMissingInRecords, domain.ResultDuplicate} {
		if s.counts[code] == 0 {
			t.Fatalf("the seed has no %s:\n%s", code, out)
		}
	}
	return s
}

// statusCounts are the stored reconciliation's items and open exceptions
// as `status` prints them.
func statusCounts(t *testing.T, w *world) (items, exceptions int) {
	t.Helper()
	out := w.mustRun(t, "status")
	m := regexp.MustCompile(`last reconcile\s+[^\n]*: (\d+) items, (\d+) exceptions`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("status names no last reconcile:\n%s", out)
	}
	items, _ = strconv.Atoi(m[1])
	exceptions, _ = strconv.Atoi(m[2])
	return items, exceptions
}

// startWeb runs `reconciled web` (or, with daemon, `reconciled run`) in
// this process until the test ends, and waits until base answers.
func startWeb(t *testing.T, w *world, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var logs lockedBuffer
	done := make(chan int, 1)
	go func() {
		m := &Main{Stdout: io.Discard, Stderr: &logs, Getenv: func(string) string { return "" }, Now: func() time.Time { return w.now }}
		done <- m.Run(ctx, append([]string{"--config", w.config}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("reconciled %v: exit %d\n%s", args, code, logs.String())
		}
	})
}

// waitServing polls base until it answers (the server starting), for at
// most 20 s.
func waitServing(t *testing.T, base string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		res, err := http.Get(base)
		if err == nil {
			res.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer: %v", base, err)
		}
	}
}

// navigate runs steps that load a page (a click on a link or a submit
// button, a Navigate) and waits until it has loaded: its response.
func navigate(t *testing.T, b *browsertest.Browser, what string, steps ...chromedp.Action[chromedp.Void]) *network.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), browsertest.Timeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("browser: %s: %d %s", what, res.Status, res.URL)
	}
	return res
}

// do runs steps in the page within browsertest.Timeout.
func do(t *testing.T, b *browsertest.Browser, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), browsertest.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// exists says whether the CSS selector finds an element.
func exists(t *testing.T, b *browsertest.Browser, sel string) bool {
	t.Helper()
	var ok bool
	b.Eval(`document.querySelector(`+strconv.Quote(sel)+`) !== null`, &ok)
	return ok
}

// shownRow is an exceptions row as the page renders it.
type shownRow struct {
	ID       string `json:"id"`
	Code     string `json:"code"`
	Merchant string `json:"merchant"`
	Provider string `json:"provider"`
	Text     string `json:"text"`
}

func shownRows(t *testing.T, b *browsertest.Browser) []shownRow {
	t.Helper()
	var rows []shownRow
	b.Eval(`Array.from(document.querySelectorAll("#exceptions tr.exception")).map(r => ({
		id: r.dataset.paymentId, code: r.dataset.code, merchant: r.cells[3].innerText.trim(),
		provider: r.cells[4].innerText.trim(), text: r.innerText}))`, &rows)
	return rows
}

func matchCount(t *testing.T, b *browsertest.Browser) int {
	t.Helper()
	var total string
	b.Eval(`document.getElementById("match-count").dataset.total`, &total)
	n, err := strconv.Atoi(total)
	if err != nil {
		t.Fatalf("match-count data-total %q", total)
	}
	return n
}

// exportCSV is what `reconciled export --what reconciliation --format
// FORMAT` writes with args, read back.
func exportFile(t *testing.T, w *world, format string, args ...string) []byte {
	t.Helper()
	file := filepath.Join(t.TempDir(), "export."+format)
	w.mustRun(t, append([]string{"export", "--what", "reconciliation", "--format", format, "-o", file}, args...)...)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func csvRows(t *testing.T, data []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func xlsxRows(t *testing.T, data []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the XLSX does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// minor is a shown amount ("1 234.56 EUR") as its currency and an integer
// comparable within it (the digits without the mark).
func minor(t *testing.T, shown string) (string, int64) {
	t.Helper()
	i := strings.LastIndexByte(shown, ' ')
	if i < 0 {
		t.Fatalf("amount %q has no currency", shown)
	}
	digits := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", ".", "").Replace(shown[:i])
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", shown, err)
	}
	return shown[i+1:], n
}

// `reconciled web` on its own, over a database no daemon holds: the
// overview in chromium shows the stored reconciliation status counts.
func TestTheWebCommandInABrowser(t *testing.T) {
	s := seedWorld(t, "")
	items, exceptions := statusCounts(t, s.world)
	addr := freeLoopbackAddr(t)
	startWeb(t, s.world, "web", "--listen", addr)
	base := "http://" + addr + "/"
	waitServing(t, base)

	b := browsertest.Start(t)
	navigate(t, b, "open the overview", chromedp.Navigate(base))
	b.Screenshot("web-overview")
	checkOverview(t, b, s, items, exceptions)
}

// checkOverview asserts the overview's sections and that its counts are
// the stored result's.
func checkOverview(t *testing.T, b *browsertest.Browser, s *seeded, items, exceptions int) {
	t.Helper()
	for _, id := range []string{"last-reconcile", "results", "ages", "sync", "outbox", "nav-overview", "nav-exceptions", "nav-analytics"} {
		if !exists(t, b, "#"+id) {
			t.Errorf("the overview has no #%s", id)
		}
	}
	if got := b.Text("#last-reconcile"); !strings.Contains(got, strconv.Itoa(items)+" items") || !strings.Contains(got, "600 operations") {
		t.Errorf("last reconcile: %q, want %d items from 600 operations", got, items)
	}
	var rows []struct {
		Code  string `json:"code"`
		Count string `json:"count"`
	}
	b.Eval(`Array.from(document.querySelectorAll("#results tbody tr")).map(r => ({code: r.dataset.code, count: r.cells[2].innerText}))`, &rows)
	perCode, total, open := map[string]int{}, 0, 0
	for _, r := range rows {
		n, err := strconv.Atoi(r.Count)
		if err != nil {
			t.Fatalf("results row %+v", r)
		}
		perCode[r.Code] += n
		total += n
		if domain.IsException(r.Code) {
			open += n
		}
	}
	if total != items || open != exceptions {
		t.Errorf("the results table counts %d items, %d exceptions; status says %d, %d", total, open, items, exceptions)
	}
	for code, n := range s.counts {
		if perCode[code] != n {
			t.Errorf("%s: %d on the overview, %d as reconcile printed", code, perCode[code], n)
		}
	}
	if got := b.Text("#ages h2"); !strings.Contains(got, "("+strconv.Itoa(exceptions)+")") {
		t.Errorf("ages: %q, want (%d)", got, exceptions)
	}
	var projects []string
	b.Eval(`Array.from(document.querySelectorAll("#sync tbody tr")).map(r => r.dataset.project)`, &projects)
	slices.Sort(projects)
	if !slices.Equal(projects, []string{"579", "580"}) {
		t.Errorf("sync health of projects %q", projects)
	}
}

// The web view as a user gets it: `reconciled run` with [web] listen on
// a seeded database, every page loaded in chromium, a filter set and
// submitted by clicking, paged and sorted, a payment opened from its
// link, the filtered downloads compared with `export` (which goes
// through the same daemon), and the filter form again with JavaScript
// off. A screenshot of each page is left for a person.
func TestTheWebViewInABrowser(t *testing.T) {
	addr := freeLoopbackAddr(t)
	s := seedWorld(t, "[web]\nlisten = \""+addr+"\"\ndashboard_url = \"https://dashboard.example/payments?search={payment_id}\"\n")
	startWeb(t, s.world, "run")
	base := "http://" + addr + "/"
	waitServing(t, base)
	items, exceptions := statusCounts(t, s.world) // through the daemon
	b := browsertest.Start(t)

	// The overview, with the headers every page carries.
	res := navigate(t, b, "open the overview", chromedp.Navigate(base))
	csp, _ := res.Headers["Content-Security-Policy"].(string)
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if v, _ := res.Headers["X-Content-Type-Options"].(string); v != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", v)
	}
	b.Screenshot("overview")
	checkOverview(t, b, s, items, exceptions)

	// The exceptions: every open one, 50 a page.
	navigate(t, b, "open the exceptions from the menu", chromedp.Click(chromedp.CSS("#nav-exceptions"), chromedp.NodeVisible))
	b.Screenshot("exceptions")
	if n := matchCount(t, b); n != exceptions {
		t.Errorf("match-count %d, status says %d open exceptions", n, exceptions)
	}
	first := shownRows(t, b)
	if len(first) != 50 {
		t.Fatalf("%d rows on the first page, want 50 of %d", len(first), exceptions)
	}
	if !slices.ContainsFunc(first, func(r shownRow) bool { return r.ID == hostilePaymentID && strings.Contains(r.Text, hostilePaymentID) }) {
		t.Errorf("the oldest exception, a payment id of markup, is not on the first page as text")
	}
	// Paging forward: the rest, none of the first page again.
	navigate(t, b, "page forward", chromedp.Click(chromedp.CSS("#page-next"), chromedp.NodeVisible))
	b.Screenshot("exceptions-page-2")
	second := shownRows(t, b)
	if len(second) != exceptions-50 || !strings.Contains(b.Text("#page-info"), "page 2 of 2") || exists(t, b, "#page-next") {
		t.Errorf("page 2: %d rows (want %d), page-info %q", len(second), exceptions-50, b.Text("#page-info"))
	}
	seen := map[string]bool{}
	for _, r := range append(first, second...) {
		seen[r.Code+"|"+r.Text] = true
	}
	if len(seen) != exceptions {
		t.Errorf("the two pages show %d different rows, want %d", len(seen), exceptions)
	}

	// A filter set in the form and submitted by clicking.
	const fCode, fCur = domain.ResultStatusMismatch, "UZS"
	do(t, b, "set the filter", chromedp.SetValue(chromedp.CSS("#f-code"), fCode),
		chromedp.SetValue(chromedp.CSS("#f-currency"), fCur))
	navigate(t, b, "apply the filter", chromedp.Click(chromedp.CSS("#f-apply"), chromedp.NodeVisible))
	b.Screenshot("exceptions-filtered")
	filtered := shownRows(t, b)
	want := csvRows(t, exportFile(t, s.world, "csv", "--result", fCode, "--currency", fCur))[1:]
	if len(want) == 0 {
		t.Fatalf("the export has no %s in %s: a vacuous comparison", fCode, fCur)
	}
	if n := matchCount(t, b); n != len(want) || len(filtered) != len(want) {
		t.Errorf("filtered: match-count %d, %d rows; the export has %d", n, len(filtered), len(want))
	}
	for _, r := range filtered {
		if r.Code != fCode || !strings.Contains(r.Merchant+r.Provider, fCur) {
			t.Errorf("a row the filter should not let through: %+v", r)
		}
	}

	// The filtered downloads are the export's files.
	name, got := b.Download("#download-csv")
	if wantCSV := exportFile(t, s.world, "csv", "--result", fCode, "--currency", fCur); !bytes.Equal(got, wantCSV) {
		t.Errorf("the CSV download (%s) differs from the export:\n%s\nwant\n%s", name, got, wantCSV)
	}
	name, got = b.Download("#download-xlsx")
	if name != "exceptions.xlsx" {
		t.Errorf("the XLSX download is named %q", name)
	}
	wantXLSX := exportFile(t, s.world, "xlsx", "--result", fCode, "--currency", fCur)
	if gotRows, wantRows := xlsxRows(t, got), xlsxRows(t, wantXLSX); !slices.EqualFunc(gotRows, wantRows, slices.Equal) || len(gotRows) != len(want)+1 {
		t.Errorf("the XLSX download's rows:\n%q\nwant (the export's, %d rows)\n%q", gotRows, len(want), wantRows)
	}

	// Every result × currency the overview links to: the page counts
	// what the export of the same filters holds.
	var links []string
	navigate(t, b, "back to the overview", chromedp.Navigate(base))
	b.Eval(`Array.from(document.querySelectorAll("#results tr.exc a")).map(a => a.href)`, &links)
	if len(links) < 6 {
		t.Fatalf("%d links from the overview's results", len(links))
	}
	for _, link := range links {
		navigate(t, b, "open "+link, chromedp.Navigate(link))
		q, _ := url.Parse(link)
		code, cur := q.Query().Get("code"), q.Query().Get("currency")
		want := csvRows(t, exportFile(t, s.world, "csv", "--result", code, "--currency", cur))[1:]
		if n := matchCount(t, b); n != len(want) || len(shownRows(t, b)) != len(want) {
			t.Errorf("%s in %s: match-count %d, %d rows; the export has %d", code, cur, n, len(shownRows(t, b)), len(want))
		}
	}
	navigate(t, b, "back to the exceptions", chromedp.Navigate(base+"exceptions"))

	// Sorted by amount: by currency, the largest first.
	do(t, b, "reset the filter", chromedp.SetValue(chromedp.CSS("#f-code"), ""), chromedp.SetValue(chromedp.CSS("#f-currency"), ""),
		chromedp.SetValue(chromedp.CSS("#f-sort"), "amount"), chromedp.SetValue(chromedp.CSS("#f-per"), "100"))
	navigate(t, b, "sort by amount", chromedp.Click(chromedp.CSS("#f-apply"), chromedp.NodeVisible))
	b.Screenshot("exceptions-by-amount")
	sorted := shownRows(t, b)
	if len(sorted) != exceptions {
		t.Fatalf("%d rows sorted by amount, want all %d on one page of 100", len(sorted), exceptions)
	}
	prevCur, prev := "", int64(0)
	for i, r := range sorted {
		shown := cmpOr(r.Provider, r.Merchant) // the amount an item counts: ECommPay's when it has an operation
		cur, n := minor(t, shown)
		if i > 0 && (cur < prevCur || cur == prevCur && n > prev) {
			t.Errorf("row %d (%s) after %d %s: not by currency, the largest first", i+1, shown, prev, prevCur)
		}
		prevCur, prev = cur, n
	}

	// A payment opened from its row's link: its story, the merchant's
	// markup shown as text, and no script ran.
	do(t, b, "search the payment", chromedp.SetValue(chromedp.CSS("#f-sort"), "age"), chromedp.SetValue(chromedp.CSS("#f-q"), s.hostile))
	navigate(t, b, "search the payment", chromedp.Click(chromedp.CSS("#f-apply"), chromedp.NodeVisible))
	link := `tr.exception[data-payment-id="` + s.hostile + `"] a.payment-link`
	if !exists(t, b, link) {
		t.Fatalf("no row of %s after searching it: %+v", s.hostile, shownRows(t, b))
	}
	res = navigate(t, b, "open the payment", chromedp.Click(chromedp.CSS(link), chromedp.NodeVisible))
	if csp, _ := res.Headers["Content-Security-Policy"].(string); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("the payment page's Content-Security-Policy %q", csp)
	}
	b.Screenshot("payment")
	var page struct {
		ID         string `json:"id"`
		Operations int    `json:"operations"`
		Records    string `json:"records"`
		Items      []string
		Pwned      string `json:"pwned"`
		Scripts    int    `json:"scripts"`
		Dashboard  string `json:"dashboard"`
	}
	b.Eval(`({id: document.getElementById("payment").dataset.paymentId,
		operations: document.querySelectorAll("#operations table[data-operation-id]").length,
		records: document.getElementById("records").innerText,
		Items: Array.from(document.querySelectorAll("#items tr[data-code]")).map(r => r.dataset.code),
		pwned: typeof window.__pwned, scripts: document.scripts.length,
		dashboard: document.getElementById("dashboard-link").href})`, &page)
	if page.ID != s.hostile || page.Operations == 0 || !slices.Contains(page.Items, domain.ResultAmountMismatch) {
		t.Errorf("the payment page of %s: %+v", s.hostile, page)
	}
	if !strings.Contains(page.Records, hostileMethod) || !strings.Contains(page.Records, "7.00") {
		t.Errorf("the merchant's record (7.00, method %s) is not on the page as text:\n%s", hostileMethod, page.Records)
	}
	if page.Pwned != "undefined" || page.Scripts != 0 {
		t.Errorf("the merchant's markup became a script: window.__pwned is %s, %d script elements", page.Pwned, page.Scripts)
	}
	if page.Dashboard != "https://dashboard.example/payments?search="+s.hostile {
		t.Errorf("dashboard link %q", page.Dashboard)
	}
	for _, id := range []string{"items", "operations", "records", "resolutions", "audit"} {
		if !exists(t, b, "#"+id) {
			t.Errorf("the payment page has no #%s", id)
		}
	}

	// The analytics of the data's window: tables, and the charts SVG.
	navigate(t, b, "open the analytics", chromedp.Click(chromedp.CSS("#nav-analytics"), chromedp.NodeVisible))
	do(t, b, "set the window", chromedp.SetValue(chromedp.CSS("#a-from"), start.Format(time.DateOnly)),
		chromedp.SetValue(chromedp.CSS("#a-to"), s.now.Format(time.DateOnly)))
	navigate(t, b, "apply the window", chromedp.Click(chromedp.CSS("#a-apply"), chromedp.NodeVisible))
	b.Screenshot("analytics")
	var an struct {
		Volume   int    `json:"volume"`
		Approval bool   `json:"approval"`
		Ops      string `json:"ops"`
		Methods  int    `json:"methods"`
	}
	b.Eval(`({volume: document.querySelectorAll("figure[id^='chart-volume-'] > svg").length,
		approval: document.querySelector("#chart-approval > svg") instanceof SVGSVGElement,
		ops: document.querySelector("#totals tbody tr").cells[1].innerText,
		methods: document.querySelectorAll("#by-method tbody tr").length})`, &an)
	if an.Volume == 0 || !an.Approval || an.Ops != "600" || an.Methods == 0 {
		t.Errorf("analytics: %+v (want volume charts, the approval chart as SVG, 600 operations, rows by method)", an)
	}
	// Every text of a chart lies within the chart's box (a label cut
	// off is a number nobody can read).
	var cut []string
	b.Eval(`Array.from(document.querySelectorAll("svg.chart")).flatMap(svg => {
		const vb = svg.viewBox.baseVal;
		return Array.from(svg.querySelectorAll("text")).filter(t => {
			const r = t.getBBox();
			return r.x < vb.x || r.y < vb.y || r.x + r.width > vb.x + vb.width || r.y + r.height > vb.y + vb.height;
		}).map(t => svg.parentElement.id + ": " + t.textContent);
	})`, &cut)
	if len(cut) > 0 {
		t.Errorf("chart labels cut off at the chart's edge: %q", cut)
	}
	for _, id := range []string{"totals", "by-method", "by-currency", "by-project", "volumes", "declines"} {
		if !exists(t, b, "#"+id) {
			t.Errorf("the analytics have no #%s", id)
		}
	}

	// JavaScript off: the filter form still works (it is a plain GET form).
	do(t, b, "disable JavaScript", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	navigate(t, b, "a page with a script", chromedp.Navigate(`data:text/html,<title>off</title><script>document.title="on"</script>`))
	var title string
	b.Eval(`document.title`, &title)
	if title != "off" {
		t.Fatalf("JavaScript still runs: the title is %q", title)
	}
	navigate(t, b, "open the exceptions without JavaScript", chromedp.Navigate(base+"exceptions"))
	do(t, b, "choose a result with the keyboard", chromedp.Focus(chromedp.CSS("#f-code")), chromedp.KeyEvent(domain.ResultDuplicate))
	navigate(t, b, "apply the filter without JavaScript", chromedp.Click(chromedp.CSS("#f-apply"), chromedp.NodeVisible))
	b.Screenshot("exceptions-no-js")
	rows := shownRows(t, b)
	if len(rows) != s.counts[domain.ResultDuplicate] || matchCount(t, b) != len(rows) {
		t.Errorf("without JavaScript: %d rows, match-count %d; %d duplicate stored", len(rows), matchCount(t, b), s.counts[domain.ResultDuplicate])
	}
	for _, r := range rows {
		if r.Code != domain.ResultDuplicate {
			t.Errorf("without JavaScript, the filter let through %+v", r)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
