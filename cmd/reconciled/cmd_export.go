package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
)

func (m *Main) runExport(ctx context.Context, args []string) error {
	fs := m.newFlagSet("export", "--what operations --format csv [-o FILE] [filters]", `  reconciled export --what operations --format csv -o register.csv
  reconciled export --what operations --format csv --from 2026-11-01 --to 2026-11-02 --method advcash
  reconciled export --what operations --format csv --bom --delimiter ';' -o for-excel.csv
`)
	what := fs.String("what", "operations", "what to export: operations")
	format := fs.String("format", "csv", "file format: csv")
	out := fs.String("o", "", "output file (default: standard output); written whole or not at all")
	bom := fs.Bool("bom", false, "start the CSV with a UTF-8 byte order mark (for Excel)")
	delim := fs.String("delimiter", ",", "CSV field separator: one character, e.g. ';' or '\\t'")
	var from, to timeFlag
	var projects int64ListFlag
	var methods, statuses, types, currencies listFlag
	fs.Var(&from, "from", "operations created at or after (in data_api.tz)")
	fs.Var(&to, "to", "operations created before (in data_api.tz)")
	fs.Var(&projects, "project", "project id(s)")
	fs.Var(&methods, "method", "payment method(s), e.g. advcash")
	fs.Var(&statuses, "status", "operation or payment status(es)")
	fs.Var(&types, "type", "operation or payment type(s)")
	fs.Var(&currencies, "currency", "currency code(s)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *what != "operations" {
		return usagef("--what %q: this version exports operations only", *what)
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
	l, err := m.openLedger(cfg, true)
	if err != nil {
		return err
	}
	defer l.Close()
	loc, _ := time.LoadLocation(cfg.DataAPI.TZ) // validated with the config
	filter := export.Filter{Projects: projects, Methods: methods, Statuses: statuses, Types: types, Currencies: currencies}
	n, err := m.exportOperations(ctx, l, *out, ledger.Range{From: from.t, To: to.t}, filter,
		export.CSVOptions{Delimiter: comma[0], BOM: *bom, Location: loc})
	if err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(m.Stderr, "export: %d operations written to %s\n", n, *out)
	}
	return nil
}

// exportOperations writes the register to path (atomically) or, with no
// path, to standard output.
func (m *Main) exportOperations(ctx context.Context, l *ledger.Ledger, path string, r ledger.Range, f export.Filter, o export.CSVOptions) (int, error) {
	src := func(fn func(*domain.Operation) error) error { return l.ForEach(ctx, r, fn) }
	var n int
	write := func(w io.Writer) error {
		var err error
		n, err = export.OperationsCSV(w, src, f, o)
		return err
	}
	if path == "" {
		return n, write(m.Stdout)
	}
	if err := export.WriteFileAtomic(path, write); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}
