package app

import (
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"reconciled/internal/browsertest"
)

// The daily report as the daemon mails it (the HTML file its report job
// writes and attaches to the message), opened in chromium: what changed
// comes before the totals, no zero rows, and the merchant's <script> is
// text on the page and never ran. A screenshot is left for a person.
func TestTheMailedReportInABrowser(t *testing.T) {
	_, _, path := twoReports(t)
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	}))
	defer srv.Close()

	b := browsertest.Start(t)
	b.Open(srv.URL + "/report.html")
	b.Screenshot("daily-report")

	var titles []string
	b.Eval(`Array.from(document.querySelectorAll("h2")).map(h => h.innerText.trim())`, &titles)
	at := func(prefix string) int {
		return slices.IndexFunc(titles, func(s string) bool { return strings.HasPrefix(s, prefix) })
	}
	changed, resolved, person := at("What changed since the previous report"), at("Resolved since"), at("Open exceptions that need a person")
	day, total := at("Created on 2026-11-21"), at("The whole reconciliation")
	if changed != 0 || resolved != 1 || person != 2 || day <= person || total <= day {
		t.Errorf("sections in the page's order: %q", titles)
	}

	// Every row of the counting tables, as rendered: none counts zero.
	var rows [][]string
	b.Eval(`Array.from(document.querySelectorAll("h2")).flatMap(h => {
		const t = h.nextElementSibling;
		if (!t || t.tagName !== "TABLE") return [];
		return Array.from(t.querySelectorAll("tr")).slice(1).map(tr => [h.innerText.trim(), ...Array.from(tr.cells).map(c => c.innerText.trim())]);
	})`, &rows)
	counted := 0
	for _, r := range rows {
		title := r[0]
		if !strings.HasPrefix(title, "What changed") && !strings.HasPrefix(title, "Created on") && !strings.HasPrefix(title, "The whole") &&
			!strings.HasPrefix(title, "Open exceptions by age") {
			continue
		}
		counted++
		if slices.Contains(r[1:], "0") {
			t.Errorf("a zero row: %q", r)
		}
	}
	if counted < 6 {
		t.Errorf("%d counting rows rendered, want 6 or more: %q", counted, rows)
	}
	var changes []string
	for _, r := range rows {
		if strings.HasPrefix(r[0], "What changed") {
			changes = append(changes, strings.Join(r[1:], "|"))
		}
	}
	if !slices.Equal(changes, []string{"new|EUR|1|7.00", "still open|EUR|1|50.00", "resolved|EUR|1|10.00"}) {
		t.Errorf("what changed, as rendered: %q", changes)
	}

	// The merchant's <script> is text a person reads, and did not run.
	var state struct {
		Title   string `json:"title"`
		Ran     bool   `json:"ran"`
		Scripts int    `json:"scripts"`
		Text    string `json:"text"`
	}
	b.Eval(`({title: document.title, ran: window.ran === 1, scripts: document.scripts.length, text: document.body.innerText})`, &state)
	if state.Ran || state.Title == "ran" || state.Scripts != 0 {
		t.Errorf("the merchant's script ran: title %q, ran %v, %d script elements", state.Title, state.Ran, state.Scripts)
	}
	if !strings.Contains(state.Text, hostileID) {
		t.Errorf("the merchant's text is not on the page as text")
	}
}
