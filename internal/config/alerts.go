package config

import (
	"net/mail"
	"slices"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// Alerts is [alerts]: a mail of the new exceptions of the chosen result
// codes, as reconciles find them, at most one per interval
// (internal/app's alerts.go). Off unless To lists a recipient.
type Alerts struct {
	To []string `toml:"to"` // the recipients; none: no alerts
	// Results are the result codes alerted, exceptions only; nil: every
	// exception code.
	Results []string `toml:"results"`
	// Interval: at most one mail per interval; what is found meanwhile
	// waits for the next.
	Interval Duration `toml:"interval"`
	// MaxItems: exceptions listed in one mail; the rest are counted, with
	// the export that lists them.
	MaxItems int `toml:"max_items"`
}

// MaxAlertItems bounds alerts.max_items: a mail, not a register.
const MaxAlertItems = 500

// defaultAlerts are [alerts]'s defaults.
func defaultAlerts() Alerts {
	return Alerts{Interval: Duration{15 * time.Minute}, MaxItems: 50}
}

// On says whether alerts are mailed: when they have a recipient.
func (a Alerts) On() bool { return len(a.To) > 0 }

// Codes are the result codes alerted, in the order summaries show them
// (domain.Results) when the config lists none, else as it lists them.
func (a Alerts) Codes() []string {
	if a.Results != nil {
		return a.Results
	}
	var out []string
	for _, r := range domain.Results {
		if domain.IsException(r) {
			out = append(out, r)
		}
	}
	return out
}

// Alerts says whether result is one of the codes alerted.
func (a Alerts) Alerts(result string) bool {
	if a.Results == nil {
		return domain.IsException(result)
	}
	return slices.Contains(a.Results, result)
}

// validateAlerts checks [alerts]: recipients, codes, interval, items.
func (c *Config) validateAlerts(bad func(key, format string, args ...any)) {
	a := &c.Alerts
	if !a.On() {
		if a.Results != nil || a.Interval != defaultAlerts().Interval || a.MaxItems != defaultAlerts().MaxItems {
			bad("alerts.to", "no recipient: list the addresses alerts go to, or leave [alerts] out")
		}
		return
	}
	for _, to := range a.To {
		if _, err := mail.ParseAddress(to); err != nil {
			bad("alerts.to", "%q is not an e-mail address", to)
		}
	}
	if c.Mail.Host == "" {
		bad("alerts.to", "alerts are mailed: set [mail] host")
	}
	if a.Results != nil && len(a.Results) == 0 {
		bad("alerts.results", "is empty: list result codes such as [\"status_mismatch\"], or leave the key out for every exception")
	}
	for i, r := range a.Results {
		switch {
		case !slices.Contains(domain.Results, r):
			bad("alerts.results", "%q is not a result code (docs/results.md lists them)", r)
		case !domain.IsException(r):
			bad("alerts.results", "%q is no exception: alerts are of codes that need a person (all but matched, pending and resolved)", r)
		case slices.Index(a.Results, r) < i:
			bad("alerts.results", "%q is listed twice", r)
		}
	}
	if a.Interval.Duration < time.Minute {
		bad("alerts.interval", "%s: give at least \"1m\" between two alert mails", a.Interval.Duration)
	}
	if a.MaxItems < 1 || a.MaxItems > MaxAlertItems {
		bad("alerts.max_items", "%d is not in 1..%d", a.MaxItems, MaxAlertItems)
	}
}

// Short writes d as a config does: "15m", "1h30m", "90s" (not "15m0s").
func (d Duration) Short() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
