package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"reconciled/internal/analytics"
	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
)

// ExportRequest says what an export writes. Times are read and written in
// data_api.tz.
type ExportRequest struct {
	What   string // operations, reconciliation, summary or audit
	Format string // csv or xlsx; audit is csv only
	// From and To bound the creation time, [From, To); zero is open. They
	// and Filter do not apply to audit, the whole trail.
	From, To time.Time
	Filter   export.Filter
	Results  []string // reconciliation: result codes; none is every one
	By       string   // summary as CSV: the table (export.SummaryTables); "" is day
	// Delimiter and BOM are the CSV's: its field separator (0 is ',') and
	// whether it starts with a UTF-8 byte order mark.
	Delimiter rune
	BOM       bool
	// Progress, if set, is told the stored operations, each one read and
	// when the export is written.
	Progress Progress
}

// Export writes the export req asks for to w and returns the rows written
// (for the summary as XLSX, its days). The reconciliation is the engine's
// run on what is stored now, without asking the Data API (Reconcile): the
// same data gives the same file. A request the front door should have
// refused (an unknown what or format) is an error, and nothing is written.
func (a *App) Export(ctx context.Context, req ExportRequest, w io.Writer) (int, error) {
	if req.Format != "csv" && req.Format != "xlsx" {
		return 0, fmt.Errorf("export: format %q: use csv or xlsx", req.Format)
	}
	xlsx := req.Format == "xlsx"
	loc := a.Config.Zone()
	csvOpts := export.CSVOptions{Delimiter: req.Delimiter, BOM: req.BOM, Location: loc}
	xlsxOpts := export.XLSXOptions{Location: loc}
	switch req.What {
	case "operations":
		window := ledger.Range{From: req.From, To: req.To}
		src := func(fn func(*domain.Operation) error) error {
			return a.Ledger.ForEach(ctx, window, func(op *domain.Operation) error { add(req.Progress, 1); return fn(op) })
		}
		defer a.begin(req.Progress)()
		if xlsx {
			return export.OperationsXLSX(w, src, req.Filter, xlsxOpts, nil)
		}
		return export.OperationsCSV(w, src, req.Filter, csvOpts)
	case "reconciliation":
		out, err := a.Reconcile(ctx)
		if err != nil {
			return 0, err
		}
		f := req.Filter
		items := export.ItemFilter{Results: req.Results, Projects: f.Projects, Methods: f.Methods, Types: f.Types,
			Statuses: f.Statuses, Currencies: f.Currencies, From: req.From, To: req.To}
		if xlsx {
			return export.ReconciliationXLSX(w, out.Items, items, xlsxOpts)
		}
		return export.ReconciliationCSV(w, out.Items, items, csvOpts)
	case "summary":
		s, err := a.Summary(ctx, SummaryRequest{From: req.From, To: req.To, Filter: req.Filter, Progress: req.Progress})
		if err != nil {
			return 0, err
		}
		if xlsx {
			return len(s.ByDay), export.SummaryXLSX(w, s, xlsxOpts)
		}
		by := req.By
		if by == "" {
			by = "day"
		}
		return export.SummaryCSV(w, s, by, csvOpts)
	case "audit":
		if xlsx {
			return 0, fmt.Errorf("export: the audit trail exports as csv")
		}
		events, err := a.Ledger.Audit()
		if err != nil {
			return 0, err
		}
		return export.AuditCSV(w, events, csvOpts)
	}
	return 0, fmt.Errorf("export: what %q: use operations, reconciliation, summary or audit", req.What)
}

// SummaryRequest says which operations the analytics are of.
type SummaryRequest struct {
	From, To time.Time // creation time, [From, To); zero is open
	Filter   export.Filter
	Progress Progress // if set, told the stored operations, each one read, and the end
}

// Summary builds the analytics (days in data_api.tz) of the operations
// req selects.
func (a *App) Summary(ctx context.Context, req SummaryRequest) (*analytics.Summary, error) {
	window := ledger.Range{From: req.From, To: req.To}
	b := analytics.NewBuilder(a.Config.Zone())
	defer a.begin(req.Progress)()
	err := a.Ledger.ForEach(ctx, window, func(op *domain.Operation) error {
		add(req.Progress, 1)
		if req.Filter.Match(op) {
			b.Add(op)
		}
		return nil
	})
	return b.Summary(window.From, window.To), err
}
