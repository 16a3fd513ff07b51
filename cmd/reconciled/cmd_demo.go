package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/export"
	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
	"reconciled/internal/syncer"
)

// The demo's fake Data API credentials: the token has the real one's 30
// characters; the secret is new every run.
const demoToken = "demo-token-000000000000000000x"

func (m *Main) runDemo(ctx context.Context, args []string) error {
	fs := m.newFlagSet("demo", "[--dir DIR] [--operations N]", "  reconciled demo\n  reconciled demo --dir /tmp/demo --operations 100000\n")
	dir := fs.String("dir", "reconciled-demo", "folder for the database, the exports and a config to explore them with")
	count := fs.Int("operations", 5000, "operations in the fake Data API")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *count < 1 || *count > 10_000_000 {
		return usagef("--operations %d: use 1..10000000", *count)
	}
	if !m.verbose {
		m.setLogger(config.Log{Level: "warn", Format: "text"})
	}
	abs, err := filepath.Abs(*dir)
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
		Start: start, Count: *count, Step: now.Sub(start) / time.Duration(*count), Now: frozen,
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
		fake.URL(), *count, start.Format(time.DateTime))

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

	l, err := ledger.Open(dbPath, ledger.Options{Logger: m.log()})
	if err != nil {
		return err
	}
	defer l.Close()

	// 2. Sync, then sync again: the second run re-reads the lookback window
	// and stores nothing new.
	fmt.Fprintf(m.Stdout, "2. sync into %s\n", dbPath)
	res, err := m.sync(ctx, cfg, l, syncer.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "   %s\n   again: the lookback window is read again, nothing changed upstream, nothing new is stored\n", syncSummary(res))
	if res, err = m.sync(ctx, cfg, l, syncer.Options{}); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "   %s\n", syncSummary(res))

	// 3. Export the payment register.
	csvPath := filepath.Join(abs, "operations.csv")
	n, err := m.exportOperations(ctx, l, csvPath, ledger.Range{}, export.Filter{}, export.CSVOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "3. exported %d operations to %s\n\n", n, csvPath)

	if err := writeDemoConfig(cfg.File, dbPath); err != nil {
		return err
	}
	self := selfName()
	fmt.Fprintf(m.Stdout, "Files are in %s. Explore them with:\n"+
		"  %s --config %s status\n"+
		"  %s --config %s export --what operations --format csv --method advcash --status decline\n",
		abs, self, cfg.File, self, cfg.File)
	return nil
}

// writeDemoConfig leaves a config beside the demo database so that status
// and export can be tried on it. Its Data API is the demo's fake, which is
// gone when the demo ends: sync against it fails.
func writeDemoConfig(path, db string) error {
	text := fmt.Sprintf(`# Written by "reconciled demo": status and export work on the demo database.
# The fake Data API stopped with the demo, so "sync" has nothing to talk to.
[storage]
path = %q

[data_api]
base_url = "http://127.0.0.1:9/unavailable"
token = %q
secret = "demo-secret-the-fake-is-gone"
projects = [580, 579]
`, db, demoToken)
	return export.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, text)
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
