package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/control"
	"reconciled/internal/daemon"
	"reconciled/internal/export"
)

// Output files. Every file a person names (export -o, report -o, backup's
// FILE, here or on the client's side of the control socket) is written
// through export.Target (the here env's output, and forward), as the
// scheduled jobs' files are by internal/app: a regular file or a new one
// (a symbolic link is written through to the file it names), never a
// device, pipe, socket or folder, and never the database or the config
// file under any name (compared by device and inode: the database opened
// by this command and the config it read, and, through the socket, the
// daemon's database, which the daemon tells the client). A refusal is bad
// usage (exit 2) and names the path as it was given.

const (
	databaseWhat       = daemon.DatabaseWhat // the daemon tells clients this file
	daemonDatabaseWhat = "the running daemon's database"
	configWhat         = "the config file"
)

// protectDatabase remembers the database at path as a file no output of
// this command may replace. Called when the database is opened, so that
// the file protected is the one open even if the path is replaced later.
// A database that cannot be looked at (no access to its folder) cannot be
// written through that path either; the daemon guards its own.
func (m *Main) protectDatabase(path string) { m.protectFile(path, databaseWhat) }

// protectFile remembers the file at path, what it is for a person, as one
// no output of this command may replace.
func (m *Main) protectFile(path, what string) {
	if p, ok, err := export.ProtectFile(path, what); err == nil && ok {
		m.protect = append(m.protect, p)
	}
}

// target is the file at path as this command writes it: private files
// (backups) are 0600 whatever the file they replace allowed.
func (m *Main) target(path string, private bool) *export.Target {
	return &export.Target{Path: path, Private: private, Protect: slices.Clone(m.protect)}
}

// writeExport writes an export (or a report) through write to path, or to
// standard output without one. Once ctx is done (Ctrl-C, SIGTERM, the
// client gone) every write fails, whatever stage the writer is in (an XLSX
// export writes its archive after the last row), so an interrupted export
// leaves no file.
func writeExport(ctx context.Context, e env, path string, write func(io.Writer) (int, error)) (int, error) {
	var n int
	w := func(out io.Writer) error {
		var err error
		n, err = write(app.StopWriter(ctx, out))
		return err
	}
	if path == "" {
		return n, w(e.stdout())
	}
	if _, err := e.output(outFile{path: path}, w); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}

// asUsage makes a refused output file bad usage (exit 2).
func asUsage(err error) error {
	var te *export.TargetError
	if errors.As(err, &te) {
		return &cli.UsageError{Msg: err.Error()}
	}
	return err
}

// guardedOutput is the client's output file through the control socket:
// the daemon's database, which it tells first, is one more file the
// target must not be.
type guardedOutput struct {
	io.Writer
	t *export.Target
}

func (g guardedOutput) Database(id control.FileID) error {
	g.t.Protect = append(g.t.Protect, export.Protected{ID: export.FileID(id), What: daemonDatabaseWhat})
	_, err := g.t.Check()
	return err
}
