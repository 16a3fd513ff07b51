package ledger

import (
	"testing"
	"time"

	"reconciled/internal/domain"
)

func rec(id, typ, status string, amount int64, origin string) domain.Record {
	return domain.Record{Source: "records", PaymentID: id, Type: typ, Status: status,
		Amount: domain.Money{Amount: amount, Currency: "UAH"}, Origin: origin}
}

func TestImportRecords(t *testing.T) {
	l := openTemp(t)
	file := []domain.Record{
		rec("o1", "purchase", "pending", 100, "a.csv:2"),
		rec("o2", "purchase", "paid", 200, "a.csv:3"),
		rec("o2", "purchase", "paid", 200, "a.csv:4"), // a duplicate line
		rec("o2", "refund", "paid", 50, "a.csv:5"),
	}
	st, err := l.ImportRecords(file, Import{File: "a.csv"}, t0)
	if err != nil || st != (ImportStats{New: 4}) {
		t.Fatalf("first import: %+v %v", st, err)
	}
	// The same file again changes nothing, even from another name.
	again := append([]domain.Record(nil), file...)
	for i := range again {
		again[i].Origin = "copy.csv"
	}
	if st, _ := l.ImportRecords(again, Import{}, t0.Add(time.Hour)); st != (ImportStats{Unchanged: 4}) {
		t.Fatalf("same records again: %+v", st)
	}
	// A later file: o1 is paid now, o2's purchase is no longer doubled.
	later := []domain.Record{rec("o1", "purchase", "paid", 100, "b.csv:2"), rec("o2", "purchase", "paid", 200, "b.csv:3")}
	if st, _ := l.ImportRecords(later, Import{}, t0.Add(2*time.Hour)); st != (ImportStats{Updated: 1, Unchanged: 1, Removed: 1}) {
		t.Fatalf("later file: %+v", st)
	}
	got, err := l.RecordsOf("o1", "", 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("RecordsOf(o1): %v %v", got, err)
	}
	r := got[0]
	if r.Status != "paid" || r.Origin != "b.csv:2" || len(r.Earlier) != 1 || r.Earlier[0].Status != "pending" ||
		!r.FirstSeen.Equal(t0) || !r.StatusSince.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("history of o1: %+v", r)
	}
	if got, _ := l.RecordsOf("o2", "", 0); len(got) != 2 {
		t.Errorf("o2 has %d records, want the purchase and the refund", len(got))
	}
	n := 0
	l.ForEachRecord(func(r *StoredRecord) error { n++; return nil })
	if n != 3 {
		t.Errorf("ForEachRecord saw %d records, want 3", n)
	}
	imports, _ := l.Imports()
	if len(imports) != 3 || imports[0].File != "a.csv" || imports[2].Removed != 1 {
		t.Errorf("import log %+v", imports)
	}
}

func TestRecordsByOtherIDsAndSources(t *testing.T) {
	l := openTemp(t)
	a := rec("", "payout", "paid", 5, "x")
	a.ProviderPaymentID = "pp-9"
	b := rec("", "purchase", "paid", 5, "x")
	b.OperationID = 12345678901234567
	c := rec("o1", "purchase", "paid", 5, "x")
	c.Source = "shop"
	d := rec("o1", "purchase", "paid", 5, "x") // same id and type, other source: not a duplicate line of c's file
	d.Source = "erp"
	if _, err := l.ImportRecords([]domain.Record{a, b, c, d}, Import{}, t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.RecordsOf("", "pp-9", 0); len(got) != 1 || got[0].ProviderPaymentID != "pp-9" {
		t.Errorf("by provider id: %+v", got)
	}
	if got, _ := l.RecordsOf("", "", 12345678901234567); len(got) != 1 || got[0].OperationID != 12345678901234567 {
		t.Errorf("by operation id: %+v", got)
	}
	got, _ := l.RecordsOf("o1", "", 0)
	if len(got) != 2 || got[0].Source == got[1].Source {
		t.Errorf("two sources: %+v", got)
	}
	if got, _ := l.RecordsOf("o", "", 0); len(got) != 0 {
		t.Errorf("a prefix of an id matched: %+v", got)
	}
}

func TestResolutionsAuditAndRuns(t *testing.T) {
	l := openTemp(t)
	r := domain.Resolution{ProjectID: 580, ID: "p1", Type: "purchase", Code: "amount_mismatch", Reason: "fee", User: "alice", At: t0, Fingerprint: "f1"}
	ev := domain.AuditEvent{At: t0, User: "alice", Action: domain.AuditResolve, ProjectID: 580, ID: "p1", Type: "purchase", Code: "amount_mismatch", Reason: "fee"}
	if err := l.SaveResolutions([]domain.Resolution{r}, []domain.AuditEvent{ev}); err != nil {
		t.Fatal(err)
	}
	rs, _ := l.Resolutions()
	if got := rs[r.Key()]; got.Fingerprint != "f1" || !got.At.Equal(t0) {
		t.Fatalf("resolutions %+v", rs)
	}
	r.ReopenedAt = t0.Add(time.Hour)
	if err := l.SaveRun(Run{At: t0, Items: 3, Counts: map[string]int{"matched": 3}}, []domain.Resolution{r},
		[]domain.AuditEvent{{At: t0, User: "reconcile", Action: domain.AuditReopen, ID: "p1"}}); err != nil {
		t.Fatal(err)
	}
	if rs, _ := l.Resolutions(); rs[r.Key()].ReopenedAt.IsZero() {
		t.Error("reopen not stored")
	}
	if run, ok, _ := l.LastRun(); !ok || run.Items != 3 {
		t.Errorf("last run %+v", run)
	}
	l.DeleteResolutions([]domain.ResolutionKey{r.Key()}, []domain.AuditEvent{{At: t0, User: "bob", Action: domain.AuditUnresolve, ID: "p1"}})
	if rs, _ := l.Resolutions(); len(rs) != 0 {
		t.Errorf("not deleted: %+v", rs)
	}
	audit, _ := l.Audit()
	if len(audit) != 3 || audit[0].Action != "resolve" || audit[1].Action != "reopen" || audit[2].User != "bob" {
		t.Errorf("audit %+v", audit)
	}
	if err := l.NoteRecheck(580, "p1", t0); err != nil {
		t.Fatal(err)
	}
	if at, _ := l.LastRecheck(580, "p1"); !at.Equal(t0) {
		t.Errorf("last recheck %v", at)
	}
	if at, _ := l.LastRecheck(579, "p1"); !at.IsZero() {
		t.Errorf("recheck of another project %v", at)
	}
}
