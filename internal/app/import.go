package app

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
	"runtime/debug"
	"strings"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/records"
)

// ImportRequest says which file of the merchant's books to import.
type ImportRequest struct {
	Path string // the file to read
	// Name is the file as the person named it, where that is not Path (the
	// daemon's copy of a file sent over the control socket): the errors and
	// the log name it, never Path; "" is Path.
	Name   string
	Source string // the book the file belongs to (records.DefaultSource; SourceName)
	Sheet  string // XLSX: the sheet to read; "" is the first
	User   string // who imports it, for the list of imports
	// Steps, if set, is told each step as a line ("reading orders.csv…",
	// "storing 1200 records…"): a front door on a terminal shows them.
	Steps func(string)
}

// MaxSourceBytes bounds a source's name: the ledger's record keys give it
// a length byte.
const MaxSourceBytes = 100

// SourceName is the name of a source as it is stored and shown: without
// control characters (an escape sequence in one would run on the terminal
// of whoever lists imports), of 1 to MaxSourceBytes bytes, else refused (a
// *RequestError).
func SourceName(source string) (string, error) {
	name := domain.CleanName(source)
	if name == "" || len(name) > MaxSourceBytes {
		return "", refuse("source", source, fmt.Sprintf("import: {source} {%%q}: give a name of 1 to %d bytes of printable characters", MaxSourceBytes))
	}
	return name, nil
}

// Check refuses an import whose source has no name to store (SourceName).
func (r ImportRequest) Check() error {
	_, err := SourceName(r.Source)
	return err
}

// Shown is the file's name as errors and lines show it.
func (r ImportRequest) Shown() string { return domain.CleanName(cmp.Or(r.Name, r.Path)) }

// readFile is a file of books read and checked, not yet stored: its
// records encoded as the ledger stores them (records.Stream into a
// ledger.RecordSet), never a slice of them besides.
type readFile struct {
	req    ImportRequest
	sha256 string
	File   *records.Result
	set    *ledger.RecordSet
}

// ImportResult is what an import read and what it changed.
type ImportResult struct {
	File  *records.Result // its format, encoding, separator and lines (Records is nil)
	Stats ledger.ImportStats
}

// Import reads and checks the file req names, as cfg's [records] and
// [limits] say, then stores its records in the ledger of the App open
// returns, all or nothing: a command reads the file before it opens (or
// creates, or waits for) the database, so a file that does not read
// touches no database. With req.Name, no error names req.Path. A request
// that makes no sense (req.Check) reads nothing.
func Import(ctx context.Context, cfg *config.Config, req ImportRequest, open func() (*App, error)) (ImportResult, error) {
	if err := req.Check(); err != nil {
		return ImportResult{}, err
	}
	res, err := importFile(ctx, cfg, req, open)
	if err != nil && req.Name != "" {
		err = &renamedError{text: strings.ReplaceAll(err.Error(), req.Path, req.Shown()), err: err}
	}
	return res, err
}

// Import is Import into a's ledger.
func (a *App) Import(ctx context.Context, req ImportRequest) (ImportResult, error) {
	return Import(ctx, a.Config, req, func() (*App, error) { return a, nil })
}

func importFile(ctx context.Context, cfg *config.Config, req ImportRequest, open func() (*App, error)) (ImportResult, error) {
	step := func(format string, args ...any) {
		if req.Steps != nil {
			req.Steps(fmt.Sprintf(format, args...))
		}
	}
	step("reading %s…", req.Shown())
	f, err := readImport(ctx, cfg, req)
	if err != nil {
		return ImportResult{}, err
	}
	// Opening a database for writing reads all of it through the memory
	// map (bbolt rebuilds its free list), a moment when the process holds
	// the file besides the records read: give a large file's garbage back
	// to the system first, or it stays resident under the map.
	if f.set.Len() >= 1<<16 {
		debug.FreeOSMemory()
	}
	a, err := open()
	if err != nil {
		return ImportResult{}, err
	}
	step("storing %d records…", f.set.Len())
	return a.storeImport(ctx, f)
}

// renamedError is err with a file's name in its text changed; errors.Is
// and errors.As see err.
type renamedError struct {
	text string
	err  error
}

func (e *renamedError) Error() string { return e.text }
func (e *renamedError) Unwrap() error { return e.err }

// readImport reads and checks the file req names and stores nothing.
func readImport(ctx context.Context, cfg *config.Config, req ImportRequest) (*readFile, error) {
	set := ledger.NewRecordSet()
	res, err := records.Stream(ctx, req.Path, records.Options{
		Source: req.Source, Columns: cfg.Records.Columns, Statuses: cfg.Records.Statuses, Types: cfg.Records.Types,
		AmountUnit: cfg.Records.AmountUnit, Location: cfg.RecordsZone(), Sheet: req.Sheet,
		MaxBytes: cfg.Limits.MaxImportBytes, MaxUnzippedBytes: cfg.Limits.MaxUnzippedBytes,
	}, set.NewBatch, set.Append)
	var fe *records.FileError
	var le *records.LimitError
	switch {
	case errors.As(err, &fe) && req.Name != "":
		fe.Path = req.Name
	case errors.As(err, &le) && req.Name != "":
		le.Path = req.Name
	}
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	sum, err := fileHash(req.Path)
	if err != nil {
		return nil, err
	}
	return &readFile{req: req, sha256: sum, File: res, set: set}, nil
}

// storeImport stores the records of f in one transaction, with the import
// in the list of imports, and logs it.
func (a *App) storeImport(ctx context.Context, f *readFile) (ImportResult, error) {
	req, res := f.req, f.File
	source := domain.CleanName(req.Source)
	meta := ledger.Import{At: a.Now().UTC(), User: req.User, File: domain.CleanName(filepath.Base(req.Path)), SHA256: f.sha256, Source: source,
		Format: res.Format, Encoding: res.Encoding, Lines: res.Lines}
	if res.Separator != 0 {
		meta.Separator = string(res.Separator)
	}
	stats, err := a.Ledger.ImportRecordSet(ctx, f.set, meta, a.Now())
	if err != nil {
		return ImportResult{Stats: stats}, err
	}
	a.Logger.Info("import done", "file", req.Shown(), "source", source, "lines", res.Lines, "new", stats.New, "updated", stats.Updated,
		"unchanged", stats.Unchanged, "removed", stats.Removed)
	return ImportResult{File: res, Stats: stats}, nil
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
