package door

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"

	"reconciled/internal/cli"
	"reconciled/internal/config"
	"reconciled/internal/control"
	"reconciled/internal/export"
	"reconciled/internal/records"
)

// Client is the control socket's client: it runs a parsed command inside
// the daemon if one answers on cfg's socket, sending the file its request
// reads and writing the file it writes. It tells the daemon which database
// cfg names (storage.path: the file's device and inode, or none), and a
// daemon that holds another one runs nothing: configs naming different
// databases can share a socket (the default is beside the database), and
// a command must never run on another config's database. The refusal is
// bad usage (exit 2) and names the paths as cfg wrote them.
type Client struct {
	Stdout, Stderr io.Writer
	// Protect are the files no output of this process may replace (the
	// config it read); Forward adds the database of the config it is given.
	// Not nil.
	Protect *[]export.Protected
	// ExitCode explains err on Stderr and is the exit status it means:
	// the front door's rendering of its errors.
	ExitCode func(err error) int
}

var errCommandFailed = errors.New("the command failed")

// Forward runs the command name with args, which the front door parsed
// as req, in the daemon if one answers on cfg's control socket, and
// returns its exit status; ok is false when no daemon answers and the
// command is to run here.
func (c Client) Forward(ctx context.Context, cfg *config.Config, name string, args []string, req Request) (code int, ok bool) {
	conn, err := control.Dial(cfg.SocketPath())
	if errors.Is(err, control.ErrNoDaemon) {
		return 0, false
	}
	if err != nil {
		return c.ExitCode(fmt.Errorf("%w\n  (the daemon holds the database; ask for access to the socket's group, or stop the daemon)", err)), true
	}
	db, err := databaseFile(cfg.Storage.Path)
	if err != nil {
		conn.Close()
		return c.ExitCode(fmt.Errorf("the daemon on %s: cannot tell whether it holds %s (storage.path of %s): %w\n"+
			"  (a command runs in the daemon only on the database its config names, so it must be able to look at that file: ask for access to its folder, or stop the daemon)",
			cfg.SocketPath(), cfg.Storage.Path, cfg.File, err)), true
	}
	creq := control.Request{Args: append([]string{name}, args...), DatabaseFile: db}
	var input io.Reader
	if in, ok := req.(InputFile); ok {
		if file, arg := in.InputFile(); file != "" {
			max := cfg.Limits.MaxImportBytes
			f, err := control.OpenInput(file, max, func(p string) error { _, err := records.Check(p, max); return err })
			if err != nil {
				conn.Close()
				return c.ExitCode(fmt.Errorf("%s: %w", name, err)), true
			}
			defer f.Close()
			creq.Input, creq.InputArg, input = f.Name(), 1+arg, f
		}
	}
	out := OutputOf(req)
	if out.Path == "" {
		code, err := control.Run(ctx, conn, creq, input, c.Stdout, c.Stderr, nil)
		return c.code(cfg, code, err), true
	}
	creq.Output = true
	defer conn.Close() // when the target is refused before Run
	// The client writes the file, as the person: the checks are made here,
	// against this config's database and the daemon's own, which it tells
	// before the first byte (guardedOutput); the daemon cannot open the
	// client's copy, so a backup is checked here too.
	Protect(c.Protect, cfg.Storage.Path, DatabaseWhat)
	t := target(out.Path, out.Private, *c.Protect)
	if out.Verify != nil {
		t.Verify = func(tmp string) error {
			if err := out.Verify(tmp); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		}
	}
	err = asUsage(t.Write(func(w io.Writer) error {
		code, err = control.Run(ctx, conn, creq, input, c.Stdout, c.Stderr, guardedOutput{w, t})
		if err == nil && code != 0 {
			err = errCommandFailed
		}
		return err
	}))
	if errors.Is(err, errCommandFailed) {
		return code, true
	}
	if err != nil {
		return c.code(cfg, code, err), true
	}
	if out.Verify != nil {
		fmt.Fprintf(c.Stderr, "%s: %s checked\n", name, out.Path)
	}
	return 0, true
}

// code is the exit status of a command the daemon ran: its own, or that
// of the error that kept the client from hearing it, or of the daemon's
// refusal of cfg's database.
func (c Client) code(cfg *config.Config, code int, err error) int {
	var other *control.OtherDatabaseError
	if errors.As(err, &other) {
		return c.ExitCode(cli.Usagef("the daemon on %s holds %s, not %s (storage.path of %s): give each database its own daemon.socket, or stop the daemon",
			cfg.SocketPath(), other.Path, cfg.Storage.Path, cfg.File))
	}
	if err != nil {
		return c.ExitCode(err)
	}
	return code
}

// databaseFile is the database file at path as the daemon is told it: its
// identity (the file a link or another spelling leads to), or none when
// nothing is there; an error when the file cannot be looked at (no search
// permission on its folder).
func databaseFile(path string) (*control.DatabaseFile, error) {
	p, ok, err := export.ProtectFile(path, DatabaseWhat)
	if errors.Is(err, syscall.ENOTDIR) || err == nil && !ok { // no such file
		return &control.DatabaseFile{}, nil
	}
	if err != nil {
		return nil, err
	}
	id := control.FileID(p.ID)
	return &control.DatabaseFile{ID: &id}, nil
}
