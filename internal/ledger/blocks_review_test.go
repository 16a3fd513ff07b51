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

	bolt "go.etcd.io/bbolt"
)

// TestBlocksAreAMapAcrossFlushes: like TestBlocksAreAMap, but each
// transaction flushes several times, reads between flushes, reuses (and
// scribbles over) the buffers it handed to Put, puts keys below the first
// block and entries past the block size, and empties whole blocks; what
// a later transaction reads is the model.
func TestBlocksAreAMapAcrossFlushes(t *testing.T) {
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
