package main

import (
	"context"
	"fmt"
	"io"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/door"
	"reconciled/internal/progress"
	"reconciled/internal/records"
)

// importRequest is an import's command line.
type importRequest struct{ file, source, sheet string }

func parseImport(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("import", "FILE [--source NAME] [--sheet NAME]", `  reconciled import orders-2026-11.csv
  reconciled import payouts.xlsx --sheet Payouts --source payouts
`)
	source := fs.String("source", records.DefaultSource, "the book the file belongs to: a later file of the same source replaces the lines it repeats")
	sheet := fs.String("sheet", "", "XLSX: the sheet to read (default: the first)")
	// The file comes first, flags after it, as the usage shows; the flag
	// package stops at the first argument, so take it out.
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	if file == "" {
		return nil, cli.Usagef("import: give the file: reconciled import FILE")
	}
	src, err := app.SourceName(*source)
	if err != nil {
		return nil, requestUsage(err, nil)
	}
	return &importRequest{file: file, source: src, sheet: *sheet}, nil
}

// InputFile: the file is the first argument.
func (r *importRequest) InputFile() (string, int) { return r.file, 0 }

func (r *importRequest) Run(ctx context.Context, e door.Env) error {
	cfg, err := e.Config()
	if err != nil {
		return err
	}
	path, name := e.Input(r.file)
	req := app.ImportRequest{Path: path, Name: name, Source: r.source, Sheet: r.sheet, User: e.User(), Steps: steps(e.Stderr())}
	res, err := app.Import(ctx, cfg, req, func() (*app.App, error) { return e.Open(cfg, false) })
	if err != nil {
		return requestUsage(err, nil)
	}
	fmt.Fprintf(e.Stdout(), "import: %s (%s): %d lines: %d new, %d updated, %d unchanged, %d removed\n",
		req.Shown(), app.DescribeFormat(res.File), res.File.Lines, res.Stats.New, res.Stats.Updated, res.Stats.Unchanged, res.Stats.Removed)
	return nil
}

// steps shows an import's steps on w if it is a terminal.
func steps(w io.Writer) func(string) {
	if !progress.IsTerminal(w) {
		return nil
	}
	return func(step string) { fmt.Fprintln(w, step) }
}
