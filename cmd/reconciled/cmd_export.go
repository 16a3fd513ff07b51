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
	"reconciled/internal/ledger"
)

// exportFlags are the flags of export (and, in part, stats).
type exportFlags struct {
	what, format, out, delim, by *string
	bom                          *bool
	from, to                     timeFlag
	projects                     int64ListFlag
	methods, statuses, types     listFlag
	currencies, results          listFlag
}

func (m *Main) runExport(ctx context.Context, args []string) error {
	fs := m.newFlagSet("export", "--what operations|reconciliation|summary|audit --format csv|xlsx [-o FILE] [filters]", `  reconciled export --what operations --format xlsx -o register.xlsx
  reconciled export --what operations --format csv --from 2026-11-01 --to 2026-11-02 --method advcash
  reconciled export --what reconciliation --format csv --result amount_mismatch --result status_mismatch
  reconciled export --what summary --format xlsx --from 2026-11-01 -o november.xlsx
  reconciled export --what summary --format csv --by method
  reconciled export --what audit --format csv -o audit.csv
  reconciled export --what operations --format csv --bom --delimiter ';' -o for-excel.csv
`)
	var f exportFlags
	f.what = fs.String("what", "operations", "operations (the payment register), reconciliation, summary (the analytics) or audit (the resolutions' trail)")
	f.format = fs.String("format", "csv", "csv or xlsx")
	f.out = fs.String("o", "", "output file; written whole or not at all (CSV may go to standard output)")
	f.bom = fs.Bool("bom", false, "CSV: start with a UTF-8 byte order mark (for Excel)")
	f.delim = fs.String("delimiter", ",", "CSV: the field separator, one character, e.g. ';' or '\\t'")
	f.by = fs.String("by", "day", "summary as CSV: the table, by day, method, status, currency or project")
	fs.Var(&f.from, "from", "created at or after (in data_api.tz)")
	fs.Var(&f.to, "to", "created before (in data_api.tz)")
	fs.Var(&f.projects, "project", "project id(s)")
	fs.Var(&f.methods, "method", "payment method(s), e.g. advcash")
	fs.Var(&f.statuses, "status", "operation or payment status(es)")
	fs.Var(&f.types, "type", "operation or payment type(s)")
	fs.Var(&f.currencies, "currency", "currency code(s)")
	fs.Var(&f.results, "result", "reconciliation: result code(s), e.g. amount_mismatch")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !slices.Contains([]string{"operations", "reconciliation", "summary", "audit"}, *f.what) {
		return usagef("--what %q: use operations, reconciliation, summary or audit", *f.what)
	}
	if *f.format != "csv" && *f.format != "xlsx" {
		return usagef("--format %q: use csv or xlsx", *f.format)
	}
	if *f.format == "xlsx" && *f.out == "" {
		return usagef("--format xlsx needs -o FILE (a workbook is not for a terminal)")
	}
	if *f.format == "xlsx" && *f.what == "audit" {
		return usagef("the audit trail exports as csv")
	}
	if *f.what == "audit" {
		var set []string
		fs.Visit(func(fl *flag.Flag) {
			if slices.Contains([]string{"from", "to", "project", "method", "status", "type", "currency", "result", "by"}, fl.Name) {
				set = append(set, "--"+fl.Name)
			}
		})
		if len(set) > 0 {
			return usagef("--what audit exports the whole trail: it takes no %s", strings.Join(set, ", "))
		}
	}
	if !slices.Contains(export.SummaryTables, *f.by) {
		return usagef("--by %q: use %s", *f.by, strings.Join(export.SummaryTables, ", "))
	}
	for _, r := range f.results {
		if !slices.Contains(domain.Results, r) {
			return usagef("--result %q: use one of %s", r, strings.Join(domain.Results, ", "))
		}
	}
	if len(f.results) > 0 && *f.what != "reconciliation" {
		return usagef("--result filters --what reconciliation, not %s", *f.what)
	}
	comma := []rune(*f.delim)
	if *f.delim == `\t` {
		comma = []rune{'\t'}
	}
	if len(comma) != 1 || slices.Contains([]rune{'"', '\r', '\n'}, comma[0]) {
		return usagef("--delimiter %q: give one character other than a quote or newline", *f.delim)
	}
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	if err := resolveWindow(cfg, &f.from, &f.to); err != nil {
		return err
	}
	if !f.from.t.IsZero() && !f.to.t.IsZero() && !f.to.t.After(f.from.t) {
		return usagef("--to must be after --from")
	}
	l, err := m.openLedger(cfg, true)
	if err != nil {
		return err
	}
	defer l.Close()
	p := m.newProgress("export", m.operationCount(l))
	defer p.done()
	req := app.ExportRequest{What: *f.what, Format: *f.format, From: f.from.t, To: f.to.t,
		Filter:  export.Filter{Projects: f.projects, Methods: f.methods, Statuses: f.statuses, Types: f.types, Currencies: f.currencies},
		Results: f.results, By: *f.by, Delimiter: comma[0], BOM: *f.bom, Seen: func() { p.add(1) }}
	a := m.app(cfg, l)
	n, err := m.writeExport(ctx, *f.out, func(w io.Writer) (int, error) { return a.Export(ctx, req, w) })
	if err != nil {
		return err
	}
	p.done()
	if *f.out != "" {
		fmt.Fprintf(m.Stderr, "export: %d %s rows written to %s\n", n, *f.what, *f.out)
	}
	return nil
}

// operationCount is how many operations are stored, for progress.
func (m *Main) operationCount(l *ledger.Ledger) int64 {
	counts, err := l.Counts()
	if err != nil {
		return -1
	}
	var n int64
	for _, c := range counts {
		n += c.Operations
	}
	return n
}

// writeExport writes to path atomically, or to standard output. Once ctx
// is done (Ctrl-C, SIGTERM) every write fails, whatever stage the writer
// is in (an XLSX export writes its archive after the last row), so an
// interrupted export leaves no file.
func (m *Main) writeExport(ctx context.Context, path string, write func(io.Writer) (int, error)) (int, error) {
	var n int
	w := func(out io.Writer) error {
		var err error
		n, err = write(app.StopWriter(ctx, out))
		return err
	}
	if path == "" {
		return n, w(m.Stdout)
	}
	if m.outputSink != nil { // through the control socket: the client writes the file
		return n, export.NameTemporary(w(m.outputSink), path)
	}
	if m.remote {
		return n, errRemotePath
	}
	if err := m.writeOutput(path, false, w); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}
