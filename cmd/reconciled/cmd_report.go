package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
	"reconciled/internal/outbox"
	"reconciled/internal/report"
)

// mailListLimit caps the open exceptions listed in the report's HTML and
// text (mail and -o): the attachment lists them all.
const mailListLimit = 500

// reportExts are the files `report -o` writes, by extension.
var reportExts = []string{".html", ".htm", ".xlsx", ".txt", ".csv"}

func (m *Main) runReport(ctx context.Context, args []string) error {
	fs := m.newFlagSet("report", "[--date YYYY-MM-DD] [--send [--to ADDR] [--format xlsx|csv]] [-o FILE]", `  reconciled report                                 # yesterday's, in the terminal
  reconciled report --date 2026-11-22 -o report.html  # the same HTML the mail carries
  reconciled report --date 2026-11-22 -o report.xlsx  # the workbook the mail attaches
  reconciled report --send                          # mail it to the report schedule's recipients
  reconciled report --send --to finance@example.com --format csv
`)
	date := fs.String("date", "", "the report's day in data_api.tz (default: yesterday)")
	send := fs.Bool("send", false, "mail it through [mail], to the recipients of the report schedule or --to")
	var to listFlag
	fs.Var(&to, "to", "with --send: recipient(s) instead of the report schedule's")
	format := fs.String("format", "", "with --send: the attachment, xlsx (the report) or csv (the open exceptions); default the schedule's, else xlsx")
	out := fs.String("o", "", "write it to FILE: .html, .xlsx, .txt, or .csv (the open exceptions)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out != "" && !slices.Contains(reportExts, strings.ToLower(filepath.Ext(*out))) {
		return usagef("-o %s: name a .html, .xlsx, .txt or .csv file", *out)
	}
	if !*send && (len(to) > 0 || *format != "") {
		return usagef("--to and --format go with --send")
	}
	if *format != "" && *format != "csv" && *format != "xlsx" {
		return usagef("--format %q: use xlsx or csv", *format)
	}
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	loc := cfg.Zone()
	day := previousDay(m.Now(), loc)
	if *date != "" {
		if day, err = time.ParseInLocation(time.DateOnly, *date, loc); err != nil {
			return usagef("--date %q: give a day as YYYY-MM-DD", *date)
		}
	}
	var recipients []string
	if *send {
		if cfg.Mail.Host == "" {
			return usagef("--send: no SMTP server in the config: set mail.host")
		}
		if cfg, err = cfg.WithSecrets(config.NeedMail); err != nil {
			return err
		}
		s := reportSchedule(cfg)
		recipients = to
		if len(recipients) == 0 {
			recipients = s.To
		}
		if len(recipients) == 0 {
			return usagef("--send: no recipients: give --to, or `to` in the report [[schedule]]")
		}
		for _, r := range recipients {
			if _, err := netmail.ParseAddress(r); err != nil {
				return usagef("--to %q is not an e-mail address", r)
			}
		}
		if *format == "" {
			*format = s.Format
		}
	}
	l, err := m.openLedger(cfg, !*send)
	if err != nil {
		return err
	}
	defer l.Close()
	dr, err := m.buildReport(ctx, cfg, l, day, loc)
	if err != nil {
		return err
	}
	if *out != "" {
		if _, err := m.writeExport(ctx, *out, func(w io.Writer) (int, error) {
			return len(dr.Open), dr.write(w, strings.ToLower(filepath.Ext(*out)))
		}); err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "report: %s written to %s (%d open exceptions)\n", dr.Day(), *out, len(dr.Open))
	}
	if !*send {
		if *out == "" {
			return dr.Text(m.Stdout)
		}
		return nil
	}
	// Sent by hand: a new message every time, even for a day mailed before.
	key := fmt.Sprintf("report %s to %s as %s by %s at %s", dr.Day(), strings.Join(recipients, ","), *format, m.user(), m.Now().UTC().Format(time.RFC3339Nano))
	ob := m.outboxFor(cfg, l)
	ml, err := dr.mail(ob, recipients, *format, key, m.Now())
	if err != nil {
		return err
	}
	// Queued, it wakes the daemon's loop (in the daemon), which takes over
	// the retries after this attempt.
	q, sent, err := ob.Send(ctx, ml)
	if err != nil {
		return err
	}
	switch q.State() {
	case ledger.MailSent:
		fmt.Fprintf(m.Stderr, "report: %s sent to %s (Message-ID <%s>)\n", dr.Day(), strings.Join(recipients, ", "), q.ID)
		if sent > 1 {
			fmt.Fprintf(m.Stderr, "report: %d earlier messages of the outbox went too\n", sent-1)
		}
		return nil
	case ledger.MailGivenUp:
		return fmt.Errorf("report: the mail server refused the message: %s", q.LastError)
	}
	return fmt.Errorf("report: not delivered yet (%s); it stays in the outbox and the daemon, or the next report --send, retries it (see status)", q.LastError)
}

// outboxFor is the outbox a command queues mail in: the daemon's when the
// daemon runs it, else one of its own on l and cfg's [mail] (with the
// password resolved: report --send resolves it first).
func (m *Main) outboxFor(cfg *config.Config, l *ledger.Ledger) *outbox.Outbox {
	if m.outbox != nil {
		return m.outbox
	}
	return outbox.New(l, outbox.Options{Mail: func() config.Mail { return cfg.Mail }, Now: m.Now, Log: m.log})
}

// reportSchedule is the first report [[schedule]], or a zero one.
func reportSchedule(cfg *config.Config) config.Schedule {
	for _, s := range cfg.Schedules {
		if s.Job == "report" {
			return s
		}
	}
	return config.Schedule{}
}

// dailyReport is a built report with the items it was built from (the
// CSV form lists the open ones with both sides).
type dailyReport struct {
	*report.Report
	items []domain.Item
	loc   *time.Location
}

// reportData is what reports are built from: the reconciliation of what
// is stored now and the sync state of every project.
type reportData struct {
	items   []domain.Item
	states  []report.SyncState
	unknown []domain.WordCount // ECommPay words no one gave a meaning
}

// reportData reconciles what is stored (without asking the Data API, as an
// export does) and reads the sync states.
func (m *Main) reportData(ctx context.Context, cfg *config.Config, l *ledger.Ledger) (reportData, error) {
	out, err := m.app(cfg, l).Reconcile(ctx)
	if err != nil {
		return reportData{}, err
	}
	states, err := l.SyncStates()
	if err != nil {
		return reportData{}, err
	}
	words, err := l.WordCounts()
	return reportData{items: out.Items, states: reportSync(states), unknown: ledger.Unknown(words, cfg.Vocabulary())}, err
}

// reportSync is what a report shows of the ledger's sync states.
func reportSync(states []ledger.SyncState) []report.SyncState {
	out := make([]report.SyncState, len(states))
	for i, s := range states {
		out[i] = report.SyncState{Project: s.Project, Watermark: s.Watermark, LastAttempt: s.LastAttempt, LastSuccess: s.LastSuccess,
			LastError: s.LastError, LastErrorAt: s.LastErrorAt, Failing: s.Failing(), Operations: s.Operations, NotFinal: s.NotFinal}
	}
	return out
}

// report builds day's report from data.
func (data reportData) report(day time.Time, loc *time.Location, now time.Time) *dailyReport {
	r := report.Build(report.Input{Date: day, Location: loc, Now: now, Items: data.items, Sync: data.states, Unknown: data.unknown})
	r.ListLimit = mailListLimit
	return &dailyReport{Report: r, items: data.items, loc: loc}
}

// buildReport reconciles what is stored and builds day's report.
func (m *Main) buildReport(ctx context.Context, cfg *config.Config, l *ledger.Ledger, day time.Time, loc *time.Location) (*dailyReport, error) {
	data, err := m.reportData(ctx, cfg, l)
	if err != nil {
		return nil, err
	}
	return data.report(day, loc, m.Now()), nil
}

// write writes the report in the form of ext.
func (dr *dailyReport) write(w io.Writer, ext string) error {
	switch ext {
	case ".html", ".htm":
		return dr.HTML(w)
	case ".xlsx":
		return export.ReportXLSX(w, dr.Report, export.XLSXOptions{Location: dr.loc})
	case ".csv":
		_, err := export.ReconciliationCSV(w, dr.items, export.ItemFilter{Results: exceptionResults()}, export.CSVOptions{Location: dr.loc})
		return err
	}
	return dr.Text(w)
}

// exceptionResults are the result codes of open exceptions.
func exceptionResults() []string {
	var out []string
	for _, r := range domain.Results {
		if domain.IsException(r) {
			out = append(out, r)
		}
	}
	return out
}

// attachmentName is the file mailed with the report: the workbook, or
// with format csv the open exceptions.
func (dr *dailyReport) attachmentName(format string) string {
	if format == "csv" {
		return "exceptions-" + dr.Day() + ".csv"
	}
	return "report-" + dr.Day() + ".xlsx"
}

// mail makes the report's message for the outbox, rendering its bodies
// and attachment. key names the message: the same key gives the same
// Message-ID.
func (dr *dailyReport) mail(ob *outbox.Outbox, to []string, format, key string, now time.Time) (*ledger.Mail, error) {
	var html, text, att bytes.Buffer
	if err := dr.HTML(&html); err != nil {
		return nil, err
	}
	if err := dr.Text(&text); err != nil {
		return nil, err
	}
	name := dr.attachmentName(format)
	if err := dr.write(&att, filepath.Ext(name)); err != nil {
		return nil, err
	}
	return ob.Compose(outbox.Letter{Key: key, To: to, Subject: dr.Subject(), Text: text.String(), HTML: html.String(), File: name, Data: att.Bytes()}, now)
}

// reportJob is the scheduled report: yesterday's, written to the
// schedule's folder as report-DAY.html and .xlsx (or exceptions-DAY.csv),
// and mailed to its recipients. A day is produced once per report (its
// format and recipients, whatever the cron): the files and the queued mail
// are recorded in one transaction, so a run caught up after a restart, a
// second run the same day or a cron moved by a reload sends nothing twice.
// Days missed while the daemon was down are produced too, oldest first, up
// to maxCatchUpDays back, all from one reconciliation of what is stored.
func (d *daemon) reportJob(ctx context.Context, cfg *config.Config, s config.Schedule) error {
	loc := cfg.Zone()
	_, prefix := scheduleKeys(s)
	days, err := d.dueDays(prefix, previousDay(d.m.Now(), loc), loc)
	if err != nil {
		return err
	}
	var data *reportData // reconciled once, for the first day not made yet
	for _, day := range days {
		key := prefix + day.Format(time.DateOnly)
		_, done, err := d.l.WasProduced(key)
		if err != nil {
			return err
		}
		if done {
			continue
		}
		if data == nil {
			rd, err := d.jobMain(cfg, "report").reportData(ctx, cfg, d.l)
			if err != nil {
				return err
			}
			data = &rd
		}
		if err := d.reportDay(ctx, cfg, s, data.report(day, loc, d.m.Now()), key); err != nil {
			return err
		}
	}
	return nil
}

// maxCatchUpDays bounds how far back a report job goes for days missed
// while the daemon was down.
const maxCatchUpDays = 7

// dueDays are the days up to last not produced under prefix yet: last
// alone for a schedule that never produced anything, else every day after
// the last one produced (at most maxCatchUpDays).
func (d *daemon) dueDays(prefix string, last time.Time, loc *time.Location) ([]time.Time, error) {
	latest, ok, err := d.l.LastProduced(prefix)
	if err != nil {
		return nil, err
	}
	from := last
	if ok {
		if t, err := time.ParseInLocation(time.DateOnly, strings.TrimPrefix(latest, prefix), loc); err == nil {
			from = t.AddDate(0, 0, 1)
		}
	}
	if earliest := last.AddDate(0, 0, -(maxCatchUpDays - 1)); from.Before(earliest) {
		from = earliest
	}
	var days []time.Time
	for day := from; !day.After(last); day = day.AddDate(0, 0, 1) {
		days = append(days, day)
	}
	return days, nil
}

// reportDay writes dr's files (streamed, not held in memory) and records
// the day as produced under key, with its mail queued when the schedule
// has recipients: the mail carries the files just written.
func (d *daemon) reportDay(ctx context.Context, cfg *config.Config, s config.Schedule, dr *dailyReport, key string) error {
	dir := jobDir(cfg, s, "reports")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	htmlPath := filepath.Join(dir, "report-"+dr.Day()+".html")
	attPath := filepath.Join(dir, dr.attachmentName(s.Format))
	for _, path := range []string{htmlPath, attPath} {
		if err := d.m.writeOutput(path, false, func(w io.Writer) error { return dr.write(app.StopWriter(ctx, w), filepath.Ext(path)) }); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	now := d.m.Now()
	p := ledger.Produced{Key: key, At: now.UTC(), File: htmlPath}
	var ml *ledger.Mail
	if len(s.To) > 0 && cfg.Mail.Host != "" {
		html, err := os.ReadFile(htmlPath)
		if err != nil {
			return err
		}
		att, err := os.ReadFile(attPath)
		if err != nil {
			return err
		}
		var text bytes.Buffer
		if err := dr.Text(&text); err != nil {
			return err
		}
		lt := outbox.Letter{Key: key, To: s.To, Subject: dr.Subject(), Text: text.String(), HTML: string(html), File: filepath.Base(attPath), Data: att}
		if ml, err = d.outbox.Compose(lt, now); err != nil {
			return err
		}
		p.MessageID = ml.ID
	}
	if err := d.outbox.QueueProduced(p, ml); err != nil {
		if errors.Is(err, ledger.ErrProduced) {
			return nil
		}
		return err
	}
	d.m.log().Info("report produced", "job", "report", "day", dr.Day(), "open_exceptions", len(dr.Open), "files", dir, "mail", p.MessageID != "")
	return nil
}

// exportJob is the scheduled export: yesterday's, to the schedule's folder
// (what-DAY.format), rewritten on every run; with recipients, mailed once
// per day and schedule, as the report is. Days missed since the last day
// made (the daemon down, or a cron time the clock skipped: 02:30 on a
// spring-forward day) are made too, oldest first, up to maxCatchUpDays
// back, as the report job does.
func (d *daemon) exportJob(ctx context.Context, cfg *config.Config, s config.Schedule) error {
	loc := cfg.Zone()
	yesterday := previousDay(d.m.Now(), loc)
	_, prefix := scheduleKeys(s)
	days, err := d.dueDays(prefix, yesterday, loc)
	if err != nil {
		return err
	}
	if len(days) == 0 || !days[len(days)-1].Equal(yesterday) {
		days = append(days, yesterday) // made already: written again, with what changed since
	}
	for _, day := range days {
		if err := d.exportDay(ctx, cfg, s, day, prefix+day.Format(time.DateOnly), loc); err != nil {
			return err
		}
	}
	return nil
}

// exportDay writes day's export and, the first time, records the day as
// made under key, with its mail queued when the schedule has recipients.
func (d *daemon) exportDay(ctx context.Context, cfg *config.Config, s config.Schedule, day time.Time, key string, loc *time.Location) error {
	what, format := cmp.Or(s.What, "operations"), cmp.Or(s.Format, "xlsx")
	dir := jobDir(cfg, s, "exports")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%s.%s", what, day.Format(time.DateOnly), format)
	path := filepath.Join(dir, name)
	req := app.ExportRequest{What: what, Format: format, From: day, To: day.AddDate(0, 0, 1)}
	a := d.app(cfg, "export")
	var n int
	if err := d.m.writeOutput(path, false, func(w io.Writer) error {
		var err error
		n, err = a.Export(ctx, req, app.StopWriter(ctx, w))
		return err
	}); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	a.Logger.Info(fmt.Sprintf("export: %d %s rows written to %s", n, what, path))
	if _, done, err := d.l.WasProduced(key); err != nil || done {
		return err
	}
	now := d.m.Now()
	p := ledger.Produced{Key: key, At: now.UTC(), File: path}
	var ml *ledger.Mail
	if len(s.To) > 0 && cfg.Mail.Host != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		ml, err = d.outbox.Compose(outbox.Letter{Key: key, To: s.To,
			Subject: fmt.Sprintf("reconciled: %s export for %s", what, day.Format(time.DateOnly)),
			Text:    fmt.Sprintf("The %s export of %s (%s) is attached: %s.\n\nreconciled\n", what, day.Format(time.DateOnly), loc, name),
			File:    name, Data: data}, now)
		if err != nil {
			return err
		}
		p.MessageID = ml.ID
	}
	if err := d.outbox.QueueProduced(p, ml); !errors.Is(err, ledger.ErrProduced) {
		return err
	}
	return nil
}
