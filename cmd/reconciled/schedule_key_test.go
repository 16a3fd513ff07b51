package main

import (
	"slices"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/mail/mailtest"
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
	d, cfg, l := inProcessDaemon(t, w)

	base := config.Schedule{Job: "report", Cron: "0 7 * * *", To: []string{"a@example.test", "b@example.test"}, Dir: t.TempDir()}
	runKey := func(s config.Schedule) string {
		c := *cfg
		c.Schedules = []config.Schedule{s}
		return d.jobs(&c)[0].Key
	}
	w.now = start.Add(10*24*time.Hour + 7*time.Hour)
	if err := d.reportJob(t.Context(), cfg, base); err != nil {
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
		if err := d.reportJob(t.Context(), cfg, s); err != nil {
			t.Fatal(err)
		}
		if n := mails(); n != 1 {
			t.Errorf("%s: the day was produced again (%d mails queued)", c.name, n)
		}
	}
}
