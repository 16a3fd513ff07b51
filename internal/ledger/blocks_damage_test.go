package ledger

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// TestBlocksAreAMap: random puts, deletes and gets of a blockMap, with
// blocks of a few entries, agree with a map, in transactions that flush
// several times (and twice in a row), read between flushes, reuse (and
// scribble over) the buffers they handed to Put, put keys below the first
// block and entries past the block size, and empty whole blocks: what Get
// and ForEach say before and after each Flush and in a later transaction,
// and every stored block is sound (checkBlocks).
func TestBlocksAreAMap(t *testing.T) {
	defer SetBlockBytesForTests(48)()
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 11))
			l := openTemp(t)
			want := map[string]string{}
			key := func() string {
				if r.IntN(8) == 0 { // below anything stored so far, often
					return fmt.Sprintf("A%03d", r.IntN(1000))
				}
				return fmt.Sprintf("P%03d", r.IntN(80))
			}
			list := func(m *blockMap) []string {
				var got []string
				if err := m.ForEach(func(k, v []byte) error { got = append(got, string(k)+"="+string(v)); return nil }); err != nil {
					t.Fatal(err)
				}
				return got
			}
			model := func() []string {
				var w []string
				for _, k := range slices.Sorted(maps.Keys(want)) {
					w = append(w, k+"="+want[k])
				}
				return w
			}
			buf := make([]byte, 0, 256)
			for step := range 40 {
				err := l.update(func(tx *bolt.Tx) error {
					res, err := root(tx).CreateBucketIfNotExists([]byte("blocks test"))
					if err != nil {
						return err
					}
					b, err := res.CreateBucketIfNotExists(resultUnits)
					if err != nil {
						return err
					}
					res.Put(keyBlocks, []byte{1})
					m := unitsOf(res)
					for flush := range 1 + r.IntN(4) {
						for range 1 + r.IntN(15) {
							switch op := r.IntN(10); {
							case op < 3:
								k := key()
								if err := m.Delete([]byte(k)); err != nil {
									return err
								}
								delete(want, k)
							case op == 3 && len(want) > 0: // empty a run of keys: whole blocks
								keys := slices.Sorted(maps.Keys(want))
								from := r.IntN(len(keys))
								for _, k := range keys[from:min(len(keys), from+1+r.IntN(8))] {
									if err := m.Delete([]byte(k)); err != nil {
										return err
									}
									delete(want, k)
								}
							default:
								k := key()
								n := r.IntN(3) * r.IntN(40)
								if r.IntN(10) == 0 {
									n = 200 // past a block
								}
								buf = append(buf[:0], strings.Repeat(fmt.Sprintf("%d.%d.", step, flush), n)[:n]...)
								if err := m.Put([]byte(k), buf); err != nil {
									return err
								}
								want[k] = string(buf)
								for i := range buf { // the caller's buffer, reused
									buf[i] = '#'
								}
							}
							k := key()
							got, err := m.Get([]byte(k))
							if err != nil || string(got) != want[k] || (got == nil) != !has(want, k) {
								t.Fatalf("step %d.%d: Get(%s) = %q, %v; want %q", step, flush, k, got, err, want[k])
							}
						}
						if err := m.Flush(); err != nil {
							return err
						}
						if r.IntN(3) == 0 {
							if err := m.Flush(); err != nil { // twice
								return err
							}
						}
						checkBlocks(t, b)
						if got := list(m); !slices.Equal(got, model()) {
							t.Fatalf("step %d.%d, in the transaction: ForEach lists\n%v\nwant\n%v", step, flush, got, model())
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				l.view(func(tx *bolt.Tx) error {
					res := root(tx).Bucket([]byte("blocks test"))
					checkBlocks(t, res.Bucket(resultUnits))
					if got := list(unitsOf(res)); !slices.Equal(got, model()) {
						t.Fatalf("step %d, committed: ForEach lists\n%v\nwant\n%v", step, got, model())
					}
					return nil
				})
			}
		})
	}
}

// TestOverlappingBlocksAreDamage: blocks that each decode but whose keys
// run past the next block's (an entry twice, or out of order) are damage
// ForEach reports, after the entries in order before it: an export would
// otherwise count the entry twice.
func TestOverlappingBlocksAreDamage(t *testing.T) {
	for _, c := range []struct {
		name   string
		blocks [][]string // each block's keys; the first is its bbolt key
		before []string   // what ForEach lists before the damage
	}{
		{"an entry in two blocks", [][]string{{"Pa", "Pc"}, {"Pc", "Pe"}}, []string{"Pa", "Pc"}},
		{"a key past the next block's", [][]string{{"Pa", "Pd"}, {"Pc", "Pe"}}, []string{"Pa", "Pd"}},
		{"the last key of a block the next block's", [][]string{{"Pa"}, {"Pb", "Pc"}, {"Pc"}}, []string{"Pa", "Pb", "Pc"}},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			l := openTemp(t)
			err := l.update(func(tx *bolt.Tx) error {
				res, _ := root(tx).CreateBucket([]byte("blocks test"))
				b, _ := res.CreateBucket(resultUnits)
				res.Put(keyBlocks, []byte{1})
				for _, keys := range c.blocks {
					var v []byte
					for _, k := range keys {
						v = appendEntry(v, []byte(k), []byte("v"))
					}
					if err := b.Put([]byte(keys[0]), v); err != nil {
						return err
					}
				}
				var seen []string
				err := unitsOf(res).ForEach(func(k, _ []byte) error { seen = append(seen, string(k)); return nil })
				if !isRebuild(err) || !slices.Equal(seen, c.before) {
					t.Errorf("ForEach: %v after %v; want the damage after %v", err, seen, c.before)
				}
				// Get finds each stored entry or says the damage; a writer
				// opening a block beside the damage says it.
				m := unitsOf(res)
				for _, keys := range c.blocks {
					for _, k := range keys {
						if v, err := m.Get([]byte(k)); v == nil && !isRebuild(err) {
							t.Errorf("Get(%s) = %q, %v", k, v, err)
						}
					}
				}
				if err := m.Put([]byte(c.blocks[len(c.blocks)-1][0]+"0"), []byte("new")); !isRebuild(err) {
					t.Errorf("Put into the last block: %v, want the damage", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCheckNamesOverlappingBlocks: check names blocks of units or items
// whose keys run into the next block's, and says reconcile --full
// rebuilds it.
func TestCheckNamesOverlappingBlocks(t *testing.T) {
	defer SetBlockBytesForTests(40)()
	good, _ := withResult(t)
	for _, name := range [][]byte{resultUnits, resultItems} {
		t.Run(string(name), func(t *testing.T) {
			path := copyDB(t, good)
			resultBucket(t, path, func(_, res *bolt.Bucket) error {
				b := res.Bucket(name)
				c := b.Cursor()
				k1, v1 := c.First()
				_, v2 := c.Next()
				if v2 == nil {
					return fmt.Errorf("one block only")
				}
				// The first block takes a copy of the second's entries.
				return b.Put(bytes.Clone(k1), append(bytes.Clone(v1), v2...))
			})
			rep := verifyOf(t, path)
			all := strings.Join(rep.Problems, "\n")
			if !strings.Contains(all, "overlaps the block before it") || !rep.Rebuild {
				t.Errorf("check of overlapping blocks of %s: rebuild %v, problems:\n%s", name, rep.Rebuild, all)
			}
		})
	}
}

// copyDB is a copy of the database at path, in a temporary directory.
func copyDB(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return to
}

// TestAFullWriteInBlocksAndChunksOfAnySize: a full write of units of one
// to a few items, items of any size (some past a block), in chunks
// smaller and larger than a block, with an arena too small for them
// (Expect told too few) or none told, stores every item once, in order,
// each where its unit's entry finds it, and check passes.
func TestAFullWriteInBlocksAndChunksOfAnySize(t *testing.T) {
	defer func(n int) { fullChunk = n }(fullChunk)
	for _, c := range []struct{ chunk, block, expect int }{{700, 300, 5}, {200, 300, 0}, {5000, 120, 1}, {2500, 2500, 3000}} {
		t.Run(fmt.Sprintf("chunk%d_block%d_expect%d", c.chunk, c.block, c.expect), func(t *testing.T) {
			fullChunk = c.chunk
			defer SetBlockBytesForTests(c.block)()
			r := rand.New(rand.NewPCG(uint64(c.chunk), uint64(c.block)))
			path := filepath.Join(t.TempDir(), "r.db")
			l, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			fw, err := l.BeginFull()
			if err != nil {
				t.Fatal(err)
			}
			if c.expect > 0 {
				fw.Expect(c.expect, c.expect)
			}
			var want []string
			perUnit := map[domain.Unit][]string{}
			place := 0
			for i := range 400 {
				u := domain.PaymentUnit(fmt.Sprintf("p-%06d", r.IntN(1000000)))
				var items []domain.Item
				var places []domain.Place
				for range 1 + r.IntN(3) {
					reason := strings.Repeat(fmt.Sprintf("%d,", i), 1+r.IntN(20))
					if r.IntN(20) == 0 {
						reason = strings.Repeat("x", 3*c.block)
					}
					items = append(items, domain.Item{Result: domain.ResultMatched, Code: domain.ResultMatched, PaymentID: string(u[1:]), Type: domain.RecordPurchase,
						Merchant: &domain.Record{Amount: domain.Money{Amount: int64(place), Currency: "EUR"}, Status: domain.RecordPaid}, Reason: reason,
						CreatedAt: time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC)})
					places = append(places, domain.Place{Key: fmt.Sprintf("g%08d", place), Owner: u})
					want = append(want, fmt.Sprintf("%s %d %s", u, place, reason))
					perUnit[u] = append(perUnit[u], fmt.Sprintf("%d %s", place, reason))
					place++
				}
				if err := fw.Add(u, items, places, []uint64{uint64(i + 1)}); err != nil {
					fw.Abort()
					t.Fatal(err)
				}
			}
			if _, err := fw.Finish(ResultWrite{At: t0, Config: "c"}); err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := l.ForEachItem(func(it *domain.Item) error {
				got = append(got, fmt.Sprintf("P%s %d %s", it.PaymentID, it.Merchant.Amount.Amount, it.Reason))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%d items read back, %d written; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
			for u, w := range perUnit {
				items, _, err := l.UnitItems(u)
				if err != nil {
					t.Fatal(err)
				}
				var g []string
				for _, it := range items {
					g = append(g, fmt.Sprintf("%d %s", it.Merchant.Amount.Amount, it.Reason))
				}
				if !slices.Equal(g, w) {
					t.Fatalf("UnitItems(%s) = %v, want %v", u, g, w)
				}
			}
			l.Close()
			if rep := verifyOf(t, path); !rep.OK() {
				t.Fatalf("check: %v", rep.Problems)
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestReadersOfADamagedBlockSayRebuild: the export, a unit's items (the
// web's), Gather and the alert scan that meet a block of items or units
// cut short, or one whose first entry is not its key, fail with the
// damage reconcile --full rebuilds: none panics, none skips the block's
// entries.
func TestReadersOfADamagedBlockSayRebuild(t *testing.T) {
	defer SetBlockBytesForTests(90)()
	damages := map[string]func(b *bolt.Bucket, k []byte) error{
		"cut short": func(b *bolt.Bucket, k []byte) error {
			bk, bv := (&blockMap{b: b}).locate(k)
			return b.Put(bytes.Clone(bk), bytes.Clone(bv[:len(bv)-1]))
		},
		"not its key": func(b *bolt.Bucket, k []byte) error {
			bk, bv := (&blockMap{b: b}).locate(k)
			v := bytes.Clone(bv)
			if err := b.Delete(bytes.Clone(bk)); err != nil {
				return err
			}
			return b.Put(append(bytes.Clone(bk), 0), v) // past its first entry, before its second
		},
	}
	for _, bucket := range [][]byte{resultItems, resultUnits} {
		for how, damage := range damages {
			t.Run(string(bucket)+"_"+strings.ReplaceAll(how, " ", "_"), func(t *testing.T) {
				w := newAlertWorld(t)
				if _, err := w.l.StartAlerts(w.now); err != nil {
					t.Fatal(err)
				}
				var items []domain.Item
				for i := range 30 {
					items = append(items, alertItem(fmt.Sprintf("p%02d", i), domain.ResultAmountMismatch, ""))
				}
				w.write(true, nil, items...)
				w.l.Close()
				u := domain.PaymentUnit("p15")
				resultBucket(t, w.path, func(_, res *bolt.Bucket) error {
					if res.Bucket(bucket).Stats().KeyN < 3 {
						return fmt.Errorf("%s: %d blocks", bucket, res.Bucket(bucket).Stats().KeyN)
					}
					k := []byte(u)
					if string(bucket) == string(resultItems) {
						k = []byte("kp15")
					}
					return damage(res.Bucket(bucket), k)
				})
				w.reopen()
				if string(bucket) == string(resultItems) {
					n := 0
					err := w.l.ForEachItemIn(time.Time{}, time.Time{}, func(*domain.Item) error { n++; return nil })
					if !isRebuild(err) {
						t.Errorf("export: %v after %d items", err, n)
					}
				}
				if _, _, err := w.l.UnitItems(u); !isRebuild(err) {
					t.Errorf("UnitItems: %v", err)
				}
				if _, err := w.l.Gather(t0, []domain.Unit{u}, func(*domain.Operation) bool { return true }, 1000); !isRebuild(err) && string(bucket) == string(resultUnits) {
					t.Errorf("Gather: %v", err) // it reads no items
				}
				if _, err := w.l.CheckAlerts(w.checkOf(10)); !isRebuild(err) {
					t.Errorf("the alert scan: %v", err)
				}
			})
		}
	}
}

// TestAStagingOfAnOlderReleaseIsDropped: a result.new/ that a full write
// of schema 4 left when it was killed (a key per entry, no "in blocks")
// does not trouble check or an incremental write, and the next full
// write drops it and stores its own result, in blocks.
func TestAStagingOfAnOlderReleaseIsDropped(t *testing.T) {
	path, _ := withResult(t)
	resultBucket(t, path, func(r, _ *bolt.Bucket) error {
		s, err := r.CreateBucket(bucketResultNew)
		if err != nil {
			return err
		}
		if err := s.Put(keyWriter, be64(nil, 3)); err != nil {
			return err
		}
		res, err := s.CreateBucket(bucketResult)
		if err != nil {
			return err
		}
		for _, name := range [][]byte{resultItems, resultUnits, resultDue, resultAsk, resultFallback} {
			if _, err := res.CreateBucket(name); err != nil {
				return err
			}
		}
		// Flat entries, of a unit the new write does not have.
		if err := res.Bucket(resultItems).Put([]byte(placeOf(10000000000000007, 0)), []byte("an item of schema 4")); err != nil {
			return err
		}
		return res.Bucket(resultUnits).Put([]byte("Pstale"), []byte("a unit of schema 4"))
	})
	if rep := verifyOf(t, path); !rep.OK() {
		t.Fatalf("check with an old staging beside: %v", rep.Problems)
	}
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fullWriteOfOne(t, l)
	l.view(func(tx *bolt.Tx) error {
		r := root(tx)
		if r.Bucket(bucketResultNew) != nil || r.Bucket(bucketResultOld) != nil {
			t.Errorf("a staging left after the full write")
		}
		if r.Bucket(bucketResult).Get(keyBlocks) == nil {
			t.Errorf("the full write's result is not in blocks")
		}
		return nil
	})
	if items, _, err := l.UnitItems(domain.Unit("Pstale")); err != nil || len(items) != 0 {
		t.Errorf("the old staging's unit after the full write: %d items, %v", len(items), err)
	}
	l.Close()
	if rep := verifyOf(t, path); !rep.OK() {
		t.Fatalf("check after the full write: %v", rep.Problems)
	}
}

// TestCheckOfRandomlyDamagedBlocks: a byte of a block of items or units
// changed, a block cut, or a block moved to another key: check never
// panics, and what it finds is damage reconcile --full rebuilds; the
// export, UnitItems and Gather fail with that damage or read on, and
// fail only when check finds it.
func TestCheckOfRandomlyDamagedBlocks(t *testing.T) {
	defer SetBlockBytesForTests(60)()
	good, _ := withResult(t)
	r := rand.New(rand.NewPCG(5, 8))
	for round := range 400 {
		path := copyDB(t, good)
		var what string
		resultBucket(t, path, func(_, res *bolt.Bucket) error {
			name := [][]byte{resultItems, resultUnits}[r.IntN(2)]
			b := res.Bucket(name)
			var keys, vals [][]byte
			b.ForEach(func(k, v []byte) error {
				keys, vals = append(keys, bytes.Clone(k)), append(vals, bytes.Clone(v))
				return nil
			})
			i := r.IntN(len(keys))
			k, v := keys[i], vals[i]
			switch r.IntN(4) {
			case 0, 1:
				j := r.IntN(len(v))
				v[j] ^= byte(1 + r.IntN(255))
				what = fmt.Sprintf("%s block %d: byte %d changed", name, i, j)
				return b.Put(k, v)
			case 2:
				n := r.IntN(len(v))
				what = fmt.Sprintf("%s block %d: cut to %d bytes", name, i, n)
				return b.Put(k, v[:n])
			default:
				nk := bytes.Clone(keys[r.IntN(len(keys))])
				nk[len(nk)-1] += byte(r.IntN(3)) - 1
				what = fmt.Sprintf("%s block %d: moved to %x", name, i, nk)
				if err := b.Delete(k); err != nil {
					return err
				}
				return b.Put(nk, v)
			}
		})
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("round %d, %s: panic %v", round, what, p)
				}
			}()
			rep := verifyOf(t, path)
			if !rep.OK() && !rep.Rebuild {
				t.Errorf("round %d, %s: check does not say reconcile --full rebuilds it: %v", round, what, rep.Problems)
			}
			l, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			ok := func(reader string, err error) {
				if err != nil && (!isRebuild(err) || rep.OK()) {
					t.Errorf("round %d, %s: %s: %v (check found %v)", round, what, reader, err, rep.Problems)
				}
			}
			ok("export", l.ForEachItem(func(*domain.Item) error { return nil }))
			for _, u := range []string{"p0", "p1", "p2", "p3", "p4"} {
				_, _, err := l.UnitItems(domain.PaymentUnit(u))
				ok("UnitItems", err)
			}
			_, err = l.Gather(t0, []domain.Unit{domain.PaymentUnit("p1"), domain.PaymentUnit("p3")}, func(*domain.Operation) bool { return true }, 1000)
			ok("Gather", err)
		}()
	}
}
