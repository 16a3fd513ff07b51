package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

func TestBackupWritesACopyThatOpensWithTheSameOperations(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-ok", at, 1000), sale(2, "p-short", at, 1000)}, nil)
	var buf bytes.Buffer
	n, err := a.Backup(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Fatalf("backup says %d bytes, wrote %d", n, buf.Len())
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, id := range []uint64{1, 2} {
		if rec, ok, err := l.Get(id); err != nil || !ok || rec.SumInitial.Amount != 1000 {
			t.Fatalf("operation %d in the copy: %+v %v %v", id, rec, ok, err)
		}
	}
}

func TestBackupStopsWhenTheContextIsDone(t *testing.T) {
	a := testApp(t, []domain.Operation{sale(1, "p-ok", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), 1000)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	// bbolt's copy wraps the writer's error as text, so it is no errors.Is.
	if _, err := a.Backup(ctx, &buf); err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) || buf.Len() != 0 {
		t.Fatalf("backup after cancel: %v, %d bytes written", err, buf.Len())
	}
}

// A copy is checked before it replaces anything; what is wrong with it names
// the file the person asked for, never the temporary one.
func TestVerifyCopyNamesTheFileAskedFor(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-ok", at, 1000)}, nil)
	dir := t.TempDir()
	good := filepath.Join(dir, ".copy.db.tmp")
	f, err := os.Create(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Backup(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := VerifyCopy("copy.db")(good); err != nil {
		t.Fatalf("a sound copy: %v", err)
	}
	bad := filepath.Join(dir, ".bad.db.tmp")
	os.WriteFile(bad, []byte(strings.Repeat("not a database ", 1000)), 0o600)
	gone := filepath.Join(dir, ".gone.db.tmp")
	for tmp, want := range map[string]string{bad: "the copy for copy.db is not sound", gone: "the copy for copy.db does not open"} {
		err := VerifyCopy("copy.db")(tmp)
		if err == nil || strings.Contains(err.Error(), tmp) || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "copy.db was left as it was") {
			t.Errorf("%s: %v, want %q… naming copy.db only", filepath.Base(tmp), err, want)
		}
	}
}
