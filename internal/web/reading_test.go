package web

import (
	"strings"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// Amounts are read by people: thousands apart (a narrow no-break space,
// so an amount never wraps), exact, with the currency.
func TestMoneyGroupsThousands(t *testing.T) {
	for _, c := range []struct {
		amount int64
		cur    string
		want   string
	}{
		{33231615038, "UZS", "332\u202f316\u202f150.38 UZS"},
		{-123456, "EUR", "-1\u202f234.56 EUR"},
		{99999, "EUR", "999.99 EUR"},
		{1234567, "JPY", "1\u202f234\u202f567 JPY"},
		{5, "XXX?", "5 XXX? (minor units)"},
	} {
		if got := money(c.amount, c.cur); got != c.want {
			t.Errorf("money(%d, %s) = %q, want %q", c.amount, c.cur, got, c.want)
		}
	}
}

// A record whose books gave no creation time says so, not "never".
func TestARecordWithoutACreationTime(t *testing.T) {
	rec := ledger.StoredRecord{Record: domain.Record{Source: "records", PaymentID: "p1", Type: domain.RecordPurchase,
		Status: domain.RecordPaid, Amount: domain.Money{Amount: 100, Currency: "EUR"}},
		FirstSeen: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), StatusSince: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	var b strings.Builder
	pg := paymentPage{ID: "p1", Found: true, When: whenIn(time.UTC), P: &app.Payment{ID: "p1", Records: []ledger.StoredRecord{rec}}}
	if err := pages().ExecuteTemplate(&b, "payment.html", view{Title: "Payment p1", Page: pg}); err != nil {
		t.Fatal(err)
	}
	body := b.String()
	i := strings.Index(body, `id="records"`)
	if i < 0 {
		t.Fatalf("no records section in\n%s", body)
	}
	rows := body[i:]
	if strings.Contains(rows, "<td>never</td>") || !strings.Contains(rows, "<td>not given</td>") {
		t.Errorf("the record's creation time reads wrong:\n%s", rows)
	}
}

// The note reads as a sentence, and one exception is one.
func TestNoteAndCounts(t *testing.T) {
	if got := sentence("from the reconciliation of 2026-12-02"); got != "From the reconciliation of 2026-12-02" {
		t.Errorf("sentence: %q", got)
	}
	if got := sentence("école"); got != "École" {
		t.Errorf("sentence: %q", got)
	}
	for n, want := range map[int]string{0: "0 open exceptions", 1: "1 open exception", 2: "2 open exceptions"} {
		var b strings.Builder
		if err := pages().ExecuteTemplate(&b, "count", n); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("%d: %q", n, b.String())
		}
	}
}
