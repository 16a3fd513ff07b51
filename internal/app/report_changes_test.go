package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/outbox"
	"reconciled/internal/report"
)

// hostileID is a payment id of the merchant's that a browser would run,
// were it not escaped.
const hostileID = `<script>document.title="ran";window.ran=1</script>`

// twoReports is a report schedule's two days on a seeded ledger: the
// first report (of 2026-11-20) sees p-short and p-fee open; then p-short
// is resolved by hand and a payment the merchant booked as hostileID
// turns out short too; the second report (of 2026-11-21) is what the
// daemon mails the next morning. It returns the App, the schedule and
// the second report's HTML file, as mailed.
func twoReports(t *testing.T) (*App, config.Schedule, string) {
	t.Helper()
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-ok", at, 1000), sale(2, "p-short", at, 1000), sale(3, "p-fee", at, 5000)},
		[]domain.Record{paid("p-ok", at, 1000), paid("p-short", at, 900), paid("p-fee", at, 4000)})
	clk := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	a.Now = func() time.Time { return clk }
	a.Outbox = outbox.New(a.Ledger, outbox.Options{Now: func() time.Time { return clk }})
	s := config.Schedule{Job: "report", Cron: "0 7 * * *", Dir: t.TempDir()}
	ctx := context.Background()
	if err := a.ReportJob(ctx, s); err != nil {
		t.Fatal(err)
	}

	clk = clk.Add(2 * time.Hour)
	if _, err := a.Resolve(ctx, ResolveRequest{ID: "p-short", Reason: "bank-fee", User: "tester"}); err != nil {
		t.Fatal(err)
	}
	later := at.Add(24 * time.Hour)
	if _, err := a.Ledger.UpsertPage([]domain.Operation{sale(4, hostileID, later, 700)}, clk); err != nil {
		t.Fatal(err)
	}
	rec := paid(hostileID, later, 600)
	if _, err := a.Ledger.ImportRecords([]domain.Record{rec}, ledger.Import{At: clk, User: "tester", File: "more.csv", Format: "csv", Lines: 1}, clk); err != nil {
		t.Fatal(err)
	}
	clk = time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	if err := a.ReportJob(ctx, s); err != nil {
		t.Fatal(err)
	}
	return a, s, filepath.Join(s.Dir, "report-2026-11-21.html")
}

// The scheduled report says what changed since the schedule's previous
// one: the first says it has nothing to compare with; the second lists
// the new exception as new, the one resolved by hand under resolved with
// the amount the first report showed, and the other as still open.
func TestTheScheduledReportSaysWhatChangedSinceThePreviousOne(t *testing.T) {
	a, s, second := twoReports(t)
	first, err := os.ReadFile(filepath.Join(s.Dir, "report-2026-11-20.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(first), "No previous report to compare with") {
		t.Error("the first report does not say it is the first")
	}
	body, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(body)
	for _, want := range []string{
		"Since the previous report (of 2026-11-20, made 2026-11-21 08:00): 1 new, 1 still open, 1 resolved.",
		"&lt;script&gt;document.title=&#34;ran&#34;", // the merchant's id, as text
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the second report lacks %q", want)
		}
	}
	if strings.Contains(doc, "<script") {
		t.Error("the merchant's <script> is in the report as markup")
	}

	// What the ledger keeps for the next report: the second one's open
	// exceptions, under the schedule.
	_, prefix := ScheduleKeys(s)
	b, err := a.Ledger.ReportBaselineOf(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if b == nil || b.Day != "2026-11-21" || len(b.Open) != 2 {
		t.Fatalf("baseline %+v", b)
	}
	ids := map[string]string{}
	for _, e := range b.Open {
		ids[e.ID] = e.Code + " " + domain.Money{Amount: e.Amount, Currency: e.Currency}.String()
	}
	if ids["p-fee"] != "amount_mismatch 50.00 EUR" || ids[hostileID] != "amount_mismatch 7.00 EUR" {
		t.Errorf("baseline entries %v", ids)
	}

	// A report made by hand compares with it, and records nothing.
	dr, err := a.Report(context.Background(), time.Date(2026, 11, 21, 0, 0, 0, 0, a.Config.Zone()))
	if err != nil {
		t.Fatal(err)
	}
	if dr.Previous == nil || dr.ChangeCount(report.ChangeStill) != 2 || dr.ChangeCount(report.ChangeNew) != 0 {
		t.Errorf("by hand: previous %v, changes %+v", dr.Previous, dr.Changes)
	}
	// A day recorded already changes no baseline.
	if err := a.ReportJob(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	again, err := a.Ledger.ReportBaselineOf(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if !again.At.Equal(b.At) {
		t.Errorf("the baseline moved: %v, was %v", again.At, b.At)
	}
	rep, err := a.Ledger.Verify(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rep.Checked, "\n"), "report baselines: 1 schedules, 2 open exceptions seen") || len(rep.Problems) > 0 {
		t.Errorf("check: %q, problems %q", rep.Checked, rep.Problems)
	}
}

// Days caught up in one run compare each with the one made before it:
// the second of them has nothing new, and the schedule's baseline is the
// last day's.
func TestCaughtUpReportsCompareWithTheDayBefore(t *testing.T) {
	a, s, _ := twoReports(t)
	clk := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC) // 2026-11-22 and -23 were missed
	a.Now = func() time.Time { return clk }
	if err := a.ReportJob(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	for day, want := range map[string]string{
		"2026-11-22": "Since the previous report (of 2026-11-21, made 2026-11-22 08:00): 0 new, 2 still open, 0 resolved.",
		"2026-11-23": "Since the previous report (of 2026-11-22, made 2026-11-25 08:00): 0 new, 2 still open, 0 resolved.",
		"2026-11-24": "Since the previous report (of 2026-11-23, made 2026-11-25 08:00): 0 new, 2 still open, 0 resolved.",
	} {
		body, err := os.ReadFile(filepath.Join(s.Dir, "report-"+day+".html"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), want) {
			t.Errorf("report of %s lacks %q", day, want)
		}
	}
	_, prefix := ScheduleKeys(s)
	if b, err := a.Ledger.ReportBaselineOf(prefix); err != nil || b.Day != "2026-11-24" {
		t.Errorf("baseline %+v, %v; want the last day's", b, err)
	}
}
