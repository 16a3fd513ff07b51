package daemon

import (
	"context"
	"time"
)

// alertRetry is how long the alerts' loop waits after a pass failed (the
// database, the [mail] settings) before it tries again, if no stored
// result wakes it first.
const alertRetry = time.Minute

// alerts is the alert mail's loop ([alerts], app.Alerts): a pass at
// start, after every result write that noted units for the alerts
// (ledger.AlertsNoted: whoever reconciled, a job, a command of the
// socket, a callback), when the interval a pass left found exceptions
// waiting for is over, and after a reload (which may turn alerts on or
// off). Each pass runs on the App of the config in force.
func (d *Daemon) alerts(ctx context.Context) {
	for {
		_, base := d.current()
		a := base.With(d.o.Log().With("job", "alerts"))
		res, err := a.Alerts(ctx)
		wait := time.Duration(0)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			a.Logger.Error("alerts", "err", err)
			wait = alertRetry
		case !res.Next.IsZero():
			wait = max(time.Second, res.Next.Sub(d.o.Now()))
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-d.l.AlertsNoted():
		case <-d.alertsReload:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// reloadAlerts starts a pass of the alerts' loop on the config just
// loaded. It never blocks.
func (d *Daemon) reloadAlerts() {
	select {
	case d.alertsReload <- struct{}{}:
	default:
	}
}
