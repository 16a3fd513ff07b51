package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

func bal(name string, out bool, amount int64, cur string) domain.Balance {
	return domain.Balance{Name: name, Out: out, Money: domain.Money{Amount: amount, Currency: cur}}
}

// The report shows each project's balances by name, OUT first and marked
// payout, in major units with the currency's decimals and the time read
// in the report's zone; a failed last read is said under the table with
// the time of the balances shown. Without readings there is no table.
func TestReportShowsTheBalances(t *testing.T) {
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	read := time.Date(2026, 11, 25, 6, 50, 0, 0, time.UTC)
	r := Build(Input{Date: day, Now: day.Add(31 * time.Hour), Location: kyiv(t), Balances: []BalanceReading{
		{Project: 580, ReadAt: read, Balances: []domain.Balance{bal("OUT", true, 1010750, "AUD"), bal("OUT", true, -2500, "EUR"), bal("IN", false, 33000, "KWD")},
			LastError: "balances of projects [580]: /balance/get: HTTP 500", LastErrorAt: read.Add(10 * time.Minute), Failing: true},
		{Project: 579, ReadAt: read, Balances: []domain.Balance{bal("OUT", true, 123456789, "UZS")}},
		{Project: 1, LastError: "HTTP 403 forbidden", LastErrorAt: read, Failing: true},
	}})
	if len(r.Balances) != 3 || r.Balances[0].Project != 1 || r.Balances[2].Project != 580 {
		t.Fatalf("readings not by project: %+v", r.Balances)
	}
	var txt, h bytes.Buffer
	if err := r.Text(&txt); err != nil {
		t.Fatal(err)
	}
	if err := r.HTML(&h); err != nil {
		t.Fatal(err)
	}
	out := txt.String()
	for _, want := range []string{
		"Balances, as ECommPay reports them",
		"project  balance  kind    currency        amount  read at\n" +
			"      1  —                                        never\n" +
			"    579  OUT      payout  UZS       1 234 567.89  2026-11-25 08:50\n" +
			"    580  OUT      payout  AUD          10 107.50  2026-11-25 08:50\n" +
			"    580  OUT      payout  EUR             -25.00  2026-11-25 08:50\n" +
			"    580  IN       other   KWD             33.000  2026-11-25 08:50\n" +
			"project 1: the last read failed at 2026-11-25 08:50 (HTTP 403 forbidden); none was read before.\n" +
			"project 580: the last read failed at 2026-11-25 09:00 (balances of projects [580]: /balance/get: HTTP 500); the balances shown are those read at 2026-11-25 08:50.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the text lacks %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "Net settlement"), strings.Index(out, "Balances,"); i < 0 || j < i || j > strings.Index(out, "Open exceptions by age") {
		t.Errorf("the balances are not after the settlement:\n%s", out)
	}
	var found bool
	for _, n := range parseHTML(t, h.String()) {
		if n.Data == "h2" && textOf(n) == "Balances, as ECommPay reports them" {
			found = true
		}
	}
	if !found || !strings.Contains(h.String(), "10\u00a0107.50") || !strings.Contains(h.String(), "none was read before") {
		t.Errorf("the HTML lacks the balances:\n%s", h.String())
	}

	txt.Reset()
	if err := Build(Input{Date: day, Now: day.Add(31 * time.Hour)}).Text(&txt); err != nil || strings.Contains(txt.String(), "Balances") {
		t.Errorf("a report without readings: %v\n%s", err, txt.String())
	}
}
