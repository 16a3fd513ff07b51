package ledger

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// The free list is written with every commit, so a writable open reads it
// instead of every page of the file (whose pages were the RSS of every
// command at a million operations); the file check takes it, and a
// database written without one (before) still opens and gets one.
func TestTheFreeListIsStored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for p := range 20 { // pages rewritten: free pages in the list
		var ops []domain.Operation
		for i := range 500 {
			ops = append(ops, sale(uint64(1000+i), fmt.Sprintf("p%d", i), []string{"success", "decline"}[p%2]))
		}
		if _, err := l.UpsertPage(ops, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	h := fileHeader(t, path)
	if h.freelist == noFreelist {
		t.Fatal("the header names no free list: a writable open would read every page")
	}
	if _, problem := walkPages(openFile(t, path), h); problem != "" {
		t.Fatalf("the file check refuses the file with its free list: %s", problem)
	}

	// As a release before wrote it: bbolt without a free list.
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, PageSize: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if h := fileHeader(t, path); h.freelist != noFreelist {
		t.Fatalf("the older way wrote a free list at page %d", h.freelist)
	}
	l, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.UpsertPage([]domain.Operation{sale(9, "p9", "success")}, t0); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if h := fileHeader(t, path); h.freelist == noFreelist {
		t.Fatal("the first write after the upgrade stored no free list")
	}
}

func openFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func fileHeader(t *testing.T, path string) header {
	t.Helper()
	f := openFile(t, path)
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	h, problem := readHeader(f, st.Size())
	if problem != "" {
		t.Fatal(problem)
	}
	return h
}
