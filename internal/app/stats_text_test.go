package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"reconciled/internal/analytics"
	"reconciled/internal/domain"
)

// WriteStats is what `stats` prints, to the byte: the totals, then each
// table with its title (volumes with thin spaces, shares with a decimal).
func TestWriteStatsPrintsTheTotalsAndTheTables(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	b := analytics.NewBuilder(time.UTC)
	for i, st := range []string{"success", "success", "decline"} {
		eur := domain.Money{Amount: 123456 + int64(i), Currency: "EUR"}
		b.Add(&domain.Operation{ProjectID: 7, OperationID: uint64(i + 1), PaymentID: fmt.Sprint("p", i), PaymentType: "purchase", PaymentStatus: st,
			OperationType: "sale", OperationStatus: st, PaymentMethod: "card", CreatedAt: at, CompletedAt: at.Add(time.Minute),
			SumInitial: eur, SumConverted: eur, Code: "100", Message: "declined by the bank"})
	}
	var w strings.Builder
	WriteStats(&w, b.Summary(time.Time{}, time.Time{}), "method")
	want := "3 operations: 2 successful, 1 declined, 0 not final; approval 66.7%\n\nby method\n" +
		"method  operations  success  declined  pending  approval  successful volume\n" +
		"card    3           2        1         0        66.7%     2\u202f469.13 EUR\n\n" +
		"approval by method and day\nmethod  day         success  declined  approval\ncard    2026-11-20  2        1         66.7%\n\n" +
		"top decline codes\ncode  message               count  share\n100   declined by the bank  1      100.0%\n\n" +
		"successful volume per currency\ncurrency  purchases  volume        payouts  volume    refunds  volume\n" +
		"EUR       2          2\u202f469.13 EUR  0        0.00 EUR  0        0.00 EUR\n\n" +
		"time to final status\nmethod  final operations  median  p95\ncard    3                 1m0s    1m0s\n"
	if got := w.String(); got != want {
		t.Errorf("stats:\n%s\nwant:\n%s", got, want)
	}
}

// What a callback or a page brings is the sender's text: a decline
// message, a code or a method holding terminal escapes (a title set, the
// clipboard written, the screen cleared), a NUL or a tab reaches `stats`
// on a person's terminal as text only, in its column.
func TestWriteStatsPrintsNoControlCharacter(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	b := analytics.NewBuilder(time.UTC)
	eur := domain.Money{Amount: 100, Currency: "EUR"}
	b.Add(&domain.Operation{ProjectID: 7, OperationID: 1, PaymentID: "p1", PaymentType: "purchase", PaymentStatus: "decline",
		OperationType: "sale", OperationStatus: "decline", PaymentMethod: "card\x1b[2J", CreatedAt: at, CompletedAt: at.Add(time.Minute),
		SumInitial: eur, SumConverted: eur, Code: "1\x00", Message: "\x1b]52;c;ZXZpbA==\x07declined\tby the bank\x1b]0;owned\x07"})
	var w strings.Builder
	WriteStats(&w, b.Summary(time.Time{}, time.Time{}), "method")
	got := w.String()
	for _, r := range got {
		if r != '\n' && (r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0) {
			t.Fatalf("stats prints %q:\n%q", r, got)
		}
	}
	if !strings.Contains(got, "declined by the bank") || !strings.Contains(got, "card ") {
		t.Errorf("the text is gone:\n%s", got)
	}
}
