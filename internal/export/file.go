package export

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes path through write: into a temporary file in the
// same folder, synced, then renamed over path, and the folder synced. If
// write fails or panics (or the process is interrupted), path is untouched
// and the temporary file is removed; a kill -9 can leave only a hidden
// ".name-*.tmp" beside it. A replaced file keeps its permissions; a new one
// gets 0640.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	return WriteFileAtomicMode(path, 0o640, write)
}

// WriteFileAtomicMode is WriteFileAtomic giving a new file mode (a copy of
// the database is 0600, as the database is).
func WriteFileAtomicMode(path string, newMode os.FileMode, write func(w io.Writer) error) error {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	mode := newMode
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+name+"-*.tmp")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) { // name the file the user asked for, not the temporary one
			err = pe.Err
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	committed = true
	// The rename is durable only once the folder is synced.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
