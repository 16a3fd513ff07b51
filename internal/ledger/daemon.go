package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The daemon's state: when each schedule last ran (to catch up runs missed
// while it was down), which reports were produced, and the outbox of mail.
// Databases made before these buckets existed lack them until the first
// writable open; readers treat a missing bucket as empty.

// JobRun is the last run of one schedule.
type JobRun struct {
	Key      string        `json:"key"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	Error    string        `json:"error,omitempty"`
}

// putJobRun stores the last run of a schedule.
func (l *Ledger) putJobRun(r JobRun) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return l.update(func(tx *bolt.Tx) error { return root(tx).Bucket(bucketJobs).Put([]byte(r.Key), data) })
}

// JobRuns returns the last run of every schedule that ran, by key.
func (l *Ledger) JobRuns() (map[string]JobRun, error) {
	out := map[string]JobRun{}
	err := l.view(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketJobs)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r JobRun
			if err := decodeEntry(bucketJobs, k, v, &r); err != nil {
				return err
			}
			out[string(k)] = r
			return nil
		})
	})
	return out, err
}

// Mail is a message in the outbox. Message is the message itself, as the
// mail package encodes it; the rest is its delivery.
type Mail struct {
	ID          string          `json:"id"` // Message-ID, without <>
	Queued      time.Time       `json:"queued"`
	To          []string        `json:"to"`
	Subject     string          `json:"subject"`
	Message     json.RawMessage `json:"message,omitempty"` // dropped once sent
	Attempts    int             `json:"attempts"`
	NextAttempt time.Time       `json:"next_attempt,omitzero"`
	LastError   string          `json:"last_error,omitempty"`
	LastAttempt time.Time       `json:"last_attempt,omitzero"`
	Sent        time.Time       `json:"sent,omitzero"`
	GaveUp      time.Time       `json:"gave_up,omitzero"` // past the maximum age, not sent
}

// Pending reports whether m still waits to be sent.
func (m *Mail) Pending() bool { return m.Sent.IsZero() && m.GaveUp.IsZero() }

// States of a message in the outbox (Mail.State).
const (
	MailPending = "pending"
	MailSent    = "sent"
	MailGivenUp = "given_up"
)

// State is MailSent, MailGivenUp or MailPending.
func (m *Mail) State() string {
	switch {
	case !m.Sent.IsZero():
		return MailSent
	case !m.GaveUp.IsZero():
		return MailGivenUp
	}
	return MailPending
}

// Produced records that a report was made (and, with mail, queued).
type Produced struct {
	Key       string    `json:"key"` // day | schedule key
	At        time.Time `json:"at"`
	MessageID string    `json:"message_id,omitempty"`
	File      string    `json:"file,omitempty"`
	// Baseline, when not nil, replaces what its schedule's last report saw
	// (reportseen.go) in the same transaction; it is not part of the record.
	Baseline *ReportBaseline `json:"-"`
}

// ErrProduced means the report was produced already.
var ErrProduced = errors.New("produced already")

// SaveProduced records p and queues the mail m (if not nil) in one
// transaction, so that a report is queued exactly when it is recorded as
// produced. A key recorded before gives ErrProduced and changes nothing.
func (l *Ledger) SaveProduced(p Produced, m *Mail) error {
	return l.update(func(tx *bolt.Tx) error {
		reports := root(tx).Bucket(bucketReports)
		if reports.Get([]byte(p.Key)) != nil {
			return ErrProduced
		}
		data, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if err := reports.Put([]byte(p.Key), data); err != nil {
			return err
		}
		if p.Baseline != nil {
			if err := putReportBaseline(tx, p.Baseline); err != nil {
				return err
			}
		}
		if m == nil {
			return nil
		}
		return putMail(tx, m)
	})
}

// WasProduced returns the record of the report key, if it was produced.
func (l *Ledger) WasProduced(key string) (Produced, bool, error) {
	var p Produced
	var found bool
	err := l.view(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketReports)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(key))
		if v == nil {
			return nil
		}
		found = true
		return decodeEntry(bucketReports, []byte(key), v, &p)
	})
	return p, found, err
}

// LastProduced returns the greatest key recorded with prefix (keys end in
// a YYYY-MM-DD day, so the latest day).
func (l *Ledger) LastProduced(prefix string) (string, bool, error) {
	var last string
	var found bool
	err := l.view(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketReports)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, _ = c.Next() {
			last, found = string(k), true
		}
		return nil
	})
	return last, found, err
}

// MailByID returns the message id of the outbox, if it is there.
func (l *Ledger) MailByID(id string) (Mail, bool, error) {
	var m Mail
	var found bool
	err := l.view(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketOutbox)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		found = true
		return decodeEntry(bucketOutbox, []byte(id), v, &m)
	})
	return m, found, err
}

// QueueMail puts m in the outbox unless a message with its id is there.
func (l *Ledger) QueueMail(m *Mail) error {
	return l.update(func(tx *bolt.Tx) error {
		if root(tx).Bucket(bucketOutbox).Get([]byte(m.ID)) != nil {
			return nil
		}
		return putMail(tx, m)
	})
}

func putMail(tx *bolt.Tx, m *Mail) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return root(tx).Bucket(bucketOutbox).Put([]byte(m.ID), data)
}

// UpdateMail stores m's delivery state. The message itself is not
// rewritten: only the fields of delivery change. Once m is sent, its
// message (attachments and all) is dropped: nothing sends it again, and
// the outbox would otherwise grow by a report a day.
func (l *Ledger) UpdateMail(m *Mail) error {
	return l.update(func(tx *bolt.Tx) error {
		v := root(tx).Bucket(bucketOutbox).Get([]byte(m.ID))
		if v == nil {
			return errors.New("outbox: no message " + m.ID)
		}
		var stored Mail
		if err := decodeEntry(bucketOutbox, []byte(m.ID), v, &stored); err != nil {
			return err
		}
		stored.Attempts, stored.NextAttempt, stored.LastError, stored.LastAttempt = m.Attempts, m.NextAttempt, m.LastError, m.LastAttempt
		stored.Sent, stored.GaveUp = m.Sent, m.GaveUp
		if !stored.Sent.IsZero() {
			stored.Message = nil
		}
		return putMail(tx, &stored)
	})
}

// Outbox returns the messages in the outbox, by id. With pendingOnly, only
// those still to send.
func (l *Ledger) Outbox(pendingOnly bool) ([]Mail, error) {
	var out []Mail
	err := l.view(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketOutbox)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var m Mail
			if err := decodeEntry(bucketOutbox, k, v, &m); err != nil {
				return err
			}
			if !pendingOnly || m.Pending() {
				out = append(out, m)
			}
			return nil
		})
	})
	return out, err
}

// LastJobRuns returns when each schedule last started (schedule.Store).
func (l *Ledger) LastJobRuns() (map[string]time.Time, error) {
	runs, err := l.JobRuns()
	out := make(map[string]time.Time, len(runs))
	for k, r := range runs {
		out[k] = r.Started
	}
	return out, err
}

// SaveJobRun records a schedule's run (schedule.Store).
func (l *Ledger) SaveJobRun(key string, started time.Time, took time.Duration, err error) error {
	r := JobRun{Key: key, Started: started.UTC(), Duration: took}
	if err != nil {
		r.Error = err.Error()
	}
	return l.putJobRun(r)
}

// Backup writes a consistent copy of the database to w: one read
// transaction, so writers go on meanwhile. It returns the bytes written.
// The pages are checked first (file.go): a copy of a damaged database is
// no backup, and must not take the place of an older one.
func (l *Ledger) Backup(w io.Writer) (int64, error) {
	var n int64
	err := l.view(func(tx *bolt.Tx) error {
		if problem := l.walkTx(tx); problem != "" {
			return l.damaged("%s", problem)
		}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
