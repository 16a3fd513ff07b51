package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/mail/mailtest"
	"reconciled/internal/schedule"
)

// TestExportJobCatchesUpTheSpringForwardDay: a 02:30 New York export never
// fires on 2026-03-08, when 02:30 does not exist (the clocks jump from
// 02:00 to 03:00), so the run of 2026-03-09 must make the day it missed as
// well as its own, as the report job does; each day's file holds that
// day's operations (a 23-hour day for the 8th) and is mailed once.
func TestExportJobCatchesUpTheSpringForwardDay(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	srv := mailtest.NewServer(t, mailtest.Options{Username: smtpUser, Password: smtpPassword})
	first := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	w := newWorldFrom(t, first, 2000, 5*time.Minute, "tz = \"America/New_York\"\n")
	appendConfig(t, w, mailSection(t, srv))
	w.mustRun(t, "sync")
	a, l := inProcessApp(t, w)
	s := config.Schedule{Job: "export", Cron: "CRON_TZ=America/New_York 30 2 * * *", What: "operations", Format: "csv",
		To: []string{"accounting@example.test"}, Dir: t.TempDir()}

	spec, err := schedule.Parse(s.Cron)
	if err != nil {
		t.Fatal(err)
	}
	fire := time.Date(2026, 3, 7, 2, 30, 0, 0, ny)
	next := spec.Next(fire)
	if want := time.Date(2026, 3, 9, 2, 30, 0, 0, ny); !next.Equal(want) {
		t.Fatalf("after %v the schedule fires at %v; the test expects the cron to skip the 8th (%v)", fire, next, want)
	}
	for _, now := range []time.Time{fire, next, next.Add(time.Hour)} {
		w.now = now
		if err := a.ExportJob(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}

	want := map[string]int{} // operations per New York day
	for _, op := range w.fake.Operations(w.now) {
		want[op.CreatedAt.In(ny).Format(time.DateOnly)]++
	}
	for _, day := range []string{"2026-03-06", "2026-03-07", "2026-03-08"} {
		data, err := os.ReadFile(filepath.Join(s.Dir, "operations-"+day+".csv"))
		if err != nil {
			t.Errorf("the export of %s: %v", day, err)
			continue
		}
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows)-1 != want[day] || want[day] == 0 {
			t.Errorf("%s: %d rows, the fake made %d operations that day", day, len(rows)-1, want[day])
		}
		for _, r := range rows[1:] {
			if !strings.HasPrefix(r[18], day+" ") {
				t.Errorf("%s holds an operation created at %s", day, r[18])
				break
			}
		}
	}
	mails, err := l.Outbox(false)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, ml := range mails {
		subjects = append(subjects, ml.Subject)
	}
	slices.Sort(subjects)
	if len(subjects) != 3 || !strings.HasSuffix(subjects[0], "2026-03-06") || !strings.HasSuffix(subjects[1], "2026-03-07") || !strings.HasSuffix(subjects[2], "2026-03-08") {
		t.Errorf("queued %q, want one message for each of the three days", subjects)
	}
}
