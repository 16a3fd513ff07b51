package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
)

// now is the tests' clock: a fixed instant, so the engine's judgements
// (pending, overdue) do not depend on when the test runs.
var now = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// testApp is an App on a real ledger in a temporary folder, its config
// data_api.tz in Berlin (UTC+1 in November), holding ops and recs.
func testApp(t *testing.T, ops []domain.Operation, recs []domain.Record) *App {
	t.Helper()
	cfg := config.Default()
	cfg.DataAPI.TZ = "Europe/Berlin"
	cfg.Storage.Path = filepath.Join(t.TempDir(), "reconciled.db")
	l, err := ledger.Open(cfg.Storage.Path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if len(ops) > 0 {
		if _, err := l.UpsertPage(ops, now); err != nil {
			t.Fatal(err)
		}
	}
	if len(recs) > 0 {
		if _, err := l.ImportRecords(recs, ledger.Import{At: now, User: "tester", File: "books.csv", Format: "csv", Lines: len(recs)}, now); err != nil {
			t.Fatal(err)
		}
	}
	return New(App{Config: cfg, Ledger: l, Now: func() time.Time { return now }})
}

// sale is a successful card purchase of amount minor units of EUR.
func sale(id uint64, payment string, at time.Time, amount int64) domain.Operation {
	eur := domain.Money{Amount: amount, Currency: "EUR"}
	return domain.Operation{ProjectID: 7, OperationID: id, PaymentID: payment, PaymentType: "purchase", PaymentStatus: "success",
		OperationType: "sale", OperationStatus: "success", PaymentMethod: "card", CreatedAt: at, CompletedAt: at,
		SumInitial: eur, SumConverted: eur}
}

func paid(payment string, at time.Time, amount int64) domain.Record {
	return domain.Record{Source: "records", PaymentID: payment, Type: domain.RecordPurchase, Status: domain.RecordPaid,
		Amount: domain.Money{Amount: amount, Currency: "EUR"}, CreatedAt: at, Origin: "books.csv:2"}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%v in\n%s", err, b)
	}
	return rows
}

func TestExportReconciliationRunsTheEngineOnWhatIsStored(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-ok", at, 1000), sale(2, "p-short", at, 1000)},
		[]domain.Record{paid("p-ok", at, 1000), paid("p-short", at, 900)})

	var all bytes.Buffer
	n, err := a.Export(context.Background(), ExportRequest{What: "reconciliation", Format: "csv"}, &all)
	if err != nil {
		t.Fatal(err)
	}
	if rows := readCSV(t, all.Bytes()); n != 2 || len(rows) != 3 {
		t.Fatalf("%d items, %d lines; want 2 items and a header:\n%s", n, len(rows), all.String())
	}

	var mismatch bytes.Buffer
	n, err = a.Export(context.Background(), ExportRequest{What: "reconciliation", Format: "csv", Delimiter: ';',
		Results: []string{domain.ResultAmountMismatch}}, &mismatch)
	if err != nil {
		t.Fatal(err)
	}
	out := mismatch.String()
	if n != 1 || !strings.Contains(out, "p-short") || strings.Contains(out, "p-ok") || !strings.Contains(out, ";") {
		t.Fatalf("amount_mismatch only, ';'-separated: %d rows\n%s", n, out)
	}
}

func TestExportOperationsWindowIsInDataAPIZone(t *testing.T) {
	// 2026-11-20 in Berlin is [19 Nov 23:00, 20 Nov 23:00) UTC.
	a := testApp(t, []domain.Operation{
		sale(1, "before", time.Date(2026, 11, 19, 22, 59, 0, 0, time.UTC), 100),
		sale(2, "first", time.Date(2026, 11, 19, 23, 0, 0, 0, time.UTC), 100),
		sale(3, "last", time.Date(2026, 11, 20, 22, 59, 0, 0, time.UTC), 100),
		sale(4, "after", time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC), 100),
	}, nil)
	berlin := a.Config.Zone()
	var p countingProgress
	var b bytes.Buffer
	n, err := a.Export(context.Background(), ExportRequest{What: "operations", Format: "csv",
		From: time.Date(2026, 11, 20, 0, 0, 0, 0, berlin), To: time.Date(2026, 11, 21, 0, 0, 0, 0, berlin),
		Progress: &p}, &b)
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n != 2 || !strings.Contains(out, "first") || !strings.Contains(out, "last") || strings.Contains(out, "before") || strings.Contains(out, "after") {
		t.Fatalf("want first and last only, got %d rows:\n%s", n, out)
	}
	if p.total != 4 || p.added < 2 || p.done != 1 {
		t.Fatalf("progress: total %d, %d added, done %d times; want the 4 stored, 2 or more read, done once", p.total, p.added, p.done)
	}
	if !strings.Contains(out, "2026-11-20 00:00:00") {
		t.Fatalf("times are not written in data_api.tz:\n%s", out)
	}
}

func TestExportFilterAndSummaryByMethod(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	other := sale(2, "p2", at, 500)
	other.PaymentMethod = "advcash"
	a := testApp(t, []domain.Operation{sale(1, "p1", at, 1000), other}, nil)
	var b bytes.Buffer
	if _, err := a.Export(context.Background(), ExportRequest{What: "summary", Format: "csv", By: "method",
		Filter: export.Filter{Methods: []string{"advcash"}}}, &b); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, b.Bytes())
	var keys []string
	for _, r := range rows[1:] {
		keys = append(keys, r[0])
	}
	if !slices.Equal(keys, []string{"advcash"}) {
		t.Fatalf("summary by method of advcash alone: rows %q\n%s", keys, b.String())
	}
	s, err := a.Summary(context.Background(), SummaryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Total.Operations != 2 || len(s.ByDay) != 1 || s.ByDay[0].Key != "2026-11-20" {
		t.Fatalf("summary of all: %d operations, days %+v", s.Total.Operations, s.ByDay)
	}
}

func TestExportRefusesWhatItCannotWrite(t *testing.T) {
	a := testApp(t, []domain.Operation{sale(1, "p1", now, 100)}, nil)
	for _, req := range []ExportRequest{
		{What: "everything", Format: "csv"},
		{What: "operations", Format: "pdf"},
		{What: "audit", Format: "xlsx"},
	} {
		var b bytes.Buffer
		if _, err := a.Export(context.Background(), req, &b); err == nil || b.Len() > 0 {
			t.Errorf("%+v: err %v, wrote %d bytes; want an error and nothing written", req, err, b.Len())
		}
	}
}

func TestEngineConfigIsBuiltOnceWithTheClocksNow(t *testing.T) {
	a := testApp(t, nil, nil)
	a.Config.Reconcile.AmountTolerance = 12345 // after New: not this App's
	c := a.EngineConfig()
	if !c.Now.Equal(now) || c.Now.Location() != time.UTC {
		t.Fatalf("Now %v, want %v in UTC", c.Now, now)
	}
	if c.AmountTolerance == 12345 || c.Vocabulary == nil {
		t.Fatalf("engine settings not built at New: tolerance %d, vocabulary %v", c.AmountTolerance, c.Vocabulary)
	}
}

func TestStatusReadsTheLedger(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	odd := sale(2, "p2", at, 100)
	odd.OperationType = "teleport"
	a := testApp(t, []domain.Operation{sale(1, "p1", at, 100), odd}, []domain.Record{paid("p1", at, 100)})
	if err := a.Ledger.RecordSync([]int64{7}, now, nil); err != nil {
		t.Fatal(err)
	}
	st, err := a.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Database != a.Config.Storage.Path || st.Size <= 0 {
		t.Errorf("database %q (%d bytes)", st.Database, st.Size)
	}
	if len(st.Projects) != 1 || st.Projects[0].Project != 7 || st.Operations != 2 {
		t.Errorf("projects %+v, operations %d; want project 7 with 2", st.Projects, st.Operations)
	}
	if len(st.Unknown) != 1 || st.Unknown[0].Word != "teleport" {
		t.Errorf("unknown words %+v, want teleport", st.Unknown)
	}
	if st.Records != 1 || st.Import == nil || st.Import.File != "books.csv" || st.Import.New != 1 {
		t.Errorf("records %d, last import %+v", st.Records, st.Import)
	}
	if st.LastRun != nil {
		t.Errorf("no run saved, yet LastRun %+v", st.LastRun)
	}

	run := ledger.Run{At: now, Items: 4, Counts: map[string]int{domain.ResultMatched: 1, domain.ResultAmountMismatch: 2, domain.ResultMissingInRecords: 1}}
	if err := a.Ledger.SaveRun(run, nil, nil); err != nil {
		t.Fatal(err)
	}
	if st, err = a.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st.LastRun == nil || st.LastRun.Items != 4 || st.Exceptions != 3 {
		t.Errorf("last run %+v with %d exceptions; want 4 items, 3 exceptions", st.LastRun, st.Exceptions)
	}
}

// countingProgress counts what a use case tells its Progress.
type countingProgress struct {
	total       int64
	added, sets int
	last        string
	lastN       int64
	done        int
}

func (p *countingProgress) Total(n int64) { p.total = n }
func (p *countingProgress) Add(k int)     { p.added += k }
func (p *countingProgress) Set(n int64, what string) {
	p.sets++
	p.last = what
	p.lastN = n
}
func (p *countingProgress) Done() { p.done++ }
