package scratch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// deadPID is the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	c := exec.Command(os.Args[0], "-test.run=^$")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	return c.Process.Pid
}

func TestDirIsThePidsAndRemoveRemovesIt(t *testing.T) {
	root := t.TempDir()
	t.Setenv("TMPDIR", root)
	stale := filepath.Join(root, fmt.Sprintf("reconciled-%d-7", deadPID(t)))
	os.Mkdir(stale, 0o700)
	d, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(d) != root || !strings.HasPrefix(filepath.Base(d), "reconciled-"+strconv.Itoa(os.Getpid())+"-") {
		t.Errorf("Dir() = %s", d)
	}
	if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("%v %v, want a 0700 folder", fi, err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the first Dir() left a dead process's folder")
	}
	f := filepath.Join(d, "excelize-1")
	os.WriteFile(f, []byte("rows"), 0o600)
	if !Owns(f) || Owns(filepath.Join(root, "x")) || Owns(d+"x/y") {
		t.Error("Owns is wrong")
	}
	if again, _ := Dir(); again != d {
		t.Errorf("a second Dir() = %s, want %s", again, d)
	}
	Remove()
	if _, err := os.Stat(d); err == nil {
		t.Error("Remove left the folder")
	}
	next, err := Dir()
	if err != nil || next == d {
		t.Errorf("Dir() after Remove: %s %v", next, err)
	}
	Remove()
}

func TestSweepRemovesOnlyDeadProcessesFolders(t *testing.T) {
	root := t.TempDir()
	dead := deadPID(t)
	mk := func(name string) string {
		p := filepath.Join(root, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(p, "excelize-1"), []byte("rows"), 0o600)
		return p
	}
	stale := mk(fmt.Sprintf("reconciled-%d-1", dead))
	keep := []string{
		mk(fmt.Sprintf("reconciled-%d-2", os.Getpid())),  // alive: this process
		mk(fmt.Sprintf("reconciled-%d-3", os.Getppid())), // alive
		mk(fmt.Sprintf("reconciled-input-%d", dead)),     // not the pattern
		mk(fmt.Sprintf("other-%d-1", dead)),
	}
	link := filepath.Join(root, fmt.Sprintf("reconciled-%d-4", dead)) // a link: never followed or removed
	os.Symlink(keep[0], link)
	keep = append(keep, link)
	file := filepath.Join(root, fmt.Sprintf("reconciled-%d-5", dead)) // a file, not a folder
	os.WriteFile(file, nil, 0o600)
	keep = append(keep, file)

	if got := Sweep(root); !slices.Equal(got, []string{stale}) {
		t.Errorf("Sweep removed %v, want %v", got, []string{stale})
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the dead process's folder is still there")
	}
	for _, p := range keep {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed", filepath.Base(p))
		}
	}
	if _, err := os.Stat(filepath.Join(keep[0], "excelize-1")); err != nil {
		t.Error("a live folder's file was removed through a link")
	}
}

func TestAlive(t *testing.T) {
	if !Alive(os.Getpid()) || Alive(deadPID(t)) || !Alive(0) || !Alive(-1) {
		t.Error("Alive is wrong")
	}
}
