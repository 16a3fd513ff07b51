package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	for _, r := range res.File.Records {
		amounts = append(amounts, r.Amount.Amount)
	}
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

func TestReadImportReadsNoDatabase(t *testing.T) {
	a := testApp(t, nil, nil)
	path := writeBooks(t, "orders.csv", "payment_id,type,amount,currency,status,created_at\np-1,purchase,10.00,EUR,paid,2026-11-20 10:00:00\n")
	f, err := ReadImport(a.Config, ImportRequest{Path: path, Source: "records", User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := a.Ledger.RecordCount(); n != 0 || len(f.Records.Records) != 1 {
		t.Fatalf("read %d records, %d stored; want 1 read and none stored yet", len(f.Records.Records), n)
	}
	res, err := a.StoreImport(context.Background(), f)
	if err != nil || res.Stats.New != 1 {
		t.Fatalf("stored %+v, %v", res.Stats, err)
	}
}
