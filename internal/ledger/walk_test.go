package ledger

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// resultFile is a database with ops, records, indexes and a result, its
// bytes and its header.
func resultFile(t *testing.T) (path string, data []byte, h header) {
	t.Helper()
	path, _ = withResult(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, problem := readHeader(bytes.NewReader(data), int64(len(data)))
	if problem != "" {
		t.Fatal(problem)
	}
	return path, data, h
}

// TestTheWalkOnCoresIsTheWalkOnOne: the open's walk with the buckets of
// v1/ on other goroutines reaches the pages one walk reaches, for one to
// four of them; and where two buckets share a page (a branch of ops
// pointed at another bucket's root), it fails as the walk on one core
// does, with its words.
func TestTheWalkOnCoresIsTheWalkOnOne(t *testing.T) {
	path, data, h := resultFile(t)
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

// TestTheWalkOfTheMappedFileIsTheWalkThroughReads: the open's walk of a
// file it maps reaches the pages, and names the problems, that the walk
// reading the file page by page does: the sound file, two buckets sharing
// a page, a page that says it is another, an element's key outside its
// page, a child past the end of the file.
func TestTheWalkOfTheMappedFileIsTheWalkThroughReads(t *testing.T) {
	path, data, h := resultFile(t)
	ps, branch, leaf := pages(t, path)
	damage := map[string]func([]byte){
		"sound":            func([]byte) {},
		"a shared page":    func(b []byte) { copy(b[branch*ps+pageHeaderSize+8:][:8], b[branch*ps+pageHeaderSize+elementSize+8:]) },
		"a page's own id":  func(b []byte) { native.PutUint64(b[leaf*ps:], uint64(leaf+1)) },
		"a key outside":    func(b []byte) { native.PutUint32(b[leaf*ps+pageHeaderSize+4:], uint32(ps)) },
		"a child past end": func(b []byte) { native.PutUint64(b[branch*ps+pageHeaderSize+8:], h.pgid-1) },
	}
	for name, hurt := range damage {
		b := bytes.Clone(data)
		hurt(b)
		file := filepath.Join(t.TempDir(), "copy.db")
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if m, unmap := mapFile(openFile(t, file)); m == nil {
			t.Fatal("a database file is not mapped")
		} else {
			unmap()
		}
		read, want := walkTree(bytes.NewReader(b), h)
		mapped, got := walkTree(openFile(t, file), h)
		if got != want || mapped.pages != read.pages || !slices.Equal(mapped.seen, read.seen) {
			t.Errorf("%s: mapped %d pages (%q), read %d (%q); same pages: %v", name, mapped.pages, got, read.pages, want, slices.Equal(mapped.seen, read.seen))
		}
		if (want == "") != (name == "sound") {
			t.Errorf("%s: the walk says %q", name, want)
		}
	}
}

// TestAFileMadeShorterUnderTheWalkIsAProblemNotACrash: a fault in the
// mapping (the file cut to half once mapped, by something that ignores
// its lock) is the walk's problem; the process goes on, and the walk of
// the file as it now is names the pages missing.
func TestAFileMadeShorterUnderTheWalkIsAProblemNotACrash(t *testing.T) {
	path, data, h := resultFile(t)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer func() { afterMap = nil }()
	afterMap = func() {
		if err := f.Truncate(int64(len(data)) / 2 / h.pageSize * h.pageSize); err != nil {
			t.Error(err)
		}
	}
	for _, parallel := range []bool{false, true} {
		if _, err := f.WriteAt(data, 0); err != nil {
			t.Fatal(err)
		}
		if _, got := walkOnce(f, h, parallel); !strings.Contains(got, "faulted") {
			t.Errorf("parallel %v: the walk of a file cut under it says %q", parallel, got)
		}
	}
	if _, got := walkTree(f, h); !strings.Contains(got, "unexpected EOF") && !strings.Contains(got, "faulted") {
		t.Errorf("the walk of the file cut short says %q", got)
	}
}
