package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"reconciled/internal/ledger"
)

// Backup writes a consistent copy of the database to w and returns its
// size in bytes. It stops once ctx is done. Where the copy goes, and
// checking it before it replaces an older backup, is the front door's.
func (a *App) Backup(ctx context.Context, w io.Writer) (int64, error) {
	return a.Ledger.Backup(StopWriter(ctx, w))
}

// StopWriter is w failing every write once ctx is done: a long export or
// copy stops at the next write after Ctrl-C or the daemon's stop.
func StopWriter(ctx context.Context, w io.Writer) io.Writer { return ctxWriter{ctx, w} }

type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// VerifyCopy is the check of a backup's copy (export.Target's Verify): it
// opens the copy (the temporary file, before it replaces anything) and
// checks it. Its damage
// is not the database's (which was checked before it was copied): the
// error names the file asked for and does not say to restore anything.
func VerifyCopy(shown string) func(tmp string) error {
	return func(tmp string) error {
		c, err := ledger.Open(tmp, ledger.Options{ReadOnly: true})
		if err == nil {
			defer c.Close()
			err = c.Check()
		}
		var de *ledger.DamagedError
		if errors.As(err, &de) {
			return fmt.Errorf("the copy for %s is not sound (the disk it was written to may be failing): %s; %s was left as it was", shown, de.What, shown)
		}
		if err != nil {
			return fmt.Errorf("the copy for %s does not open: %s; %s was left as it was", shown, strings.ReplaceAll(err.Error(), tmp, shown), shown)
		}
		return nil
	}
}
