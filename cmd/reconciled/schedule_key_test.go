package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/fakeapi"
	"reconciled/internal/mail/mailtest"
	"reconciled/internal/report"
)

// TestScheduleKeyOneReadingOfASchedule: the daemon knows a schedule by two
// names, the key of its last run (what the runner catches up from) and the
// key of the days it produced (what keeps a report from going out twice).
// An edit that leaves the schedule the same (its recipients in another
// order, the default format written out) must leave both names alone: a
// report already produced but a last run lost would skip the catch-up of
// the next missed day. A moved cron is another run schedule but produces
// the same days.
func TestScheduleKeyOneReadingOfASchedule(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: smtpUser, Password: smtpPassword})
	w := newWorld(t, 500, 30*time.Minute, "")
	w.now = start.Add(10 * 24 * time.Hour)
	appendConfig(t, w, mailSection(t, srv))
	w.mustRun(t, "sync")
	a, l := inProcessApp(t, w)

	base := config.Schedule{Job: "report", Cron: "0 7 * * *", To: []string{"a@example.test", "b@example.test"}, Dir: t.TempDir()}
	runKey := func(s config.Schedule) string {
		run, _ := app.ScheduleKeys(s) // the runner's job key
		return run
	}
	w.now = start.Add(10*24*time.Hour + 7*time.Hour)
	if err := a.ReportJob(t.Context(), base); err != nil {
		t.Fatal(err)
	}
	if err := l.SaveJobRun(runKey(base), w.now, time.Second, nil); err != nil { // as the runner does after the run
		t.Fatal(err)
	}
	mails := func() int {
		ms, err := l.Outbox(false)
		if err != nil {
			t.Fatal(err)
		}
		return len(ms)
	}
	if mails() != 1 {
		t.Fatalf("the first run queued %d mails, want 1", mails())
	}

	for _, c := range []struct {
		name    string
		edit    func(*config.Schedule)
		sameRun bool
	}{
		{"recipients reordered", func(s *config.Schedule) { s.To = []string{"b@example.test", "a@example.test"} }, true},
		{"default format written out", func(s *config.Schedule) { s.Format = "xlsx" }, true},
		{"cron moved", func(s *config.Schedule) { s.Cron = "30 9 * * *" }, false},
	} {
		s := base
		s.To = slices.Clone(base.To)
		c.edit(&s)
		runs, err := l.LastJobRuns()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := runs[runKey(s)]; ok != c.sameRun {
			t.Errorf("%s: the runner finds the last run: %v, want %v (key %q)", c.name, ok, c.sameRun, runKey(s))
		}
		if err := a.ReportJob(t.Context(), s); err != nil {
			t.Fatal(err)
		}
		if n := mails(); n != 1 {
			t.Errorf("%s: the day was produced again (%d mails queued)", c.name, n)
		}
	}
}

// TestReportShowsTheLedgersSyncHealth: the report reads no database; what
// it shows of the sync (failing by the ledger's rule, the counts) is
// what the command hands it.
func TestReportShowsTheLedgersSyncHealth(t *testing.T) {
	w := newWorld(t, 500, 30*time.Minute, "")
	w.mustRun(t, "sync")
	w.now = w.now.Add(time.Minute)
	w.fake.SetFaults(fakeapi.Faults{EchoStatus: 403})
	if code, _, _ := w.run(t, "sync"); code == 0 {
		t.Fatal("a sync refused by the Data API succeeded")
	}
	w.fake.SetFaults(fakeapi.Faults{})
	text := w.mustRun(t, "report", "--date", w.now.AddDate(0, 0, -1).Format(time.DateOnly))
	_, table, _ := strings.Cut(text, "Sync health per project\n")
	table, _, _ = strings.Cut(table, "\n\n")
	stored := int64(0)
	projects := 0
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || (f[0] != "579" && f[0] != "580") {
			continue
		}
		projects++
		if f[1] != report.HealthFailing {
			t.Errorf("project %s: health %q after a refused sync, want %q", f[0], f[1], report.HealthFailing)
		}
		n, err := strconv.ParseInt(f[len(f)-2], 10, 64)
		if err != nil {
			t.Fatalf("project %s: operations %q: %v", f[0], f[len(f)-2], err)
		}
		stored += n
	}
	if projects != 2 || stored != 500 {
		t.Errorf("the sync table shows %d projects holding %d operations, want 2 holding the fake's 500:\n%s", projects, stored, table)
	}
}
