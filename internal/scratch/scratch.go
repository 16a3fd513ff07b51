// Package scratch is this process's folder for temporary files that do
// not live beside the file they become: excelize's (the rows of a workbook
// being written, a large sheet being read) and, in the daemon, the copy of
// a file that an import sent through the control socket.
//
// The folder is $TMPDIR/reconciled-PID-N (0700), made on first use and
// removed by Remove when the process ends. A process that is killed cannot
// remove it: the next reconciled process to write a file or start the
// daemon (SweepStale) removes every such folder of its user whose pid no
// longer runs. A folder whose pid runs is never touched, even when that pid
// now belongs to another program (the folder then waits for it to end).
package scratch

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

const prefix = "reconciled-"

// folderName is the pattern of a process's folder: reconciled-PID-N.
var folderName = regexp.MustCompile(`^reconciled-([0-9]{1,10})-[0-9]+$`)

var (
	mu    sync.Mutex
	dir   string // this process's folder, once made
	swept sync.Once
)

// Dir is this process's folder, made on first use (after removing the
// folders of processes that are gone).
func Dir() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		if fi, err := os.Lstat(dir); err == nil && fi.IsDir() {
			return dir, nil
		}
		dir = "" // removed under us (a cleaner of the temporary folder): make another
	}
	swept.Do(func() {})
	Sweep(os.TempDir())
	d, err := os.MkdirTemp(os.TempDir(), prefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return "", err
	}
	dir = d
	return d, nil
}

// Owns reports whether path is in this process's folder.
func Owns(path string) bool {
	mu.Lock()
	d := dir
	mu.Unlock()
	return d != "" && strings.HasPrefix(path, d+string(filepath.Separator))
}

// Remove removes this process's folder and what is in it. The process
// calls it as it ends: nothing may use the folder after.
func Remove() {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
		dir = ""
	}
}

// SweepStale removes the folders of processes that are gone from the
// temporary folder, once per process.
func SweepStale() {
	swept.Do(func() { Sweep(os.TempDir()) })
}

// Sweep removes from root the folders reconciled-PID-N of this user whose
// PID does not run, and returns them.
func Sweep(root string) []string { return SweepDead(root, folderName, true) }

// SweepDead removes from dir what a process that no longer runs left: the
// entries whose name matches name (its first group the writer's pid),
// folders if folders is true, else regular files (never a symbolic link),
// that belong to this user. It returns what it removed.
func SweepDead(dir string, name *regexp.Regexp, folders bool) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		m := name.FindStringSubmatch(e.Name())
		if m == nil || len(m) < 2 || folders != e.IsDir() || !folders && !e.Type().IsRegular() { // IsDir is false for a link
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || Alive(pid) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if Mine(path) && os.RemoveAll(path) == nil {
			removed = append(removed, path)
		}
	}
	return removed
}

// Mine reports whether path (not followed if a link) belongs to this
// process's user.
func Mine(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// Alive reports whether a process with this pid runs (this user's or
// another's). Pids that cannot be a process's count as alive: nothing of
// theirs is removed.
func Alive(pid int) bool {
	if pid <= 0 {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
