package export

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"unicode/utf8"

	"reconciled/internal/scratch"
)

// A file a person names (export -o, report -o, a backup, a scheduled job's
// file) is written through a Target:
//
//   - It must be a regular file or not exist. A device, a named pipe, a
//     socket or a folder is refused (TargetError) and left as it is.
//   - A symbolic link is written through: the file it names (which must be
//     a regular file) gets the new content and the link stays a link. A
//     link to nothing is refused.
//   - It must not be a protected file (the database), compared by device
//     and inode, so that another spelling of the path, a hard link or a
//     symbolic link to it is refused too.
//   - The content goes to a temporary file beside the destination, is
//     synced and renamed over it, and the folder is synced: an error, a
//     panic or Ctrl-C leaves the old file as it was. The target is checked
//     again just before the rename.
//   - The temporary file is ".NAME.reconciled-PID-N.tmp". A kill -9 can
//     leave one; every write removes those of its folder whose pid no
//     longer runs (SweepTemps), never a live writer's.
//   - Errors name the file the person asked for, not the temporary one,
//     nor excelize's files in the scratch folder (a full disk says which
//     file could not be written).

// FileID is a file's device and inode: every name of one file (the path
// spelled another way, a hard link, a symbolic link to it) has the same.
type FileID struct{ Dev, Ino uint64 }

func fileID(fi os.FileInfo) (FileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return FileID{}, false
	}
	return FileID{Dev: uint64(st.Dev), Ino: st.Ino}, true
}

// DatabaseWhat names the database among the files no output may replace
// (Protected.What): a refusal says it, and the daemon looks its entry up by
// it to tell the clients of its control socket which file its database is
// (the D frame), so that no client writes over it under any name.
const DatabaseWhat = "the database (storage.path)"

// Protected is a file that no output may replace.
type Protected struct {
	ID   FileID
	What string // how a refusal names it: "the database (storage.path)"
}

// ProtectFile is the file at path (links followed) as Protected; ok is
// false when there is no such file.
func ProtectFile(path, what string) (p Protected, ok bool, err error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Protected{}, false, nil
	}
	if err != nil {
		return Protected{}, false, err
	}
	id, ok := fileID(fi)
	return Protected{ID: id, What: what}, ok, nil
}

// TargetError refuses an output file before anything is written to it.
type TargetError struct {
	Path   string // as the person named it
	Reason string
}

func (e *TargetError) Error() string { return "refusing to write " + e.Path + ": " + e.Reason }

// Target is a file to write for a person.
type Target struct {
	Path string // as the person named it (errors name it so)
	// Mode of a new file, default 0640; a file replaced keeps its mode.
	Mode os.FileMode
	// Private files are 0600 whatever the file they replace allowed (a copy
	// of the database). Only a private file may replace a file that is a
	// database (an older backup): any other output refuses to, whichever
	// database it is (another ledger, a backup of this one).
	Private bool
	// Verify, when set, is given the temporary file once it is written and
	// synced, before it takes Path's name: its error leaves Path as it
	// was (a backup that does not check out never replaces an older one).
	Verify func(tmp string) error
	// Protect are the files it must not be. A caller may add one while
	// Write runs (the daemon's database, learned over the control socket):
	// the check before the rename sees it.
	Protect []Protected
}

// Check returns the file that Write would replace (Path, or the file a
// symbolic link at Path names), or why it will not.
func (t *Target) Check() (string, error) {
	fi, err := os.Lstat(t.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return t.Path, nil
	}
	if err != nil {
		return "", fileError("write", t.Path, err)
	}
	dest, is := t.Path, "it is "
	if fi.Mode()&fs.ModeSymlink != 0 {
		link, _ := os.Readlink(t.Path)
		resolved, err := filepath.EvalSymlinks(t.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", &TargetError{t.Path, "it is a symbolic link to " + link + ", which does not exist"}
		case err != nil:
			return "", &TargetError{t.Path, "it is a symbolic link to " + link + " that cannot be followed: " + unwrapFileError(err).Error()}
		}
		if fi, err = os.Lstat(resolved); err != nil {
			return "", fileError("write", t.Path, err)
		}
		dest, is = resolved, "it links to "+resolved+", "
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		return "", &TargetError{t.Path, is + "a folder: name a file"}
	case m&fs.ModeDevice != 0:
		return "", &TargetError{t.Path, is + "a device, not a regular file"}
	case m&fs.ModeNamedPipe != 0:
		return "", &TargetError{t.Path, is + "a named pipe, not a regular file"}
	case m&fs.ModeSocket != 0:
		return "", &TargetError{t.Path, is + "a socket, not a regular file"}
	case !m.IsRegular():
		return "", &TargetError{t.Path, is + "not a regular file"}
	}
	if id, ok := fileID(fi); ok {
		for _, p := range t.Protect {
			if p.ID == id {
				return "", &TargetError{t.Path, is + p.What + ": choose another file"}
			}
		}
	}
	if !t.Private && isDatabase(dest) {
		return "", &TargetError{t.Path, is + "a database (bbolt's header: a ledger, or a backup of one): choose another file, or remove it first"}
	}
	return dest, nil
}

// isDatabase says whether the file at path begins with a bbolt header
// page: its page header (8 bytes of id, 2 of flags, 2 of count, 4 of
// overflow) with the meta flag, then bbolt's magic, in either byte order
// (the layout internal/ledger/file.go draws; an export opens no database,
// so it reads those 20 bytes itself rather than asking the ledger). A
// file that cannot be read is not known to be one.
func isDatabase(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [20]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return false
	}
	const metaFlag, magic = 0x04, 0xED0CDAED
	for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		if o.Uint16(b[8:]) == metaFlag && o.Uint32(b[16:]) == magic {
			return true
		}
	}
	return false
}

// Write writes the file through write (see Target).
func (t *Target) Write(write func(w io.Writer) error) error {
	dest, err := t.Check()
	if err != nil {
		return err
	}
	dir, name := filepath.Split(dest)
	if dir == "" {
		dir = "."
	}
	SweepTemps(dir)
	scratch.SweepStale()
	mode := t.Mode
	if mode == 0 {
		mode = 0o640
	}
	if fi, err := os.Stat(dest); err == nil {
		mode = fi.Mode().Perm()
	}
	if t.Private {
		mode = 0o600
	}
	tmp, err := os.CreateTemp(dir, tempPattern(name))
	if err != nil {
		return fileError("create", t.Path, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	fw := &fileWriter{f: tmp, path: t.Path}
	bw := bufio.NewWriterSize(fw, 256<<10)
	if err := write(bw); err != nil {
		return fw.named(err)
	}
	if err := bw.Flush(); err != nil {
		return fw.named(err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fileError("write", t.Path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fileError("write", t.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return fileError("write", t.Path, err)
	}
	if t.Verify != nil {
		if err := t.Verify(tmp.Name()); err != nil {
			return err
		}
	}
	// The target may have become something else while it was written, or
	// the caller may have learned of another protected file.
	again, err := t.Check()
	if err != nil {
		return err
	}
	if again != dest {
		return &TargetError{t.Path, "it changed while it was written (it now leads to " + again + ")"}
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fileError("write", t.Path, err)
	}
	committed = true
	// The rename is durable only once the folder is synced.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteFileAtomic writes path through write as a Target with nothing
// protected: for files the program itself names (the demo's).
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	return (&Target{Path: path}).Write(write)
}

// fileWriter writes the temporary file; its errors name the person's file.
type fileWriter struct {
	f    *os.File
	path string
	err  error // the first error of the file
}

func (w *fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = fileError("write", w.path, err)
		if w.err == nil {
			w.err = err
		}
	}
	return n, err
}

// named is the error to return for err, which write returned: the file's
// own error if it had one (what the writer made of it may name nothing
// better), else err with excelize's temporary files named as the person's.
func (w *fileWriter) named(err error) error {
	if w.err != nil {
		return w.err
	}
	return NameTemporary(err, w.path)
}

// NameTemporary rewrites an error about a file in this process's scratch
// folder (excelize's rows of a workbook, when the temporary folder's disk
// is full) to name path, the file being made, and where the space ran out.
func NameTemporary(err error, path string) error {
	var pe *os.PathError
	if errors.As(err, &pe) && scratch.Owns(pe.Path) {
		return fmt.Errorf("write %s: %w (in the temporary folder %s)", path, pe.Err, os.TempDir())
	}
	return err
}

// fileError is err about path, without the temporary file's name that it
// may carry.
func fileError(op, path string, err error) error {
	return &os.PathError{Op: op, Path: path, Err: unwrapFileError(err)}
}

func unwrapFileError(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// tempMark is in the name of every temporary file: .NAME.reconciled-PID-N.tmp.
const tempMark = ".reconciled-"

var tempName = regexp.MustCompile(`^\..*\.reconciled-([0-9]{1,10})-[0-9]+\.tmp$`)

// tempPattern is os.CreateTemp's pattern for a temporary file of name: its
// first 100 bytes (names are at most 255) and this process's pid.
func tempPattern(name string) string {
	for len(name) > 100 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return "." + name + tempMark + strconv.Itoa(os.Getpid()) + "-*.tmp"
}

// SweepTemps removes from dir the temporary files of writers that are gone
// (regular files named as Write names them, of this user, whose pid does
// not run), and returns them.
func SweepTemps(dir string) []string { return scratch.SweepDead(dir, tempName, false) }
