package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"reconciled/internal/ledger"
)

func writeBooks(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportStoresTheBooksAndAgainChangesNothing(t *testing.T) {
	a := testApp(t, nil, nil)
	path := writeBooks(t, "orders-11.csv", "payment_id,type,amount,currency,status,created_at\n"+
		"p-1,purchase,10.00,EUR,paid,2026-11-20 10:00:00\np-2,purchase,1234.56,EUR,paid,2026-11-20 11:00:00\n")
	ctx := context.Background()
	res, err := a.Import(ctx, ImportRequest{Path: path, Source: "records", User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if res.File.Format != "csv" || res.File.Lines != 2 || res.Stats.New != 2 {
		t.Fatalf("result %+v %+v, want 2 new lines of a csv", res.File, res.Stats)
	}
	var amounts []int64
	a.Ledger.ForEachRecord(func(r *ledger.StoredRecord) error {
		amounts = append(amounts, r.Amount.Amount)
		return nil
	})
	if len(amounts) != 2 || amounts[0]+amounts[1] != 1000+123456 {
		t.Fatalf("amounts %v, want 1000 and 123456 minor units", amounts)
	}
	imports, err := a.Ledger.Imports()
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) != 1 || imports[0].File != "orders-11.csv" || imports[0].User != "tester" || len(imports[0].SHA256) != 64 || !imports[0].At.Equal(now) {
		t.Fatalf("imports %+v, want this file by tester at now with its hash", imports)
	}
	again, err := a.Import(ctx, ImportRequest{Path: path, Source: "records", User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Stats.New != 0 || again.Stats.Updated != 0 || again.Stats.Unchanged != 2 {
		t.Fatalf("again: %+v, want 2 unchanged", again.Stats)
	}
}

func TestImportOfABadFileNamesItAsThePersonDidAndStoresNothing(t *testing.T) {
	a := testApp(t, nil, nil)
	path := writeBooks(t, "copy-4711.csv", "payment_id,type,amount,currency,status\np1,purchase,10.001,UAH,paid\n")
	_, err := a.Import(context.Background(), ImportRequest{Path: path, Name: "orders.csv", Source: "records", User: "tester"})
	if err == nil || !strings.HasPrefix(err.Error(), "import: ") || !strings.Contains(err.Error(), "orders.csv") || strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want an import error naming orders.csv, not the copy", err)
	}
	if n, err := a.Ledger.RecordCount(); err != nil || n != 0 {
		t.Fatalf("%d records stored (%v)", n, err)
	}
}

// Import reads the file before it opens the database: a file that does not
// read opens, creates or waits for none; one that reads is stored in the
// App open gives, and a terminal is told each step.
func TestImportOpensTheDatabaseOnlyForAFileThatRead(t *testing.T) {
	a := testApp(t, nil, nil)
	opened := 0
	open := func() (*App, error) { opened++; return a, nil }
	ctx := context.Background()
	bad := writeBooks(t, "orders.csv", "payment_id,type,amount,currency,status\np1,purchase,10.001,UAH,paid\n")
	if _, err := Import(ctx, a.Config, ImportRequest{Path: bad, Source: "records", User: "tester"}, open); err == nil || opened != 0 {
		t.Fatalf("a bad file: err %v, the database opened %d times; want an error and no open", err, opened)
	}
	good := writeBooks(t, "orders.csv", "payment_id,type,amount,currency,status,created_at\np-1,purchase,10.00,EUR,paid,2026-11-20 10:00:00\n")
	var steps []string
	res, err := Import(ctx, a.Config, ImportRequest{Path: good, Source: "records", User: "tester", Steps: func(s string) { steps = append(steps, s) }}, open)
	if err != nil || res.Stats.New != 1 || opened != 1 {
		t.Fatalf("a good file: %+v, %v, opened %d times; want 1 new record and one open", res.Stats, err, opened)
	}
	if want := []string{"reading " + good + "…", "storing 1 records…"}; !slices.Equal(steps, want) {
		t.Fatalf("steps %q, want %q", steps, want)
	}
	if n, _ := a.Ledger.RecordCount(); n != 1 {
		t.Fatalf("%d records stored, want 1", n)
	}
}

// Through the control socket Path is the daemon's copy: no error names it,
// whatever made it (here the file's extension, before any content is read).
func TestImportNamesTheFileAsThePersonDidInEveryError(t *testing.T) {
	a := testApp(t, nil, nil)
	path := writeBooks(t, "books.ods", "payment_id\n")
	_, err := Import(context.Background(), a.Config, ImportRequest{Path: path, Name: "books.ods", Source: "records", User: "tester"},
		func() (*App, error) { return a, nil })
	if err == nil || strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "books.ods") {
		t.Fatalf("err = %v, want one naming books.ods and not %s", err, path)
	}
}
