package web

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// The overview's results table and its open exceptions by age are of one
// stored result, even when a reconcile lands between the page's reads:
// the table said three amount mismatches while the ages, read after the
// reconcile, counted two open exceptions, and no note said why.
func TestTheOverviewIsOfOneResult(t *testing.T) {
	a := emptyApp(t)
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var ops []domain.Operation
	var recs []domain.Record
	for i := range 3 {
		id := "p-" + strconv.Itoa(i)
		m := domain.Money{Amount: 1000, Currency: "EUR"}
		ops = append(ops, domain.Operation{ProjectID: 7, OperationID: uint64(100 + i), PaymentID: id, PaymentType: "purchase",
			PaymentStatus: "success", OperationType: "sale", OperationStatus: "success", PaymentMethod: "card",
			CreatedAt: at, CompletedAt: at, SumInitial: m, SumConverted: m})
		recs = append(recs, domain.Record{PaymentID: id, Type: "purchase", Status: "paid", Method: "card", CreatedAt: at,
			Amount: domain.Money{Amount: 1007, Currency: "EUR"}})
	}
	if _, err := a.Ledger.UpsertPage(ops, at); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ledger.ImportRecords(recs, ledger.Import{At: at, User: "t", File: "books.csv", Format: "csv", Lines: 3}, at); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RunReconcile(context.Background(), app.RunRequest{User: "t"}); err != nil {
		t.Fatal(err)
	}
	defer func() { betweenReads = nil }()
	betweenReads = func() {
		betweenReads = nil
		fixed := recs[0]
		fixed.Amount.Amount = 1000
		if _, err := a.Ledger.ImportRecords([]domain.Record{fixed}, ledger.Import{At: at, User: "t", File: "fix.csv", Format: "csv", Lines: 1}, at); err != nil {
			t.Error(err)
		}
		if _, err := a.RunReconcile(context.Background(), app.RunRequest{User: "t"}); err != nil {
			t.Error(err)
		}
	}
	s := New(Options{App: func() *app.App { return a }, FirstWait: 10 * time.Second})
	defer s.Drop()
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1/", nil))
	page := w.Body.String()
	table := regexp.MustCompile(`data-code="amount_mismatch" data-currency="EUR" class="exc"><td>.*?</td><td>EUR</td><td class="n">(\d+)</td>`).FindStringSubmatch(page)
	ages := regexp.MustCompile(`Open exceptions by age \((\d+)\)`).FindStringSubmatch(page)
	if table == nil || ages == nil {
		t.Fatalf("no results table or ages on the page (%d):\n%s", w.Code, page)
	}
	if table[1] != ages[1] || table[1] != "2" {
		t.Errorf("the table says %s amount mismatches, the ages %s open exceptions; want 2 and 2, of the result after the reconcile:\n%s", table[1], ages[1], page)
	}
}
