package main

import (
	"context"
	"fmt"
	"io"
)

func (m *Main) runBackup(ctx context.Context, args []string) error {
	fs := m.newFlagSet("backup", "FILE", `  reconciled backup /var/backups/reconciled-$(date +%F).db
`)
	var path string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		path, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if path == "" {
		return usagef("backup: give the file to write, e.g. reconciled backup reconciled-copy.db")
	}
	a, closeLedger, err := m.openApp(true)
	if err != nil {
		return err
	}
	defer closeLedger()
	var n int64
	write := func(w io.Writer) error {
		var err error
		n, err = a.Backup(ctx, w)
		return err
	}
	if m.outputSink != nil { // through the control socket: the client writes and checks the copy
		if err := write(m.outputSink); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		fmt.Fprintf(m.Stderr, "backup: %d bytes written to %s\n", n, path)
		return nil
	}
	if m.remote {
		return errRemotePath
	}
	// A copy is only a backup once it opens and checks out: checked before
	// it replaces an older backup of that name.
	t := m.target(path, true)
	t.Verify = checkCopy(path)
	if err := asUsage(t.Write(write)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(m.Stderr, "backup: %d bytes written to %s and checked\n", n, path)
	return nil
}
