package main

import (
	"context"
	"fmt"
	"io"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
)

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
	if *out != "" && !app.IsReportFile(*out) {
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
	day := app.PreviousDay(m.Now(), loc)
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
	a := m.app(cfg, l)
	dr, err := a.Report(ctx, day)
	if err != nil {
		return err
	}
	if *out != "" {
		if _, err := m.writeExport(ctx, *out, func(w io.Writer) (int, error) { return len(dr.Open), dr.WriteAs(w, filepath.Ext(*out)) }); err != nil {
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
	q, sent, err := a.SendReport(ctx, dr, app.SendRequest{To: recipients, Format: *format, User: m.user()})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "report: %s sent to %s (Message-ID <%s>)\n", dr.Day(), strings.Join(recipients, ", "), q.ID)
	if sent > 1 {
		fmt.Fprintf(m.Stderr, "report: %d earlier messages of the outbox went too\n", sent-1)
	}
	return nil
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
