package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// cardPayment is a payment id that reads as a card number: a problem
// that names its unit or item must not quote it whole.
const cardPayment = "4111111111111111"

// placeOf is a place key as the engine makes a payment's: 'g', its first
// operation id, the type's number, the item's number.
func placeOf(firstOp uint64, typ byte) string {
	k := append(be64([]byte{'g'}, firstOp), typ)
	return string(binary.BigEndian.AppendUint16(k, 0))
}

// withResult is filled with a stored result written as a reconcile
// writes one: items of five payments (one pending with a deadline, one
// overdue wanting a re-check), a record without an operation that fell
// back to an operation id, one linked with a payment, and a dirty mark of
// a change since. It returns the database and the result's parts by name.
func withResult(t *testing.T) (path string, keys map[string]string) {
	t.Helper()
	path, ids := filled(t)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	seq, gen, err := l.MarkAll()
	if err != nil {
		t.Fatal(err)
	}
	opOf := func(i int) *domain.Operation {
		op, _, err := l.Get(ids[i])
		if err != nil {
			t.Fatal(err)
		}
		return &op.Operation
	}
	keys = map[string]string{}
	w := ResultWrite{Full: true, Seq: seq, Gen: gen, At: t0, Config: "test"}
	item := func(name, result string, op *domain.Operation, merchant *domain.Record, place string, owner domain.Unit) {
		it := domain.Item{Result: result, Code: result, Type: "purchase", Merchant: merchant, Provider: op, CreatedAt: t0}
		if op != nil {
			it.PaymentID, it.ProjectID, it.OperationID, it.Method = op.PaymentID, op.ProjectID, op.OperationID, op.PaymentMethod
			w.Ops = append(w.Ops, *op)
		}
		if merchant != nil && op == nil {
			it.PaymentID = merchant.PaymentID
		}
		w.Items = append(w.Items, it)
		w.Places = append(w.Places, domain.Place{Key: place, Owner: owner})
		keys[name] = place
	}
	r1 := rec("p1", "purchase", "paid", 100000, "a.csv:2")
	r2 := rec("p2", "purchase", "paid", 100000, "a.csv:3")
	item("missing", domain.ResultMissingInRecords, opOf(0), nil, placeOf(ids[0], 0), domain.PaymentUnit("p0"))
	item("matched", domain.ResultMatched, opOf(1), &r1, placeOf(ids[1], 0), domain.PaymentUnit("p1"))
	item("pending", domain.ResultPending, opOf(2), &r2, placeOf(ids[2], 0), domain.PaymentUnit("p2"))
	item("overdue", domain.ResultOverdue, opOf(3), nil, placeOf(ids[3], 0), domain.PaymentUnit("p3"))
	orphan := rec("", "purchase", "paid", 5000, "a.csv:9")
	orphan.ProviderPaymentID, orphan.OperationID = "prov-x", ids[5]
	item("orphan", domain.ResultMissingAtProvider, nil, &orphan, "o\x00\x01orphan", orphan.Unit())
	card := rec(cardPayment, "purchase", "paid", 7000, "a.csv:10")
	item("card", domain.ResultMissingAtProvider, nil, &card, "o"+cardPayment+"\x00\x01", card.Unit())
	pending, overdue := &w.Items[2], &w.Items[3]
	pending.Due = t0.Add(24 * time.Hour)
	overdue.AskAt, overdue.AskMethod = t0.Add(-time.Hour), "advcash"
	w.Records = []domain.Record{r1, r2, orphan, card}
	w.Fallbacks = []domain.Fallback{{Via: domain.OperationUnit(ids[5]), Owner: orphan.Unit()}}
	w.Links = [][2]domain.Unit{{domain.PaymentUnit("p4"), domain.PaymentUnit("p1")}}
	if _, err := l.WriteResult(w); err != nil {
		t.Fatal(err)
	}
	// A change since: p0's operation declined.
	if _, err := l.UpsertPage([]domain.Operation{sale(ids[0], "p0", "decline")}, t0); err != nil {
		t.Fatal(err)
	}
	return path, keys
}

// resultBucket runs fn on the result bucket of the database at path, and
// commits what it changes (a damage).
func resultBucket(t *testing.T, path string, fn func(r, res *bolt.Bucket) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { return fn(root(tx), root(tx).Bucket(bucketResult)) }); err != nil {
		t.Fatal(err)
	}
}

func verifyOf(t *testing.T, path string) *Report {
	t.Helper()
	l, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rep, err := l.Verify(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestVerifyChecksTheStoredResult: a sound stored result passes and check
// says what it checked; each damage of it is named by its bucket and key
// (and never quotes a card number), and the report says that reconcile
// --full rebuilds it. A database without a result is sound.
func TestVerifyChecksTheStoredResult(t *testing.T) {
	none, _ := filled(t)
	rep := verifyOf(t, none)
	if !rep.OK() || !strings.Contains(strings.Join(rep.Checked, "\n"), "stored reconciliation: none") {
		t.Errorf("a database without a result: %v\n%s", rep.Problems, strings.Join(rep.Checked, "\n"))
	}

	good, keys := withResult(t)
	rep = verifyOf(t, good)
	if !rep.OK() {
		t.Fatalf("a sound result: %v", rep.Problems)
	}
	checked := strings.Join(rep.Checked, "\n")
	for _, want := range []string{"stored reconciliation of 2026-11-20 10:00:00 UTC: 6 items", "1 deadline", "1 re-check", "counts equal a recount", "1 payments marked changed"} {
		if !strings.Contains(checked, want) {
			t.Errorf("the report lacks %q:\n%s", want, checked)
		}
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	unitP2, unitCard := domain.PaymentUnit("p2"), domain.PaymentUnit(cardPayment)
	// cut cuts an entry of m short by a byte, its block sound.
	cut := func(m *blockMap, k []byte) error {
		v, err := m.Get(k)
		if err != nil || v == nil {
			return fmt.Errorf("no entry %q to cut: %v", k, err)
		}
		if err := m.Put(k, v[:len(v)-1]); err != nil {
			return err
		}
		return m.Flush()
	}
	flushed := func(m *blockMap, err error) error {
		if err != nil {
			return err
		}
		return m.Flush()
	}
	state := func(res *bolt.Bucket, edit func(*ResultState)) error {
		var st ResultState
		if err := json.Unmarshal(res.Get(keyState), &st); err != nil {
			return err
		}
		edit(&st)
		v, _ := json.Marshal(st)
		return res.Put(keyState, v)
	}
	for _, c := range []struct {
		name   string
		damage func(r, res *bolt.Bucket) error
		says   []string
	}{
		{"an item cut short", func(_, res *bolt.Bucket) error { return cut(itemsOf(res), []byte(keys["matched"])) },
			[]string{"result/items: the item of operation 10000000000000001 (type 0, number 0) does not decode"}},
		{"an item gone", func(_, res *bolt.Bucket) error {
			m := itemsOf(res)
			return flushed(m, m.Delete([]byte(keys["matched"])))
		},
			[]string{`result/units: the entry "Pp1" names the item of operation 10000000000000001 (type 0, number 0), which is not stored`,
				"result/state: it counts 6 items",
			}},
		{"an item no unit names", func(_, res *bolt.Bucket) error {
			m := itemsOf(res)
			v, err := m.Get([]byte(keys["matched"]))
			if err != nil {
				return err
			}
			return flushed(m, m.Put([]byte(placeOf(10000000000000009, 0)), v))
		}, []string{"result/items: the item of operation 10000000000000009 (type 0, number 0) is named by no unit", "result/state: it counts 6 items"}},
		{"a block of items cut short", func(_, res *bolt.Bucket) error {
			b := res.Bucket(resultItems)
			k, v := b.Cursor().First()
			return b.Put(bytes.Clone(k), bytes.Clone(v[:len(v)-1]))
		}, []string{"result/items: the block at the item of operation 10000000000000000 (type 0, number 0) does not decode"}},
		{"a block of units cut short", func(_, res *bolt.Bucket) error {
			b := res.Bucket(resultUnits)
			k, v := b.Cursor().First()
			return b.Put(bytes.Clone(k), bytes.Clone(v[:len(v)-1]))
		}, []string{`result/units: the block at "P411111******1111" does not decode`}},
		{"a unit entry cut short", func(_, res *bolt.Bucket) error { return cut(unitsOf(res), []byte(unitP2)) },
			[]string{`result/units: the entry "Pp2" does not decode`}},
		{"a card payment's unit entry and item cut short", func(_, res *bolt.Bucket) error {
			if err := cut(itemsOf(res), []byte(keys["card"])); err != nil {
				return err
			}
			return cut(unitsOf(res), []byte(unitCard))
		}, []string{`result/units: the entry "P411111******1111" does not decode`, "result/items: the item 6f3431313131312a2a2a2a2a2a31313131"}},
		{"a deadline gone", func(_, res *bolt.Bucket) error {
			return res.Bucket(resultDue).Delete(timeKey(t0.Add(24*time.Hour), keys["pending"]))
		}, []string{"result/items: the item of operation 10000000000000002 (type 0, number 0) is due at 2026-11-21 10:00:00 UTC: result/due has no entry for it"}},
		{"a deadline moved", func(_, res *bolt.Bucket) error {
			due := res.Bucket(resultDue)
			k := timeKey(t0.Add(24*time.Hour), keys["pending"])
			v := bytes.Clone(due.Get(k))
			if err := due.Delete(k); err != nil {
				return err
			}
			return due.Put(timeKey(t0.Add(time.Hour), keys["pending"]), v)
		}, []string{"result/due: the entry at 2026-11-20 11:00:00 UTC for the item of operation 10000000000000002 (type 0, number 0): the item is due at 2026-11-21 10:00:00 UTC",
			"result/items: the item of operation 10000000000000002 (type 0, number 0) is due at 2026-11-21 10:00:00 UTC: result/due has no entry for it"}},
		{"a deadline of another unit", func(_, res *bolt.Bucket) error {
			return res.Bucket(resultDue).Put(timeKey(t0.Add(24*time.Hour), keys["pending"]), []byte("Pp1"))
		}, []string{`result/due: the entry at 2026-11-21 10:00:00 UTC for the item of operation 10000000000000002 (type 0, number 0) says unit "Pp1", which does not name it`}},
		{"a deadline of no item", func(_, res *bolt.Bucket) error {
			return res.Bucket(resultDue).Put(timeKey(t0, placeOf(10000000000000009, 0)), []byte("Pp9"))
		}, []string{"result/due: the entry at 2026-11-20 10:00:00 UTC for the item of operation 10000000000000009 (type 0, number 0): no such item is stored"}},
		{"a re-check of another payment", func(_, res *bolt.Bucket) error {
			ask := res.Bucket(resultAsk)
			k := timeKey(t0.Add(-time.Hour), keys["overdue"])
			v := appendString(appendWord(appendWord(be64(nil, 580), "purchase"), "advcash"), "p9")
			return ask.Put(k, v)
		}, []string{"result/ask: the entry at 2026-11-20 09:00:00 UTC for the item of operation 10000000000000003 (type 0, number 0) does not say what the item does"}},
		{"a re-check entry cut short", func(_, res *bolt.Bucket) error {
			return res.Bucket(resultAsk).Put(timeKey(t0.Add(-time.Hour), keys["overdue"]), []byte{1, 2})
		}, []string{"result/ask: the entry at 2026-11-20 09:00:00 UTC for the item of operation 10000000000000003 (type 0, number 0) does not decode"}},
		{"a re-check gone", func(_, res *bolt.Bucket) error {
			return res.Bucket(resultAsk).Delete(timeKey(t0.Add(-time.Hour), keys["overdue"]))
		}, []string{"result/items: the item of operation 10000000000000003 (type 0, number 0) wants a re-check from 2026-11-20 09:00:00 UTC: result/ask has no entry for it"}},
		{"a fallback gone", func(_, res *bolt.Bucket) error {
			c := res.Bucket(resultFallback).Cursor()
			k, _ := c.First()
			return res.Bucket(resultFallback).Delete(k)
		}, []string{`result/units: the entry "Vprov-x" says its records fell back to "O10000000000000005": result/fallback has no entry for it`}},
		{"a fallback of no unit", func(_, res *bolt.Bucket) error {
			return res.Bucket(resultFallback).Put(fallbackKey(domain.ProviderUnit("v1"), domain.PaymentUnit("p7")), nil)
		}, []string{`result/fallback: the entry of "Vv1" for "Pp7": that unit's entry does not say so`}},
		{"a dirty mark cut short", func(r, _ *bolt.Bucket) error { return r.Bucket(bucketDirty).Put(be64(nil, 1), []byte{0xff}) },
			[]string{`dirty: the mark 1 does not decode`}},
		{"a dirty mark's operations do not decode", func(r, _ *bolt.Bucket) error {
			return r.Bucket(bucketDirty).Put(be64(nil, 1), append(appendString(nil, "Pp0"), 5))
		}, []string{`dirty: the mark 1 does not decode`}},
		{"a dirty mark of no sequence number", func(r, _ *bolt.Bucket) error {
			return r.Bucket(bucketDirty).Put([]byte(unitCard), be64(nil, 1))
		}, []string{`dirty: the mark "P411111******1111" does not decode`}},
		{"a dirty mark from the future", func(r, _ *bolt.Bucket) error {
			return r.Bucket(bucketDirty).Put(be64(nil, 1<<40), append(appendString(nil, string(unitCard)), 0))
		}, []string{`dirty: the mark 1099511627776 is past the bucket's sequence 1`}},
		{"counts off", func(_, res *bolt.Bucket) error {
			return state(res, func(st *ResultState) { st.Counts[domain.ResultMatched]++; st.Items++ })
		}, []string{"result/state: it counts 7 items (map[matched:2 missing_at_provider:2 missing_in_records:1 overdue:1 pending:1]), a recount gives 6 (map[matched:1 missing_at_provider:2 missing_in_records:1 overdue:1 pending:1])"}},
		{"amounts off", func(_, res *bolt.Bucket) error {
			return state(res, func(st *ResultState) { st.Amounts[domain.ResultMatched]["UAH"]++ })
		}, []string{"result/state: its amounts per result and currency (map[matched:map[UAH:100001]", "a recount gives (map[matched:map[UAH:100000]"}},
		{"a state that does not decode", func(_, res *bolt.Bucket) error { return res.Put(keyState, []byte("{")) },
			[]string{`result: the entry "state" does not decode`}},
		{"no state", func(_, res *bolt.Bucket) error { return res.Delete(keyState) },
			[]string{`result: it has no "state"`}},
		{"a bucket gone", func(_, res *bolt.Bucket) error { return res.DeleteBucket(resultDue) },
			[]string{"result/due is missing"}},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "damaged.db")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			resultBucket(t, path, c.damage)
			rep := verifyOf(t, path)
			all := strings.Join(rep.Problems, "\n")
			for _, want := range c.says {
				if !strings.Contains(all, want) {
					t.Errorf("the problems lack %q:\n%s", want, all)
				}
			}
			if strings.Contains(all, cardPayment) {
				t.Errorf("a problem quotes a card number:\n%s", all)
			}
			if !rep.Rebuild {
				t.Errorf("the report does not say that reconcile --full rebuilds it:\n%s", all)
			}
		})
	}
}
