package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/door"
)

// reportRequest is a report's command line.
type reportRequest struct {
	date   string   // --date; "": yesterday
	send   bool     // --send
	to     []string // --to; none: the report schedule's
	format string   // --format of the attachment; "": the schedule's
	out    string   // -o
}

func parseReport(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("report", "[--date YYYY-MM-DD] [--send [--to ADDR] [--format xlsx|csv]] [-o FILE]", `  reconciled report                                 # yesterday's, in the terminal
  reconciled report --date 2026-11-22 -o report.html  # the same HTML the mail carries
  reconciled report --date 2026-11-22 -o report.xlsx  # the workbook the mail attaches
  reconciled report --send                          # mail it to the report schedule's recipients
  reconciled report --send --to finance@example.com --format csv
`)
	var r reportRequest
	var to cli.List
	fs.StringVar(&r.date, "date", "", "the report's day in data_api.tz (default: yesterday)")
	fs.BoolVar(&r.send, "send", false, "mail it through [mail], to the recipients of the report schedule or --to")
	fs.Var(&to, "to", "with --send: recipient(s) instead of the report schedule's")
	fs.StringVar(&r.format, "format", "", "with --send: the attachment, xlsx (the report) or csv (the open exceptions); default the schedule's, else xlsx")
	fs.StringVar(&r.out, "o", "", "write it to FILE: .html, .xlsx, .txt, or .csv (the open exceptions)")
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	r.to = to
	if r.out != "" && !app.IsReportFile(r.out) {
		return nil, cli.Usagef("-o %s: name a .html, .xlsx, .txt or .csv file", r.out)
	}
	if !r.send && (len(r.to) > 0 || r.format != "") {
		return nil, cli.Usagef("--to and --format go with --send")
	}
	if err := app.CheckReportFormat(r.format); err != nil {
		return nil, requestUsage(err, nil)
	}
	return &r, nil
}

func (r *reportRequest) OutputFile() door.OutFile { return door.OutFile{Path: r.out} }

func (r *reportRequest) Run(ctx context.Context, e door.Env) error {
	cfg, err := e.Config()
	if err != nil {
		return err
	}
	loc := cfg.Zone()
	day := app.PreviousDay(e.Now(), loc)
	if r.date != "" {
		if day, err = domain.ParseDay(r.date, loc); err != nil {
			return cli.Usagef("--date %q: give a day as YYYY-MM-DD", r.date)
		}
	}
	send := app.SendRequest{To: r.to, Format: r.format}
	if r.send {
		if err := app.CheckMailServer(cfg); err != nil {
			return requestUsage(err, nil)
		}
		if cfg, err = cfg.WithSecrets(config.NeedMail); err != nil {
			return err
		}
		send = send.Defaults(cfg)
		if err := send.Check(); err != nil {
			return requestUsage(err, nil)
		}
	}
	a, err := e.Open(cfg, !r.send)
	if err != nil {
		return err
	}
	dr, err := a.Report(ctx, day)
	if err != nil {
		return err
	}
	if r.out != "" {
		if _, err := door.WriteExport(ctx, e, r.out, func(w io.Writer) (int, error) { return len(dr.Open), dr.WriteAs(w, filepath.Ext(r.out)) }); err != nil {
			return err
		}
		fmt.Fprintf(e.Stderr(), "report: %s written to %s (%d open exceptions)\n", dr.Day(), r.out, len(dr.Open))
	}
	if !r.send {
		if r.out == "" {
			return dr.Text(e.Stdout())
		}
		return nil
	}
	// Sent by hand: a new message every time, even for a day mailed before.
	send.User = e.User()
	q, sent, err := a.SendReport(ctx, dr, send)
	if err != nil {
		return requestUsage(err, nil)
	}
	fmt.Fprintf(e.Stderr(), "report: %s sent to %s (Message-ID <%s>)\n", dr.Day(), strings.Join(send.To, ", "), q.ID)
	if sent > 1 {
		fmt.Fprintf(e.Stderr(), "report: %d earlier messages of the outbox went too\n", sent-1)
	}
	return nil
}
