package ledger

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// What each report schedule's last report saw open, so that the next one
// says what changed since (internal/report's changes.go):
//
//	report_seen/             made by the first SaveProduced that carries a baseline
//	└── schedule/            the schedule's produced prefix (report|what=|format=|to=|)
//	    ├── "state"          → ReportBaseline as JSON, without Open: the day, when it was made, how many
//	    └── open/            resolution key (resolutionKey) → ReportSeen as JSON: one open exception
//
// SaveProduced replaces a schedule's baseline in the transaction that
// records its report as made and queues its mail: the baseline is exactly
// what the last report recorded as produced saw, whatever a crash
// interrupts. Per schedule, because each schedule's recipients read their
// own previous report; a report made by hand (`report`, `report --send`)
// compares with the latest of them and records none (a report run by hand
// reads and never writes). The stored result keeps no first-seen or
// resolved times, and the alerts' known/ exists only while [alerts] are
// on and is moved by every check: neither can say what the last report
// saw.

var (
	bucketReportSeen = []byte("report_seen")
	reportSeenOpen   = []byte("open")
	keyReportState   = []byte("state")
)

// ReportSeen is one open exception as a report saw it.
type ReportSeen struct {
	ProjectID int64     `json:"project_id"`
	ID        string    `json:"id"` // domain.ResolutionKey's: the payment id, else provider:… or operation:…
	Type      string    `json:"type"`
	Part      string    `json:"part,omitempty"`
	Code      string    `json:"code"`
	Amount    int64     `json:"amount"` // minor units
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"created_at"`
}

// Key is the exception's resolution key.
func (s ReportSeen) Key() domain.ResolutionKey {
	return domain.ResolutionKey{ProjectID: s.ProjectID, ID: s.ID, Type: s.Type, Part: s.Part}
}

// ReportBaseline is what one schedule's last report saw open.
type ReportBaseline struct {
	Schedule string       `json:"schedule"` // the produced prefix
	Day      string       `json:"day"`      // YYYY-MM-DD
	At       time.Time    `json:"at"`       // when it was made
	Count    int          `json:"count"`    // len(Open) as stored
	Open     []ReportSeen `json:"-"`
}

// putReportBaseline replaces b.Schedule's baseline with b.
func putReportBaseline(tx *bolt.Tx, b *ReportBaseline) error {
	all, err := root(tx).CreateBucketIfNotExists(bucketReportSeen)
	if err != nil {
		return err
	}
	name := []byte(b.Schedule)
	if all.Bucket(name) != nil {
		if err := all.DeleteBucket(name); err != nil {
			return err
		}
	}
	s, err := all.CreateBucket(name)
	if err != nil {
		return err
	}
	st := *b
	st.Count = len(b.Open)
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.Put(keyReportState, data); err != nil {
		return err
	}
	open, err := s.CreateBucket(reportSeenOpen)
	if err != nil {
		return err
	}
	for _, e := range b.Open {
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if err := open.Put(resolutionKey(e.Key()), data); err != nil {
			return err
		}
	}
	return nil
}

// ReportBaselineOf returns what schedule's last report saw (nil: none
// was recorded).
func (l *Ledger) ReportBaselineOf(schedule string) (*ReportBaseline, error) {
	var out *ReportBaseline
	err := l.view(func(tx *bolt.Tx) error {
		all := root(tx).Bucket(bucketReportSeen)
		if all == nil {
			return nil
		}
		s := all.Bucket([]byte(schedule))
		if s == nil {
			return nil
		}
		var err error
		out, err = readReportBaseline(schedule, s, true)
		return err
	})
	return out, err
}

// LatestReportBaseline returns what the last report recorded by any
// schedule saw (nil: none).
func (l *Ledger) LatestReportBaseline() (*ReportBaseline, error) {
	var out *ReportBaseline
	err := l.view(func(tx *bolt.Tx) error {
		all := root(tx).Bucket(bucketReportSeen)
		if all == nil {
			return nil
		}
		var latest []byte
		var at time.Time
		err := all.ForEachBucket(func(k []byte) error {
			b, err := readReportBaseline(string(k), all.Bucket(k), false)
			if err != nil {
				return err
			}
			if latest == nil || b.At.After(at) {
				latest, at = k, b.At
			}
			return nil
		})
		if err != nil || latest == nil {
			return err
		}
		out, err = readReportBaseline(string(latest), all.Bucket(latest), true)
		return err
	})
	return out, err
}

// readReportBaseline reads one schedule's baseline, its open exceptions
// too when withOpen.
func readReportBaseline(schedule string, s *bolt.Bucket, withOpen bool) (*ReportBaseline, error) {
	var b ReportBaseline
	v := s.Get(keyReportState)
	if v == nil {
		return nil, corrupt("%s/%s: the state is missing", bucketReportSeen, schedule)
	}
	if err := decodeEntry(bucketReportSeen, []byte(schedule), v, &b); err != nil {
		return nil, err
	}
	b.Schedule = schedule
	if !withOpen {
		return &b, nil
	}
	open := s.Bucket(reportSeenOpen)
	if open == nil {
		return nil, corrupt("%s/%s/%s is missing", bucketReportSeen, schedule, reportSeenOpen)
	}
	b.Open = make([]ReportSeen, 0, b.Count)
	err := open.ForEach(func(k, v []byte) error {
		var e ReportSeen
		if err := json.Unmarshal(v, &e); err != nil {
			return corrupt("%s/%s: an open exception does not decode (%v)", bucketReportSeen, schedule, err)
		}
		b.Open = append(b.Open, e)
		return nil
	})
	return &b, err
}

// checkReportSeen holds the report baselines to their shape: a state and
// entries that decode, as many as the state says.
func checkReportSeen(r *bolt.Bucket, rep *Report) {
	all := r.Bucket(bucketReportSeen)
	if all == nil {
		return
	}
	schedules, entries := 0, 0
	all.ForEachBucket(func(k []byte) error {
		b, err := readReportBaseline(string(k), all.Bucket(k), true)
		switch {
		case err != nil:
			rep.problem("%v (the next report of that schedule counts every open exception as new)", err)
		case len(b.Open) != b.Count:
			rep.problem("%s/%s: %d open exceptions stored, the state says %d", bucketReportSeen, k, len(b.Open), b.Count)
		default:
			schedules++
			entries += len(b.Open)
		}
		return nil
	})
	rep.checked("%s", fmt.Sprintf("report baselines: %d schedules, %d open exceptions seen", schedules, entries))
}
