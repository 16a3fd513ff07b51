package ledger

import (
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// TestAResultReadBeforeAnotherWasStoredIsRefused: two reconciles at once
// (the daemon's jobs and commands) read the data, a sync changes it in
// between, and the one that read later stores first, consuming the
// marks of the change. The other's write, made from the older data, is
// refused (it would store items older than its marks say, for good);
// so is a full recompute's whose data was read before a result stored
// since. A write on the result it read goes through, a full rewrite
// included, and each write moves the generation on.
func TestAResultReadBeforeAnotherWasStoredIsRefused(t *testing.T) {
	path, _ := withResult(t)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	all := func(*domain.Operation) bool { return true }
	gather := func() Gathered {
		t.Helper()
		g, err := l.Gather(t0, nil, all, 1000)
		if err != nil || g.NoResult {
			t.Fatalf("gather: %+v %v", g, err)
		}
		return g
	}
	write := func(w ResultWrite) error {
		w.At, w.Config = t0, "test"
		_, err := l.WriteResult(w)
		return err
	}
	slow := gather()
	if _, err := l.UpsertPage([]domain.Operation{sale(10000000000000000, "p0", "success")}, t0); err != nil { // p0 changes again
		t.Fatal(err)
	}
	fast := gather()
	if len(slow.Units) == 0 || len(fast.Units) == 0 {
		t.Fatalf("p0 is not marked changed: %v, %v", slow.Units, fast.Units)
	}
	if err := write(ResultWrite{Units: fast.Units, Seq: fast.Seq, Gen: fast.Gen}); err != nil {
		t.Fatal(err)
	}
	if err := write(ResultWrite{Units: slow.Units, Seq: slow.Seq, Gen: slow.Gen}); !errors.Is(err, ErrResultMoved) {
		t.Fatalf("a result read before another was stored: %v, want ErrResultMoved", err)
	}
	seq, gen, err := l.MarkAll()
	if err != nil {
		t.Fatal(err)
	}
	if gen != fast.Gen+1 {
		t.Errorf("generation %d after the write on %d", gen, fast.Gen)
	}
	g := gather()
	if err := write(ResultWrite{Units: g.Units, Seq: g.Seq, Gen: g.Gen}); err != nil {
		t.Fatal(err)
	}
	if err := write(ResultWrite{Full: true, Seq: seq, Gen: gen}); !errors.Is(err, ErrResultMoved) {
		t.Fatalf("a full recompute read before another result was stored: %v, want ErrResultMoved", err)
	}
	seq, gen, err = l.MarkAll()
	if err != nil {
		t.Fatal(err)
	}
	if err := write(ResultWrite{Full: true, Seq: seq, Gen: gen}); err != nil {
		t.Fatal(err)
	}
	if err := write(ResultWrite{Units: g.Units, Seq: g.Seq, Gen: gen}); !errors.Is(err, ErrResultMoved) {
		t.Fatalf("a write on the generation before a full rewrite: %v, want ErrResultMoved", err)
	}
}

// TestAResultMissingABucketIsRebuiltNotACrash: a stored result whose
// bucket of units or items is gone (a flag of the page's element
// damaged, which bbolt's check does not see) is damage that names the
// bucket and says reconcile --full rebuilds it, wherever it is read: not
// a nil bucket that bbolt trips over (which closed the database, and
// the daemon with it). A full write rebuilds it.
func TestAResultMissingABucketIsRebuiltNotACrash(t *testing.T) {
	for _, name := range [][]byte{resultItems, resultUnits, resultDue, resultFallback} {
		t.Run(string(name), func(t *testing.T) {
			path, _ := withResult(t)
			resultBucket(t, path, func(_, res *bolt.Bucket) error { return res.DeleteBucket(name) })
			l, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			says := "result/" + string(name) + " is missing"
			rebuilt := func(what string, err error) {
				t.Helper()
				var d *DamagedError
				if !errors.As(err, &d) || !d.Rebuild || !strings.Contains(err.Error(), says) {
					t.Errorf("%s: %v, want the damage saying %q, rebuilt by reconcile --full", what, err, says)
				}
			}
			rebuilt("ForEachItem", l.ForEachItem(func(*domain.Item) error { return nil }))
			_, err = l.Gather(t0, nil, func(*domain.Operation) bool { return true }, 1000)
			rebuilt("Gather", err)
			_, gen, err := l.MarkAll()
			if err != nil {
				t.Fatal(err)
			}
			_, err = l.WriteResult(ResultWrite{Units: []domain.Unit{domain.PaymentUnit("p0")}, Gen: gen, At: t0})
			rebuilt("WriteResult", err)
			if err := l.Err(); err != nil {
				t.Fatalf("the ledger closed: %v", err)
			}
			seq, gen, err := l.MarkAll()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.WriteResult(ResultWrite{Full: true, Seq: seq, Gen: gen, At: t0}); err != nil {
				t.Fatalf("a full write: %v", err)
			}
			if err := l.Check(); err != nil {
				t.Fatalf("after a full write: %v", err)
			}
		})
	}
}

// TestAShortTimeKeyIsDamageNotTheEnd: deadlines and re-check times are
// read in key order up to now; a key too short for its time (damage)
// ended the reading silently, so no deadline after it was ever met and
// no payment re-checked. It is damage reconcile --full rebuilds.
func TestAShortTimeKeyIsDamageNotTheEnd(t *testing.T) {
	for _, name := range [][]byte{resultDue, resultAsk} {
		t.Run(string(name), func(t *testing.T) {
			path, _ := withResult(t)
			resultBucket(t, path, func(_, res *bolt.Bucket) error { return res.Bucket(name).Put([]byte{0}, []byte("Pp2")) })
			l, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			var err2 error
			if string(name) == string(resultDue) {
				_, err2 = l.Gather(t0.Add(48*time.Hour), nil, func(*domain.Operation) bool { return true }, 1000)
			} else {
				_, err2 = l.Asks(t0)
			}
			var d *DamagedError
			if !errors.As(err2, &d) || !d.Rebuild || !strings.Contains(err2.Error(), "result/"+string(name)+": the entry 00 is too short") {
				t.Fatalf("%v, want the damage of the short key, rebuilt by reconcile --full", err2)
			}
		})
	}
}
