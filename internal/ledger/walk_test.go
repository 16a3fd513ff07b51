package ledger

import (
	"bytes"
	"os"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestTheWalkOnCoresIsTheWalkOnOne: the open's walk with the buckets of
// v1/ on other goroutines reaches the pages one walk reaches, for one to
// four of them; and where two buckets share a page (a branch of ops
// pointed at another bucket's root), it fails as the walk on one core
// does, with its words.
func TestTheWalkOnCoresIsTheWalkOnOne(t *testing.T) {
	path, _ := withResult(t) // ops, records, indexes, a result
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, problem := readHeader(bytes.NewReader(data), int64(len(data)))
	if problem != "" {
		t.Fatal(problem)
	}
	one, problem := walkOnce(bytes.NewReader(data), h, false)
	if problem != "" {
		t.Fatal(problem)
	}
	defer func(n int) { walkWorkers = n }(walkWorkers)
	for _, n := range []int{1, 2, 3, 4} {
		walkWorkers = n
		many, problem := walkOnce(bytes.NewReader(data), h, true)
		if problem != "" || many.pages != one.pages || !slices.Equal(many.seen, one.seen) {
			t.Errorf("%d workers: %d pages (%q), one walk %d; same pages: %v", n, many.pages, problem, one.pages, slices.Equal(many.seen, one.seen))
		}
	}

	// ops's first child pointed at another bucket's root page.
	ps, branch, _ := pages(t, path)
	var other uint64
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		return root(tx).ForEachBucket(func(k []byte) error {
			if r := uint64(root(tx).Bucket(k).Root()); r != 0 && !bytes.Equal(k, bucketOps) && other == 0 {
				other = r
			}
			return nil
		})
	})
	db.Close()
	if other == 0 {
		t.Fatal("no bucket of v1/ but ops has a page of its own")
	}
	shared := bytes.Clone(data)
	native.PutUint64(shared[branch*ps+pageHeaderSize+8:], other)
	_, want := walkOnce(bytes.NewReader(shared), h, false)
	if want == "" {
		t.Fatal("the walk on one core finds two buckets sharing a page sound")
	}
	for _, n := range []int{1, 2} {
		walkWorkers = n
		if _, got := walkTree(bytes.NewReader(shared), h); got != want {
			t.Errorf("%d workers: %q, the walk on one core %q", n, got, want)
		}
	}
}
