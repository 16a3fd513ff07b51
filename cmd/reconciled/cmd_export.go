package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/door"
	"reconciled/internal/export"
	"reconciled/internal/progress"
)

// exportRequest is an export's command line.
type exportRequest struct {
	req      app.ExportRequest // what, format, filters, results, by and the CSV's options
	from, to cli.Time          // the window, read in data_api.tz when the config is loaded
	out      string            // -o; "": standard output
}

func parseExport(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("export", "--what operations|reconciliation|summary|settlement|audit --format csv|xlsx [-o FILE] [filters]", `  reconciled export --what operations --format xlsx -o register.xlsx
  reconciled export --what operations --format csv --from 2026-11-01 --to 2026-11-02 --method advcash
  reconciled export --what reconciliation --format csv --result amount_mismatch --result status_mismatch
  reconciled export --what summary --format xlsx --from 2026-11-01 -o november.xlsx
  reconciled export --what summary --format csv --by method
  reconciled export --what audit --format csv -o audit.csv
  reconciled export --what operations --format csv --bom --delimiter ';' -o for-excel.csv
`)
	var r exportRequest
	projects := cli.Int64s{Noun: "project id"}
	var methods, statuses, types, currencies, results cli.List
	fs.StringVar(&r.req.What, "what", "operations", "operations (the payment register), reconciliation, summary (the analytics), settlement (net per day, project and currency) or audit (the resolutions' trail)")
	fs.StringVar(&r.req.Format, "format", "csv", "csv or xlsx")
	fs.StringVar(&r.out, "o", "", "output file; written whole or not at all (CSV may go to standard output)")
	fs.BoolVar(&r.req.BOM, "bom", false, "CSV: start with a UTF-8 byte order mark (for Excel)")
	delim := fs.String("delimiter", ",", "CSV: the field separator, one character, e.g. ';' or '\\t'")
	by := fs.String("by", "day", "summary as CSV: the table, by day, method, status, currency or project")
	fs.Var(&r.from, "from", "created at or after (in data_api.tz)")
	fs.Var(&r.to, "to", "created before (in data_api.tz)")
	fs.Var(&projects, "project", "project id(s)")
	fs.Var(&methods, "method", "payment method(s), e.g. advcash")
	fs.Var(&statuses, "status", "operation or payment status(es)")
	fs.Var(&types, "type", "operation or payment type(s)")
	fs.Var(&currencies, "currency", "currency code(s)")
	fs.Var(&results, "result", "reconciliation: result code(s), e.g. amount_mismatch")
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	// The request's checks (app.ExportRequest.Check), in their order, with
	// the command line's own (a workbook needs -o) after what and format.
	// The window is checked once its times are read. --by given is the
	// request's By ("" is its default); given empty, a By no table has, so
	// that it is refused as given (and said as typed).
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "by" {
			r.req.By = cmp.Or(*by, "''")
		}
	})
	r.req.Filter = export.Filter{Projects: projects.List, Methods: methods, Statuses: statuses, Types: types, Currencies: currencies}
	r.req.Results = results
	comma, badDelim := app.Delimiter(*delim)
	r.req.Delimiter = comma
	pending := r.req
	pending.From, pending.To = r.from.Given(time.Unix(1, 0)), r.to.Given(time.Unix(2, 0))
	err := pending.Check()
	if r.req.Format == "xlsx" && r.out == "" && !refusedField(err, "what") {
		return nil, cli.Usagef("--format xlsx needs -o FILE (a workbook is not for a terminal)")
	}
	if err == nil {
		err = badDelim
	}
	if err != nil {
		return nil, requestUsage(err, map[string]string{"by": *by})
	}
	return &r, nil
}

func (r *exportRequest) OutputFile() door.OutFile { return door.OutFile{Path: r.out} }

func (r *exportRequest) Run(ctx context.Context, e door.Env) error {
	cfg, err := e.Config()
	if err != nil {
		return err
	}
	if err := resolveWindow(cfg, &r.from, &r.to); err != nil {
		return err
	}
	req := r.req
	req.From, req.To = r.from.T, r.to.T
	if err := req.Check(); err != nil {
		return requestUsage(err, nil)
	}
	a, err := e.Open(cfg, true)
	if err != nil {
		return err
	}
	req.Progress = progress.New(e.Stderr(), "export")
	var notice string
	req.Notice = func(s string) { notice = s }
	n, err := door.WriteExport(ctx, e, r.out, func(w io.Writer) (int, error) { return a.Export(ctx, req, w) })
	if err != nil {
		return err
	}
	switch {
	case r.out != "" && notice != "":
		fmt.Fprintf(e.Stderr(), "export: %d %s rows written to %s, %s\n", n, req.What, r.out, notice)
	case r.out != "":
		fmt.Fprintf(e.Stderr(), "export: %d %s rows written to %s\n", n, req.What, r.out)
	case notice != "":
		fmt.Fprintf(e.Stderr(), "export: %d %s rows, %s\n", n, req.What, notice)
	}
	return nil
}
