package app

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"reconciled/internal/analytics"
	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
)

// ExportRequest says what an export writes. Times are read and written in
// data_api.tz.
type ExportRequest struct {
	What   string // operations, reconciliation, summary, settlement or audit
	Format string // csv or xlsx; audit is csv only
	// From and To bound the creation time, [From, To); zero is open. They
	// and Filter do not apply to audit, the whole trail.
	From, To time.Time
	Filter   export.Filter
	Results  []string // reconciliation: result codes; none is every one
	// IDContains, for the reconciliation: only the items whose payment id
	// contains it (the web view's text filter).
	IDContains string
	By         string // summary as CSV: the table (export.SummaryTables); "" is day, and not given
	// Delimiter and BOM are the CSV's: its field separator (0 is ',') and
	// whether it starts with a UTF-8 byte order mark.
	Delimiter rune
	BOM       bool
	// Progress, if set, is told the stored operations, each one read and
	// when the export is written.
	Progress Progress
	// Notice, if set, is told which stored reconciliation the export of
	// it comes from, and what it does not show yet (Stored.Note).
	Notice func(string)
}

// exportWhats are what an export writes.
func exportWhats() []string {
	return []string{"operations", "reconciliation", "summary", "settlement", "audit"}
}

// Check refuses an export that makes no sense (a *RequestError, the first
// fault in this order): what and format unknown, an audit trail as XLSX or
// with any filter or window (it is exported whole), an unknown summary
// table or result code, result codes for anything but the reconciliation,
// a delimiter that is a quote or a newline, a window that ends before it
// starts.
func (r ExportRequest) Check() error {
	if !slices.Contains(exportWhats(), r.What) {
		return refuse("what", r.What, "{what} {%q}: use operations, reconciliation, summary, settlement or audit")
	}
	if r.Format != "csv" && r.Format != "xlsx" {
		return refuse("format", r.Format, "{format} {%q}: use csv or xlsx")
	}
	if r.What == "audit" {
		if r.Format == "xlsx" {
			return refuse("format", r.Format, "the audit trail exports as csv")
		}
		if given := r.narrowing(); len(given) > 0 {
			return refuse("what", r.What, "{what} audit exports the whole trail: it takes no "+strings.Join(given, ", "))
		}
	}
	if r.By != "" {
		if err := CheckSummaryTable(r.By); err != nil {
			return err
		}
	}
	for _, res := range r.Results {
		if !slices.Contains(domain.Results, res) {
			return refuse("results", res, "{results} {%q}: use one of "+strings.Join(domain.Results, ", "))
		}
	}
	if len(r.Results) > 0 && r.What != "reconciliation" {
		return refuse("results", r.Results[0], "{results} filters {what} reconciliation, not "+r.What)
	}
	if r.Delimiter != 0 {
		if err := checkDelimiter(r.Delimiter, string(r.Delimiter)); err != nil {
			return err
		}
	}
	return CheckWindow(r.From, r.To)
}

// narrowing are the placeholders of the fields r narrows the export by,
// in the order of their names.
func (r ExportRequest) narrowing() []string {
	var given []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"by", r.By != ""},
		{"currencies", len(r.Filter.Currencies) > 0},
		{"from", !r.From.IsZero()},
		{"id", r.IDContains != ""},
		{"methods", len(r.Filter.Methods) > 0},
		{"projects", len(r.Filter.Projects) > 0},
		{"results", len(r.Results) > 0},
		{"statuses", len(r.Filter.Statuses) > 0},
		{"to", !r.To.IsZero()},
		{"types", len(r.Filter.Types) > 0},
	} {
		if f.set {
			given = append(given, "{"+f.name+"}")
		}
	}
	return given
}

// StatsSettlement is stats --by settlement: the net settlement table in
// place of a grouped one.
const StatsSettlement = "settlement"

// CheckStatsTable refuses a stats table that is neither a summary table
// nor the settlement (a *RequestError naming by).
func CheckStatsTable(by string) error {
	if by == StatsSettlement {
		return nil
	}
	if !slices.Contains(export.SummaryTables, by) {
		return refuse("by", by, "{by} {%q}: use "+strings.Join(append(slices.Clone(export.SummaryTables), StatsSettlement), ", "))
	}
	return nil
}

// CheckSummaryTable refuses a summary table by that export.SummaryTables
// does not hold.
func CheckSummaryTable(by string) error {
	if !slices.Contains(export.SummaryTables, by) {
		return refuse("by", by, "{by} {%q}: use "+strings.Join(export.SummaryTables, ", "))
	}
	return nil
}

// Delimiter reads a CSV delimiter as a person types it: one character, or
// \t for a tab; never a quote or a newline (a *RequestError naming s).
func Delimiter(s string) (rune, error) {
	rs := []rune(s)
	if s == `\t` {
		rs = []rune{'\t'}
	}
	if len(rs) != 1 || !utf8.ValidString(s) { // a byte that is not UTF-8 is no character (it read as U+FFFD)
		return 0, refuse("delimiter", s, delimiterMsg)
	}
	if err := checkDelimiter(rs[0], s); err != nil {
		return 0, err
	}
	return rs[0], nil
}

const delimiterMsg = "{delimiter} {%q}: give one character other than a quote or newline"

// checkDelimiter refuses d, given as s, if no CSV can be separated by it.
func checkDelimiter(d rune, s string) error {
	if d == '"' || d == '\r' || d == '\n' || !utf8.ValidRune(d) {
		return refuse("delimiter", s, delimiterMsg)
	}
	return nil
}

// Export writes the export req asks for to w and returns the rows written
// (for the summary as XLSX, its days). The reconciliation is the stored
// one, as the last reconcile left it (with none stored yet, the engine's
// run on what is stored now, not saved); req.Notice is told which. A request that makes no sense is refused
// (req.Check), and nothing is written.
func (a *App) Export(ctx context.Context, req ExportRequest, w io.Writer) (int, error) {
	if err := req.Check(); err != nil {
		return 0, err
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
		cbs, err := a.registerChargebacks()
		if err != nil {
			return 0, err
		}
		csvOpts.Chargebacks, xlsxOpts.Chargebacks = cbs, cbs
		defer a.begin(req.Progress)()
		if xlsx {
			return export.OperationsXLSX(w, src, req.Filter, xlsxOpts, nil)
		}
		return export.OperationsCSV(w, src, req.Filter, csvOpts)
	case "reconciliation":
		each, stored, err := a.eachItem(ctx, req.From, req.To) // the filter checks the window again
		if err != nil {
			return 0, err
		}
		if req.Notice != nil {
			req.Notice(stored.Note(loc))
		}
		f := req.Filter
		items := export.ItemFilter{Results: req.Results, Projects: f.Projects, Methods: f.Methods, Types: f.Types,
			Statuses: f.Statuses, Currencies: f.Currencies, From: req.From, To: req.To, IDContains: req.IDContains}
		if xlsx {
			return export.ReconciliationXLSX(w, each, items, xlsxOpts)
		}
		return export.ReconciliationCSV(w, each, items, csvOpts)
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
	case "settlement":
		s, err := a.Summary(ctx, SummaryRequest{From: req.From, To: req.To, Filter: req.Filter, Progress: req.Progress})
		if err != nil {
			return 0, err
		}
		if xlsx {
			return export.SettlementXLSX(w, s, xlsxOpts)
		}
		return export.SettlementCSV(w, s, csvOpts)
	default: // audit, as csv (Check)
		events, err := a.Ledger.Audit()
		if err != nil {
			return 0, err
		}
		return export.AuditCSV(w, events, csvOpts)
	}
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
	if err != nil {
		return nil, err
	}
	// The chargebacks opened in the window, when the filter selects by
	// project and currency alone: one by method, status or type selects
	// operations, which a chargeback is not.
	if f := req.Filter; len(f.Methods)+len(f.Statuses)+len(f.Types) == 0 {
		err = a.Ledger.ForEachChargeback(func(sc *ledger.StoredChargeback) error {
			cb := &sc.Chargeback
			if window.From.IsZero() || !cb.CreatedAt.Before(window.From) {
				if window.To.IsZero() || cb.CreatedAt.Before(window.To) {
					if f.Match(&domain.Operation{ProjectID: cb.ProjectID, SumInitial: cb.Amount}) {
						b.AddChargeback(cb)
					}
				}
			}
			return nil
		})
	}
	return b.Summary(window.From, window.To), err
}

// registerChargebacks are the register's chargeback column: every stored
// chargeback by project and payment id (they are few: a map read before
// the rows).
func (a *App) registerChargebacks() (export.Chargebacks, error) {
	var m export.Chargebacks
	err := a.Ledger.ForEachChargeback(func(sc *ledger.StoredChargeback) error {
		if m == nil {
			m = export.Chargebacks{}
		}
		k := export.PaymentKey{Project: sc.ProjectID, Payment: sc.PaymentID}
		s := strconv.FormatUint(sc.ID, 10) + " " + sc.Status
		if prev := m[k]; prev != "" {
			s = prev + "; " + s
		}
		m[k] = s
		return nil
	})
	return m, err
}

// daysChunk is how many operations SummaryDays reads in one read
// transaction (about a tenth of a second).
const daysChunk = 65536

// SummaryDays are the analytics of every stored operation and
// chargeback (days in data_api.tz) as one partial per day, made in one
// pass: the Summary of any window of whole days, unfiltered, is then
// SummaryDays().Summary(from, to), the same as Summary's (the web view
// holds them). p, if set, is told the stored operations, each one read,
// and the end. The pass reads in transactions of daysChunk operations (a
// daemon's write growing the file would wait for one of 2 s at a
// million): a write landing during it can be half read, so a caller labels
// the result with the Generation read before it, which then moved on.
func (a *App) SummaryDays(ctx context.Context, p Progress) (*analytics.Days, error) {
	d := analytics.NewDays(a.Config.Zone())
	defer a.begin(p)()
	n := 0
	err := a.Ledger.ForEachInChunks(ctx, ledger.Range{}, daysChunk, func(op *domain.Operation) error {
		d.Add(op)
		if n++; n%4096 == 0 {
			add(p, 4096)
			return ctx.Err()
		}
		return nil
	})
	add(p, n%4096)
	if err != nil {
		return nil, err
	}
	err = a.Ledger.ForEachChargeback(func(sc *ledger.StoredChargeback) error {
		d.AddChargeback(&sc.Chargeback)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}
