package main

import (
	"context"
	"errors"
	"fmt"

	"reconciled/internal/config"
	"reconciled/internal/demo"
)

func (m *Main) runDemo(ctx context.Context, args []string) error {
	fs := m.newFlagSet("demo", "[--dir DIR] [--operations N]", "  reconciled demo\n  reconciled demo --dir /tmp/demo --operations 100000\n")
	dir := fs.String("dir", "reconciled-demo", "folder for the database, the exports and a config to explore them with")
	count := fs.Int("operations", 5000, "operations in the fake Data API")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *count < 1 || *count > demo.MaxOperations {
		return usagef("--operations %d: use 1..%d", *count, demo.MaxOperations)
	}
	if !m.verbose {
		m.setLogger(config.Log{Level: "warn", Format: "text"})
	}
	err := demo.Run(ctx, demo.Options{Dir: *dir, Operations: *count, Out: m.Stdout, Now: m.Now, Logger: m.log(), User: m.user(),
		Progress: m.demoProgress()})
	if ue := (*demo.UsageError)(nil); errors.As(err, &ue) {
		return &usageError{err.Error()}
	}
	return err
}

// demoProgress shows the demo's long steps on a terminal: a bar for each
// sync and the analytics, a line for each of the import's notes; nil (none)
// on anything else.
func (m *Main) demoProgress() func(demo.Progress) {
	if !m.stderrIsTerminal() {
		return nil
	}
	var bar *progress
	return func(p demo.Progress) {
		switch {
		case p.Note:
			fmt.Fprintln(m.Stderr, p.Text)
		case p.Start:
			bar = m.newProgress(p.Text, -1)
		case bar == nil:
		case p.Done:
			bar.done()
		default:
			bar.set(p.N, p.Text)
		}
	}
}
