package ledger

import (
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// Resolutions, the audit trail, the last reconciliation run and the times
// payments were last re-checked:
//
//	resolutions/   project (8) | len (2) | id | type (1) [| part] → domain.Resolution as JSON
//	audit/         sequence (8) → domain.AuditEvent as JSON
//	runs/          "last" → Run as JSON
//	rechecks/      project (8) | len (2) | payment id → unix seconds (8)

func resolutionKey(k domain.ResolutionKey) []byte {
	b := be64(nil, uint64(k.ProjectID))
	b = binary.BigEndian.AppendUint16(b, uint16(len(k.ID)))
	b = append(b, k.ID...)
	b = append(b, typeByte(k.Type))
	// Which refund of a payment; a resolution of the only item has none
	// (and keeps the key it had before parts had keys).
	return append(b, k.Part...)
}

// Resolutions returns every stored resolution.
func (l *Ledger) Resolutions() (map[domain.ResolutionKey]domain.Resolution, error) {
	out := map[domain.ResolutionKey]domain.Resolution{}
	err := l.view(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketResolutions).ForEach(func(k, v []byte) error {
			var r domain.Resolution
			if err := decodeEntry(bucketResolutions, k, v, &r); err != nil {
				return err
			}
			out[r.Key()] = r
			return nil
		})
	})
	return out, err
}

// SaveResolutions stores (or replaces) resolutions and appends their audit
// events, in one transaction.
func (l *Ledger) SaveResolutions(rs []domain.Resolution, events []domain.AuditEvent) error {
	return l.update(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketResolutions)
		marks := newMarker(tx)
		for _, r := range rs {
			marks.unit(domain.ResolutionUnits(r.ID)...)
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := b.Put(resolutionKey(r.Key()), data); err != nil {
				return err
			}
		}
		if err := marks.flush(); err != nil {
			return err
		}
		return appendAudit(tx, events)
	})
}

// DeleteResolutions removes resolutions and appends audit events, in one
// transaction.
func (l *Ledger) DeleteResolutions(keys []domain.ResolutionKey, events []domain.AuditEvent) error {
	return l.update(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketResolutions)
		marks := newMarker(tx)
		for _, k := range keys {
			marks.unit(domain.ResolutionUnits(k.ID)...)
			if err := b.Delete(resolutionKey(k)); err != nil {
				return err
			}
		}
		if err := marks.flush(); err != nil {
			return err
		}
		return appendAudit(tx, events)
	})
}

func appendAudit(tx *bolt.Tx, events []domain.AuditEvent) error {
	b := root(tx).Bucket(bucketAudit)
	for _, e := range events {
		if err := appendLog(b, e); err != nil {
			return err
		}
	}
	return nil
}

// Audit returns the audit trail, oldest first.
func (l *Ledger) Audit() ([]domain.AuditEvent, error) {
	var out []domain.AuditEvent
	err := l.view(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketAudit).ForEach(func(k, v []byte) error {
			var e domain.AuditEvent
			if err := decodeEntry(bucketAudit, k, v, &e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// Run sums up one reconciliation run.
type Run struct {
	At        time.Time                   `json:"at"`
	From      time.Time                   `json:"from,omitzero"`
	To        time.Time                   `json:"to,omitzero"`
	Items     int                         `json:"items"`
	Counts    map[string]int              `json:"counts"`
	Amounts   map[string]map[string]int64 `json:"amounts"` // result → currency → minor units
	Rechecked int                         `json:"rechecked"`
}

var keyLastRun = []byte("last")

// SaveRun stores a run's summary, marks re-opened resolutions and appends
// their audit events, in one transaction.
func (l *Ledger) SaveRun(run Run, reopened []domain.Resolution, events []domain.AuditEvent) error {
	return l.update(func(tx *bolt.Tx) error { return saveRun(tx, run, reopened, events) })
}

func saveRun(tx *bolt.Tx, run Run, reopened []domain.Resolution, events []domain.AuditEvent) error {
	data, err := json.Marshal(run)
	if err != nil {
		return err
	}
	if err := root(tx).Bucket(bucketRuns).Put(keyLastRun, data); err != nil {
		return err
	}
	return saveReopened(tx, reopened, events)
}

// saveReopened stores resolutions found re-opened and appends audit events.
func saveReopened(tx *bolt.Tx, reopened []domain.Resolution, events []domain.AuditEvent) error {
	{
		b := root(tx).Bucket(bucketResolutions)
		for _, r := range reopened {
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := b.Put(resolutionKey(r.Key()), data); err != nil {
				return err
			}
		}
		return appendAudit(tx, events)
	}
}

// LastRun returns the last reconciliation run, if any.
func (l *Ledger) LastRun() (Run, bool, error) {
	var run Run
	var ok bool
	err := l.view(func(tx *bolt.Tx) error {
		v := root(tx).Bucket(bucketRuns).Get(keyLastRun)
		if v == nil {
			return nil
		}
		ok = true
		return decodeEntry(bucketRuns, keyLastRun, v, &run)
	})
	return run, ok, err
}

func recheckKey(project int64, paymentID string) []byte {
	b := be64(nil, uint64(project))
	b = binary.BigEndian.AppendUint16(b, uint16(len(paymentID)))
	return append(b, paymentID...)
}

// LastRecheck says when a payment was last asked for by payment id.
func (l *Ledger) LastRecheck(project int64, paymentID string) (time.Time, error) {
	var t time.Time
	err := l.view(func(tx *bolt.Tx) error {
		if v := root(tx).Bucket(bucketRechecks).Get(recheckKey(project, paymentID)); len(v) == 8 {
			t = time.Unix(int64(beUint64(v)), 0).UTC()
		}
		return nil
	})
	return t, err
}

// NoteRecheck records that a payment was asked for at t.
func (l *Ledger) NoteRecheck(project int64, paymentID string, t time.Time) error {
	return l.update(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketRechecks).Put(recheckKey(project, paymentID), be64(nil, uint64(t.Unix())))
	})
}
