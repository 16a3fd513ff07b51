package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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
	res, stats, err := m.importFile(ctx, cfg, nil, file, src, *sheet)
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
		file, describeFormat(res), res.Lines, stats.New, stats.Updated, stats.Unchanged, stats.Removed)
	return nil
}

// importFile reads a records file and stores it; l may be nil (then the
// config's database is opened).
func (m *Main) importFile(ctx context.Context, cfg *config.Config, l *ledger.Ledger, file, source, sheet string) (*records.Result, ledger.ImportStats, error) {
	loc := cfg.RecordsZone()
	if m.stderrIsTerminal() {
		fmt.Fprintf(m.Stderr, "reading %s…\n", domain.CleanName(file))
	}
	res, err := records.ReadFile(file, records.Options{
		Source: source, Columns: cfg.Records.Columns, Statuses: cfg.Records.Statuses, Types: cfg.Records.Types,
		AmountUnit: cfg.Records.AmountUnit, Location: loc, Sheet: sheet,
		MaxBytes: cfg.Limits.MaxImportBytes, MaxUnzippedBytes: cfg.Limits.MaxUnzippedBytes,
	})
	var fe *records.FileError
	var le *records.LimitError
	switch {
	case errors.As(err, &fe) && m.inputName != "": // through the control socket: name the file as the person did
		fe.Path = m.inputName
	case errors.As(err, &le) && m.inputName != "":
		le.Path = m.inputName
	}
	if err != nil {
		return nil, ledger.ImportStats{}, fmt.Errorf("import: %w", err)
	}
	sum, err := fileHash(file)
	if err != nil {
		return nil, ledger.ImportStats{}, err
	}
	if l == nil {
		if l, err = m.openLedger(cfg, false); err != nil {
			return nil, ledger.ImportStats{}, err
		}
		defer l.Close()
	}
	if m.stderrIsTerminal() {
		fmt.Fprintf(m.Stderr, "storing %d records…\n", len(res.Records))
	}
	source = domain.CleanName(source)
	meta := ledger.Import{At: m.Now().UTC(), User: m.user(), File: domain.CleanName(filepath.Base(file)), SHA256: sum, Source: source,
		Format: res.Format, Encoding: res.Encoding, Lines: res.Lines}
	if res.Separator != 0 {
		meta.Separator = string(res.Separator)
	}
	stats, err := l.ImportRecords(res.Records, meta, m.Now())
	if err != nil {
		return nil, stats, err
	}
	m.log().Info("import done", "file", domain.CleanName(cmp.Or(m.inputName, file)), "source", source, "lines", res.Lines, "new", stats.New, "updated", stats.Updated,
		"unchanged", stats.Unchanged, "removed", stats.Removed)
	return res, stats, nil
}

func describeFormat(r *records.Result) string {
	if r.Format != "csv" {
		return r.Format
	}
	sep := map[rune]string{',': "','", ';': "';'", '\t': "tab"}[r.Separator]
	return fmt.Sprintf("csv, %s, %s", r.Encoding, sep)
}

func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// renamedError is err with a file's name in its text changed; errors.Is
// and errors.As see err.
type renamedError struct {
	text string
	err  error
}

func (e *renamedError) Error() string { return e.text }
func (e *renamedError) Unwrap() error { return e.err }
