package app

import (
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

func TestGroupThousands(t *testing.T) {
	for in, want := range map[string]string{
		"6057284690.32 UZS": "6\u202F057\u202F284\u202F690.32 UZS",
		"-1234.00 UAH":      "-1\u202F234.00 UAH",
		"999.99 EUR":        "999.99 EUR",
		"1000 KZT":          "1\u202F000 KZT",
		"":                  "",
	} {
		if got := GroupThousands(in); got != want {
			t.Errorf("GroupThousands(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteSummaryListsEachResultWithItsAmounts(t *testing.T) {
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	run := ledger.Run{Items: 3, From: from,
		Counts:  map[string]int{domain.ResultMatched: 2, domain.ResultAmountMismatch: 1},
		Amounts: map[string]map[string]int64{domain.ResultMatched: {"UAH": 123456, "EUR": 2050}, domain.ResultAmountMismatch: {"UAH": 100}}}
	var b strings.Builder
	WriteSummary(&b, run)
	got := b.String()
	for _, want := range []string{
		"reconciled 3 items created in [2026-11-01 00:00:00, …)\n",
		"matched          2      20.50 EUR, 1\u202F234.56 UAH\n",
		"amount_mismatch  1      1.00 UAH\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}

// Errors quoted by status are other programs' text (a Data API answer, a
// proxy's page, an SMTP reply): no escape sequence, NUL or tab of theirs
// reaches a person's terminal through status.
func TestWriteStatusPrintsNoControlCharacter(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	bad := "\x1b]0;owned\x07HTTP 502\x00: \x1b[2Jgateway\tdown"
	failing := ledger.Stream{LastAttempt: at, LastError: bad, LastErrorAt: at}
	st := &Status{Database: "reconciled.db",
		Projects: []ledger.SyncState{{Project: 7, Stream: failing, Fees: failing, Chargebacks: failing}},
		Balances: []ledger.BalanceReading{{Project: 7, Stream: failing}}, BalancesSync: true,
		Schedules: map[string]ledger.JobRun{"sync": {Started: at, Error: bad}},
		Mail:      []ledger.Mail{{ID: "m1", Subject: "report", To: []string{"a@example.com"}, Queued: at, Attempts: 1, LastError: bad}},
	}
	var b strings.Builder
	if err := WriteStatus(&b, st); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, r := range got {
		if r != '\n' && (r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0) {
			t.Fatalf("status prints %q:\n%q", r, got)
		}
	}
	if n := strings.Count(got, "HTTP 502"); n < 5 {
		t.Errorf("the errors are not shown (%d):\n%s", n, got)
	}
}
