package ledger

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

func has(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// checkBlocks fails t unless every block of units b is sound.
func checkBlocks(t *testing.T, b *bolt.Bucket) {
	t.Helper()
	checkBlocksOf(t, b, unitBlockBytes, func(k []byte) string { return string(k) })
}

// checkBlocksOf fails t unless every block of b decodes, its entries in
// order across blocks, none past size but a block of one entry; name names
// an entry's key.
func checkBlocksOf(t *testing.T, b *bolt.Bucket, size int, name func([]byte) string) {
	t.Helper()
	var last []byte
	b.ForEach(func(bk, bv []byte) error {
		entries := 0
		ok, _ := eachEntry(bk, bv, func(k, v []byte) error {
			if last != nil && bytes.Compare(k, last) <= 0 {
				t.Errorf("block %s: key %s after %s", name(bk), name(k), name(last))
			}
			last, entries = bytes.Clone(k), entries+1
			return nil
		})
		if !ok {
			t.Errorf("block %s does not decode", name(bk))
		}
		if len(bv) > size && entries > 1 {
			t.Errorf("block %s: %d bytes, %d entries", name(bk), len(bv), entries)
		}
		return nil
	})
}

// flatten rewrites the blocks of m, the bucket name of parent, a key per
// entry: as a release before blocks stored it.
func flatten(parent *bolt.Bucket, name []byte, m *blockMap) error {
	var kvs [][2][]byte
	if err := m.ForEach(func(k, v []byte) error {
		kvs = append(kvs, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
		return nil
	}); err != nil {
		return err
	}
	if err := parent.DeleteBucket(name); err != nil {
		return err
	}
	b, err := parent.CreateBucket(name)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if err := b.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// TestADamagedBlockIsNamed: a block of units cut short is damage that
// names it and says reconcile --full rebuilds it, for Get of a unit in it
// and for ForEach, and check names it; the entries of other blocks read
// on.
func TestADamagedBlockIsNamed(t *testing.T) {
	l := openTemp(t)
	err := l.update(func(tx *bolt.Tx) error {
		res, _ := root(tx).CreateBucket([]byte("blocks test"))
		b, _ := res.CreateBucket(resultUnits)
		res.Put(keyBlocks, []byte{1})
		b.Put([]byte("Pa"), appendEntry(appendEntry(nil, []byte("Pa"), []byte("1")), []byte("Pb"), []byte("2")))
		b.Put([]byte("Pc"), appendEntry(nil, []byte("Pc"), []byte("3"))[:4])
		b.Put([]byte("Pe"), appendEntry(nil, []byte("Pd"), []byte("4"))) // not its key
		m := unitsOf(res)
		if v, err := m.Get([]byte("Pb")); err != nil || string(v) != "2" {
			t.Errorf("Get(Pb) = %q, %v", v, err)
		}
		for _, k := range []string{"Pc", "Pd", "Pe", "Pz"} {
			if _, err := m.Get([]byte(k)); !isRebuild(err) || !strings.Contains(err.Error(), "the block at") {
				t.Errorf("Get(%s): %v, want the damaged block named", k, err)
			}
		}
		if err := m.Put([]byte("Pc"), nil); !isRebuild(err) {
			t.Errorf("Put into a damaged block: %v", err)
		}
		var seen []string
		err := m.ForEach(func(k, _ []byte) error { seen = append(seen, string(k)); return nil })
		if !isRebuild(err) || !slices.Equal(seen, []string{"Pa", "Pb"}) {
			t.Errorf("ForEach: %v after %v", err, seen)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func isRebuild(err error) bool {
	var d *DamagedError
	return errors.As(err, &d) && d.Rebuild
}

// TestSortedPartsIsTheUnitsOrder: the parts' order by their units' first
// 16 bytes, then the units, is the units' byte order, equal units in the
// order they were added, for units that begin one another, differ only
// past 16 bytes, hold zero bytes or 0xff, or are empty.
func TestSortedPartsIsTheUnitsOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte{0, 1, 'P', 'a', 0xfe, 0xff}
	for round := range 200 {
		f := &FullWriter{}
		for range r.IntN(300) {
			u := []byte("Puz-order-12345")[:r.IntN(16)] // a shared beginning, of any length up to 15
			for range r.IntN(5) {
				u = append(u, alphabet[r.IntN(len(alphabet))])
			}
			f.parts = append(f.parts, unitPart{unit: domain.Unit(u)})
		}
		want := make([]int32, len(f.parts))
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortStableFunc(want, func(a, b int32) int { return strings.Compare(string(f.parts[a].unit), string(f.parts[b].unit)) })
		if got := f.sortedParts(); !slices.Equal(got, want) {
			t.Fatalf("round %d: sortedParts = %v, want %v", round, got, want)
		}
	}
}

// TestAResultOfAKeyPerUnitIsReadUntilAFullWrite: a result stored before
// blocks (a key per item and per unit, no "in blocks") is read as it is — check
// passes, a unit's items are found, an incremental write replaces a
// unit's entry as a key of its own — and a full write stores blocks.
func TestAResultOfAKeyPerUnitIsReadUntilAFullWrite(t *testing.T) {
	path, _ := withResult(t)
	resultBucket(t, path, func(_, res *bolt.Bucket) error { // as schema 4 stored it
		for i, m := range []*blockMap{itemsOf(res), unitsOf(res)} {
			if err := flatten(res, [][]byte{resultItems, resultUnits}[i], m); err != nil {
				return err
			}
		}
		return res.Delete(keyBlocks)
	})
	flatUnits := func(l *Ledger) (flat bool, keys int) {
		l.view(func(tx *bolt.Tx) error {
			res := root(tx).Bucket(bucketResult)
			flat, keys = res.Get(keyBlocks) == nil, res.Bucket(resultUnits).Stats().KeyN
			return nil
		})
		return flat, keys
	}
	if rep := verifyOf(t, path); !rep.OK() {
		t.Fatalf("check of a result of a key per unit: %v", rep.Problems)
	}
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if items, _, err := l.UnitItems(domain.PaymentUnit("p1")); err != nil || len(items) != 1 {
		t.Fatalf("UnitItems(p1) = %d items, %v", len(items), err)
	}
	flat, before := flatUnits(l)
	if !flat || before < 5 {
		t.Fatalf("the result as made: flat %v, %d keys", flat, before)
	}
	g, err := l.Gather(t0, nil, func(*domain.Operation) bool { return true }, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// p0 recomputed into two items, each its own value.
	p0 := domain.PaymentUnit("p0")
	two := []domain.Item{{Result: domain.ResultMatched, PaymentID: "p0", CreatedAt: t0}, {Result: domain.ResultPending, PaymentID: "p0", CreatedAt: t0}}
	places := []domain.Place{{Key: placeOf(10000000000000000, 0), Owner: p0}, {Key: placeOf(10000000000000000, 1), Owner: p0}}
	if _, err := l.WriteResult(ResultWrite{Units: g.Units, Seq: g.Seq, Gen: g.Gen, At: t0, Config: "test", Ops: g.Ops, Items: two, Places: places}); err != nil {
		t.Fatal(err)
	}
	if items, _, err := l.UnitItems(p0); err != nil || len(items) != 2 || items[0].Result != domain.ResultMatched || items[1].Result != domain.ResultPending {
		t.Fatalf("UnitItems(p0) after the incremental write: %+v, %v", items, err)
	}
	if flat, after := flatUnits(l); !flat || after > before {
		t.Errorf("after an incremental write: flat %v, %d keys (%d before)", flat, after, before)
	}
	l.Close()
	if rep := verifyOf(t, path); !rep.OK() {
		t.Fatalf("check after an incremental write: %v", rep.Problems)
	}
	l, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fullWriteOfOne(t, l)
	if flat, keys := flatUnits(l); flat || keys != 1 {
		t.Errorf("after a full write: flat %v, %d keys, want one block", flat, keys)
	}
	if items, _, err := l.UnitItems(domain.PaymentUnit("p1")); err != nil || len(items) != 1 {
		t.Fatalf("UnitItems(p1) after the full write = %d items, %v", len(items), err)
	}
}

// fullWriteOfOne stores, by a full write, a result of one item: p1's
// operation missing in the records.
func fullWriteOfOne(t *testing.T, l *Ledger) {
	t.Helper()
	fw, err := l.BeginFull()
	if err != nil {
		t.Fatal(err)
	}
	op := sale(10000000000000001, "p1", "success")
	if err := fw.Add(domain.PaymentUnit("p1"), []domain.Item{{Result: domain.ResultMissingInRecords, PaymentID: "p1", Provider: &op, CreatedAt: t0}},
		[]domain.Place{{Key: placeOf(op.OperationID, 0), Owner: domain.PaymentUnit("p1")}}, []uint64{op.OperationID}); err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Finish(ResultWrite{At: t0, Config: "test"}); err != nil {
		t.Fatal(err)
	}
}
