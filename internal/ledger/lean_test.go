package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"reconciled/internal/domain"
)

// The lean reads give what the full ones give, less what the
// reconciliation never reads; strings kept after the read stay whole
// (they live in shared blocks, not in the reused value).
func TestLeanReadsKeepWhatTheEngineReads(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var page []domain.Operation
	for i := range 3000 {
		op := sale(20000000000000000+uint64(i), fmt.Sprintf("pay-%d", i), "success")
		op.AccountNumber, op.CustomerID = "4111 11** **** 1111", fmt.Sprintf("cust-%d", i)
		op.ProviderPaymentID, op.Code, op.Message = fmt.Sprintf("prov-%d", i), "3", fmt.Sprintf("a message of its own %d", i%7)
		op.CompletedAt = t0
		page = append(page, op)
	}
	if _, err := l.UpsertPage(page, t0); err != nil {
		t.Fatal(err)
	}
	var recs []domain.Record
	for i := range 2000 {
		r := rec(fmt.Sprintf("pay-%d", i), "purchase", "paid", int64(100+i), fmt.Sprintf("a.csv:%d", i+2))
		r.CustomerID, r.ProviderPaymentID, r.Method = "cust", fmt.Sprintf("prov-%d", i), "card"
		if i%3 == 0 {
			r.Source = "second"
		}
		recs = append(recs, r)
	}
	if _, err := l.ImportRecords(recs, Import{File: "a.csv"}, t0); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var full, lean []domain.Operation
	if err := l.ForEachByID(ctx, func(op *domain.Operation) error { full = append(full, *op); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := l.ForEachByIDLean(ctx, func(op *domain.Operation) error { lean = append(lean, *op); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(full) != 3000 || len(lean) != len(full) {
		t.Fatalf("%d operations, %d lean", len(full), len(lean))
	}
	for i := range full {
		want := full[i]
		want.AccountNumber, want.CustomerID = "", ""
		if lean[i] != want {
			t.Fatalf("operation %d:\n lean %+v\nwant %+v", i, lean[i], want)
		}
	}
	var fullR, leanR []StoredRecord
	if err := l.ForEachRecord(func(r *StoredRecord) error { fullR = append(fullR, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := l.ForEachRecordLean(func(r *StoredRecord) error { leanR = append(leanR, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(fullR) != 2000 || len(leanR) != len(fullR) {
		t.Fatalf("%d records, %d lean", len(fullR), len(leanR))
	}
	for i := range fullR {
		want := fullR[i].Record
		want.CustomerID = ""
		if leanR[i].Record != want || !leanR[i].FirstSeen.Equal(fullR[i].FirstSeen) || leanR[i].FirstSeen.IsZero() {
			t.Fatalf("record %d:\n lean %+v\nwant %+v (first seen %v, %v)", i, leanR[i].Record, want, leanR[i].FirstSeen, fullR[i].FirstSeen)
		}
	}
}
