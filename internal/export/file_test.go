package export

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"reconciled/internal/domain"
	"reconciled/internal/scratch"
)

// TestMain removes the scratch folder the XLSX tests made, as the command
// does when it ends.
func TestMain(m *testing.M) {
	code := m.Run()
	scratch.Remove()
	os.Exit(code)
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// specialFiles makes a file of each kind that is not a regular file: a
// directory, a named pipe, a socket, and a character device (a node of
// its own where the test may make one, else a symbolic link to /dev/null,
// which reaches a device all the same).
func specialFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{"directory": filepath.Join(dir, "folder.csv"), "fifo": filepath.Join(dir, "pipe.csv"),
		"socket": filepath.Join(dir, "s.csv"), "device": filepath.Join(dir, "null.csv")}
	if err := os.Mkdir(files["directory"], 0o750); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(files["fifo"], 0o640); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", files["socket"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	if err := syscall.Mknod(files["device"], syscall.S_IFCHR|0o666, 1<<8|3); err != nil { // 1:3 is /dev/null
		if err := os.Symlink("/dev/null", files["device"]); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestWriteRefusesWhatIsNotARegularFile: a device, a pipe, a socket or a
// directory named as the output stays what it was, and the error names it.
func TestWriteRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	for kind, path := range specialFiles(t, dir) {
		before, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		err = WriteFileAtomic(path, writeString("rows\n"))
		var te *TargetError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want a refusal naming %s", kind, err, path)
		}
		after, err := os.Lstat(path)
		if err != nil || after.Mode() != before.Mode() || !os.SameFile(before, after) {
			t.Errorf("%s: replaced: %v (was %v), %v", kind, after.Mode(), before.Mode(), err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("left %v", left)
	}
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a device: %v %v", fi, err)
	}
}

// TestWriteThroughASymbolicLink: the link stays a link and the file it
// names gets the new content (keeping its mode); a link to nothing is
// refused.
func TestWriteThroughASymbolicLink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "archive", "2026-11.csv")
	os.Mkdir(filepath.Dir(real), 0o750)
	if err := os.WriteFile(real, []byte("old"), 0o604); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "latest.csv")
	if err := os.Symlink(filepath.Join("archive", "2026-11.csv"), link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(link, writeString("new")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi, err)
	}
	if data, _ := os.ReadFile(real); string(data) != "new" {
		t.Errorf("the linked file holds %q", data)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o604 {
		t.Errorf("the linked file's mode is %v, want its own 0604", fi.Mode().Perm())
	}

	dangling := filepath.Join(dir, "gone.csv")
	os.Symlink(filepath.Join(dir, "nowhere", "x.csv"), dangling)
	err := WriteFileAtomic(dangling, writeString("new"))
	var te *TargetError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), dangling) {
		t.Errorf("a link to nothing: err = %v", err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the dangling link was replaced: %v %v", fi, err)
	}
}

// TestWriteRefusesProtectedFiles: the protected file itself, a hard link
// to it and a symbolic link to it are refused, and it is untouched.
func TestWriteRefusesProtectedFiles(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "reconciled.db")
	os.WriteFile(db, []byte("the database"), 0o600)
	hard, soft := filepath.Join(dir, "hard.csv"), filepath.Join(dir, "soft.csv")
	if err := os.Link(db, hard); err != nil {
		t.Fatal(err)
	}
	os.Symlink(db, soft)
	p, ok, err := ProtectFile(db, "the database (storage.path)")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	for _, path := range []string{db, hard, soft, filepath.Join(dir, ".", "reconciled.db")} {
		tg := Target{Path: path, Protect: []Protected{p}}
		err := tg.Write(writeString("rows"))
		var te *TargetError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "the database (storage.path)") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v", path, err)
		}
	}
	if data, _ := os.ReadFile(db); string(data) != "the database" {
		t.Errorf("the database now holds %q", data)
	}
	if _, ok, err := ProtectFile(filepath.Join(dir, "none"), "x"); ok || err != nil {
		t.Errorf("a file that does not exist: %v %v", ok, err)
	}
}

// TestWritePrivate: a private file is 0600 whatever the file it replaces
// allowed.
func TestWritePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "copy.db")
	os.WriteFile(path, []byte("old"), 0o644)
	if err := (&Target{Path: path, Private: true}).Write(writeString("copy")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

// deadPID is the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestWriteRemovesTheTemporaryFilesOfDeadWriters: the temporary file
// carries the writer's pid; a write removes those of writers that are
// gone, in the folder it writes to, and nothing else.
func TestWriteRemovesTheTemporaryFilesOfDeadWriters(t *testing.T) {
	dir := t.TempDir()
	dead := deadPID(t)
	stale := filepath.Join(dir, fmt.Sprintf(".old.xlsx.reconciled-%d-123.tmp", dead))
	live := filepath.Join(dir, fmt.Sprintf(".other.csv.reconciled-%d-456.tmp", os.Getpid()))
	foreign := filepath.Join(dir, ".old.xlsx-789.tmp") // not our pattern: someone else's, or from before pids
	for _, p := range []string{stale, live, foreign} {
		os.WriteFile(p, []byte("partial"), 0o600)
	}
	path := filepath.Join(dir, "new.csv")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		tmp, _ := filepath.Glob(filepath.Join(dir, ".new.csv.reconciled-"+strconv.Itoa(os.Getpid())+"-*.tmp"))
		if len(tmp) != 1 {
			return fmt.Errorf("the temporary file does not carry the pid: %v", tmp)
		}
		_, err := io.WriteString(w, "rows")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the dead writer's temporary file is still there")
	}
	for _, p := range []string{live, foreign} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed", filepath.Base(p))
		}
	}
}

// TestXLSXTemporaryFilesAreInTheScratchFolder: the rows excelize keeps on
// disk while a large workbook is written are in this process's scratch
// folder (which a later process removes after a kill), and gone after.
func TestXLSXTemporaryFilesAreInTheScratchFolder(t *testing.T) {
	d, err := scratch.Dir()
	if err != nil {
		t.Fatal(err)
	}
	long := ops()[0]
	long.Message = strings.Repeat("a long decline message ", 200) // 4.6 KB a row: excelize goes to disk past 16 MiB
	seen := false
	src := func(fn func(*domain.Operation) error) error {
		for i := range 5000 {
			if err := fn(&long); err != nil {
				return err
			}
			if i%500 == 499 && !seen {
				found, _ := filepath.Glob(filepath.Join(d, "excelize-*"))
				seen = len(found) > 0
			}
		}
		return nil
	}
	if _, err := OperationsXLSX(io.Discard, src, Filter{}, XLSXOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if !seen {
		t.Error("excelize's temporary file was never in the scratch folder")
	}
	if left, _ := os.ReadDir(d); len(left) != 0 {
		t.Errorf("left in the scratch folder: %v", left)
	}
}

// TestNameTemporary: an error about a file of the scratch folder names the
// person's file instead; other errors are left as they are.
func TestNameTemporary(t *testing.T) {
	d, err := scratch.Dir()
	if err != nil {
		t.Fatal(err)
	}
	full := &os.PathError{Op: "write", Path: filepath.Join(d, "excelize-123"), Err: syscall.ENOSPC}
	got := NameTemporary(fmt.Errorf("xlsx: %w", full), "report.xlsx")
	if !strings.HasPrefix(got.Error(), "write report.xlsx: no space left on device") || strings.Contains(got.Error(), "excelize-") || !errors.Is(got, syscall.ENOSPC) {
		t.Errorf("got %v", got)
	}
	other := &os.PathError{Op: "open", Path: "/elsewhere/x", Err: syscall.ENOENT}
	if got := NameTemporary(other, "report.xlsx"); got != error(other) {
		t.Errorf("got %v", got)
	}
}
