package daemon

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"time"

	"reconciled/internal/ledger"
	"reconciled/internal/receiver"
)

// Callbacks (internal/receiver), when [callbacks] is configured: the
// receiver stores each callback's operation in the daemon's ledger and
// answers 200 once it is committed; after a group that changed something
// it calls reconcileSoon, and within reconcileSettle the reconcile loop
// brings the stored result up to date (reconcileCallbacks), so that
// status, export and the report see the new verdicts before any sync.
// The secrets are read from the config in force at every callback, and
// the TLS pair at every handshake: a reload that changes them (a renewed
// certificate) takes effect at once. The listener's address, path and
// limits, and TLS on or off, need a restart.

// reconcileSettle is how long the loop waits after the first callback
// that changed something before it reconciles: what else arrives
// meanwhile is reconciled with it, one refresh for a burst instead of one
// per callback.
const reconcileSettle = 500 * time.Millisecond

// callbackShutdown bounds the wait for callbacks under way at a stop:
// they are answered (stored) or cut, and ECommPay sends those again.
const callbackShutdown = 3 * time.Second

// callbacks is the receiver of one run, its server and the reconcile
// loop.
type callbacks struct {
	r    *receiver.Receiver
	srv  *receiver.Server
	loop sync.WaitGroup
}

// startCallbacks starts receiving callbacks when the config in force
// says so (nil otherwise), and the loop that reconciles what they store.
func (d *Daemon) startCallbacks(ctx context.Context) (*callbacks, error) {
	cfg := d.config()
	cb := &cfg.Callbacks
	if !cb.Enabled() {
		return nil, nil
	}
	r := receiver.New(receiver.Options{
		Ledger:   d.l,
		SecretOf: func(project int64) ([]byte, bool) { c := d.config().Callbacks; return c.SecretOf(project) },
		MaxBody:  cb.MaxBodyBytes,
		Now:      d.o.Now,
		Log:      d.o.Log,
		Stored:   d.reconcileSoon,
	})
	so := receiver.ServerOptions{Listen: cb.Listen, Path: cb.Path, MaxConnections: cb.MaxConnections, Log: d.o.Log()}
	if cb.Certificate() != nil {
		// The pair of the config in force: a reload reads it again.
		so.Certificate = func() *tls.Certificate { return d.config().Callbacks.Certificate() }
	}
	srv, err := receiver.Listen(r, so)
	if err != nil {
		r.Close()
		return nil, err
	}
	go func() {
		if err := srv.Serve(); err != nil {
			d.o.Log().Error("the callback receiver stopped", "err", err)
		}
	}()
	c := &callbacks{r: r, srv: srv}
	c.loop.Add(1)
	go func() { defer c.loop.Done(); d.reconcileLoop(ctx) }()
	return c, nil
}

// stop answers the callbacks under way (or cuts them after
// callbackShutdown) and stops the receiver's writer.
func (c *callbacks) stop() {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), callbackShutdown)
	defer cancel()
	c.srv.Shutdown(ctx)
	c.r.Close()
}

// wait waits for the reconcile loop, which ends with the daemon's
// context, to finish the reconcile it may be in.
func (c *callbacks) wait() {
	if c != nil {
		c.loop.Wait()
	}
}

// reconcileSoon asks the reconcile loop for a reconcile of the payments
// callbacks changed (the receiver's Stored: it never blocks; a request
// already waiting takes these payments too).
func (d *Daemon) reconcileSoon(changes ledger.Changes) {
	d.pendingMu.Lock()
	if d.pending == nil {
		d.pending = ledger.Changes{}
	}
	d.pending.Add(changes)
	d.pendingMu.Unlock()
	select {
	case d.reconcileAsked <- struct{}{}:
	default:
	}
}

// takePending is what was asked for since the last take.
func (d *Daemon) takePending() ledger.Changes {
	d.pendingMu.Lock()
	defer d.pendingMu.Unlock()
	ch := d.pending
	d.pending = nil
	return ch
}

// reconcileLoop runs reconcileCallbacks reconcileSettle after each ask,
// one at a time, until ctx is done.
func (d *Daemon) reconcileLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.reconcileAsked:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(reconcileSettle):
		}
		d.reconcileCallbacks(ctx)
	}
}

// reconcileCallbacks is the reconcile a callback triggers: the stored
// result brought up to date for the payments callbacks changed and those
// their verdicts depend on (app.ReconcileUnits: not the rest of what a
// running sync has marked, which the next reconcile takes), on the App
// in force, logged. A failure is logged; the payments stay marked for the
// scheduled reconcile.
func (d *Daemon) reconcileCallbacks(ctx context.Context) {
	units := d.takePending()
	_, a := d.current()
	a = a.With(d.o.Log().With("job", "callbacks"))
	defer func() {
		if p := recover(); p != nil {
			a.Logger.Error("the reconcile after callbacks panicked", "panic", fmt.Sprint(p))
		}
	}()
	r, ok, err := a.ReconcileUnits(ctx, units, "callbacks")
	switch {
	case err != nil:
		a.Logger.Error("the reconcile after callbacks failed; the scheduled reconcile takes their payments", "err", err, "payments", len(units))
	case !ok:
		a.Logger.Info("callbacks stored, not reconciled now: no reconciliation is stored yet, or of other settings, or too much depends on them; the next reconcile takes them", "payments", len(units))
	default:
		a.Logger.Info("reconciled what callbacks changed", "payments", len(units), "recomputed", r.Units, "items", r.Items, "reopened", len(r.Reopened))
	}
}
