package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// testCards are the card numbers the tests serve or store unmasked.
var testCards = []string{"4111111111111111", "5555555555554444", "4000000000000000002"}

// fullCard returns a card of testCards that text shows in full, with or
// without spaces or dashes between its digits, or "".
func fullCard(text string) string {
	digits := regexp.MustCompile(`[ -]`).ReplaceAllString(text, "")
	for _, c := range testCards {
		if strings.Contains(digits, c) {
			return c
		}
	}
	return ""
}

// Card numbers a provider did not mask, or only marked as masked
// ("4111111111111111*"), in account_number or in a message, are masked as
// they arrive: the database file, the exports and stats never hold them.
func TestCardNumbersAreMaskedOnTheWayIn(t *testing.T) {
	w := newWorld(t, 400, time.Minute, "")
	accounts := []string{"4111111111111111*", "4111 1111 1111 1111...", "5555-5555-5555-4444…", "4000000000000000002"}
	w.fake.SetEdit(func(op *domain.Operation) {
		switch op.OperationID % 5 {
		case 0:
			op.AccountNumber = accounts[op.OperationID/5%uint64(len(accounts))]
		case 1:
			if op.Code != "" && op.Code != "0" {
				op.Message = "Card 4111 1111 1111 1111 was declined by the issuer"
			}
		case 2:
			if op.Code != "" && op.Code != "0" {
				op.Message = "declined: pan 5555555555554444* expired"
			}
		}
	})
	w.mustRun(t, "sync")
	db, err := os.ReadFile(w.db)
	if err != nil {
		t.Fatal(err)
	}
	if m := fullCard(string(db)); m != "" {
		t.Errorf("the database file holds %s", m)
	}
	csv := w.mustRun(t, "export", "--what", "operations", "--format", "csv")
	for _, want := range []string{"411111******1111*", "4111 11** **** 1111...", "5555-55**-****-4444…", "400000*********0002"} {
		if !strings.Contains(csv, want) {
			t.Errorf("the export lacks the masked account %q", want)
		}
	}
	if !strings.Contains(csv, "Card 4111 11** **** 1111 was declined by the issuer") {
		t.Error("the export lacks the masked message")
	}
	stats := w.mustRun(t, "stats")
	for name, text := range map[string]string{"export": csv, "stats": stats} {
		if m := fullCard(text); m != "" {
			t.Errorf("%s shows a card number in full: %q", name, m)
		}
	}
}

// An earlier release stored "4111111111111111*" as it came: exports and
// stats mask it on the way out.
func TestCardNumbersStoredBeforeAreMaskedOnTheWayOut(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	l, err := ledger.Open(w.db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := start.Add(time.Hour)
	var ops []domain.Operation
	for i, acc := range []string{"4111111111111111*", "4111 1111 1111 1111…"} {
		ops = append(ops, domain.Operation{ProjectID: 580, OperationID: uint64(10000000000000000 + i), PaymentID: fmt.Sprintf("p-%d", i),
			OperationType: "sale", OperationStatus: "decline", PaymentType: "purchase", PaymentStatus: "decline", PaymentMethod: "card",
			AccountNumber: acc, Code: "100", Message: "card 5555555555554444 refused",
			CreatedAt: base, CompletedAt: base.Add(time.Minute), SumInitial: domain.Money{Amount: 100, Currency: "EUR"}})
	}
	if _, err := l.UpsertPage(ops, base); err != nil {
		t.Fatal(err)
	}
	l.Close()
	csv := w.mustRun(t, "export", "--what", "operations", "--format", "csv")
	stats := w.mustRun(t, "stats", "--from", "2026-11-01")
	xlsx := filepath.Join(w.dir, "ops.xlsx")
	w.mustRun(t, "export", "--what", "operations", "--format", "xlsx", "-o", xlsx)
	cells := xlsxText(t, xlsx)
	summaryXLSX := filepath.Join(w.dir, "summary.xlsx")
	w.mustRun(t, "export", "--what", "summary", "--format", "xlsx", "--from", "2026-11-01", "-o", summaryXLSX)
	summary := xlsxText(t, summaryXLSX)
	if !strings.Contains(summary, "card 555555******4444 refused") || !strings.Contains(stats, "card 555555******4444 refused") {
		t.Errorf("the summary's or stats' declines lack the masked message:\n%s", stats)
	}
	// Items whose reasons quote the message: a failure both sides agree
	// on, and one the books call paid.
	books := filepath.Join(w.dir, "books.csv")
	os.WriteFile(books, []byte("payment_id,type,amount,currency,status,created_at\np-0,purchase,1.00,EUR,failed,2026-11-01 01:00:00\np-1,purchase,1.00,EUR,paid,2026-11-01 01:00:00\n"), 0o600)
	w.mustRun(t, "import", books)
	w.mustRun(t, "reconcile", "--no-recheck")
	reconciliation := w.mustRun(t, "export", "--what", "reconciliation", "--format", "csv")
	report := w.mustRun(t, "report", "--date", "2026-11-01")
	if !strings.Contains(reconciliation, "card 555555******4444 refused") {
		t.Errorf("the reconciliation's reasons lack the masked message:\n%s", reconciliation)
	}
	for name, text := range map[string]string{"export": csv, "stats": stats, "summary": summary, "xlsx": cells, "reconciliation": reconciliation, "report": report} {
		if m := fullCard(text); m != "" {
			t.Errorf("%s shows a card number in full: %q", name, m)
		}
	}
	if !strings.Contains(csv, "411111******1111*") || !strings.Contains(csv, "card 555555******4444 refused") {
		t.Errorf("the export lacks the masked values:\n%s", csv)
	}
	if !strings.Contains(cells, "411111******1111*") {
		t.Errorf("the XLSX lacks the masked account")
	}
}

// xlsxText is every cell of every sheet of an XLSX file, a line per row.
func xlsxText(t *testing.T, path string) string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			b.WriteString(strings.Join(r, "\t") + "\n")
		}
	}
	return b.String()
}
