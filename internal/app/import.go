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

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/records"
)

// ImportRequest says which file of the merchant's books to import.
type ImportRequest struct {
	Path string // the file to read
	// Name is the file as the person named it, where that is not Path (the
	// daemon's copy of a file sent over the control socket): the errors of
	// its content (a line, a limit) and the log name it; "" is Path. The
	// front door renames Path in any other error's text.
	Name   string
	Source string // the book the file belongs to (records.DefaultSource); the front door checks it
	Sheet  string // XLSX: the sheet to read; "" is the first
	User   string // who imports it, for the list of imports
}

// ImportFile is a file of books read and checked, not yet stored.
type ImportFile struct {
	req     ImportRequest
	sha256  string
	Records *records.Result
}

// ImportResult is what an import read and what it changed.
type ImportResult struct {
	File  *records.Result // its format, encoding, separator, lines and records
	Stats ledger.ImportStats
}

// Import reads the file req names and stores its records, all or nothing.
func (a *App) Import(ctx context.Context, req ImportRequest) (ImportResult, error) {
	f, err := ReadImport(a.Config, req)
	if err != nil {
		return ImportResult{}, err
	}
	return a.StoreImport(ctx, f)
}

// ReadImport reads and checks the file req names, as cfg's [records] and
// [limits] say, and stores nothing: a command reads the file before it
// opens (or creates, or waits for) the database, so a file that does not
// read touches no database.
func ReadImport(cfg *config.Config, req ImportRequest) (*ImportFile, error) {
	res, err := records.ReadFile(req.Path, records.Options{
		Source: req.Source, Columns: cfg.Records.Columns, Statuses: cfg.Records.Statuses, Types: cfg.Records.Types,
		AmountUnit: cfg.Records.AmountUnit, Location: cfg.RecordsZone(), Sheet: req.Sheet,
		MaxBytes: cfg.Limits.MaxImportBytes, MaxUnzippedBytes: cfg.Limits.MaxUnzippedBytes,
	})
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
	return &ImportFile{req: req, sha256: sum, Records: res}, nil
}

// StoreImport stores the records of f in one transaction, with the import
// in the list of imports, and logs it.
func (a *App) StoreImport(ctx context.Context, f *ImportFile) (ImportResult, error) {
	req, res := f.req, f.Records
	source := domain.CleanName(req.Source)
	meta := ledger.Import{At: a.Now().UTC(), User: req.User, File: domain.CleanName(filepath.Base(req.Path)), SHA256: f.sha256, Source: source,
		Format: res.Format, Encoding: res.Encoding, Lines: res.Lines}
	if res.Separator != 0 {
		meta.Separator = string(res.Separator)
	}
	stats, err := a.Ledger.ImportRecords(res.Records, meta, a.Now())
	if err != nil {
		return ImportResult{Stats: stats}, err
	}
	a.Logger.Info("import done", "file", domain.CleanName(cmp.Or(req.Name, req.Path)), "source", source, "lines", res.Lines, "new", stats.New, "updated", stats.Updated,
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
