package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/ledger"
	"reconciled/internal/mail"
)

// The outbox. A report's mail is queued in bbolt in the transaction that
// records the report as produced (ledger.SaveProduced), and deliverDue
// sends what is due: at once, and after a failure again after retry_min,
// doubling up to retry_max, until the server accepts it (Sent) or the
// message is older than max_age or refused for good with a 5xx reply
// (GaveUp; status shows it, and the log has it at level error).
//
// Each message keeps its Message-ID and Date from when it was made, so a
// resend is recognisably the same message. It is sent once, with one crash
// window: when the process dies after the server accepted the message and
// before UpdateMail marked it sent, the next start sends it again, with the
// same Message-ID; mail systems and clients that deduplicate by Message-ID
// then show it once. Closing this window would need the server's help (no
// SMTP extension offers it), so it is documented rather than hidden.

// sendGrace is how long a send under way may go on after a stop.
const sendGrace = 4 * time.Second

// outboxMu serialises delivery within one process: the daemon's delivery
// loop and a `report --send` that came through the control socket must not
// both pick up one message.
var outboxMu sync.Mutex

// sentUnrecorded holds messages the server accepted whose Sent could not
// be stored (a database error): they are not sent again while the process
// lives, and their Sent is stored at the next pass. Guarded by outboxMu.
var sentUnrecorded = map[string]time.Time{}

// deliverDue sends the messages of the outbox that are due now. It returns
// how many were sent and how many still wait; err is a failure of the
// outbox itself (the database), not of a delivery, which is recorded with
// the message.
func (m *Main) deliverDue(ctx context.Context, l *ledger.Ledger, c config.Mail) (sent, pending int, err error) {
	outboxMu.Lock()
	defer outboxMu.Unlock()
	log := m.log()
	if m.outboxLog != nil {
		log = m.outboxLog
	}
	log = log.With("job", "mail")
	mails, err := l.Outbox(true)
	if err != nil || len(mails) == 0 {
		return 0, 0, err
	}
	// A stop (SIGTERM, Ctrl-C on a report --send) leaves a session under
	// way a few seconds to hear the server's reply, within the daemon's
	// stop time: cut at once, a message the server took would go again.
	sender, err := mail.NewSender(mail.Options{Host: c.Host, Port: c.Port, TLS: c.TLS, Username: c.Username,
		Password: mail.NewPassword(c.Password.Value()), From: c.From, CAFile: c.CAFile}, mail.WithCancelGrace(sendGrace))
	if err != nil {
		return 0, len(mails), err
	}
	for i := range mails {
		ml := &mails[i]
		now := m.Now()
		if ctx.Err() != nil {
			return sent, pending + len(mails) - i, nil
		}
		if at, ok := sentUnrecorded[ml.ID]; ok {
			ml.Sent, ml.LastError, ml.NextAttempt = at, "", time.Time{}
			if err := l.UpdateMail(ml); err != nil {
				return sent, pending, err
			}
			delete(sentUnrecorded, ml.ID)
			continue
		}
		if c.MaxAge.Duration > 0 && now.Sub(ml.Queued) > c.MaxAge.Duration {
			ml.GaveUp = now.UTC()
			log.Error("mail given up: not delivered within mail.max_age", "message_id", ml.ID, "subject", ml.Subject,
				"queued", ml.Queued, "attempts", ml.Attempts, "last_error", ml.LastError)
			if err := l.UpdateMail(ml); err != nil {
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
			if err := l.UpdateMail(ml); err != nil {
				return sent, pending, err
			}
			continue
		}
		ml.Attempts++
		ml.LastAttempt = now.UTC()
		sendErr := sender.Send(ctx, &msg)
		switch {
		case sendErr == nil:
			ml.Sent, ml.LastError, ml.NextAttempt = m.Now().UTC(), "", time.Time{}
			sent++
			log.Info("mail sent", "message_id", ml.ID, "subject", ml.Subject, "to", ml.To, "attempts", ml.Attempts, "server", sender.Addr())
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
		if err := l.UpdateMail(ml); err != nil {
			if !ml.Sent.IsZero() {
				sentUnrecorded[ml.ID] = ml.Sent
			}
			return sent, pending, err
		}
	}
	return sent, pending, nil
}

// wakeOutbox tells the daemon's delivery loop that the outbox changed,
// when the command runs in the daemon: a message it queued and could not
// deliver is then retried from mail.retry_min, not at the loop's next idle
// pass.
func (m *Main) wakeOutbox() {
	if m.outboxWake != nil {
		m.outboxWake()
	}
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
func nextDue(l *ledger.Ledger) time.Time {
	mails, err := l.Outbox(true)
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
