// Package demo is `reconciled demo`: the whole pipeline against a fake
// Data API on loopback, into a folder of its own. Run starts the fake
// (internal/fakeapi: the demo's peer, as the real Data API is the
// daemon's), syncs twice (the operations, their fees and the balances)
// and shows the balances read, imports the embedded sample books, reconciles
// with the re-checks, resolves one exception, reconciles again, exports
// the register, the reconciliation and the analytics, writes the daily
// report as HTML and XLSX, and leaves a config in the folder to explore
// the result with. It is a front door like a command: it builds one
// app.App over its own config and ledger and calls the use cases; what it
// prints comes from internal/app's printers.
//
// It takes what a front door knows as plain values (Options): the folder,
// the operation count, where to print, the clock, the logger, the user for
// the audit trail, and an optional progress hook (the command draws a
// bar on a terminal; the demo knows nothing of terminals). Its files go
// through export.Target, never over its own database. A refusal the person
// can act on (a folder it must not write into, a file of its folder it
// may not replace) is a *UsageError; the command makes that bad usage.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"reconciled"
	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
	"reconciled/internal/records"
	"reconciled/internal/syncer"
)

// Token is the demo's fake Data API token: the real one's 30 characters.
// The secret is new every run.
const Token = "demo-token-000000000000000000x"

// MaxOperations is the most operations the fake may hold.
const MaxOperations = 10_000_000

// Options are what the demo needs of its front door.
type Options struct {
	Dir        string // the folder: a new or empty one, or one an earlier demo made
	Operations int    // in the fake Data API, 1..MaxOperations
	Out        io.Writer
	Now        func() time.Time // nil: time.Now
	Logger     *slog.Logger     // nil: discards
	User       string           // who runs it, for the audit trail
	// Progress, if set, is told how the long steps go (see Progress).
	Progress func(Progress)
}

// Progress is news of one of the demo's long steps, for a front door that
// shows it (a bar on a terminal). A sync and the analytics send Start,
// then Text and N (operations so far; the analytics at most every 1,024),
// and Done when the pulling or the reading ends. The import sends Note
// lines: what it reads, then what it stores.
type Progress struct {
	Step  string // "sync", "import", "analytics"
	Start bool
	Done  bool
	Text  string // what to show: the description, or the note
	N     int64
	Note  bool // Text is a line of its own, not a bar's description
}

// UsageError is a refusal the person can act on: the folder is not the
// demo's, or a file of it may not be replaced (export.TargetError).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usage makes a refused output file a UsageError.
func usage(err error) error {
	var te *export.TargetError
	if errors.As(err, &te) {
		return &UsageError{err}
	}
	return err
}

// databaseWhat names the database in a refusal, as every command does.
const databaseWhat = "the database (storage.path)"

// demo is one run: its options, folder and the files it protects.
type demo struct {
	Options
	dir     string
	protect []export.Protected
}

// Run runs the demo into o.Dir, printing each step to o.Out.
func Run(ctx context.Context, o Options) error {
	if o.Operations < 1 || o.Operations > MaxOperations {
		return fmt.Errorf("demo: %d operations: use 1..%d", o.Operations, MaxOperations)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return err
	}
	d := &demo{Options: o, dir: abs}
	return d.run(ctx)
}

func (d *demo) run(ctx context.Context) error {
	out, abs := d.Out, d.dir
	if err := prepareDir(abs); err != nil {
		return err
	}
	dbPath := filepath.Join(abs, "reconciled.db")
	if _, err := os.Stat(dbPath); err == nil {
		// A previous demo's database: make sure no process holds it, then
		// start afresh.
		old, err := ledger.Open(dbPath, ledger.Options{LockTimeout: time.Second})
		if err != nil {
			return err
		}
		old.Close()
		if err := os.Remove(dbPath); err != nil {
			return err
		}
		fmt.Fprintf(out, "removed the previous demo database %s\n", dbPath)
	}

	// 1. A fake Data API on loopback: three days of operations up to now.
	// Its clock stands still during the demo, so that the second sync
	// finds nothing changed.
	secret := make([]byte, 16)
	rand.Read(secret)
	now := d.Now().UTC()
	frozen := func() time.Time { return now }
	start := now.Truncate(24 * time.Hour).Add(-72 * time.Hour)
	fake, err := fakeapi.New(fakeapi.Config{
		Token: Token, Secret: []byte(hex.EncodeToString(secret)), Seed: 1,
		Start: start, Count: d.Operations, Step: now.Sub(start) / time.Duration(d.Operations), Now: frozen,
	})
	if err != nil {
		return err
	}
	if err := fake.Start(); err != nil {
		return err
	}
	defer fake.Close()
	fmt.Fprintf(out, "1. fake ECommPay Data API on %s: %d operations since %s\n"+
		"   project 580 (ADVCash: EUR BRL GBP KZT RUB UAH USD) and project 579 (Uzbek card partner: UZS)\n",
		fake.URL(), d.Operations, start.Format(time.DateTime))

	// The demo's config, whole before it is validated and its App built:
	// the fake's credentials, and the merchant's books as a Russian
	// accounting system exports them (Windows-1251, ';', decimal commas,
	// Russian column names and words, mapped as [records] would).
	cfg := config.Default()
	cfg.File = filepath.Join(abs, "reconciled.toml")
	cfg.Storage.Path = dbPath
	cfg.DataAPI.BaseURL = fake.URL()
	cfg.DataAPI.Token = config.NewSecret(Token)
	cfg.DataAPI.Secret = config.NewSecret(hex.EncodeToString(secret))
	cfg.DataAPI.Projects = []int64{580, 579}
	cfg.DataAPI.Start = start.Format(time.DateOnly)
	cfg.Records.Columns, cfg.Records.Statuses, cfg.Records.Types = reconciled.DemoColumns, reconciled.DemoStatuses, reconciled.DemoTypes
	// The seeds give no times for card purchases; the demo sets a day.
	cfg.Reconcile.Limits = append(cfg.Reconcile.Limits, cardPurchaseLimit)
	cfg.Reconcile.RecheckInterval.Duration = 10 * time.Millisecond // the fake is local
	// The fees too, against the fake's own contract: its deliberate wrong
	// charges are the demo's fee mismatches.
	cfg.Fees.Sync, cfg.Fees.Tariffs = true, demoTariffs
	// And the chargebacks the fake disputes: some open, some lost or won.
	cfg.Chargebacks.Sync = true
	if err := cfg.Validate(); err != nil {
		return err
	}

	l, err := ledger.Open(dbPath, ledger.Options{Logger: d.Logger})
	if err != nil {
		return err
	}
	defer l.Close()
	if p, ok, err := export.ProtectFile(dbPath, databaseWhat); err == nil && ok {
		d.protect = append(d.protect, p)
	}
	// No Outbox: the demo writes the report, it mails nothing.
	a := app.New(app.App{Config: cfg, Ledger: l, Now: d.Now, Logger: d.Logger, Protect: d.protect})

	// 2. Sync, then sync again: the second run re-reads the lookback window
	// and stores nothing new.
	fmt.Fprintf(out, "2. sync into %s\n", dbPath)
	res, err := d.sync(ctx, a)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   %s\n   again: the lookback window is read again, nothing changed upstream, nothing new is stored\n", app.SyncLine(res))
	if res, err = d.sync(ctx, a); err != nil {
		return err
	}
	fmt.Fprintf(out, "   %s\n", app.SyncLine(res))
	if err := d.balances(l); err != nil {
		return err
	}

	// 3. The merchant's books: sample records from testdata/.
	recordsPath := filepath.Join(abs, "merchant-records.csv")
	if err := d.write(recordsPath, func(w io.Writer) error { _, err := w.Write(reconciled.DemoRecords); return err }); err != nil {
		return err
	}
	imp, err := a.Import(ctx, app.ImportRequest{Path: recordsPath, Source: records.DefaultSource, User: d.User,
		Steps: func(note string) { d.Progress(Progress{Step: "import", Note: true, Text: note}) }})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "3. imported %s (%s): %d lines: %d new\n", recordsPath, app.DescribeFormat(imp.File), imp.File.Lines, imp.Stats.New)

	// 4. Reconcile, asking the fake about late and missing payments first.
	fmt.Fprintln(out, "4. reconcile")
	run, err := a.RunReconcile(ctx, app.RunRequest{Recheck: true, User: d.User})
	if err != nil {
		return err
	}
	printIndented(out, func(w io.Writer) { app.WriteSummary(w, run.Summary) })
	fmt.Fprintf(out, "   re-checked %d payments at the Data API first\n", run.Recheck.Asked)
	fmt.Fprintln(out, "   ECommPay's rarer cases, one of each, as reconciled reads them:")
	words, err := l.WordCounts()
	if err != nil {
		return err
	}
	items, _, err := a.Items(ctx)
	if err != nil {
		return err
	}
	if err := app.WriteRareCases(out, items, words); err != nil {
		return err
	}

	// 5. Accept one exception by hand, as the finance team would, and
	// reconcile again: it shows as resolved.
	for _, it := range items {
		if it.Result != domain.ResultAmountMismatch {
			continue
		}
		rs, err := a.Resolve(ctx, app.ResolveRequest{ID: it.PaymentID, Reason: "bank-fee", Note: "resolved by the demo", User: d.User})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "5. resolved %s %s (%s) as bank-fee, by %s; reconcile again:\n", rs[0].ID, rs[0].Type, rs[0].Code, rs[0].User)
		if run, err = a.RunReconcile(ctx, app.RunRequest{User: d.User}); err != nil {
			return err
		}
		printIndented(out, func(w io.Writer) { app.WriteSummary(w, run.Summary) })
		break
	}

	// 6. ECommPay's callbacks, before any sync: a payment the books call
	// paid is declined, and reconciled at once.
	if err := d.callbacks(ctx, a, l); err != nil {
		return err
	}

	// 7. Export the payment register and the reconciliation (the demo's
	// data_api.tz is UTC), and the analytics.
	opsPath := filepath.Join(abs, "operations.csv")
	n, err := d.export(ctx, opsPath, func(w io.Writer) (int, error) {
		return a.Export(ctx, app.ExportRequest{What: "operations", Format: "csv"}, w)
	})
	if err != nil {
		return err
	}
	recPath := filepath.Join(abs, "reconciliation.csv")
	k, err := d.export(ctx, recPath, func(w io.Writer) (int, error) {
		return a.Export(ctx, app.ExportRequest{What: "reconciliation", Format: "csv"}, w)
	})
	if err != nil {
		return err
	}
	sumPath := filepath.Join(abs, "analytics.xlsx")
	d.Progress(Progress{Step: "analytics", Start: true, Text: "analytics"})
	summary, err := a.Summary(ctx, app.SummaryRequest{Progress: &news{d: d, step: "analytics"}})
	if err != nil {
		return err
	}
	if _, err := d.export(ctx, sumPath, func(w io.Writer) (int, error) { return 0, export.SummaryXLSX(w, summary, export.XLSXOptions{}) }); err != nil {
		return err
	}
	fmt.Fprintf(out, "7. exported %d operations to %s,\n   %d reconciled items to %s\n   and the analytics (with charts) to %s\n", n, opsPath, k, recPath, sumPath)

	// 8. The daily report of yesterday, as the daemon mails it: HTML body
	// and the XLSX attachment.
	dr, err := a.Report(ctx, a.Yesterday())
	if err != nil {
		return err
	}
	var reportFiles []string
	for _, ext := range []string{".html", ".xlsx"} {
		path := filepath.Join(abs, "report-"+dr.Day()+ext)
		if _, err := d.export(ctx, path, func(w io.Writer) (int, error) { return 0, dr.WriteAs(w, ext) }); err != nil {
			return err
		}
		reportFiles = append(reportFiles, path)
	}
	fmt.Fprintf(out, "8. the daily report: %s\n   written to %s\n   and %s\n", dr.Subject(), reportFiles[0], reportFiles[1])
	fmt.Fprintf(out, "   its net settlement of %s (purchases - refunds - payouts - fees - chargebacks not won, per project and currency):\n", dr.Day())
	printIndented(out, func(w io.Writer) { app.WriteDaySettlement(w, dr.Settlement) })
	fmt.Fprintln(out)

	if err := writeConfig(cfg.File, dbPath); err != nil {
		return err
	}
	self := selfName()
	fmt.Fprintf(out, "Files are in %s. Explore them with:\n"+
		"  %s --config %s status\n"+
		"  %s --config %s stats --by method\n"+
		"  %s --config %s export --what reconciliation --format xlsx --result amount_mismatch --result overdue -o exceptions.xlsx\n"+
		"  %s --config %s export --what operations --format csv --method advcash --status decline\n"+
		"  %s --config %s report --date %s\n",
		abs, self, cfg.File, self, cfg.File, self, cfg.File, self, cfg.File, self, cfg.File, dr.Day())
	return nil
}

// balances prints the balances the syncs read (/balance/get), as status
// shows them.
func (d *demo) balances(l *ledger.Ledger) error {
	rs, err := l.Balances()
	if err != nil {
		return err
	}
	fmt.Fprintln(d.Out, "   the balances ECommPay reports, read by the sync (each by its name, never added together):")
	var werr error
	printIndented(d.Out, func(w io.Writer) { werr = app.WriteBalances(w, rs) })
	return werr
}

// sync runs one sync of a, telling the progress hook.
func (d *demo) sync(ctx context.Context, a *app.App) (syncer.Result, error) {
	d.Progress(Progress{Step: "sync", Start: true, Text: "sync"})
	return a.Sync(ctx, app.SyncRequest{Progress: &news{d: d, step: "sync"}})
}

// news is the app.Progress the demo hands a long use case: it tells the
// progress hook how the step goes, the count at most every 1,024 units it
// is told one at a time.
type news struct {
	d    *demo
	step string
	n    int64
}

func (p *news) Total(int64) {}

func (p *news) Add(k int) {
	if p.n += int64(k); p.n&1023 == 0 {
		p.d.Progress(Progress{Step: p.step, Text: p.step, N: p.n})
	}
}

func (p *news) Set(n int64, what string) { p.d.Progress(Progress{Step: p.step, Text: what, N: n}) }
func (p *news) Done()                    { p.d.Progress(Progress{Step: p.step, Done: true}) }

// write writes the file at path of the demo's folder through write,
// never over the database.
func (d *demo) write(path string, write func(io.Writer) error) error {
	return usage((&export.Target{Path: path, Protect: slices.Clone(d.protect)}).Write(write))
}

// export writes an export's file at path, stopping once ctx is done; an
// error says "export:", as the export command's do.
func (d *demo) export(ctx context.Context, path string, write func(io.Writer) (int, error)) (int, error) {
	var n int
	err := d.write(path, func(w io.Writer) error {
		var err error
		n, err = write(app.StopWriter(ctx, w))
		return err
	})
	if err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}

// cardPurchaseLimit: the seeds give no times for card purchases; the demo
// says a day, so that its stuck purchases show as overdue.
var cardPurchaseLimit = config.Limit{Method: "Card partner", Type: "purchase",
	Base: config.Duration{Duration: 20 * time.Minute}, Limit: config.Duration{Duration: 24 * time.Hour}}

// printIndented prints what print writes, indented by three spaces.
func printIndented(w io.Writer, print func(io.Writer)) {
	var b strings.Builder
	print(&b)
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintf(w, "   %s\n", line)
	}
}

// demoTariffs is the fake's contract (fakeapi.Tariffs) as [[fees.tariff]]
// entries: by record type (a card partner's sale and capture are both a
// purchase, charged alike).
var demoTariffs = []config.Tariff{
	{Method: fakeapi.MethodADVCash, Type: domain.RecordPurchase, Percent: "2.5", Min: 50},
	{Method: fakeapi.MethodADVCash, Type: domain.RecordPayout, Percent: "1", Fixed: 30},
	{Method: fakeapi.MethodCardPartner, Type: domain.RecordPurchase, Percent: "1.8", Fixed: 50000},
	{Method: fakeapi.MethodCardPartner, Type: domain.RecordPayout, Percent: "1.2"},
}

// writeConfig leaves a config beside the demo database so that status,
// reconcile, export and import work on it. Its Data API is the demo's fake,
// which is gone when the demo ends: sync against it fails.
func writeConfig(path, db string) error {
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by "reconciled demo": status, reconcile, export and import work on
# the demo database. The fake Data API stopped with the demo, so "sync" (and
# the re-checks of "reconcile", skipped with --no-recheck) have nothing to talk to.
[storage]
path = %q

[data_api]
base_url = "http://127.0.0.1:9/unavailable"
token = %q
secret = "demo-secret-the-fake-is-gone"
projects = [580, 579]
`, db, Token)
	table := func(name string, m map[string]string) {
		fmt.Fprintf(&b, "\n[%s]\n", name)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&b, "%q = %q\n", k, m[k])
		}
	}
	table("records.columns", reconciled.DemoColumns)
	table("records.statuses", reconciled.DemoStatuses)
	table("records.types", reconciled.DemoTypes)
	l := cardPurchaseLimit
	fmt.Fprintf(&b, "\n[[reconcile.limit]]\nmethod = %q\ntype = %q\nbase = %q\nlimit = %q\n", l.Method, l.Type, l.Base.Duration, l.Limit.Duration)
	b.WriteString("\n[chargebacks]\nsync = true\n")
	b.WriteString("\n[fees]\nsync = true\n")
	for _, t := range demoTariffs {
		fmt.Fprintf(&b, "\n[[fees.tariff]]\nmethod = %q\ntype = %q\npercent = %q\nfixed = %d\nmin = %d\nmax = %d\n", t.Method, t.Type, t.Percent, t.Fixed, t.Min, t.Max)
	}
	return export.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// selfName is how the user can run this program again: "go run
// ./cmd/reconciled" when it was started that way, else "reconciled".
func selfName() string {
	if exe, err := os.Executable(); err == nil && strings.Contains(exe, "go-build") {
		return "go run ./cmd/reconciled"
	}
	return "reconciled"
}

// marker marks a folder made by the demo: only such a folder, or an empty
// one, is written into, so that a folder of real files cannot have a real
// database or config replaced.
const marker = ".reconciled-demo"

func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
	case err != nil:
		return err
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
			return &UsageError{fmt.Errorf("demo: %s is not empty and was not made by the demo; give an empty or new folder with --dir", dir)}
		}
		return nil
	}
	return os.WriteFile(filepath.Join(dir, marker), []byte("made by reconciled demo; its files here are replaced on the next run\n"), 0o640)
}
