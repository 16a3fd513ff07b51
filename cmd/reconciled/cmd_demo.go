package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
	"reconciled/internal/progress"
	"reconciled/internal/records"
)

// The demo's fake Data API credentials: the token has the real one's 30
// characters; the secret is new every run.
const demoToken = "demo-token-000000000000000000x"

func parseDemo(f flagOut, args []string) (request, error) {
	fs := newFlagSet(f, "demo", "[--dir DIR] [--operations N]", "  reconciled demo\n  reconciled demo --dir /tmp/demo --operations 100000\n")
	dir := fs.String("dir", "reconciled-demo", "folder for the database, the exports and a config to explore them with")
	count := fs.Int("operations", 5000, "operations in the fake Data API")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if *count < 1 || *count > 10_000_000 {
		return nil, usagef("--operations %d: use 1..10000000", *count)
	}
	return process(func(m *Main, ctx context.Context) error { return m.demo(ctx, *dir, *count) }), nil
}

// demo runs the whole pipeline into dir, against a fake Data API holding
// count operations: on a config and a database of its own, its files
// written as a command's (the here env).
func (m *Main) demo(ctx context.Context, dir string, count int) error {
	if !m.verbose {
		m.setLogger(config.Log{Level: "warn", Format: "text"})
	}
	e := m.here()
	defer e.close()
	user := e.user()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := prepareDemoDir(abs); err != nil {
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
		fmt.Fprintf(m.Stdout, "removed the previous demo database %s\n", dbPath)
	}

	// 1. A fake Data API on loopback: three days of operations up to now.
	// Its clock stands still during the demo, so that the second sync
	// finds nothing changed.
	secret := make([]byte, 16)
	rand.Read(secret)
	now := m.Now().UTC()
	frozen := func() time.Time { return now }
	start := now.Truncate(24 * time.Hour).Add(-72 * time.Hour)
	fake, err := fakeapi.New(fakeapi.Config{
		Token: demoToken, Secret: []byte(hex.EncodeToString(secret)), Seed: 1,
		Start: start, Count: count, Step: now.Sub(start) / time.Duration(count), Now: frozen,
	})
	if err != nil {
		return err
	}
	if err := fake.Start(); err != nil {
		return err
	}
	defer fake.Close()
	fmt.Fprintf(m.Stdout, "1. fake ECommPay Data API on %s: %d operations since %s\n"+
		"   project 580 (ADVCash: EUR BRL GBP KZT RUB UAH USD) and project 579 (Uzbek card partner: UZS)\n",
		fake.URL(), count, start.Format(time.DateTime))

	cfg := config.Default()
	cfg.File = filepath.Join(abs, "reconciled.toml")
	cfg.Storage.Path = dbPath
	cfg.DataAPI.BaseURL = fake.URL()
	cfg.DataAPI.Token = config.NewSecret(demoToken)
	cfg.DataAPI.Secret = config.NewSecret(hex.EncodeToString(secret))
	cfg.DataAPI.Projects = []int64{580, 579}
	cfg.DataAPI.Start = start.Format(time.DateOnly)
	if err := cfg.Validate(); err != nil {
		return err
	}

	a, err := e.open(cfg, false)
	if err != nil {
		return err
	}

	// 2. Sync, then sync again: the second run re-reads the lookback window
	// and stores nothing new.
	fmt.Fprintf(m.Stdout, "2. sync into %s\n", dbPath)
	res, err := a.Sync(ctx, app.SyncRequest{Progress: progress.New(m.Stderr, "sync")})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "   %s\n   again: the lookback window is read again, nothing changed upstream, nothing new is stored\n", app.SyncLine(res))
	if res, err = a.Sync(ctx, app.SyncRequest{Progress: progress.New(m.Stderr, "sync")}); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "   %s\n", app.SyncLine(res))

	// 3. The merchant's books: sample records from testdata/, as a Russian
	// accounting system exports them (Windows-1251, ';', decimal commas,
	// Russian column names and words, mapped below as [records] would).
	recordsPath := filepath.Join(abs, "merchant-records.csv")
	if _, err := e.output(outFile{path: recordsPath}, func(w io.Writer) error { _, err := w.Write(reconciled.DemoRecords); return err }); err != nil {
		return err
	}
	cfg.Records.Columns, cfg.Records.Statuses, cfg.Records.Types = reconciled.DemoColumns, reconciled.DemoStatuses, reconciled.DemoTypes
	// The seeds give no times for card purchases; the demo sets a day.
	cfg.Reconcile.Limits = append(cfg.Reconcile.Limits, demoCardPurchaseLimit())
	cfg.Reconcile.RecheckInterval.Duration = 10 * time.Millisecond // the fake is local
	a = a.On(cfg)                                                  // the engine's settings from the config as it is now
	imp, err := a.Import(ctx, app.ImportRequest{Path: recordsPath, Source: records.DefaultSource, User: user, Steps: steps(m.Stderr)})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "3. imported %s (%s): %d lines: %d new\n", recordsPath, app.DescribeFormat(imp.File), imp.File.Lines, imp.Stats.New)

	// 4. Reconcile, asking the fake about late and missing payments first.
	fmt.Fprintln(m.Stdout, "4. reconcile")
	run, err := a.RunReconcile(ctx, app.RunRequest{Recheck: true, User: user})
	if err != nil {
		return err
	}
	printIndented(m.Stdout, func(w io.Writer) { app.WriteSummary(w, run.Summary) })
	fmt.Fprintf(m.Stdout, "   re-checked %d payments at the Data API first\n", run.Recheck.Asked)
	fmt.Fprintln(m.Stdout, "   ECommPay's rarer cases, one of each, as reconciled reads them:")
	words, err := a.Ledger.WordCounts()
	if err != nil {
		return err
	}
	if err := app.WriteRareCases(m.Stdout, run.Output.Items, words); err != nil {
		return err
	}

	// 5. Accept one exception by hand, as the finance team would, and
	// reconcile again: it shows as resolved.
	for _, it := range run.Output.Items {
		if it.Result != domain.ResultAmountMismatch {
			continue
		}
		rs, err := a.Resolve(ctx, app.ResolveRequest{ID: it.PaymentID, Reason: "bank-fee", Note: "resolved by the demo", User: user})
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "5. resolved %s %s (%s) as bank-fee, by %s; reconcile again:\n", rs[0].ID, rs[0].Type, rs[0].Code, rs[0].User)
		if run, err = a.RunReconcile(ctx, app.RunRequest{User: user}); err != nil {
			return err
		}
		printIndented(m.Stdout, func(w io.Writer) { app.WriteSummary(w, run.Summary) })
		break
	}

	// 6. Export the payment register and the reconciliation.
	opsPath := filepath.Join(abs, "operations.csv")
	n, err := writeExport(ctx, e, opsPath, func(w io.Writer) (int, error) {
		return a.Export(ctx, app.ExportRequest{What: "operations", Format: "csv"}, w)
	})
	if err != nil {
		return err
	}
	recPath := filepath.Join(abs, "reconciliation.csv")
	k, err := writeExport(ctx, e, recPath, func(w io.Writer) (int, error) {
		return export.ReconciliationCSV(w, run.Output.Items, export.ItemFilter{}, export.CSVOptions{})
	})
	if err != nil {
		return err
	}
	sumPath := filepath.Join(abs, "analytics.xlsx")
	summary2, err := a.Summary(ctx, app.SummaryRequest{Progress: progress.New(m.Stderr, "analytics")})
	if err != nil {
		return err
	}
	if _, err := writeExport(ctx, e, sumPath, func(w io.Writer) (int, error) { return 0, export.SummaryXLSX(w, summary2, export.XLSXOptions{}) }); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "6. exported %d operations to %s,\n   %d reconciled items to %s\n   and the analytics (with charts) to %s\n", n, opsPath, k, recPath, sumPath)

	// 7. The daily report of yesterday, as the daemon mails it: HTML body
	// and the XLSX attachment.
	dr, err := a.Report(ctx, a.Yesterday())
	if err != nil {
		return err
	}
	var reportFiles []string
	for _, ext := range []string{".html", ".xlsx"} {
		path := filepath.Join(abs, "report-"+dr.Day()+ext)
		if _, err := writeExport(ctx, e, path, func(w io.Writer) (int, error) { return 0, dr.WriteAs(w, ext) }); err != nil {
			return err
		}
		reportFiles = append(reportFiles, path)
	}
	fmt.Fprintf(m.Stdout, "7. the daily report: %s\n   written to %s\n   and %s\n\n", dr.Subject(), reportFiles[0], reportFiles[1])

	if err := writeDemoConfig(cfg.File, dbPath); err != nil {
		return err
	}
	self := selfName()
	fmt.Fprintf(m.Stdout, "Files are in %s. Explore them with:\n"+
		"  %s --config %s status\n"+
		"  %s --config %s stats --by method\n"+
		"  %s --config %s export --what reconciliation --format xlsx --result amount_mismatch --result overdue -o exceptions.xlsx\n"+
		"  %s --config %s export --what operations --format csv --method advcash --status decline\n"+
		"  %s --config %s report --date %s\n",
		abs, self, cfg.File, self, cfg.File, self, cfg.File, self, cfg.File, self, cfg.File, dr.Day())
	return nil
}

// demoCardPurchaseLimit: the seeds give no times for card purchases; the
// demo says a day, so that its stuck purchases show as overdue.
func demoCardPurchaseLimit() config.Limit {
	return config.Limit{Method: "Card partner", Type: "purchase",
		Base: config.Duration{Duration: 20 * time.Minute}, Limit: config.Duration{Duration: 24 * time.Hour}}
}

// printIndented prints what print writes, indented by three spaces.
func printIndented(w io.Writer, print func(io.Writer)) {
	var b strings.Builder
	print(&b)
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintf(w, "   %s\n", line)
	}
}

// writeDemoConfig leaves a config beside the demo database so that status,
// reconcile, export and import work on it. Its Data API is the demo's fake,
// which is gone when the demo ends: sync against it fails.
func writeDemoConfig(path, db string) error {
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
`, db, demoToken)
	table := func(name string, m map[string]string) {
		fmt.Fprintf(&b, "\n[%s]\n", name)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&b, "%q = %q\n", k, m[k])
		}
	}
	table("records.columns", reconciled.DemoColumns)
	table("records.statuses", reconciled.DemoStatuses)
	table("records.types", reconciled.DemoTypes)
	l := demoCardPurchaseLimit()
	fmt.Fprintf(&b, "\n[[reconcile.limit]]\nmethod = %q\ntype = %q\nbase = %q\nlimit = %q\n", l.Method, l.Type, l.Base.Duration, l.Limit.Duration)
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

// demoMarker marks a folder made by the demo: only such a folder, or an
// empty one, is written into, so that --dir pointed at real files cannot
// replace a real database or config.
const demoMarker = ".reconciled-demo"

func prepareDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
	case err != nil:
		return err
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return usagef("demo: %s is not empty and was not made by the demo; give an empty or new folder with --dir", dir)
		}
		return nil
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("made by reconciled demo; its files here are replaced on the next run\n"), 0o640)
}
