package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/records"
)

// maxSourceBytes bounds --source: the ledger's record keys give it a
// length byte.
const maxSourceBytes = 100

func (m *Main) runImport(ctx context.Context, args []string) error {
	fs := m.newFlagSet("import", "FILE [--source NAME] [--sheet NAME]", `  reconciled import orders-2026-11.csv
  reconciled import payouts.xlsx --sheet Payouts --source payouts
`)
	source := fs.String("source", records.DefaultSource, "the book the file belongs to: a later file of the same source replaces the lines it repeats")
	sheet := fs.String("sheet", "", "XLSX: the sheet to read (default: the first)")
	// The file comes first, flags after it, as the usage shows; the flag
	// package stops at the first argument, so take it out.
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if file == "" {
		return usagef("import: give the file: reconciled import FILE")
	}
	// Names are stored and shown without control characters (an escape
	// sequence in one would run on the terminal of whoever lists imports).
	src := domain.CleanName(*source)
	if src == "" || len(src) > maxSourceBytes {
		return usagef("import: --source %q: give a name of 1 to %d bytes of printable characters", *source, maxSourceBytes)
	}
	if m.remote && (m.inputPath == "" || file != m.inputPath) {
		return errRemotePath // the daemon reads only the file the client sent
	}
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	res, err := m.importFile(ctx, cfg, nil, app.ImportRequest{Path: file, Name: m.inputName, Source: src, Sheet: *sheet, User: m.user()})
	file = domain.CleanName(cmp.Or(m.inputName, file))
	if err != nil && m.inputPath != "" && m.inputName != "" {
		// Through the control socket: whatever the error, it names the
		// file as the person gave it, not the daemon's private copy.
		err = &renamedError{text: strings.ReplaceAll(err.Error(), m.inputPath, file), err: err}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "import: %s (%s): %d lines: %d new, %d updated, %d unchanged, %d removed\n",
		file, app.DescribeFormat(res.File), res.File.Lines, res.Stats.New, res.Stats.Updated, res.Stats.Unchanged, res.Stats.Removed)
	return nil
}

// importFile imports req, saying what it does on a terminal. l may be nil:
// then the config's database is opened once the file has been read.
func (m *Main) importFile(ctx context.Context, cfg *config.Config, l *ledger.Ledger, req app.ImportRequest) (app.ImportResult, error) {
	if m.stderrIsTerminal() {
		fmt.Fprintf(m.Stderr, "reading %s…\n", domain.CleanName(req.Path))
	}
	f, err := app.ReadImport(cfg, req)
	if err != nil {
		return app.ImportResult{}, err
	}
	if l == nil {
		if l, err = m.openLedger(cfg, false); err != nil {
			return app.ImportResult{}, err
		}
		defer l.Close()
	}
	if m.stderrIsTerminal() {
		fmt.Fprintf(m.Stderr, "storing %d records…\n", len(f.Records.Records))
	}
	return m.app(cfg, l).StoreImport(ctx, f)
}

// renamedError is err with a file's name in its text changed; errors.Is
// and errors.As see err.
type renamedError struct {
	text string
	err  error
}

func (e *renamedError) Error() string { return e.text }
func (e *renamedError) Unwrap() error { return e.err }
