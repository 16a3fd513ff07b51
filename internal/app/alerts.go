package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"reconciled/internal/ledger"
	"reconciled/internal/outbox"
	"reconciled/internal/report"
)

// Alerts ([alerts], issue 15): a mail of the new exceptions of the chosen
// result codes as reconciles find them, at most one per alerts.interval.
//
// Where they come from: every write of the stored result (a reconcile of
// any front door, the report's and the export's refreshes, a callback's)
// notes the units it recomputed in the ledger (ledger/alerts.go), in its
// own transaction. A pass (Alerts, run by the daemon whenever a write
// noted something, and when an interval ends) compares those units'
// items with the exceptions it saw before, and queues the mail of the new
// ones in the transaction that enters them as seen: a kill before the
// commit leaves both to the next pass, after it the outbox has the mail.
// So nothing found is lost, nothing is mailed twice, and a pass reads a
// few payments' items however large the result is.
//
// Batched: the first new exception after a quiet interval goes at once;
// a pass within the interval after a mail leaves what it would find to
// the pass at the interval's end (AlertsResult.Next), which mails it all
// in one. A mail lists the exceptions open when it is made.
//
// What is new, and the start (the open exceptions are taken as known,
// none mailed): ledger/alerts.go and docs/config.md.

// AlertsResult is what one pass did.
type AlertsResult struct {
	Off     bool // no [alerts]: alerts are off
	Stopped bool // they were on until this pass, which forgot what they saw
	Started bool // this pass turned them on
	Checked ledger.AlertChecked
	// Next is when the next mail may go, while found exceptions may wait
	// for it; zero when nothing waits (the next stored result starts a
	// pass).
	Next time.Time
}

// Alerts is one pass of the alert mail: it turns alerts on or off as the
// config says, and, when the units noted since the last pass may be
// mailed (the interval since the last mail is over), looks at them and
// queues the mail of the new exceptions through the outbox.
func (a *App) Alerts(ctx context.Context) (AlertsResult, error) {
	var res AlertsResult
	c := a.Config.Alerts
	if !c.On() {
		stopped, err := a.Ledger.StopAlerts()
		if stopped {
			a.Logger.Info("alerts turned off: [alerts] has no recipient; what they saw is forgotten")
		}
		return AlertsResult{Off: true, Stopped: stopped}, err
	}
	if a.Outbox == nil {
		return res, errors.New("alerts: no outbox to mail through")
	}
	now := a.Now().UTC()
	st, err := a.Ledger.Alerts()
	if err != nil {
		return res, err
	}
	if !st.On {
		if _, err := a.Ledger.StartAlerts(now); err != nil {
			return res, err
		}
		res.Started = true
		a.Logger.Info("alerts turned on: the exceptions open now are taken as known, new ones are mailed", "to", c.To)
		if st, err = a.Ledger.Alerts(); err != nil {
			return res, err
		}
	}
	if !st.Waiting {
		return res, nil
	}
	if next := st.State.LastMail.Add(c.Interval.Duration); !st.State.Baseline.IsZero() && !st.State.LastMail.IsZero() && now.Before(next) {
		res.Next = next
		return res, nil
	}
	res.Checked, err = a.Ledger.CheckAlerts(ledger.AlertCheck{At: now, Alert: c.Alerts, Max: c.MaxItems, Mail: a.alertMail})
	if err != nil {
		return res, err
	}
	switch ch := res.Checked; {
	case ch.Baseline:
		a.Logger.Info("alerts: the open exceptions are known; from now on new ones are mailed", "units", ch.Units)
	case ch.Mail != nil:
		a.Outbox.Wake()
		a.Logger.Info("alert mail queued", "exceptions", ch.New, "units", ch.Units, "message_id", ch.Mail.ID, "to", c.To)
	case ch.Units > 0:
		a.Logger.Info("alerts: nothing new", "units", ch.Units)
	}
	return res, nil
}

// alertMail is the message of n, for the outbox (called inside the
// alerts' transaction). Its key, and so its Message-ID, is the mail's
// number since the alerts started.
func (a *App) alertMail(n ledger.AlertNews) (*ledger.Mail, error) {
	c := a.Config.Alerts
	al := &report.Alert{Now: n.At, Location: a.Config.Zone(), Interval: c.Interval.Duration, Items: n.Items, Counts: n.Counts, Total: n.Total}
	var text, html bytes.Buffer
	if err := al.Text(&text); err != nil {
		return nil, err
	}
	if err := al.HTML(&html); err != nil {
		return nil, err
	}
	key := fmt.Sprintf("alert %d since %s", n.State.Mails+1, n.State.Since.Format(time.RFC3339Nano))
	return a.Outbox.Compose(outbox.Letter{Key: key, To: c.To, Subject: al.Subject(), Text: text.String(), HTML: html.String()}, n.At)
}
