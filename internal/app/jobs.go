package app

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/outbox"
	"reconciled/internal/report"
)

// The daemon's two jobs that produce files once a day: the scheduled
// report and the scheduled export. Each records the days it made under its
// schedule's produced key (ScheduleKeys), with the day's mail queued in
// the same transaction (outbox.QueueProduced), so that a run caught up
// after a restart, a second run the same day or a cron moved by a reload
// sends nothing twice.

// maxCatchUpDays bounds how far back a job goes for days missed while the
// daemon was down.
const maxCatchUpDays = 7

// ScheduleKeys names a schedule in the database, from one reading of it, so
// that its two names agree on when an edited entry is the same schedule:
// recipients in any order, the default format written out or not. run (job,
// cron, what, format unless the default, recipients) keys its last run
// (schedule.Job.Key, shown by status); produced (the same without the cron)
// is the prefix of the days it made, so a cron moved by a reload makes
// nothing twice. Both forms are the ones earlier releases stored.
func ScheduleKeys(s config.Schedule) (run, produced string) {
	to := strings.Join(slices.Sorted(slices.Values(s.To)), ",")
	format := cmp.Or(s.Format, "xlsx")
	run = s.Job + " " + s.Cron
	if s.What != "" {
		run += " what=" + s.What
	}
	if format != "xlsx" {
		run += " format=" + format
	}
	if to != "" {
		run += " to=" + to
	}
	return run, s.Job + "|what=" + s.What + "|format=" + format + "|to=" + to + "|"
}

// JobDir is the folder the export or report schedule s writes its files
// to: its dir, else "exports" or "reports" beside the database.
func JobDir(cfg *config.Config, s config.Schedule) string {
	if s.Dir != "" {
		return s.Dir
	}
	return filepath.Join(filepath.Dir(cfg.Storage.Path), s.Job+"s")
}

// ReportJob is the scheduled report: yesterday's, written to the
// schedule's folder as report-DAY.html and .xlsx (or exceptions-DAY.csv),
// and mailed to its recipients. A day is produced once per report (its
// format and recipients, whatever the cron). Days missed while the daemon
// was down are produced too, oldest first, up to maxCatchUpDays back, all
// from one reconciliation of what is stored.
func (a *App) ReportJob(ctx context.Context, s config.Schedule) error {
	if a.Outbox == nil {
		return errors.New("report: no outbox to record the days made in")
	}
	loc := a.Config.Zone()
	_, prefix := ScheduleKeys(s)
	days, err := a.dueDays(prefix, a.Yesterday(), loc)
	if err != nil {
		return err
	}
	var data *reportData // reconciled once, for the first day not made yet
	prev, err := a.Ledger.ReportBaselineOf(prefix)
	if err != nil {
		return err
	}
	var previous *report.Previous // what the schedule's last report saw; a day made here is the next day's
	if prev != nil {
		previous = previousOf(prev, loc)
	}
	for _, day := range days {
		key := prefix + day.Format(time.DateOnly)
		_, done, err := a.Ledger.WasProduced(key)
		if err != nil {
			return err
		}
		if done {
			continue
		}
		if data == nil {
			if _, err := a.refresh(ctx, false, a.Now().UTC(), CurrentUser(os.Getenv), nil); err != nil {
				return err
			}
			rd, err := a.reportData(ctx)
			if err != nil {
				return err
			}
			data = &rd
		}
		settle, err := a.settlementOf(ctx, day)
		if err != nil {
			return err
		}
		dr := data.report(day, loc, a.Now(), settle, previous)
		made, err := a.reportDay(ctx, s, dr, key, prefix)
		if err != nil {
			return err
		}
		if made {
			previous = &report.Previous{Day: dr.Date, At: dr.Now, Open: dr.Seen()}
		}
	}
	return nil
}

// dueDays are the days up to last not produced under prefix yet: last
// alone for a schedule that never produced anything, else every day after
// the last one produced (at most maxCatchUpDays).
func (a *App) dueDays(prefix string, last time.Time, loc *time.Location) ([]time.Time, error) {
	latest, ok, err := a.Ledger.LastProduced(prefix)
	if err != nil {
		return nil, err
	}
	from := last
	if ok {
		if t, err := domain.ParseDay(strings.TrimPrefix(latest, prefix), loc); err == nil {
			from = domain.AddDays(t, 1, loc)
		}
	}
	if earliest := domain.AddDays(last, -(maxCatchUpDays - 1), loc); from.Before(earliest) {
		from = earliest
	}
	var days []time.Time
	for day := from; !day.After(last); day = domain.AddDays(day, 1, loc) {
		days = append(days, day)
	}
	return days, nil
}

// reportDay writes dr's files (streamed, not held in memory) and records
// the day as produced under key, with its mail queued when the schedule
// has recipients (the mail carries the files just written) and what dr
// saw open as the baseline of the schedule's next report (prefix): made
// is false when the day was recorded already.
func (a *App) reportDay(ctx context.Context, s config.Schedule, dr *DailyReport, key, prefix string) (bool, error) {
	dir := JobDir(a.Config, s)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return false, err
	}
	htmlPath := filepath.Join(dir, "report-"+dr.Day()+".html")
	attPath := filepath.Join(dir, dr.attachmentName(s.Format))
	for _, path := range []string{htmlPath, attPath} {
		if err := a.writeFile(path, func(w io.Writer) error { return dr.WriteAs(StopWriter(ctx, w), filepath.Ext(path)) }); err != nil {
			return false, fmt.Errorf("report: %w", err)
		}
	}
	made, mailed, err := a.produce(s, key, htmlPath, baselineOf(dr, prefix), func() (outbox.Letter, error) {
		html, err := os.ReadFile(htmlPath)
		if err != nil {
			return outbox.Letter{}, err
		}
		att, err := os.ReadFile(attPath)
		if err != nil {
			return outbox.Letter{}, err
		}
		var text bytes.Buffer
		if err := dr.Text(&text); err != nil {
			return outbox.Letter{}, err
		}
		return outbox.Letter{Subject: dr.Subject(), Text: text.String(), HTML: string(html), File: filepath.Base(attPath), Data: att}, nil
	})
	if err != nil || !made {
		return false, err
	}
	a.Logger.Info("report produced", "day", dr.Day(), "open_exceptions", len(dr.Open), "new", dr.ChangeCount(report.ChangeNew),
		"resolved", dr.ChangeCount(report.ChangeResolved), "files", dir, "mail", mailed)
	return true, nil
}

// produce records the day of schedule s as made under key (file: what it
// made), with its mail queued in the same transaction when s has
// recipients and [mail] a server: letter gives the message (its Key and To
// are s's), and baseline (if not nil) stored as what the schedule's last
// report saw. made is false when the day was recorded already (by a run
// at the same moment: nothing is queued twice).
func (a *App) produce(s config.Schedule, key, file string, baseline *ledger.ReportBaseline, letter func() (outbox.Letter, error)) (made, mailed bool, err error) {
	now := a.Now()
	p := ledger.Produced{Key: key, At: now.UTC(), File: file, Baseline: baseline}
	var ml *ledger.Mail
	if len(s.To) > 0 && a.Config.Mail.Host != "" {
		lt, err := letter()
		if err != nil {
			return false, false, err
		}
		lt.Key, lt.To = key, s.To
		if ml, err = a.Outbox.Compose(lt, now); err != nil {
			return false, false, err
		}
		p.MessageID = ml.ID
	}
	if err := a.Outbox.QueueProduced(p, ml); err != nil {
		if errors.Is(err, ledger.ErrProduced) {
			return false, false, nil
		}
		return false, false, err
	}
	return true, ml != nil, nil
}

// ExportJob is the scheduled export: yesterday's, to the schedule's folder
// (what-DAY.format), rewritten on every run; with recipients, mailed once
// per day and schedule, as the report is. Days missed since the last day
// made (the daemon down, or a cron time the clock skipped: 02:30 on a
// spring-forward day) are made too, oldest first, up to maxCatchUpDays
// back, as the report job does.
func (a *App) ExportJob(ctx context.Context, s config.Schedule) error {
	if a.Outbox == nil {
		return errors.New("export: no outbox to record the days made in")
	}
	loc := a.Config.Zone()
	yesterday := a.Yesterday()
	_, prefix := ScheduleKeys(s)
	days, err := a.dueDays(prefix, yesterday, loc)
	if err != nil {
		return err
	}
	if len(days) == 0 || !days[len(days)-1].Equal(yesterday) {
		days = append(days, yesterday) // made already: written again, with what changed since
	}
	for _, day := range days {
		if err := a.exportDay(ctx, s, day, prefix+day.Format(time.DateOnly), loc); err != nil {
			return err
		}
	}
	return nil
}

// exportDay writes day's export and, the first time, records the day as
// made under key, with its mail queued when the schedule has recipients.
func (a *App) exportDay(ctx context.Context, s config.Schedule, day time.Time, key string, loc *time.Location) error {
	what, format := cmp.Or(s.What, "operations"), cmp.Or(s.Format, "xlsx")
	dir := JobDir(a.Config, s)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%s.%s", what, day.Format(time.DateOnly), format)
	path := filepath.Join(dir, name)
	req := ExportRequest{What: what, Format: format, From: day, To: domain.AddDays(day, 1, loc)}
	if what == "reconciliation" {
		if _, err := a.refresh(ctx, false, a.Now().UTC(), CurrentUser(os.Getenv), nil); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	var n int
	if err := a.writeFile(path, func(w io.Writer) error {
		var err error
		n, err = a.Export(ctx, req, StopWriter(ctx, w))
		return err
	}); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	a.Logger.Info(fmt.Sprintf("export: %d %s rows written to %s", n, what, path))
	if _, done, err := a.Ledger.WasProduced(key); err != nil || done {
		return err
	}
	_, _, err := a.produce(s, key, path, nil, func() (outbox.Letter, error) {
		data, err := os.ReadFile(path)
		return outbox.Letter{
			Subject: fmt.Sprintf("reconciled: %s export for %s", what, day.Format(time.DateOnly)),
			Text:    fmt.Sprintf("The %s export of %s (%s) is attached: %s.\n\nreconciled\n", what, day.Format(time.DateOnly), loc, name),
			File:    name, Data: data}, err
	})
	return err
}
