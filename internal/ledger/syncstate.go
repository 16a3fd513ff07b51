package ledger

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SyncState is the sync's progress for one project: the operations'
// (its own fields, as stored before fees) and the fees'.
type SyncState struct {
	Project int64 `json:"project"`
	Stream        // the operations: watermark, last attempt, success and error
	// Fees is the fee sync's own progress (/financial-reporting/operations),
	// kept as the operations' is.
	Fees Stream `json:"fees,omitzero"`
	// Chargebacks is the chargeback sync's (/chargeback/list).
	Chargebacks Stream `json:"chargebacks,omitzero"`

	Counts `json:"-"` // from the counts bucket
}

// Stream is how far one stream of a project's sync has come.
type Stream struct {
	// Watermark: every operation created up to here has been pulled at least
	// once. The next sync starts at the watermark minus data_api.lookback.
	Watermark   time.Time `json:"watermark,omitzero"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Failing reports whether the stream's last attempt failed: an error
// newer than the last success.
func (s Stream) Failing() bool { return s.LastError != "" && s.LastErrorAt.After(s.LastSuccess) }

// advance moves the watermark forward to t, never back.
func (s *Stream) advance(t time.Time) {
	if t.After(s.Watermark) {
		s.Watermark = t.UTC()
	}
}

// record notes the end of an attempt at: a success, or the error.
func (s *Stream) record(at time.Time, err error) {
	s.LastAttempt = at.UTC()
	if err == nil {
		s.LastSuccess = at.UTC()
		return
	}
	s.LastError = err.Error()
	s.LastErrorAt = at.UTC()
}

func getSync(b *bolt.Bucket, project int64) (SyncState, error) {
	s := SyncState{Project: project}
	v := b.Get(be64(nil, uint64(project)))
	if v == nil {
		return s, nil
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return s, corrupt("the sync state of project %d does not decode (%v)", project, err)
	}
	return s, nil
}

func putSync(b *bolt.Bucket, s SyncState) error {
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return b.Put(be64(nil, uint64(s.Project)), v)
}

// updateSync applies fn to the state of each project in one transaction.
func (l *Ledger) updateSync(projects []int64, fn func(*SyncState)) error {
	return l.update(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketSync)
		for _, p := range projects {
			s, err := getSync(b, p)
			if err != nil {
				return err
			}
			fn(&s)
			if err := putSync(b, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// AdvanceWatermark moves the watermark of projects forward to t; it never
// moves it back.
func (l *Ledger) AdvanceWatermark(projects []int64, t time.Time) error {
	return l.updateSync(projects, func(s *SyncState) { s.advance(t) })
}

// RecordSync notes the end of a sync of projects at time at: a success, or
// the error it ended with.
func (l *Ledger) RecordSync(projects []int64, at time.Time, syncErr error) error {
	return l.updateSync(projects, func(s *SyncState) { s.record(at, syncErr) })
}

// AdvanceFeeWatermark is AdvanceWatermark of the fee sync.
func (l *Ledger) AdvanceFeeWatermark(projects []int64, t time.Time) error {
	return l.updateSync(projects, func(s *SyncState) { s.Fees.advance(t) })
}

// RecordFeeSync is RecordSync of the fee sync.
func (l *Ledger) RecordFeeSync(projects []int64, at time.Time, syncErr error) error {
	return l.updateSync(projects, func(s *SyncState) { s.Fees.record(at, syncErr) })
}

// SyncState returns one project's state.
func (l *Ledger) SyncState(project int64) (SyncState, error) {
	var s SyncState
	err := l.view(func(tx *bolt.Tx) error {
		var err error
		s, err = getSync(root(tx).Bucket(bucketSync), project)
		if err == nil {
			s.Counts = decodeCounts(root(tx).Bucket(bucketCounts).Get(be64(nil, uint64(project))))
		}
		return err
	})
	return s, err
}

// SyncStates returns the state of every project the ledger knows of, by
// project id.
func (l *Ledger) SyncStates() ([]SyncState, error) {
	var out []SyncState
	err := l.view(func(tx *bolt.Tx) error {
		sb, cb := root(tx).Bucket(bucketSync), root(tx).Bucket(bucketCounts)
		seen := map[int64]bool{}
		for _, b := range []*bolt.Bucket{sb, cb} {
			if err := b.ForEach(func(k, _ []byte) error {
				if len(k) != 8 {
					return corrupt("project key %x is not 8 bytes", k)
				}
				p := int64(binary.BigEndian.Uint64(k))
				if seen[p] {
					return nil
				}
				seen[p] = true
				s, err := getSync(sb, p)
				s.Counts = decodeCounts(cb.Get(k))
				out = append(out, s)
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b SyncState) int { return cmp.Compare(a.Project, b.Project) })
	return out, err
}

// AdvanceChargebackWatermark is AdvanceWatermark of the chargeback sync.
func (l *Ledger) AdvanceChargebackWatermark(projects []int64, t time.Time) error {
	return l.updateSync(projects, func(s *SyncState) { s.Chargebacks.advance(t) })
}

// RecordChargebackSync is RecordSync of the chargeback sync.
func (l *Ledger) RecordChargebackSync(projects []int64, at time.Time, syncErr error) error {
	return l.updateSync(projects, func(s *SyncState) { s.Chargebacks.record(at, syncErr) })
}
