package app

import (
	"context"
	"io"
)

// Backup writes a consistent copy of the database to w and returns its
// size in bytes. It stops once ctx is done. Where the copy goes, and
// checking it before it replaces an older backup, is the front door's.
func (a *App) Backup(ctx context.Context, w io.Writer) (int64, error) {
	return a.Ledger.Backup(ctxWriter{ctx, w})
}

// ctxWriter fails every write once ctx is done.
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
