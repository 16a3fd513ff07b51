// Package app is reconciled's use cases as typed methods over one value,
// App: the config, the ledger, the clock, the logger and the outbox. A
// long use case tells a Progress how far it is (progress.go). A
// front door (a command of cmd/reconciled, a scheduled job of the daemon,
// the control socket, the demo of internal/demo; tomorrow an HTTP handler
// or a callback receiver)
// builds an App, or takes the daemon's ledger and outbox into one, calls
// one method with a request struct and formats what it returns. The
// methods parse no flags and print nothing.
//
// Whether a request makes sense, however it was typed, is the use case's
// rule (request.go): ExportRequest.Check, SyncRequest.Check,
// SendRequest.Check (after its Defaults from the report schedule, with
// CheckMailServer and CheckReportFormat), CheckItemType and CheckReason
// for resolve and unresolve, SourceName and ImportRequest.Check,
// CheckSummaryTable, Delimiter (a CSV delimiter as typed). Each refuses
// with a *RequestError naming the field, its value and what is wrong, in a
// message whose fields each front door names its own way (the command line
// as its flags, RequestError.Text). A front door checks before it opens
// anything, and the method checks again, so no door can skip a rule.
//
// A command opens its own ledger and closes it; the daemon builds one App
// per loaded config (at start and at each reload) on its one open ledger,
// never a second handle on the file, and gives each job and each command
// of its control socket a copy with its own logger (With).
//
// The use cases here: Status, Export (with the engine run the
// reconciliation export needs, Reconcile), Summary (stats and the summary
// export), Sync, RunReconcile (re-checks, the engine, the saved run) and
// Import (the package function reads the file, then opens the database
// through the function it is given: a command opens none for a file that
// does not read), Resolve and Unresolve (a reason is a short code:
// CheckReason), Check and Backup (into a writer; where the copy goes is the
// front door's, VerifyCopy checks it there), Report (the daily
// report, written in each of its forms by WriteAs) and SendReport
// (`report --send`: a new message through the Outbox every time), and the
// daemon's two jobs that make files once a day, ReportJob and ExportJob
// (jobs.go), and a pass of the alert mail, Alerts (alerts.go: [alerts],
// fed by every stored result whoever reconciled), and the web view's
// reads, Payment and StoredResult (web.go) and SummaryDays (the analytics
// as per-day partials, export.go). The files a job writes go through export.Target with
// Protect; a command's -o stays the front door's, which hands the App a
// writer. Move one use case at a time, whole.
//
// text.go writes results as text (SyncLine, WriteRun, WriteSummary,
// WriteStatus, DescribeFormat, WriteRareCases; WriteStats and WriteCheck
// beside them): the one way every front
// door shows them, so a command's output, the daemon's log lines of a job
// and the demo agree.
package app

import (
	"io"
	"log/slog"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
	"reconciled/internal/outbox"
	"reconciled/internal/reconcile"
)

// App is the program's state for one command or one daemon job.
type App struct {
	Config *config.Config // validated
	Ledger *ledger.Ledger
	Now    func() time.Time
	Logger *slog.Logger
	// Outbox is the process's one outbox, built by the front door where
	// it opens the ledger (the daemon's: queueing wakes its loop) and
	// handed to every App of the process. The read-only use cases do not
	// queue mail.
	Outbox *outbox.Outbox
	// Protect are the files no output of a use case may replace (the
	// database, the config, by device and inode): the scheduled jobs'
	// files go through export.Target with them.
	Protect []export.Protected

	engine     reconcile.Config // built once from Config; Now is set per run
	verdictKey string           // fingerprint of the settings verdicts depend on (stored.go)
}

// New returns the App of a: its engine settings built from a.Config once.
// A nil Now is time.Now, a nil Logger discards.
func New(a App) *App {
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Logger == nil {
		a.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a.engine, a.verdictKey = engineConfig(a.Config)
	return &a
}

// On is a on cfg: the same ledger, clock, logger, outbox and protected
// files, the engine's settings built from cfg (a front door that changed
// its config, as the demo does, asks for a new App rather than mutate one).
func (a *App) On(cfg *config.Config) *App {
	b := *a
	b.Config = cfg
	return New(b)
}

// With is a copy of a whose Logger is logger: the App of one job or one
// command of the daemon, on the settings New built once for the config.
func (a *App) With(logger *slog.Logger) *App {
	c := *a
	c.Logger = logger
	return &c
}
