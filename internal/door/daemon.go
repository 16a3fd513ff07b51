package door

import (
	"context"
	"io"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/config"
	"reconciled/internal/control"
	"reconciled/internal/export"
)

// InDaemon is the Env of a command that came through the control socket,
// run on the daemon's App. The daemon never reads or writes a path of its
// own file system for it: files travel over the socket, or the command is
// refused before it runs (Serve).
type InDaemon struct {
	App *app.App         // the daemon's current App, logging to the client
	Cmd *control.Command // what came through the socket: streams, peer, files
}

func (d *InDaemon) Stdout() io.Writer               { return d.Cmd.Stdout }
func (d *InDaemon) Stderr() io.Writer               { return d.Cmd.Stderr }
func (d *InDaemon) Now() time.Time                  { return d.App.Now() }
func (d *InDaemon) Config() (*config.Config, error) { return d.App.Config, nil }
func (d *InDaemon) User() string                    { return d.Cmd.Peer.User }
func (d *InDaemon) Input(string) (string, string)   { return d.Cmd.InputPath, d.Cmd.Input }

func (d *InDaemon) Open(cfg *config.Config, _ bool) (*app.App, error) {
	if cfg == d.App.Config {
		return d.App, nil
	}
	// The daemon's config with credentials resolved (it holds them all
	// already, so WithSecrets returns it as it is): the same settings.
	a := *d.App
	a.Config = cfg
	return &a, nil
}

func (d *InDaemon) Output(f OutFile, write func(io.Writer) error) (bool, error) {
	return false, export.NameTemporary(write(d.Cmd.Output), f.Path)
}

// Command is a command of the front door's table as the daemon's side of
// the socket reads it.
type Command struct {
	// Parse reads the command's arguments (after its name) into a checked
	// request; its usage (-h) goes to stdout, after a flag error to stderr.
	Parse func(stdout, stderr io.Writer, args []string) (Request, error)
	// Forward: the command may run inside the daemon.
	Forward bool
}

// Lookup is the front door's command table: the command called name.
type Lookup func(name string) (Command, bool)

// Serve runs a command that came through the control socket, c, on a (an
// App on the daemon's current config, ledger and outbox whose Logger writes
// to c.Stderr) as the person who sent it, through the command table: the
// command looked up, refused if it may not be forwarded, its arguments
// parsed by the same Parse the client used, refused if it names a file
// that did not travel with it, run on InDaemon. The error is the front
// door's to render on c.Stderr as an exit status.
func Serve(ctx context.Context, a *app.App, c *control.Command, table Lookup) error {
	cmd, ok := table(c.Args[0])
	if !ok || !cmd.Forward {
		return cli.Usagef("%s does not run through the daemon", c.Args[0])
	}
	req, err := cmd.Parse(c.Stdout, c.Stderr, c.Args[1:])
	if err != nil {
		return err
	}
	d := &InDaemon{App: a, Cmd: c}
	if err := d.files(req); err != nil {
		return err
	}
	return req.Run(ctx, d)
}

// files refuses a request that names a file the client did not send, or
// one to write that the client does not take back: the daemon would read
// or write it with its own rights (the database's folder included).
func (d *InDaemon) files(req Request) error {
	if in, ok := req.(InputFile); ok {
		if file, _ := in.InputFile(); file != "" && (d.Cmd.InputPath == "" || file != d.Cmd.InputPath) {
			return remotePath()
		}
	}
	if out, ok := req.(OutputFile); ok && out.OutputFile().Path != "" && d.Cmd.Output == nil {
		return remotePath()
	}
	return nil
}

// remotePath refuses a file path in a command that came through the
// control socket without the file itself.
func remotePath() error {
	return cli.Usagef("through the daemon's control socket, files travel with the command: use the reconciled client, which sends and receives them")
}
