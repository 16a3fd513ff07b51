package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
)

func (m *Main) runExport(ctx context.Context, args []string) error {
	fs := m.newFlagSet("export", "--what operations|reconciliation|audit --format csv [-o FILE] [filters]", `  reconciled export --what operations --format csv -o register.csv
  reconciled export --what operations --format csv --from 2026-11-01 --to 2026-11-02 --method advcash
  reconciled export --what reconciliation --format csv --result amount_mismatch --result status_mismatch
  reconciled export --what audit --format csv -o audit.csv
  reconciled export --what operations --format csv --bom --delimiter ';' -o for-excel.csv
`)
	what := fs.String("what", "operations", "what to export: operations, reconciliation or audit (the resolutions' trail)")
	format := fs.String("format", "csv", "file format: csv")
	out := fs.String("o", "", "output file (default: standard output); written whole or not at all")
	bom := fs.Bool("bom", false, "start the CSV with a UTF-8 byte order mark (for Excel)")
	delim := fs.String("delimiter", ",", "CSV field separator: one character, e.g. ';' or '\\t'")
	var from, to timeFlag
	var projects int64ListFlag
	var methods, statuses, types, currencies, results listFlag
	fs.Var(&from, "from", "operations created at or after (in data_api.tz)")
	fs.Var(&to, "to", "operations created before (in data_api.tz)")
	fs.Var(&projects, "project", "project id(s)")
	fs.Var(&methods, "method", "payment method(s), e.g. advcash")
	fs.Var(&statuses, "status", "operation or payment status(es)")
	fs.Var(&types, "type", "operation or payment type(s)")
	fs.Var(&currencies, "currency", "currency code(s)")
	fs.Var(&results, "result", "reconciliation: result code(s), e.g. amount_mismatch")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !slices.Contains([]string{"operations", "reconciliation", "audit"}, *what) {
		return usagef("--what %q: use operations, reconciliation or audit", *what)
	}
	for _, r := range results {
		if !slices.Contains(domain.Results, r) {
			return usagef("--result %q: use one of %s", r, strings.Join(domain.Results, ", "))
		}
	}
	if *format != "csv" {
		return usagef("--format %q: this version writes csv only", *format)
	}
	comma := []rune(*delim)
	if *delim == `\t` {
		comma = []rune{'\t'}
	}
	if len(comma) != 1 || slices.Contains([]rune{'"', '\r', '\n'}, comma[0]) {
		return usagef("--delimiter %q: give one character other than a quote or newline", *delim)
	}
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	if err := resolveWindow(cfg, &from, &to); err != nil {
		return err
	}
	if !from.t.IsZero() && !to.t.IsZero() && !to.t.After(from.t) {
		return usagef("--to must be after --from")
	}
	loc, _ := time.LoadLocation(cfg.DataAPI.TZ) // validated with the config
	opts := export.CSVOptions{Delimiter: comma[0], BOM: *bom, Location: loc}
	l, err := m.openLedger(cfg, true)
	if err != nil {
		return err
	}
	defer l.Close()
	var n int
	switch *what {
	case "operations":
		filter := export.Filter{Projects: projects, Methods: methods, Statuses: statuses, Types: types, Currencies: currencies}
		n, err = m.exportOperations(ctx, l, *out, ledger.Range{From: from.t, To: to.t}, filter, opts)
		if err != nil {
			return err
		}
	case "reconciliation":
		// The engine runs on what is stored now, without asking the Data
		// API: the same data gives the same file.
		run, err := m.runReconcile(ctx, cfg, l, false)
		if err != nil {
			return err
		}
		f := export.ItemFilter{Results: results, Projects: projects, Methods: methods, Types: types, Statuses: statuses, Currencies: currencies, From: from.t, To: to.t}
		n, err = m.writeExport(*out, func(w io.Writer) (int, error) { return export.ReconciliationCSV(w, run.out.Items, f, opts) })
		if err != nil {
			return err
		}
	case "audit":
		events, err := l.Audit()
		if err != nil {
			return err
		}
		n, err = m.writeExport(*out, func(w io.Writer) (int, error) { return export.AuditCSV(w, events, opts) })
		if err != nil {
			return err
		}
	}
	if *out != "" {
		fmt.Fprintf(m.Stderr, "export: %d %s rows written to %s\n", n, *what, *out)
	}
	return nil
}

// writeExport writes to path atomically, or to standard output.
func (m *Main) writeExport(path string, write func(io.Writer) (int, error)) (int, error) {
	var n int
	w := func(out io.Writer) error {
		var err error
		n, err = write(out)
		return err
	}
	if path == "" {
		return n, w(m.Stdout)
	}
	if err := export.WriteFileAtomic(path, w); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}

// exportOperations writes the register to path (atomically) or, with no
// path, to standard output.
func (m *Main) exportOperations(ctx context.Context, l *ledger.Ledger, path string, r ledger.Range, f export.Filter, o export.CSVOptions) (int, error) {
	src := func(fn func(*domain.Operation) error) error { return l.ForEach(ctx, r, fn) }
	return m.writeExport(path, func(w io.Writer) (int, error) { return export.OperationsCSV(w, src, f, o) })
}
