package door

import (
	"io"
	"log/slog"
	"slices"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
	"reconciled/internal/outbox"
)

// Here is the Env of a command the program runs itself, built from the
// process's plain values. Close it when the command ends.
type Here struct {
	Out, Err io.Writer
	Clock    func() time.Time
	Getenv   func(string) string
	// Load finds, reads and validates the config (with no credential).
	Load func() (*config.Config, error)
	// Log is the process's current logger.
	Log func() *slog.Logger
	// Protect are the files no output of this process may replace (the
	// config it read); Open adds the database it opens. Not nil.
	Protect *[]export.Protected

	closes []func() error
}

func (h *Here) Stdout() io.Writer                  { return h.Out }
func (h *Here) Stderr() io.Writer                  { return h.Err }
func (h *Here) Now() time.Time                     { return h.Clock() }
func (h *Here) Config() (*config.Config, error)    { return h.Load() }
func (h *Here) User() string                       { return app.CurrentUser(h.Getenv) }
func (h *Here) Input(file string) (string, string) { return file, "" }

// Open opens cfg's database (protected from the command's outputs from
// now on) and builds the command's App on it: the command's clock and
// logger, and its one outbox, on cfg's [mail] (report --send resolves its
// password before it opens the database).
func (h *Here) Open(cfg *config.Config, readOnly bool) (*app.App, error) {
	l, err := ledger.Open(cfg.Storage.Path, ledger.Options{ReadOnly: readOnly, Logger: h.Log()})
	if err != nil {
		return nil, err
	}
	Protect(h.Protect, cfg.Storage.Path, DatabaseWhat)
	h.closes = append(h.closes, l.Close)
	ob := outbox.New(l, outbox.Options{Mail: func() config.Mail { return cfg.Mail }, Now: h.Clock, Log: h.Log})
	return app.New(app.App{Config: cfg, Ledger: l, Now: h.Clock, Logger: h.Log(), Outbox: ob, Protect: slices.Clone(*h.Protect)}), nil
}

func (h *Here) Output(f OutFile, write func(io.Writer) error) (bool, error) {
	t := target(f.Path, f.Private, *h.Protect)
	t.Verify = f.Verify
	return f.Verify != nil, asUsage(t.Write(write))
}

// Close closes what the command opened.
func (h *Here) Close() {
	for i := len(h.closes) - 1; i >= 0; i-- {
		h.closes[i]()
	}
	h.closes = nil
}
