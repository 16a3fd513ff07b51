package main

import (
	"io"
	"slices"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/config"
	"reconciled/internal/control"
	"reconciled/internal/export"
	"reconciled/internal/outbox"
)

// env is where a command runs, chosen once by the front door: here (the
// command loads the config, opens the database, reads and writes the
// person's files and the user is the OS user) or inside the daemon, for a
// command that came through its control socket (the daemon's App, the
// client's streams, the file the client sent, the output streamed back to
// the client, the user the socket's peer credentials name). A command calls
// its env; it never asks which one it has.
type env interface {
	stdout() io.Writer
	stderr() io.Writer
	now() time.Time
	// config is the config the command runs on. It has no credential
	// resolved here: a command asks cfg.WithSecrets for what its work uses.
	config() (*config.Config, error)
	// open is the App on cfg (config's, or one cfg.WithSecrets made of it)
	// and its database, read-only or not. What it opened is closed when the
	// command ends.
	open(cfg *config.Config, readOnly bool) (*app.App, error)
	// user names who runs the command, for the audit trail.
	user() string
	// input is the file the command reads, as its command line named it:
	// where to read it, and the name to show ("": path).
	input(file string) (path, name string)
	// output writes the file f through write: here atomically, through
	// export.Target (never the database or the config; checked by f.verify
	// before it replaces anything); in the daemon into the stream the
	// client writes the file from, and checks. verified says f.verify ran.
	output(f outFile, write func(io.Writer) error) (verified bool, err error)
}

// openApp is the App on e's config and database.
func openApp(e env, readOnly bool) (*app.App, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	return e.open(cfg, readOnly)
}

// here is a command run by the program itself.
type here struct {
	m      *Main
	closes []func() error
}

func (m *Main) here() *here { return &here{m: m} }

func (h *here) stdout() io.Writer                  { return h.m.Stdout }
func (h *here) stderr() io.Writer                  { return h.m.Stderr }
func (h *here) now() time.Time                     { return h.m.Now() }
func (h *here) config() (*config.Config, error)    { return h.m.loadConfig() }
func (h *here) user() string                       { return app.CurrentUser(h.m.Getenv) }
func (h *here) input(file string) (string, string) { return file, "" }

// open opens cfg's database (protected from the command's outputs from
// now on) and builds the command's App on it: the command's clock and
// logger, and its one outbox, on cfg's [mail] (report --send resolves its
// password before it opens the database).
func (h *here) open(cfg *config.Config, readOnly bool) (*app.App, error) {
	m := h.m
	l, err := m.openLedger(cfg, readOnly)
	if err != nil {
		return nil, err
	}
	h.closes = append(h.closes, l.Close)
	ob := outbox.New(l, outbox.Options{Mail: func() config.Mail { return cfg.Mail }, Now: m.Now, Log: m.log})
	return app.New(app.App{Config: cfg, Ledger: l, Now: m.Now, Logger: m.log(), Outbox: ob, Protect: slices.Clone(m.protect)}), nil
}

func (h *here) output(f outFile, write func(io.Writer) error) (bool, error) {
	t := h.m.target(f.path, f.private)
	t.Verify = f.verify
	return f.verify != nil, asUsage(t.Write(write))
}

// close closes what the command opened.
func (h *here) close() {
	for i := len(h.closes) - 1; i >= 0; i-- {
		h.closes[i]()
	}
	h.closes = nil
}

// inDaemon is a command that came through the control socket, run on the
// daemon's App. The daemon never reads or writes a path of its own file
// system for it: files travel over the socket, or the command is refused
// before it runs (files).
type inDaemon struct {
	a *app.App
	c *control.Command
}

func (d *inDaemon) stdout() io.Writer               { return d.c.Stdout }
func (d *inDaemon) stderr() io.Writer               { return d.c.Stderr }
func (d *inDaemon) now() time.Time                  { return d.a.Now() }
func (d *inDaemon) config() (*config.Config, error) { return d.a.Config, nil }
func (d *inDaemon) user() string                    { return d.c.Peer.User }
func (d *inDaemon) input(string) (string, string)   { return d.c.InputPath, d.c.Input }

func (d *inDaemon) open(cfg *config.Config, _ bool) (*app.App, error) {
	if cfg == d.a.Config {
		return d.a, nil
	}
	// The daemon's config with credentials resolved (it holds them all
	// already, so WithSecrets returns it as it is): the same settings.
	a := *d.a
	a.Config = cfg
	return &a, nil
}

func (d *inDaemon) output(f outFile, write func(io.Writer) error) (bool, error) {
	return false, export.NameTemporary(write(d.c.Output), f.path)
}

// files refuses a request that names a file the client did not send, or
// one to write that the client does not take back: the daemon would read
// or write it with its own rights (the database's folder included).
func (d *inDaemon) files(req request) error {
	if in, ok := req.(inputFiler); ok {
		if file, _ := in.inputFile(); file != "" && (d.c.InputPath == "" || file != d.c.InputPath) {
			return remotePath()
		}
	}
	if out, ok := req.(outputFiler); ok && out.outputFile().path != "" && d.c.Output == nil {
		return remotePath()
	}
	return nil
}

// remotePath refuses a file path in a command that came through the
// control socket without the file itself.
func remotePath() error {
	return cli.Usagef("through the daemon's control socket, files travel with the command: use the reconciled client, which sends and receives them")
}

// inputFiler is a request that reads a file the person names (import's
// FILE): through the socket the client sends it, and the daemon reads only
// the copy it was sent.
type inputFiler interface {
	// inputFile is the file and its index among the command's arguments.
	inputFile() (file string, arg int)
}

// outputFiler is a request that writes a file the person names (-o,
// backup's FILE): through the socket the daemon streams it back, and the
// client writes it.
type outputFiler interface {
	outputFile() outFile // path "": none (an export to standard output)
}

// outFile is a file a command writes.
type outFile struct {
	path    string
	private bool                   // 0600 whatever the file it replaces allowed (a backup)
	verify  func(tmp string) error // if set, checks the written file before it replaces anything
}

// outputOf is the file req writes, if any.
func outputOf(req request) outFile {
	if out, ok := req.(outputFiler); ok {
		return out.outputFile()
	}
	return outFile{}
}
