package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/config"
	"reconciled/internal/demo"
	"reconciled/internal/door"
	"reconciled/internal/progress"
)

func parseDemo(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("demo", "[--dir DIR] [--operations N]", "  reconciled demo\n  reconciled demo --dir /tmp/demo --operations 100000\n")
	dir := fs.String("dir", "reconciled-demo", "folder for the database, the exports and a config to explore them with")
	count := fs.Int("operations", 5000, "operations in the fake Data API")
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	if *count < 1 || *count > demo.MaxOperations {
		return nil, cli.Usagef("--operations %d: use 1..%d", *count, demo.MaxOperations)
	}
	return process(func(m *Main, ctx context.Context) error { return m.demo(ctx, *dir, *count) }), nil
}

// demo runs internal/demo into dir, its logs quiet unless -v.
func (m *Main) demo(ctx context.Context, dir string, count int) error {
	if !m.verbose {
		m.setLogger(config.Log{Level: "warn", Format: "text"})
	}
	err := demo.Run(ctx, demo.Options{Dir: dir, Operations: count, Out: m.Stdout, Now: m.Now, Logger: m.log(), User: app.CurrentUser(m.Getenv),
		Progress: demoProgress(m.Stderr)})
	if ue := (*demo.UsageError)(nil); errors.As(err, &ue) {
		return &cli.UsageError{Msg: err.Error()}
	}
	return err
}

// demoProgress shows the demo's long steps on w if it is a terminal: a bar
// for each sync and the analytics, a line for each of the import's notes;
// nil (none) on anything else.
func demoProgress(w io.Writer) func(demo.Progress) {
	if !progress.IsTerminal(w) {
		return nil
	}
	var bar *progress.Bar
	return func(p demo.Progress) {
		switch {
		case p.Note:
			fmt.Fprintln(w, p.Text)
		case p.Start:
			bar = progress.New(w, p.Text)
		case bar == nil:
		case p.Done:
			bar.Done()
		default:
			bar.Set(p.N, p.Text)
		}
	}
}
