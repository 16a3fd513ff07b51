// Package door is where a parsed command runs: here, in the process that
// read its command line, or inside the daemon, for a command that came
// through the control socket. A front door (package main's command table)
// parses a command line into a Request and hands it an Env; the request
// calls its env (Config, Open, User, Input, Output, the streams) and never
// asks which one it has.
//
// The two envs are Here (the command loads the config, opens the
// database, reads and writes the person's files, and the user is the OS
// user) and InDaemon (the daemon's App, the client's streams, the file the
// client sent, the output streamed back to the client, the user the
// socket's peer credentials name). The socket's two ends are here too:
// Client.Forward sends a parsed command to the daemon if one answers, and
// Serve runs what came through the socket through the same command table,
// which the front door hands it (Lookup). Neither knows a command of ours,
// its flags or its words; rendering an error as an exit status stays the
// front door's (Client.ExitCode, and what it does with Serve's error).
//
// Output files. Every file a person names (export -o, report -o, backup's
// FILE, here or on the client's side of the control socket) is written
// through export.Target (Here.Output, Client.Forward), as the scheduled
// jobs' files are by internal/app: a regular file or a new one (a symbolic
// link is written through to the file it names), never a device, pipe,
// socket or folder, and never the database or the config file under any
// name (compared by device and inode: the database opened by this command
// and the config it read, and, through the socket, the daemon's database,
// which the daemon tells the client). A refusal is bad usage (a
// *cli.UsageError: exit 2) and names the path as it was given.
package door

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/config"
	"reconciled/internal/control"
	"reconciled/internal/export"
)

// Env is where a command runs, chosen once by the front door: Here or
// InDaemon.
type Env interface {
	Stdout() io.Writer
	Stderr() io.Writer
	Now() time.Time
	// Config is the config the command runs on. It has no credential
	// resolved here: a command asks cfg.WithSecrets for what its work uses.
	Config() (*config.Config, error)
	// Open is the App on cfg (Config's, or one cfg.WithSecrets made of it)
	// and its database, read-only or not. What it opened is closed when the
	// command ends.
	Open(cfg *config.Config, readOnly bool) (*app.App, error)
	// User names who runs the command, for the audit trail.
	User() string
	// Input is the file the command reads, as its command line named it:
	// where to read it, and the name to show ("": path).
	Input(file string) (path, name string)
	// Output writes the file f through write: here atomically, through
	// export.Target (never the database or the config; checked by f.Verify
	// before it replaces anything); in the daemon into the stream the
	// client writes the file from, and checks. verified says f.Verify ran.
	Output(f OutFile, write func(io.Writer) error) (verified bool, err error)
}

// Request is a command line parsed and checked: it runs on an Env, here or
// inside the daemon, and never asks which.
type Request interface {
	Run(ctx context.Context, e Env) error
}

// InputFile is a request that reads a file the person names (import's
// FILE): through the socket the client sends it, and the daemon reads only
// the copy it was sent.
type InputFile interface {
	// InputFile is the file and its index among the command's arguments.
	InputFile() (file string, arg int)
}

// OutputFile is a request that writes a file the person names (-o,
// backup's FILE): through the socket the daemon streams it back, and the
// client writes it.
type OutputFile interface {
	OutputFile() OutFile // Path "": none (an export to standard output)
}

// OutFile is a file a command writes.
type OutFile struct {
	Path    string
	Private bool                   // 0600 whatever the file it replaces allowed (a backup)
	Verify  func(tmp string) error // if set, checks the written file before it replaces anything
}

// OutputOf is the file req writes, if any.
func OutputOf(req Request) OutFile {
	if out, ok := req.(OutputFile); ok {
		return out.OutputFile()
	}
	return OutFile{}
}

// OpenApp is the App on e's config and database.
func OpenApp(e Env, readOnly bool) (*app.App, error) {
	cfg, err := e.Config()
	if err != nil {
		return nil, err
	}
	return e.Open(cfg, readOnly)
}

// WriteExport writes an export (or a report) through write to path, or to
// standard output without one. Once ctx is done (Ctrl-C, SIGTERM, the
// client gone) every write fails, whatever stage the writer is in (an XLSX
// export writes its archive after the last row), so an interrupted export
// leaves no file.
func WriteExport(ctx context.Context, e Env, path string, write func(io.Writer) (int, error)) (int, error) {
	var n int
	w := func(out io.Writer) error {
		var err error
		n, err = write(app.StopWriter(ctx, out))
		return err
	}
	if path == "" {
		return n, w(e.Stdout())
	}
	if _, err := e.Output(OutFile{Path: path}, w); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}

// How a refusal names the databases no output may replace: the one this
// process opened (the name the daemon looks its entry up by, to tell
// clients), and the one the daemon tells a client through the socket.
const (
	DatabaseWhat       = export.DatabaseWhat
	DaemonDatabaseWhat = "the running daemon's database"
)

// Protect adds the file at path, what it is for a person, to list: no
// output of this process may replace it. The database is added when it is
// opened, so that the file protected is the one open even if the path is
// replaced later. A file that cannot be looked at (no access to its
// folder) cannot be written through that path either; the daemon guards
// its own.
func Protect(list *[]export.Protected, path, what string) {
	if p, ok, err := export.ProtectFile(path, what); err == nil && ok {
		*list = append(*list, p)
	}
}

// target is the file at path as a command writes it, never one of
// protect: private files (backups) are 0600 whatever the file they
// replace allowed.
func target(path string, private bool, protect []export.Protected) *export.Target {
	return &export.Target{Path: path, Private: private, Protect: slices.Clone(protect)}
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
	g.t.Protect = append(g.t.Protect, export.Protected{ID: export.FileID(id), What: DaemonDatabaseWhat})
	_, err := g.t.Check()
	return err
}
