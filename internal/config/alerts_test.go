package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const alertsMail = `
[mail]
host = "127.0.0.1"
from = "reconciled@example.test"
`

// [alerts] is off unless it names a recipient; on, its defaults are every
// exception code, a mail per 15 minutes at most, 50 listed.
func TestAlertsDefaults(t *testing.T) {
	c, ps := parse(t, minimal)
	if ps != nil || c.Alerts.On() {
		t.Fatalf("without [alerts]: on %v, %v", c.Alerts.On(), ps)
	}
	c, ps = parse(t, minimal+alertsMail+"[alerts]\nto = [\"finance@example.test\"]\n")
	if ps != nil {
		t.Fatal(ps)
	}
	a := c.Alerts
	if !a.On() || a.Interval.Duration != 15*time.Minute || a.MaxItems != 50 {
		t.Errorf("defaults: %+v", a)
	}
	want := []string{"amount_mismatch", "currency_mismatch", "status_mismatch", "missing_at_provider", "missing_in_records",
		"duplicate", "overdue", "fee_mismatch", "chargeback"}
	if got := a.Codes(); !slices.Equal(got, want) {
		t.Errorf("codes by default: %v, want %v", got, want)
	}
	c, ps = parse(t, minimal+alertsMail+"[alerts]\nto = [\"finance@example.test\"]\nresults = [\"status_mismatch\", \"amount_mismatch\"]\ninterval = \"1h\"\nmax_items = 5\n")
	if ps != nil {
		t.Fatal(ps)
	}
	if got := c.Alerts.Codes(); !slices.Equal(got, []string{"status_mismatch", "amount_mismatch"}) || c.Alerts.Interval.Duration != time.Hour || c.Alerts.MaxItems != 5 {
		t.Errorf("as set: %+v, codes %v", c.Alerts, got)
	}
	if !c.Alerts.Alerts("status_mismatch") || c.Alerts.Alerts("overdue") {
		t.Errorf("Alerts: status_mismatch %v, overdue %v", c.Alerts.Alerts("status_mismatch"), c.Alerts.Alerts("overdue"))
	}
}

// Each wrong value of [alerts] is a problem naming its key.
func TestAlertsRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		text, key, says string
	}{
		"no mail server":  {"[alerts]\nto = [\"finance@example.test\"]\n", "alerts.to", "set [mail] host"},
		"not an address":  {alertsMail + "[alerts]\nto = [\"finance\"]\n", "alerts.to", `"finance" is not an e-mail address`},
		"matched":         {alertsMail + "[alerts]\nto = [\"f@example.test\"]\nresults = [\"matched\"]\n", "alerts.results", `"matched" is no exception`},
		"pending":         {alertsMail + "[alerts]\nto = [\"f@example.test\"]\nresults = [\"pending\"]\n", "alerts.results", `"pending" is no exception`},
		"resolved":        {alertsMail + "[alerts]\nto = [\"f@example.test\"]\nresults = [\"resolved\"]\n", "alerts.results", `"resolved" is no exception`},
		"unknown code":    {alertsMail + "[alerts]\nto = [\"f@example.test\"]\nresults = [\"stats_mismatch\"]\n", "alerts.results", `"stats_mismatch" is not a result code`},
		"twice":           {alertsMail + "[alerts]\nto = [\"f@example.test\"]\nresults = [\"overdue\", \"overdue\"]\n", "alerts.results", `"overdue" is listed twice`},
		"empty list":      {alertsMail + "[alerts]\nto = [\"f@example.test\"]\nresults = []\n", "alerts.results", "leave the key out"},
		"short interval":  {alertsMail + "[alerts]\nto = [\"f@example.test\"]\ninterval = \"30s\"\n", "alerts.interval", `at least "1m"`},
		"no items":        {alertsMail + "[alerts]\nto = [\"f@example.test\"]\nmax_items = 0\n", "alerts.max_items", "1..500"},
		"too many items":  {alertsMail + "[alerts]\nto = [\"f@example.test\"]\nmax_items = 501\n", "alerts.max_items", "1..500"},
		"keys without to": {alertsMail + "[alerts]\nresults = [\"overdue\"]\n", "alerts.to", "no recipient"},
	} {
		t.Run(name, func(t *testing.T) {
			_, ps := parse(t, minimal+tc.text)
			if ps == nil {
				t.Fatalf("accepted:\n%s", tc.text)
			}
			for _, p := range ps {
				if p.Key == tc.key && strings.Contains(p.Msg, tc.says) {
					if p.Line == 0 && name != "keys without to" { // not in the file: no line
						t.Errorf("%s has no line", p.Key)
					}
					return
				}
			}
			t.Errorf("want a problem of %s saying %q, got:\n%v", tc.key, tc.says, ps)
		})
	}
}

func TestDurationShort(t *testing.T) {
	for d, want := range map[time.Duration]string{15 * time.Minute: "15m", time.Hour: "1h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s", 24 * time.Hour: "24h"} {
		if got := (Duration{d}).Short(); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}
