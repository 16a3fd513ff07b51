package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// Alerts ([alerts]; internal/app's alerts.go makes and queues the mail):
// what changed in the stored result since the last look, and which
// exceptions were seen, so that each new one is mailed once.
//
//	alerts/          made by StartAlerts, deleted by StopAlerts; while it is there, result writes note what they recomputed
//	├── "state"      → AlertState as JSON: since, the baseline, the last mail, counts
//	├── "all"        → 1: a write replaced the whole result (a full recompute): every unit to look at
//	├── todo/        unit → ∅: the units result writes recomputed since the last check
//	└── known/       len (2) | owner unit | resolution key (resolutionKey) → result code:
//	                 each open exception as the last check saw it
//
// A result write (WriteResult, FullWriter.Finish) notes its units in
// todo/ (or "all") in its own transaction, whoever wrote it: a scheduled
// reconcile, the report's refresh, a command through the socket, a
// callback's. CheckAlerts reads them, compares the units' stored items
// with their known/ entries and, in one transaction, puts the mail of the
// new ones in the outbox, updates known/ and empties todo/: a kill
// anywhere before its commit leaves all of it to the next check (the mail
// not queued, the exceptions not known), after it the mail is in the
// outbox, which sends it once. A check reads only the units noted: a few
// payments' items and entries, whatever the result's size; after a full
// recompute it reads every unit once.
//
// An item is new when it is an exception of an alerted code and its
// known/ entry has no code or another one. An exception's entry is its
// code; an item gone pending keeps its entry (a spell of pending, then
// the same verdict, is nothing new); one matched or resolved, or gone,
// loses it (opened again, it is new again). Codes not alerted are
// entered too, so that a code added to the alerted ones later does not
// make every item that had it new. The first check on a stored result
// (the baseline) enters every open exception and mails none.

var (
	bucketAlerts = []byte("alerts")
	alertsTodo   = []byte("todo")
	alertsKnown  = []byte("known")
	keyAlertsAll = []byte("all")
)

// afterAlertMailPut runs inside CheckAlerts's transaction once the mail
// is in the outbox and before the exceptions are entered: a test kills
// the process there.
var afterAlertMailPut = func() {}

// AlertState is what the alerts did so far.
type AlertState struct {
	Since time.Time `json:"since"` // when they were started
	// Baseline is when the exceptions open then were entered as known,
	// none mailed: the first check on a stored result; zero before.
	Baseline time.Time `json:"baseline,omitzero"`
	LastMail time.Time `json:"last_mail,omitzero"` // when the last mail was queued
	Mails    int       `json:"mails"`              // mails queued
	Alerted  int       `json:"alerted"`            // exceptions in them, those counted and not listed too
}

// AlertStatus is the alerts' state as read.
type AlertStatus struct {
	On    bool
	State AlertState
	// Waiting: a check has something to look at (units noted, a full
	// recompute, or the baseline to take).
	Waiting bool
	Noted   bool // units noted (read without counting them: a wake of the daemon's loop reads this)
	All     bool // a full recompute noted: every unit
}

// StartAlerts turns alerts on, unless they are: from now on result
// writes note what they recomputed. It returns the state.
func (l *Ledger) StartAlerts(now time.Time) (AlertState, error) {
	var st AlertState
	err := l.update(func(tx *bolt.Tx) error {
		r := root(tx)
		if a := r.Bucket(bucketAlerts); a != nil {
			var err error
			st, err = alertState(a)
			return err
		}
		a, err := r.CreateBucket(bucketAlerts)
		if err != nil {
			return err
		}
		for _, name := range [][]byte{alertsTodo, alertsKnown} {
			if _, err := a.CreateBucket(name); err != nil {
				return err
			}
		}
		st = AlertState{Since: now.UTC()}
		return putAlertState(a, st)
	})
	return st, err
}

// StopAlerts turns alerts off and forgets what they saw; true when they
// were on.
func (l *Ledger) StopAlerts() (bool, error) {
	var on bool
	err := l.update(func(tx *bolt.Tx) error {
		r := root(tx)
		if r.Bucket(bucketAlerts) == nil {
			return nil
		}
		on = true
		return r.DeleteBucket(bucketAlerts)
	})
	return on, err
}

// Alerts reads the alerts' state.
func (l *Ledger) Alerts() (AlertStatus, error) {
	var s AlertStatus
	err := l.view(func(tx *bolt.Tx) error {
		r := root(tx)
		a := r.Bucket(bucketAlerts)
		if a == nil {
			return nil
		}
		s.On = true
		var err error
		if s.State, err = alertState(a); err != nil {
			return err
		}
		todo, err := alertBucket(a, alertsTodo)
		if err != nil {
			return err
		}
		k, _ := todo.Cursor().First()
		s.Noted, s.All = k != nil, a.Get(keyAlertsAll) != nil
		res := r.Bucket(bucketResult)
		stored := res != nil && res.Get(keyState) != nil
		s.Waiting = stored && (s.Noted || s.All || s.State.Baseline.IsZero())
		return nil
	})
	return s, err
}

// AlertsNoted is signalled (never blocking, at most one signal waiting)
// after a result write noted units for the alerts.
func (l *Ledger) AlertsNoted() <-chan struct{} { return l.g.alerts }

// AlertCheck says how CheckAlerts looks.
type AlertCheck struct {
	At    time.Time
	Alert func(result string) bool // the codes mailed
	Max   int                      // items handed to Mail at most; the rest are counted
	// Mail makes the message of the new exceptions, inside the check's
	// transaction (called only when there are some, never for the
	// baseline); it is queued in the outbox in that transaction.
	Mail func(AlertNews) (*Mail, error)
}

// AlertNews are the new exceptions one check found.
type AlertNews struct {
	At     time.Time
	Items  []domain.Item  // the first Max of them, in unit order, each its own copy
	Counts map[string]int // every one of them, by result code
	Total  int
	State  AlertState // before this mail
}

// AlertChecked is what one check did.
type AlertChecked struct {
	Units    int   // units looked at
	Baseline bool  // the open exceptions were entered as known, none mailed
	New      int   // new exceptions found (and mailed)
	Mail     *Mail // the message queued; nil for none
	State    AlertState
}

// CheckAlerts looks at the units noted since the last check (every unit
// after a full recompute or for the baseline) and, when it finds new
// exceptions, queues c.Mail's message of them, all in one transaction
// (see the top of this file). With alerts off or no result stored it
// does nothing.
func (l *Ledger) CheckAlerts(c AlertCheck) (AlertChecked, error) {
	var out AlertChecked
	err := l.update(func(tx *bolt.Tx) error {
		out = AlertChecked{}
		r := root(tx)
		a := r.Bucket(bucketAlerts)
		if a == nil {
			return nil
		}
		st, err := alertState(a)
		if err != nil {
			return err
		}
		out.State = st
		res := r.Bucket(bucketResult)
		if res == nil || res.Get(keyState) == nil {
			return nil
		}
		if err := wholeResult(res); err != nil {
			return err
		}
		todo, err := alertBucket(a, alertsTodo)
		if err != nil {
			return err
		}
		known, err := alertBucket(a, alertsKnown)
		if err != nil {
			return err
		}
		s := &alertScan{c: c, items: itemsOf(res), units: unitsOf(res), known: known,
			baseline: st.Baseline.IsZero(), news: AlertNews{At: c.At, Counts: map[string]int{}, State: st}}
		if s.baseline || a.Get(keyAlertsAll) != nil {
			err = s.everyUnit()
		} else {
			err = todo.ForEach(func(u, _ []byte) error { return s.unit(u, s.knownOf(u)) })
		}
		if err != nil {
			return err
		}
		out.Units, out.Baseline, out.New = s.looked, s.baseline, s.news.Total
		if s.news.Total > 0 {
			if c.Mail == nil {
				return errors.New("alerts: new exceptions and no mail to make")
			}
			m, err := c.Mail(s.news)
			if err != nil {
				return err
			}
			if root(tx).Bucket(bucketOutbox).Get([]byte(m.ID)) == nil {
				if err := putMail(tx, m); err != nil {
					return err
				}
			}
			afterAlertMailPut()
			out.Mail = m
			st.LastMail, st.Mails, st.Alerted = c.At.UTC(), st.Mails+1, st.Alerted+s.news.Total
		}
		for _, kv := range s.puts {
			if err := known.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		for _, k := range s.dels {
			if err := known.Delete(k); err != nil {
				return err
			}
		}
		if err := a.DeleteBucket(alertsTodo); err != nil {
			return err
		}
		if _, err := a.CreateBucket(alertsTodo); err != nil {
			return err
		}
		if err := a.Delete(keyAlertsAll); err != nil {
			return err
		}
		if s.baseline {
			st.Baseline = c.At.UTC()
		}
		out.State = st
		return putAlertState(a, st)
	})
	if err != nil {
		return AlertChecked{}, fmt.Errorf("alerts: %w", err)
	}
	return out, nil
}

// alertScan is one check's comparison of items with known/.
type alertScan struct {
	c            AlertCheck
	known        *bolt.Bucket
	items, units *blockMap
	baseline     bool
	looked       int
	news         AlertNews
	puts         [][2][]byte // known/ entries to write, once the scan is over (a cursor is on the bucket)
	dels         [][]byte
}

// knownOf is the known/ entries of unit u: resolution key → code.
func (s *alertScan) knownOf(u []byte) map[string]string {
	p := knownPrefix(u)
	out := map[string]string{}
	c := s.known.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		out[string(k[len(p):])] = string(v)
	}
	return out
}

// everyUnit looks at every unit of the result, and drops the entries of
// units it no longer has.
func (s *alertScan) everyUnit() error {
	byUnit := map[string]map[string]string{}
	err := s.known.ForEach(func(k, v []byte) error {
		if len(k) < 2 || len(k) < 2+int(binary.BigEndian.Uint16(k)) {
			s.dels = append(s.dels, bytes.Clone(k)) // not ours to read: made again below if it is an exception
			return nil
		}
		n := 2 + int(binary.BigEndian.Uint16(k))
		u := string(k[2:n])
		if byUnit[u] == nil {
			byUnit[u] = map[string]string{}
		}
		byUnit[u][string(k[n:])] = string(v)
		return nil
	})
	if err != nil {
		return err
	}
	err = s.units.ForEach(func(u, _ []byte) error {
		old := byUnit[string(u)]
		delete(byUnit, string(u))
		return s.unit(u, old)
	})
	if err != nil {
		return err
	}
	for u, old := range byUnit {
		for rk := range old {
			s.dels = append(s.dels, append(knownPrefix([]byte(u)), rk...))
		}
	}
	return nil
}

// unit compares the stored items of unit u with its entries old (taken
// from old as it goes).
func (s *alertScan) unit(u []byte, old map[string]string) error {
	s.looked++
	v, err := s.units.Get(u)
	if err != nil {
		return err
	}
	e, err := decodeUnit(v)
	if err != nil {
		return corruptResult("the stored reconciliation's unit %s does not decode", describeUnit(u))
	}
	prefix := knownPrefix(u)
	var it domain.Item
	var rec domain.Record
	var op domain.Operation
	seen := map[string]bool{}
	for _, k := range e.items {
		v, err := s.items.Get([]byte(k))
		if err != nil {
			return err
		}
		if v == nil {
			continue // a place another unit's item took over
		}
		if err := decodeItem(v, &it, &rec, &op); err != nil {
			return corruptResult("the stored reconciliation: %s does not decode", describePlace([]byte(k)))
		}
		rk := string(resolutionKey(domain.KeyOf(&it)))
		if seen[rk] {
			continue // two items of one key (a resolution could not tell them apart either): the first counts
		}
		seen[rk] = true
		was, had := old[rk]
		switch {
		case it.Result == domain.ResultPending:
			delete(old, rk) // its entry stays as it was
		case domain.IsException(it.Result):
			delete(old, rk)
			if had && was == it.Result {
				continue
			}
			s.puts = append(s.puts, [2][]byte{append(bytes.Clone(prefix), rk...), []byte(it.Result)})
			if !s.baseline && s.c.Alert(it.Result) {
				s.add(&it)
			}
		}
	}
	for rk := range old { // settled (matched, resolved) or gone
		s.dels = append(s.dels, append(bytes.Clone(prefix), rk...))
	}
	return nil
}

// add counts a new exception, and keeps a copy of the first Max.
func (s *alertScan) add(it *domain.Item) {
	s.news.Total++
	s.news.Counts[it.Result]++
	if len(s.news.Items) >= s.c.Max {
		return
	}
	c := *it
	if it.Merchant != nil {
		m := *it.Merchant
		c.Merchant = &m
	}
	if it.Provider != nil {
		p := *it.Provider
		c.Provider = &p
	}
	s.news.Items = append(s.news.Items, c)
}

// knownPrefix is the known/ prefix of unit u's entries.
func knownPrefix(u []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(u))), u...)
}

// noteAlerts notes, in a result write's transaction, the units it
// recomputed (every one for a full write); false with alerts off.
func noteAlerts(r *bolt.Bucket, w *ResultWrite) (bool, error) {
	a := r.Bucket(bucketAlerts)
	if a == nil {
		return false, nil
	}
	if w.Full {
		return true, a.Put(keyAlertsAll, []byte{1})
	}
	todo, err := alertBucket(a, alertsTodo)
	if err != nil {
		return false, err
	}
	n := 0
	note := func(u domain.Unit) error {
		if u == "" {
			return nil
		}
		n++
		return todo.Put([]byte(u), nil)
	}
	for _, u := range w.Units {
		if err := note(u); err != nil {
			return false, err
		}
	}
	for _, p := range w.Places {
		if err := note(p.Owner); err != nil {
			return false, err
		}
	}
	return n > 0, nil
}

// noteAlertsAll notes a full recompute; false with alerts off.
func noteAlertsAll(r *bolt.Bucket) (bool, error) {
	a := r.Bucket(bucketAlerts)
	if a == nil {
		return false, nil
	}
	return true, a.Put(keyAlertsAll, []byte{1})
}

func alertState(a *bolt.Bucket) (AlertState, error) {
	var st AlertState
	v := a.Get(keyState)
	if v == nil {
		return st, corrupt("%s: the state is missing", bucketAlerts)
	}
	if err := json.Unmarshal(v, &st); err != nil {
		return st, corrupt("%s: the state does not decode", bucketAlerts)
	}
	return st, nil
}

func putAlertState(a *bolt.Bucket, st AlertState) error {
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return a.Put(keyState, v)
}

// alertBucket is a's bucket name, or damage.
func alertBucket(a *bolt.Bucket, name []byte) (*bolt.Bucket, error) {
	b := a.Bucket(name)
	if b == nil {
		return nil, corrupt("%s/%s is missing", bucketAlerts, name)
	}
	return b, nil
}

// checkAlerts holds the alerts' bucket, when there is one, to its shape:
// a state that decodes, both buckets, known/ keys that name a unit and
// a resolution key, and codes as values.
func checkAlerts(r *bolt.Bucket, rep *Report) {
	a := r.Bucket(bucketAlerts)
	if a == nil {
		return
	}
	if _, err := alertState(a); err != nil {
		rep.problemOf(err)
		return
	}
	todo, err := alertBucket(a, alertsTodo)
	if err != nil {
		rep.problemOf(err)
		return
	}
	known, err := alertBucket(a, alertsKnown)
	if err != nil {
		rep.problemOf(err)
		return
	}
	bad := 0
	known.ForEach(func(k, v []byte) error {
		if len(k) < 2 || len(k) < 2+int(binary.BigEndian.Uint16(k))+8 || len(v) == 0 {
			bad++
		}
		return nil
	})
	if bad > 0 {
		rep.problem("%s/%s: %d entries do not decode (turning alerts off and on again rebuilds them: the exceptions open then are taken as known)", bucketAlerts, alertsKnown, bad)
		return
	}
	rep.checked("alerts: %d exceptions known, %d units to look at", known.Stats().KeyN, todo.Stats().KeyN)
}
