package app

import (
	"context"
	"io"
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
