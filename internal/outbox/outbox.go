// Package outbox is reconciled's mail outbox: messages are queued in the
// ledger and delivered from there, at once and again after a failure, by
// one Outbox per process. Whoever queues (a scheduled report or export,
// `report --send` run directly or through the control socket) goes
// through the Outbox, and queueing wakes its delivery loop, so no path can
// leave a message waiting for the loop's idle pass.
//
// A scheduled report's mail is queued in the transaction that records the
// report as produced (QueueProduced, ledger.SaveProduced), so "made" and
// "queued" cannot disagree. DeliverDue sends what is due: at once, and
// after a failure again after mail.retry_min, doubling up to
// mail.retry_max, until the server accepts it (Sent) or the message is
// older than mail.max_age or refused for good with a 5xx reply to RCPT or
// DATA (GaveUp; status shows it, and the log has it at level error).
// Session-level refusals (AUTH, MAIL FROM) are retried: they would
// otherwise throw the whole outbox away for one wrong password.
//
// Each message keeps its Message-ID and Date from when it was made (Compose:
// the Message-ID is a hash of the caller's key), so a resend is
// recognisably the same message. It is sent once, with one crash window:
// when the process dies after the server accepted the message and before
// its Sent was stored, the next start sends it again, with the same
// Message-ID; mail systems and clients that deduplicate by Message-ID then
// show it once. Closing this window would need the server's help (no SMTP
// extension offers it). Narrowed within a process: a message the server
// took whose Sent could not be stored (a disk error) is remembered by the
// Outbox and not sent again; its Sent is stored at a later pass. A stop
// gives a session under way sendGrace to hear the server's reply before the
// connection is cut.
//
// The records themselves (ledger.Mail, the outbox bucket) are the
// ledger's: it owns the file and the transaction a report's record and its
// mail share. This package decides when and how they are sent.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/ledger"
	"reconciled/internal/mail"
)

// sendGrace is how long a send under way may go on after a stop, within
// the daemon's stop time: cut at once, a message the server took would go
// again.
const sendGrace = 4 * time.Second

// idlePass is how long the loop sleeps when nothing waits.
const idlePass = 5 * time.Minute

// Store is what the outbox keeps its messages in: *ledger.Ledger.
type Store interface {
	QueueMail(m *ledger.Mail) error
	SaveProduced(p ledger.Produced, m *ledger.Mail) error
	Outbox(pendingOnly bool) ([]ledger.Mail, error)
	MailByID(id string) (ledger.Mail, bool, error)
	UpdateMail(m *ledger.Mail) error
}

// Options are an Outbox's peers. Mail and Log are asked at each use, so
// that a daemon's reload takes effect.
type Options struct {
	// Mail is the [mail] section in force, with its password resolved;
	// with Host "" nothing is delivered.
	Mail func() config.Mail
	Now  func() time.Time    // default time.Now
	Log  func() *slog.Logger // default slog.Default
	// SenderOptions are added to every Sender (tests: mail.WithTLSConfig).
	SenderOptions []mail.Option
}

// Outbox queues and delivers mail. Build one per process and hand it to
// everything that queues: it serialises delivery (the loop, a command's
// own attempt) and remembers what was sent but not recorded.
type Outbox struct {
	store Store
	opts  Options
	wake  chan struct{}

	mu         sync.Mutex           // one delivery pass at a time
	unrecorded map[string]time.Time // sent, Sent not stored: by Message-ID
}

// New returns the outbox of store.
func New(store Store, opts Options) *Outbox {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default
	}
	if opts.Mail == nil {
		opts.Mail = func() config.Mail { return config.Mail{} }
	}
	return &Outbox{store: store, opts: opts, wake: make(chan struct{}, 1), unrecorded: map[string]time.Time{}}
}

// Queue puts m in the outbox (unless a message with its ID is there) and
// wakes the delivery loop.
func (o *Outbox) Queue(m *ledger.Mail) error {
	if err := o.store.QueueMail(m); err != nil {
		return err
	}
	o.Wake()
	return nil
}

// QueueProduced records p as produced and queues m with it (m may be nil)
// in one transaction, and wakes the delivery loop for m. A key produced
// before gives ledger.ErrProduced and queues nothing.
func (o *Outbox) QueueProduced(p ledger.Produced, m *ledger.Mail) error {
	if err := o.store.SaveProduced(p, m); err != nil {
		return err
	}
	if m != nil {
		o.Wake()
	}
	return nil
}

// Send queues m and delivers what is due at once, m included. It returns m
// as the outbox holds it afterwards (its State) and how many messages were
// sent, m's elders too; err is a failure of the outbox itself (the
// database, the [mail] settings), not of the delivery, which the returned
// message records. Retries are the delivery loop's (woken by the queueing).
func (o *Outbox) Send(ctx context.Context, m *ledger.Mail) (ledger.Mail, int, error) {
	if err := o.Queue(m); err != nil {
		return ledger.Mail{}, 0, err
	}
	sent, _, err := o.DeliverDue(ctx)
	if err != nil {
		return ledger.Mail{}, sent, err
	}
	q, ok, err := o.store.MailByID(m.ID)
	switch {
	case err != nil:
		return ledger.Mail{}, sent, err
	case !ok:
		return ledger.Mail{}, sent, fmt.Errorf("outbox: message %s is not in the outbox", m.ID)
	}
	return q, sent, nil
}

// Wake tells the delivery loop that the outbox changed. It never blocks;
// without a loop (a command run alone) it does nothing.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run is the delivery loop: it delivers what is due until ctx is done, at
// once when woken, and while messages wait, when the next one is due (at
// least a second apart); when nothing waits, every 5 minutes.
func (o *Outbox) Run(ctx context.Context) {
	for {
		c := o.opts.Mail()
		wait := idlePass
		if c.Host != "" {
			_, pending, err := o.DeliverDue(ctx)
			switch {
			case err != nil:
				if ctx.Err() == nil {
					o.log().Error("delivering mail", "err", err)
				}
				wait = c.RetryMin.Duration
			case pending > 0:
				if next := o.nextDue(); !next.IsZero() {
					wait = max(time.Second, min(wait, next.Sub(o.opts.Now())))
				}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-o.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (o *Outbox) log() *slog.Logger { return o.opts.Log().With("job", "mail") }

// DeliverDue sends the messages of the outbox that are due now. It returns
// how many were sent and how many still wait; err is a failure of the
// outbox itself (the database, the [mail] settings), not of a delivery,
// which is recorded with the message.
func (o *Outbox) DeliverDue(ctx context.Context) (sent, pending int, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.opts.Mail()
	log := o.log()
	mails, err := o.store.Outbox(true)
	if err != nil || len(mails) == 0 {
		return 0, 0, err
	}
	sender, err := mail.NewSender(senderOptions(c), append([]mail.Option{mail.WithCancelGrace(sendGrace)}, o.opts.SenderOptions...)...)
	if err != nil {
		return 0, len(mails), err
	}
	for i := range mails {
		ml := &mails[i]
		now := o.opts.Now()
		if ctx.Err() != nil {
			return sent, pending + len(mails) - i, nil
		}
		if at, ok := o.unrecorded[ml.ID]; ok {
			ml.Sent, ml.LastError, ml.NextAttempt = at, "", time.Time{}
			if err := o.store.UpdateMail(ml); err != nil {
				return sent, pending, err
			}
			delete(o.unrecorded, ml.ID)
			continue
		}
		if c.MaxAge.Duration > 0 && now.Sub(ml.Queued) > c.MaxAge.Duration {
			ml.GaveUp = now.UTC()
			log.Error("mail given up: not delivered within mail.max_age", "message_id", ml.ID, "subject", ml.Subject,
				"queued", ml.Queued, "attempts", ml.Attempts, "last_error", ml.LastError)
			if err := o.store.UpdateMail(ml); err != nil {
				return sent, pending, err
			}
			continue
		}
		if ml.NextAttempt.After(now) {
			pending++
			continue
		}
		var msg mail.Message
		if err := json.Unmarshal(ml.Message, &msg); err != nil {
			ml.GaveUp, ml.LastError = now.UTC(), fmt.Sprintf("the stored message does not decode: %v", err)
			log.Error("mail given up", "message_id", ml.ID, "err", ml.LastError)
			if err := o.store.UpdateMail(ml); err != nil {
				return sent, pending, err
			}
			continue
		}
		ml.Attempts++
		ml.LastAttempt = now.UTC()
		sendErr := sender.Send(ctx, &msg)
		switch {
		case sendErr == nil:
			ml.Sent, ml.LastError, ml.NextAttempt = o.opts.Now().UTC(), "", time.Time{}
			sent++ // logged once recorded (below): whoever reads the log, then the outbox, finds it sent
		case ctx.Err() != nil:
			// Stopped: this attempt does not count against the message.
			ml.Attempts--
			pending++
		case mail.Permanent(sendErr):
			ml.GaveUp, ml.LastError = now.UTC(), sendErr.Error()
			log.Error("mail given up: the server refused it", "message_id", ml.ID, "subject", ml.Subject, "err", sendErr)
		default:
			ml.LastError = sendErr.Error()
			ml.NextAttempt = now.Add(retryAfter(c, ml.Attempts)).UTC()
			pending++
			log.Warn("mail not delivered; will retry", "message_id", ml.ID, "attempts", ml.Attempts, "next", ml.NextAttempt, "err", sendErr)
		}
		if err := o.store.UpdateMail(ml); err != nil {
			if !ml.Sent.IsZero() {
				o.unrecorded[ml.ID] = ml.Sent
				log.Warn("mail sent, not recorded yet", "message_id", ml.ID, "subject", ml.Subject, "to", ml.To, "attempts", ml.Attempts, "server", sender.Addr(), "err", err)
			}
			return sent, pending, err
		}
		if sendErr == nil {
			log.Info("mail sent", "message_id", ml.ID, "subject", ml.Subject, "to", ml.To, "attempts", ml.Attempts, "server", sender.Addr())
		}
	}
	return sent, pending, nil
}

// senderOptions are the connection settings of c, for mail.NewSender.
func senderOptions(c config.Mail) mail.Options {
	o := mail.Options{Host: c.Host, Port: c.Port, TLS: c.TLS, Username: c.Username, From: c.From, CAFile: c.CAFile}
	if c.Password.IsSet() {
		o.Password = mail.NewPassword(c.Password.Value())
	}
	return o
}

// retryAfter is the wait after the attempts-th failed attempt: retry_min,
// doubling, at most retry_max.
func retryAfter(c config.Mail, attempts int) time.Duration {
	d := c.RetryMin.Duration
	for i := 1; i < attempts && d < c.RetryMax.Duration; i++ {
		d *= 2
	}
	return min(d, c.RetryMax.Duration)
}

// nextDue is when the earliest pending message is due; zero when none
// waits.
func (o *Outbox) nextDue() time.Time {
	mails, err := o.store.Outbox(true)
	if err != nil {
		return time.Time{}
	}
	var next time.Time
	for _, ml := range mails {
		at := ml.NextAttempt
		if at.IsZero() { // never tried: due now
			return ml.Queued
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}
