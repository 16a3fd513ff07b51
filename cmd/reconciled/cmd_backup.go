package main

import (
	"context"
	"fmt"
	"io"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/door"
)

func parseBackup(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("backup", "FILE", `  reconciled backup /var/backups/reconciled-$(date +%F).db
`)
	var path string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		path, args = args[0], args[1:]
	}
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, cli.Usagef("backup: give the file to write, e.g. reconciled backup reconciled-copy.db")
	}
	return backupRequest{path: path}, nil
}

// backupRequest is a backup's command line.
type backupRequest struct{ path string }

// OutputFile is the copy: private, and only a backup once it opens and
// checks out, so checked before it replaces an older backup of that name.
func (r backupRequest) OutputFile() door.OutFile {
	return door.OutFile{Path: r.path, Private: true, Verify: app.VerifyCopy(r.path)}
}

func (r backupRequest) Run(ctx context.Context, e door.Env) error {
	a, err := door.OpenApp(e, true)
	if err != nil {
		return err
	}
	var n int64
	verified, err := e.Output(r.OutputFile(), func(w io.Writer) error {
		var err error
		n, err = a.Backup(ctx, w)
		return err
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if verified {
		fmt.Fprintf(e.Stderr(), "backup: %d bytes written to %s and checked\n", n, r.path)
	} else { // the client checks it once it is whole
		fmt.Fprintf(e.Stderr(), "backup: %d bytes written to %s\n", n, r.path)
	}
	return nil
}
