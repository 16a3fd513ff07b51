package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"reconciled/internal/app"
	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/progress"
)

// exportRequest is an export's command line.
type exportRequest struct {
	req      app.ExportRequest // what, format, filters, results, by and the CSV's options
	from, to timeFlag          // the window, read in data_api.tz when the config is loaded
	out      string            // -o; "": standard output
}

func parseExport(f flagOut, args []string) (request, error) {
	fs := newFlagSet(f, "export", "--what operations|reconciliation|summary|audit --format csv|xlsx [-o FILE] [filters]", `  reconciled export --what operations --format xlsx -o register.xlsx
  reconciled export --what operations --format csv --from 2026-11-01 --to 2026-11-02 --method advcash
  reconciled export --what reconciliation --format csv --result amount_mismatch --result status_mismatch
  reconciled export --what summary --format xlsx --from 2026-11-01 -o november.xlsx
  reconciled export --what summary --format csv --by method
  reconciled export --what audit --format csv -o audit.csv
  reconciled export --what operations --format csv --bom --delimiter ';' -o for-excel.csv
`)
	var r exportRequest
	var projects int64ListFlag
	var methods, statuses, types, currencies, results listFlag
	fs.StringVar(&r.req.What, "what", "operations", "operations (the payment register), reconciliation, summary (the analytics) or audit (the resolutions' trail)")
	fs.StringVar(&r.req.Format, "format", "csv", "csv or xlsx")
	fs.StringVar(&r.out, "o", "", "output file; written whole or not at all (CSV may go to standard output)")
	fs.BoolVar(&r.req.BOM, "bom", false, "CSV: start with a UTF-8 byte order mark (for Excel)")
	delim := fs.String("delimiter", ",", "CSV: the field separator, one character, e.g. ';' or '\\t'")
	fs.StringVar(&r.req.By, "by", "day", "summary as CSV: the table, by day, method, status, currency or project")
	fs.Var(&r.from, "from", "created at or after (in data_api.tz)")
	fs.Var(&r.to, "to", "created before (in data_api.tz)")
	fs.Var(&projects, "project", "project id(s)")
	fs.Var(&methods, "method", "payment method(s), e.g. advcash")
	fs.Var(&statuses, "status", "operation or payment status(es)")
	fs.Var(&types, "type", "operation or payment type(s)")
	fs.Var(&currencies, "currency", "currency code(s)")
	fs.Var(&results, "result", "reconciliation: result code(s), e.g. amount_mismatch")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	what, format := r.req.What, r.req.Format
	if !slices.Contains([]string{"operations", "reconciliation", "summary", "audit"}, what) {
		return nil, usagef("--what %q: use operations, reconciliation, summary or audit", what)
	}
	if format != "csv" && format != "xlsx" {
		return nil, usagef("--format %q: use csv or xlsx", format)
	}
	if format == "xlsx" && r.out == "" {
		return nil, usagef("--format xlsx needs -o FILE (a workbook is not for a terminal)")
	}
	if format == "xlsx" && what == "audit" {
		return nil, usagef("the audit trail exports as csv")
	}
	if what == "audit" {
		var set []string
		fs.Visit(func(fl *flag.Flag) {
			if slices.Contains([]string{"from", "to", "project", "method", "status", "type", "currency", "result", "by"}, fl.Name) {
				set = append(set, "--"+fl.Name)
			}
		})
		if len(set) > 0 {
			return nil, usagef("--what audit exports the whole trail: it takes no %s", strings.Join(set, ", "))
		}
	}
	if !slices.Contains(export.SummaryTables, r.req.By) {
		return nil, usagef("--by %q: use %s", r.req.By, strings.Join(export.SummaryTables, ", "))
	}
	for _, res := range results {
		if !slices.Contains(domain.Results, res) {
			return nil, usagef("--result %q: use one of %s", res, strings.Join(domain.Results, ", "))
		}
	}
	if len(results) > 0 && what != "reconciliation" {
		return nil, usagef("--result filters --what reconciliation, not %s", what)
	}
	comma := []rune(*delim)
	if *delim == `\t` {
		comma = []rune{'\t'}
	}
	if len(comma) != 1 || slices.Contains([]rune{'"', '\r', '\n'}, comma[0]) {
		return nil, usagef("--delimiter %q: give one character other than a quote or newline", *delim)
	}
	r.req.Delimiter = comma[0]
	r.req.Filter = export.Filter{Projects: projects, Methods: methods, Statuses: statuses, Types: types, Currencies: currencies}
	r.req.Results = results
	return &r, nil
}

func (r *exportRequest) outputFile() outFile { return outFile{path: r.out} }

func (r *exportRequest) run(ctx context.Context, e env) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if err := resolveWindow(cfg, &r.from, &r.to); err != nil {
		return err
	}
	if !r.from.t.IsZero() && !r.to.t.IsZero() && !r.to.t.After(r.from.t) {
		return usagef("--to must be after --from")
	}
	a, err := e.open(cfg, true)
	if err != nil {
		return err
	}
	req := r.req
	req.From, req.To, req.Progress = r.from.t, r.to.t, progress.New(e.stderr(), "export")
	n, err := writeExport(ctx, e, r.out, func(w io.Writer) (int, error) { return a.Export(ctx, req, w) })
	if err != nil {
		return err
	}
	if r.out != "" {
		fmt.Fprintf(e.stderr(), "export: %d %s rows written to %s\n", n, req.What, r.out)
	}
	return nil
}
