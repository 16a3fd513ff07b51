package ledger

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// The check of the stored reconciliation (result.go's buckets) and of the
// dirty marks. Every item decodes and is named by one unit; every unit
// entry decodes and names items that are stored, and fallbacks that are;
// every deadline (due/) and re-check time (ask/) points at a stored item
// that says the same time (and, for ask/, the same payment), and every
// item with such a time has its entry; every fallback is its owner's;
// every dirty mark decodes; the state's counts and amounts equal a recount
// of the items. A database without a result (older, or never reconciled)
// is sound. A problem names the bucket and key (a unit's payment id
// masked as a card number would be), and when every problem of a check is
// here the report says so (Rebuild): reconcile --full recomputes all of
// it from the data.

// resultCheck is one check of the stored result: its problems are
// counted, to tell whether they are all of it.
type resultCheck struct {
	ctx  context.Context
	tx   *bolt.Tx
	rep  *Report
	n    int // problems found here
	rows int
}

func (c *resultCheck) problem(format string, args ...any) {
	c.n++
	c.rep.problem(format, args...)
}

// row is called for every entry read: it ends the check when ctx ends and
// drops the mapped pages read so far now and then.
func (c *resultCheck) row() error {
	if c.rows++; c.rows%4096 == 0 {
		if err := c.ctx.Err(); err != nil {
			return err
		}
	}
	if c.rows%releaseEvery == 0 {
		release(c.tx)
	}
	return nil
}

// checkResult checks the stored result and the dirty marks under r.
func (l *Ledger) checkResult(ctx context.Context, tx *bolt.Tx, r *bolt.Bucket, rep *Report) error {
	c := &resultCheck{ctx: ctx, tx: tx, rep: rep}
	err := c.check(r)
	rep.Rebuild = c.n > 0 && c.n == len(rep.Problems)+rep.More
	return err
}

func (c *resultCheck) check(r *bolt.Bucket) error {
	marks, err := c.marks(r.Bucket(bucketDirty))
	if err != nil {
		return err
	}
	res := r.Bucket(bucketResult)
	if res == nil {
		c.rep.checked("stored reconciliation: none yet (the first reconcile makes one); %s", marks)
		return nil
	}
	var st ResultState
	stored := false
	if v := res.Get(keyState); v == nil {
		c.problem("%s: it has no %q", bucketResult, keyState)
	} else if err := json.Unmarshal(v, &st); err != nil {
		c.problem("%s: the entry %s does not decode (%v)", bucketResult, describeKey(keyState), err)
	} else {
		stored = true
	}
	missing := false
	bucket := func(name []byte) *bolt.Bucket {
		b := res.Bucket(name)
		if b == nil {
			missing = true
			c.problem("%s/%s is missing", bucketResult, name)
		}
		return b
	}
	s := &storedResult{c: c, due: bucket(resultDue), ask: bucket(resultAsk), fallback: bucket(resultFallback)}
	if bucket(resultItems); missing {
		return nil
	}
	if bucket(resultUnits); missing {
		return nil
	}
	s.items, s.units = itemsOf(res), unitsOf(res)
	recount := ResultState{Counts: map[string]int{}, Amounts: map[string]map[string]int64{}, PerCurrency: map[string]map[string]int{}}
	n, decoded, deadlines, asks, err := s.checkItems(&resultWriter{st: &recount})
	if err != nil {
		return err
	}
	units, named, vias, err := s.checkUnits()
	if err != nil {
		return err
	}
	if named != n {
		if err := s.nameUnnamed(); err != nil {
			return err
		}
	}
	for _, e := range []error{s.checkTimes(resultDue, s.due), s.checkTimes(resultAsk, s.ask), s.checkFallbacks()} {
		if e != nil {
			return e
		}
	}
	line := fmt.Sprintf("%d items (%d deadlines, %d re-check times), %d units, %d fallbacks", n, deadlines, asks, units, vias)
	if !stored {
		c.rep.checked("stored reconciliation: %s; %s", line, marks)
		return nil
	}
	line = fmt.Sprintf("stored reconciliation of %s: %s", st.At.UTC().Format(checkTime), line)
	if decoded != n {
		c.rep.checked("%s: %d items do not decode; %s", line, n-decoded, marks)
		return nil // a recount without them says nothing
	}
	same := true
	if st.Items != recount.Items || fmt.Sprint(st.Counts) != fmt.Sprint(recount.Counts) {
		same = false
		c.problem("%s/%s: it counts %d items (%v), a recount gives %d (%v)", bucketResult, keyState, st.Items, st.Counts, recount.Items, recount.Counts)
	}
	if fmt.Sprint(st.Amounts) != fmt.Sprint(recount.Amounts) {
		same = false
		c.problem("%s/%s: its amounts per result and currency (%v), a recount gives (%v)", bucketResult, keyState, st.Amounts, recount.Amounts)
	}
	if fmt.Sprint(st.PerCurrency) != fmt.Sprint(recount.PerCurrency) {
		same = false
		c.problem("%s/%s: its items per result and currency (%v), a recount gives (%v)", bucketResult, keyState, st.PerCurrency, recount.PerCurrency)
	}
	if same && c.n == 0 {
		line += ": each entry decodes and points at what it names; its counts equal a recount"
	} else if same {
		line += ": its counts equal a recount"
	}
	c.rep.checked("%s; %s", line, marks)
	return nil
}

// checkTime is how the check writes a time.
const checkTime = "2006-01-02 15:04:05 MST"

func atOf(k []byte) string { return time.Unix(0, timeOfKey(k)).UTC().Format(checkTime) }

// marks checks the dirty marks: each decodes (eachMark) and has a
// sequence number no later than the bucket's.
func (c *resultCheck) marks(dirty *bolt.Bucket) (string, error) {
	if dirty == nil {
		return "no dirty marks", nil // a bucket made later: checkLedger warns
	}
	seq := dirty.Sequence()
	units := map[domain.Unit]bool{}
	bulk := false
	err := dirty.ForEach(func(k, v []byte) error {
		if err := c.row(); err != nil {
			return err
		}
		bulk = bulk || isBulkMark(v)
		if err := eachMark(k, v, func(u domain.Unit, _ []uint64) error { units[u] = true; return nil }); err != nil {
			var d *DamagedError
			errors.As(err, &d)
			c.problem("%s", d.What)
		} else if s := beUint64(k); s > seq {
			c.problem("%s: the mark %d is past the bucket's sequence %d", bucketDirty, s, seq)
		}
		return nil
	})
	if bulk { // a new book: too many to list (Behind says it so too)
		return fmt.Sprintf("more than %d payments marked changed since: each mark decodes", BulkMark), err
	}
	return fmt.Sprintf("%d payments marked changed since: each mark decodes", len(units)), err
}

// describeUnit shows a unit (a key of units/ or dirty/) with what looks
// like a card number in a payment id or provider payment id masked (an
// operation id is shown whole, as everywhere).
func describeUnit(k []byte) string {
	if len(k) > 1 && k[0] == domain.UnitOperation {
		if _, err := strconv.ParseUint(string(k[1:]), 10, 64); err == nil {
			return describeKey(k)
		}
	}
	return describeKey([]byte(domain.MaskCardNumbers(string(k))))
}

// describePlace names an item by its place key: a payment's by its first
// operation id, the type's and the item's numbers; others in hex (what
// looks like a card number in them masked).
func describePlace(k []byte) string {
	if len(k) == 12 && k[0] == 'g' {
		return fmt.Sprintf("the item of operation %d (type %d, number %d)", beUint64(k[1:9]), k[9], binary.BigEndian.Uint16(k[10:]))
	}
	if len(k) == 20 && k[0] == 'g' && binary.BigEndian.Uint16(k[10:]) == 0xffff { // past 0xfffe: 0xffff, then eight bytes
		return fmt.Sprintf("the item of operation %d (type %d, number %d)", beUint64(k[1:9]), k[9], 0xffff+beUint64(k[12:]))
	}
	return fmt.Sprintf("the item %x", domain.MaskCardNumbers(string(k)))
}

// storedResult is the result's buckets under check.
type storedResult struct {
	c                  *resultCheck
	due, ask, fallback *bolt.Bucket
	items, units       *blockMap
}

// checkItems decodes every item, counts it into w's state and looks up
// its deadline and re-check entries.
func (s *storedResult) checkItems(w *resultWriter) (n, decoded, deadlines, asks int, err error) {
	var it domain.Item
	var rec domain.Record
	var op domain.Operation
	err = s.items.forEach(func(k, v []byte) error {
		if err := s.c.row(); err != nil {
			return err
		}
		n++
		if decodeItem(v, &it, &rec, &op) != nil {
			s.c.problem("%s/%s: %s does not decode", bucketResult, resultItems, describePlace(k))
			return nil
		}
		decoded++
		w.count(&it, 1)
		if !it.Due.IsZero() {
			deadlines++
			if s.due.Get(timeKey(it.Due, string(k))) == nil {
				s.c.problem("%s/%s: %s is due at %s: %s/%s has no entry for it", bucketResult, resultItems, describePlace(k),
					it.Due.UTC().Format(checkTime), bucketResult, resultDue)
			}
		}
		if !it.AskAt.IsZero() {
			asks++
			if s.ask.Get(timeKey(it.AskAt, string(k))) == nil {
				s.c.problem("%s/%s: %s wants a re-check from %s: %s/%s has no entry for it", bucketResult, resultItems, describePlace(k),
					it.AskAt.UTC().Format(checkTime), bucketResult, resultAsk)
			}
		}
		return nil
	}, func(err error) error {
		n++ // at least one item that does not decode: no recount
		return s.damagedBlock(err)
	})
	return n, decoded, deadlines, asks, err
}

// checkUnits decodes every unit entry and looks up the items it names and
// its fallback entries.
func (s *storedResult) checkUnits() (n, named, vias int, err error) {
	err = s.units.forEach(func(k, v []byte) error {
		if err := s.c.row(); err != nil {
			return err
		}
		n++
		e, err := decodeUnit(v)
		if err != nil {
			s.c.problem("%s/%s: the entry %s does not decode", bucketResult, resultUnits, describeUnit(k))
			return nil
		}
		named += len(e.items)
		for _, item := range e.items {
			if v, err := s.items.Get([]byte(item)); err == nil && v == nil { // a damaged block is named already
				s.c.problem("%s/%s: the entry %s names %s, which is not stored", bucketResult, resultUnits, describeUnit(k), describePlace([]byte(item)))
			}
		}
		vias += len(e.vias)
		for _, via := range e.vias {
			if s.fallback.Get(fallbackKey(via, domain.Unit(k))) == nil {
				s.c.problem("%s/%s: the entry %s says its records fell back to %s: %s/%s has no entry for it", bucketResult, resultUnits,
					describeUnit(k), describeUnit([]byte(via)), bucketResult, resultFallback)
			}
		}
		return nil
	}, s.damagedBlock)
	return n, named, vias, err
}

// damagedBlock names a block that does not decode or overlaps the
// ones before it (blockMap.forEach's err), and goes on.
func (s *storedResult) damagedBlock(err error) error {
	s.c.problem("%s", err.(*DamagedError).What)
	return nil
}

// unit is the entry of u, if it decodes.
func (s *storedResult) unit(u []byte) (unitEntry, bool) {
	v, err := s.units.Get(u)
	if err != nil {
		return unitEntry{}, false
	}
	e, err := decodeUnit(v)
	return e, err == nil
}

// nameUnnamed names the items that no unit or more than one names (run
// only when the units name another number of items than are stored: it
// holds every named key).
func (s *storedResult) nameUnnamed() error {
	named := map[string]int{}
	undecoded := false
	err := s.units.forEach(func(_, v []byte) error {
		e, err := decodeUnit(v)
		undecoded = undecoded || err != nil
		for _, item := range e.items {
			named[item]++
		}
		return nil
	}, func(error) error { undecoded = true; return nil })
	if err != nil {
		return err
	}
	return s.items.forEach(func(k, _ []byte) error {
		switch n := named[string(k)]; n {
		case 1:
		case 0:
			if !undecoded { // else it may be the one's that does not decode
				s.c.problem("%s/%s: %s is named by no unit", bucketResult, resultItems, describePlace(k))
			}
		default:
			s.c.problem("%s/%s: %s is named by %d units", bucketResult, resultItems, describePlace(k), n)
		}
		return nil
	}, func(error) error { return nil }) // named already
}

// checkTimes checks the entries of due/ or ask/: each points at a stored
// item of that time; a deadline's unit names the item, a re-check says
// the item's project, type, method and payment id.
func (s *storedResult) checkTimes(name []byte, b *bolt.Bucket) error {
	var it domain.Item
	var rec domain.Record
	var op domain.Operation
	return b.ForEach(func(k, v []byte) error {
		if err := s.c.row(); err != nil {
			return err
		}
		if len(k) < 8 {
			s.c.problem("%s/%s: the entry %x is too short", bucketResult, name, k)
			return nil
		}
		place := k[8:]
		where := fmt.Sprintf("%s/%s: the entry at %s for %s", bucketResult, name, atOf(k), describePlace(place))
		iv, err := s.items.Get(place)
		if err != nil {
			return nil // its block is named already
		}
		if iv == nil {
			s.c.problem("%s: no such item is stored", where)
			return nil
		}
		if decodeItem(iv, &it, &rec, &op) != nil {
			return nil // named already
		}
		at := it.Due
		if string(name) == string(resultAsk) {
			at = it.AskAt
		}
		switch {
		case at.IsZero():
			s.c.problem("%s: the item has none", where)
		case at.UnixNano() != timeOfKey(k):
			if string(name) == string(resultAsk) {
				s.c.problem("%s: the item wants a re-check from %s", where, at.UTC().Format(checkTime))
			} else {
				s.c.problem("%s: the item is due at %s", where, at.UTC().Format(checkTime))
			}
		}
		if string(name) == string(resultDue) {
			if e, ok := s.unit(v); ok && !slices.Contains(e.items, string(place)) {
				s.c.problem("%s says unit %s, which does not name it", where, describeUnit(v))
			}
			return nil
		}
		if len(v) < 8 {
			s.c.problem("%s does not decode", where)
			return nil
		}
		r := reader{b: v[8:]}
		typ, method, payment := r.word(), r.word(), r.string()
		switch {
		case r.err != nil || len(r.b) != 0:
			s.c.problem("%s does not decode", where)
		case int64(beUint64(v)) != it.ProjectID || typ != it.Type || method != it.AskMethod || payment != it.PaymentID:
			s.c.problem("%s does not say what the item does (project, type, method, payment id)", where)
		}
		return nil
	})
}

// checkFallbacks checks that each fallback/ entry is listed by its owner's
// unit entry.
func (s *storedResult) checkFallbacks() error {
	return s.fallback.ForEach(func(k, _ []byte) error {
		if err := s.c.row(); err != nil {
			return err
		}
		if len(k) < 2 || len(k) < 2+int(binary.BigEndian.Uint16(k)) {
			s.c.problem("%s/%s: the entry %x does not decode", bucketResult, resultFallback, k)
			return nil
		}
		n := 2 + int(binary.BigEndian.Uint16(k))
		via, owner := k[2:n], k[n:]
		if e, ok := s.unit(owner); ok && !slices.Contains(e.vias, domain.Unit(via)) {
			s.c.problem("%s/%s: the entry of %s for %s: that unit's entry does not say so", bucketResult, resultFallback,
				describeUnit(via), describeUnit(owner))
		}
		return nil
	})
}
