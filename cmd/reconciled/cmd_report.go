package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
	"reconciled/internal/mail"
	"reconciled/internal/report"
)

// mailListLimit caps the open exceptions listed in the report's HTML and
// text (mail and -o): the attachment lists them all.
const mailListLimit = 500

// reportExts are the files `report -o` writes, by extension.
var reportExts = []string{".html", ".htm", ".xlsx", ".txt", ".csv"}

func (m *Main) runReport(ctx context.Context, args []string) error {
	fs := m.newFlagSet("report", "[--date YYYY-MM-DD] [--send [--to ADDR]] [-o FILE]", `  reconciled report                                 # yesterday's, in the terminal
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
	if *out != "" && !hasExt(*out, reportExts) {
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
	loc, _ := time.LoadLocation(cfg.DataAPI.TZ) // validated with the config
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
	ml, err := dr.mail(cfg, recipients, *format, key, m.Now())
	if err != nil {
		return err
	}
	if err := l.QueueMail(ml); err != nil {
		return err
	}
	sent, _, err := m.deliverDue(ctx, l, cfg.Mail)
	if err != nil {
		return err
	}
	q, ok, err := l.MailByID(ml.ID)
	switch {
	case err != nil:
		return err
	case !ok:
		return errors.New("report: the message is not in the outbox")
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

// reportSchedule is the first report [[schedule]], or a zero one.
func reportSchedule(cfg *config.Config) config.Schedule {
	for _, s := range cfg.Schedules {
		if s.Job == "report" {
			return s
		}
	}
	return config.Schedule{}
}

func hasExt(path string, exts []string) bool {
	e := strings.ToLower(filepath.Ext(path))
	for _, x := range exts {
		if e == x {
			return true
		}
	}
	return false
}

// dailyReport is a built report with the items it was built from (the
// CSV form lists the open ones with both sides).
type dailyReport struct {
	*report.Report
	items []domain.Item
	loc   *time.Location
}

// buildReport reconciles what is stored (without asking the Data API, as
// an export does) and builds day's report.
func (m *Main) buildReport(ctx context.Context, cfg *config.Config, l *ledger.Ledger, day time.Time, loc *time.Location) (*dailyReport, error) {
	run, err := m.runReconcile(ctx, cfg, l, false)
	if err != nil {
		return nil, err
	}
	states, err := l.SyncStates()
	if err != nil {
		return nil, err
	}
	r := report.Build(report.Input{Date: day, Location: loc, Now: m.Now(), Items: run.out.Items, Sync: states})
	r.ListLimit = mailListLimit
	return &dailyReport{Report: r, items: run.out.Items, loc: loc}, nil
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

// mail makes the report's message for the outbox: the HTML and text
// bodies and the attachment (format xlsx: the workbook; csv: the open
// exceptions), zipped above mail.zip_above. key names the message: the
// same key gives the same Message-ID.
func (dr *dailyReport) mail(cfg *config.Config, to []string, format, key string, now time.Time) (*ledger.Mail, error) {
	var html, text, att bytes.Buffer
	if err := dr.HTML(&html); err != nil {
		return nil, err
	}
	if err := dr.Text(&text); err != nil {
		return nil, err
	}
	name, ctype := "report-"+dr.Day()+".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	if format == "csv" {
		name, ctype = "exceptions-"+dr.Day()+".csv", "text/csv; charset=utf-8"
	}
	if err := dr.write(&att, filepath.Ext(name)); err != nil {
		return nil, err
	}
	msg := mail.Message{
		ID:          messageID(key, cfg.Mail.From),
		From:        cfg.Mail.From,
		To:          to,
		Subject:     dr.Subject(),
		Text:        text.String(),
		HTML:        html.String(),
		Attachments: []mail.Attachment{{Name: name, ContentType: ctype, Data: att.Bytes()}},
		Date:        now.Truncate(time.Second),
	}
	if err := msg.ZipAttachments(cfg.Mail.ZipAbove); err != nil {
		return nil, err
	}
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	data, err := json.Marshal(&msg)
	if err != nil {
		return nil, err
	}
	return &ledger.Mail{ID: msg.ID, Queued: now.UTC(), To: to, Subject: msg.Subject, Message: data}, nil
}

// messageID is a stable Message-ID for key, in the domain of from.
func messageID(key, from string) string {
	sum := sha256.Sum256([]byte(key))
	domain := "reconciled.invalid"
	if a, err := netmail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok && d != "" {
			domain = d
		}
	}
	return "reconciled." + hex.EncodeToString(sum[:12]) + "@" + domain
}

// reportJob is the scheduled report: yesterday's, written to the
// schedule's folder as report-DAY.html and .xlsx (or exceptions-DAY.csv),
// and mailed to its recipients. A day is produced once per report (its
// format and recipients, whatever the cron): the files and the queued mail
// are recorded in one transaction, so a run caught up after a restart, a
// second run the same day or a cron moved by a reload sends nothing twice.
// Days missed while the daemon was down are produced too, oldest first, up
// to maxCatchUpDays back, each from the reconciliation as it is now.
func (d *daemon) reportJob(ctx context.Context, cfg *config.Config, s config.Schedule) error {
	loc, _ := time.LoadLocation(cfg.DataAPI.TZ)
	prefix := producedPrefix("report", s)
	days, err := d.dueDays(prefix, previousDay(d.m.Now(), loc), loc)
	if err != nil {
		return err
	}
	for _, day := range days {
		if err := d.reportDay(ctx, cfg, s, day, loc, prefix+day.Format(time.DateOnly)); err != nil {
			return err
		}
	}
	return nil
}

// maxCatchUpDays bounds how far back a report job goes for days missed
// while the daemon was down.
const maxCatchUpDays = 7

// producedPrefix names what a schedule produces, without its cron: the key
// of a day is the prefix and the day.
func producedPrefix(job string, s config.Schedule) string {
	to := slices.Clone(s.To)
	slices.Sort(to)
	k := job + "|what=" + s.What + "|format=" + cmp.Or(s.Format, "xlsx") + "|to=" + strings.Join(to, ",") + "|"
	return k
}

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

// reportDay produces one day's report under key.
func (d *daemon) reportDay(ctx context.Context, cfg *config.Config, s config.Schedule, day time.Time, loc *time.Location, key string) error {
	if _, done, err := d.l.WasProduced(key); err != nil || done {
		return err
	}
	jm := d.jobMain(cfg, "report")
	dr, err := jm.buildReport(ctx, cfg, d.l, day, loc)
	if err != nil {
		return err
	}
	dir := jobDir(cfg, s, "reports")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	files := []string{"report-" + dr.Day() + ".html"}
	if s.Format == "csv" {
		files = append(files, "exceptions-"+dr.Day()+".csv")
	} else {
		files = append(files, "report-"+dr.Day()+".xlsx")
	}
	for _, f := range files {
		path := filepath.Join(dir, f)
		if err := export.WriteFileAtomic(path, func(w io.Writer) error { return dr.write(ctxWriter{ctx, w}, filepath.Ext(f)) }); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	p := ledger.Produced{Key: key, At: d.m.Now().UTC(), File: filepath.Join(dir, files[0])}
	var ml *ledger.Mail
	if len(s.To) > 0 && cfg.Mail.Host != "" {
		if ml, err = dr.mail(cfg, s.To, s.Format, key, d.m.Now()); err != nil {
			return err
		}
		p.MessageID = ml.ID
	}
	if err := d.l.SaveProduced(p, ml); err != nil {
		if errors.Is(err, ledger.ErrProduced) {
			return nil
		}
		return err
	}
	jm.log().Info("report produced", "day", dr.Day(), "open_exceptions", len(dr.Open), "files", dir, "mail", p.MessageID != "")
	if ml != nil {
		d.kickOutbox()
	}
	return nil
}

// exportJob is the scheduled export: yesterday's, to the schedule's folder
// (what-DAY.format), rewritten on every run; with recipients, mailed once
// per day and schedule, as the report is.
func (d *daemon) exportJob(ctx context.Context, cfg *config.Config, s config.Schedule) error {
	loc, _ := time.LoadLocation(cfg.DataAPI.TZ)
	day := previousDay(d.m.Now(), loc)
	what, format := cmp.Or(s.What, "operations"), cmp.Or(s.Format, "xlsx")
	dir := jobDir(cfg, s, "exports")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%s.%s", what, day.Format(time.DateOnly), format)
	path := filepath.Join(dir, name)
	if err := d.command(ctx, cfg, "export", "--what", what, "--format", format,
		"--from", day.Format(time.DateOnly), "--to", day.AddDate(0, 0, 1).Format(time.DateOnly), "-o", path); err != nil {
		return err
	}
	if len(s.To) == 0 || cfg.Mail.Host == "" {
		return nil
	}
	key := producedPrefix("export", s) + day.Format(time.DateOnly)
	if _, done, err := d.l.WasProduced(key); err != nil || done {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ctype := "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	if format == "csv" {
		ctype = "text/csv; charset=utf-8"
	}
	now := d.m.Now()
	msg := mail.Message{
		ID:          messageID(key, cfg.Mail.From),
		From:        cfg.Mail.From,
		To:          s.To,
		Subject:     fmt.Sprintf("reconciled: %s export for %s", what, day.Format(time.DateOnly)),
		Text:        fmt.Sprintf("The %s export of %s (%s) is attached: %s.\n\nreconciled\n", what, day.Format(time.DateOnly), loc, name),
		Attachments: []mail.Attachment{{Name: name, ContentType: ctype, Data: data}},
		Date:        now.Truncate(time.Second),
	}
	if err := msg.ZipAttachments(cfg.Mail.ZipAbove); err != nil {
		return err
	}
	js, err := json.Marshal(&msg)
	if err != nil {
		return err
	}
	ml := &ledger.Mail{ID: msg.ID, Queued: now.UTC(), To: s.To, Subject: msg.Subject, Message: js}
	err = d.l.SaveProduced(ledger.Produced{Key: key, At: now.UTC(), MessageID: ml.ID, File: path}, ml)
	if errors.Is(err, ledger.ErrProduced) {
		return nil
	}
	if err == nil {
		d.kickOutbox()
	}
	return err
}
