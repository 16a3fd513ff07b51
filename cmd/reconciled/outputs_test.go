package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/control"
	"reconciled/internal/ledger"
)

// badTargets are output files that must be refused, beside the database
// db: the database itself, another spelling of it, a hard and a symbolic
// link to it, a named pipe, a folder and a link to a device.
func badTargets(t *testing.T, db string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	targets := map[string]string{
		"the database":             db,
		"the database, respelled":  filepath.Dir(db) + "/./" + filepath.Base(db),
		"a hard link to it":        filepath.Join(dir, "hard.db"),
		"a symbolic link to it":    filepath.Join(dir, "soft.db"),
		"a named pipe":             filepath.Join(dir, "pipe.db"),
		"a folder":                 filepath.Join(dir, "folder.db"),
		"a link to a device":       filepath.Join(dir, "null.db"),
		"a link to a link to it":   filepath.Join(dir, "soft2.db"),
		"a link to a missing file": filepath.Join(dir, "dangling.db"),
	}
	for _, err := range []error{
		os.Link(db, targets["a hard link to it"]),
		os.Symlink(db, targets["a symbolic link to it"]),
		os.Symlink(targets["a symbolic link to it"], targets["a link to a link to it"]),
		syscall.Mkfifo(targets["a named pipe"], 0o640),
		os.Mkdir(targets["a folder"], 0o750),
		os.Symlink("/dev/null", targets["a link to a device"]),
		os.Symlink(filepath.Join(dir, "missing", "x.db"), targets["a link to a missing file"]),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return targets
}

// snapshot is what a path is: its mode, identity and (for a regular
// file) content.
type snapshot struct {
	fi   os.FileInfo
	data []byte
}

func snap(t *testing.T, path string) snapshot {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{fi: fi}
	if fi.Mode().IsRegular() {
		s.data, _ = os.ReadFile(path)
	}
	return s
}

func (s snapshot) same(t *testing.T, path string) bool {
	t.Helper()
	now := snap(t, path)
	return now.fi.Mode() == s.fi.Mode() && os.SameFile(now.fi, s.fi) && bytes.Equal(now.data, s.data)
}

// refusedEverywhere runs export -o, report -o and backup onto each bad
// target: each is refused with exit 2 and an error naming the path, and
// nothing is replaced.
func refusedEverywhere(t *testing.T, w *world, targets map[string]string, config string) {
	t.Helper()
	for what, path := range targets {
		before := snap(t, path)
		report := path
		if !strings.HasSuffix(path, ".db") {
			t.Fatalf("%s: the targets end in .db", path)
		}
		for _, args := range [][]string{
			{"export", "--what", "operations", "--format", "csv", "-o", path},
			{"export", "--what", "summary", "--format", "xlsx", "-o", path},
			{"report", "--date", "2026-11-01", "-o", strings.TrimSuffix(report, ".db") + ".html"},
			{"backup", path},
		} {
			if args[0] == "report" {
				// report -o wants a known extension: the same kinds of files, named .html.
				html := args[len(args)-1]
				if _, err := os.Lstat(html); err != nil {
					if err := os.Symlink(path, html); err != nil {
						t.Fatal(err)
					}
				}
			}
			var out, errb bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: func() time.Time { return w.now }}
			code := m.Run(t.Context(), append([]string{"--config", config}, args...))
			if code != exitUsage || !strings.Contains(errb.String(), args[len(args)-1]) {
				t.Errorf("%s: %v: exit %d, want %d naming it:\n%s", what, args, code, exitUsage, errb.String())
			}
		}
		if !before.same(t, path) {
			t.Errorf("%s: %s was replaced", what, path)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp")); len(left) != 0 {
			t.Errorf("%s: left %v", what, left)
		}
	}
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a device: %v %v", fi, err)
	}
}

// TestOutputsNeverDestroyTheirTarget: export, report and backup refuse a
// target that is not a regular file, or is the database however it is
// named; a backup is 0600 whatever the file it replaces allowed.
func TestOutputsNeverDestroyTheirTarget(t *testing.T) {
	w := newWorld(t, 300, time.Minute, "")
	w.mustRun(t, "sync")
	refusedEverywhere(t, w, badTargets(t, w.db), w.config)
	w.mirror(t)

	copyPath := filepath.Join(t.TempDir(), "copy.db")
	os.WriteFile(copyPath, []byte("readable by all"), 0o644)
	w.mustRun(t, "backup", copyPath)
	if fi, err := os.Stat(copyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup over a 0644 file: %v %v, want 0600", fi.Mode(), err)
	}
}

// TestOutputsThroughTheDaemon: through the control socket, the client
// refuses the daemon's own database under any name; a client whose config
// names another database on the same socket runs nothing there, so writes
// nothing over it either; and a confirmed import survives the daemon's
// restart. The daemon's start removes what killed writers left.
func TestOutputsThroughTheDaemon(t *testing.T) {
	w := newWorld(t, 300, time.Minute, "")
	w.setNow(time.Now())
	w.mustRun(t, "sync")
	sock := filepath.Join(w.dir, "reconciled.sock")
	// A client whose config names another database, on the same socket.
	other := filepath.Join(w.dir, "other.toml")
	text, _ := os.ReadFile(w.config)
	text = bytes.Replace(text, []byte(w.db), []byte(filepath.Join(w.dir, "elsewhere", "other.db")), 1)
	text = append(text, fmt.Sprintf("[daemon]\nsocket = %q\n", sock)...)
	if err := os.WriteFile(other, text, 0o600); err != nil {
		t.Fatal(err)
	}
	// Left by writers that were killed: the daemon's start removes them.
	tmp, exports := t.TempDir(), filepath.Join(w.dir, "exports")
	os.Mkdir(exports, 0o750)
	dead := deadPID(t)
	staleScratch := filepath.Join(tmp, fmt.Sprintf("reconciled-%d-1", dead))
	liveScratch := filepath.Join(tmp, fmt.Sprintf("reconciled-%d-2", os.Getpid()))
	staleTemp := filepath.Join(exports, fmt.Sprintf(".operations-2026-11-01.xlsx.reconciled-%d-3.tmp", dead))
	for _, d := range []string{staleScratch, liveScratch} {
		os.Mkdir(d, 0o700)
		os.WriteFile(filepath.Join(d, "excelize-4"), []byte("rows"), 0o600)
	}
	os.WriteFile(staleTemp, []byte("partial"), 0o600)
	appendConfig(t, w, "[[schedule]]\njob = \"export\"\ncron = \"0 3 * * *\"\n")

	sd := newNotifySocket(t)
	cmd := exec.Command(os.Args[0], "--config", w.config, "run")
	cmd.Env = append(os.Environ(), "RECONCILED_TEST_CHILD=1", "NOTIFY_SOCKET="+sd.path, "TMPDIR="+tmp)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
	for _, p := range []string{staleScratch, staleTemp} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("the daemon's start left %s", filepath.Base(p))
		}
	}
	if _, err := os.Stat(filepath.Join(liveScratch, "excelize-4")); err != nil {
		t.Errorf("the daemon's start removed a live process's folder: %v", err)
	}

	books := filepath.Join(t.TempDir(), "books.csv")
	os.WriteFile(books, []byte("payment_id,type,amount,currency,status,created_at\nconfirmed-import,purchase,10.00,UAH,paid,2026-10-01 10:00:00\n"), 0o600)
	w.mustRun(t, "import", books)

	refusedEverywhere(t, w, badTargets(t, w.db), w.config)
	// The client with the other config: refused before anything runs (it
	// would have known the daemon's database only from the daemon).
	before := snap(t, w.db)
	var o, e bytes.Buffer
	m := &Main{Stdout: &o, Stderr: &e, Getenv: func(string) string { return "" }, Now: time.Now}
	if code := m.Run(t.Context(), []string{"--config", other, "backup", w.db}); code != exitUsage || !strings.Contains(e.String(), "the daemon on "+sock+" holds "+w.db+", not ") || !before.same(t, w.db) {
		t.Errorf("backup onto the daemon's database with another config: exit %d: %s", code, e.String())
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	os.WriteFile(copyPath, []byte("readable by all"), 0o644)
	w.mustRun(t, "backup", copyPath)
	if fi, err := os.Stat(copyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup through the daemon over a 0644 file: %v %v, want 0600", fi.Mode(), err)
	}
	stopDaemon(t, cmd, out)
	if got := w.mustRun(t, "export", "--what", "reconciliation", "--format", "csv"); !strings.Contains(got, "confirmed-import") {
		t.Errorf("the import is gone after the daemon's restart:\n%s", got)
	}
	w.mirror(t)
}

// TestScheduledJobsRefuseBadTargets: the daemon's export and report jobs
// go through the same checks: a job's file that is a link to the
// database, or a pipe, fails the job and stays.
func TestScheduledJobsRefuseBadTargets(t *testing.T) {
	w := newWorld(t, 300, 30*time.Minute, "")
	w.now = start.Add(10*24*time.Hour + 7*time.Hour)
	w.mustRun(t, "sync")
	a, l := inProcessApp(t, w)
	dir := t.TempDir()
	exportFile := filepath.Join(dir, "operations-2026-11-10.csv")
	reportFile := filepath.Join(dir, "report-2026-11-10.html")
	os.Symlink(w.db, exportFile)
	syscall.Mkfifo(reportFile, 0o640)
	before, beforeReport := snap(t, exportFile), snap(t, reportFile)
	s := config.Schedule{Job: "export", Cron: "@every 1h", What: "operations", Format: "csv", Dir: dir}
	if err := a.ExportJob(t.Context(), s); err == nil || !strings.Contains(err.Error(), exportFile) {
		t.Errorf("export job onto a link to the database: %v", err)
	}
	r := config.Schedule{Job: "report", Cron: "@every 1h", Dir: dir}
	if err := a.ReportJob(t.Context(), r); err == nil || !strings.Contains(err.Error(), reportFile) {
		t.Errorf("report job onto a pipe: %v", err)
	}
	if !before.same(t, exportFile) || !beforeReport.same(t, reportFile) {
		t.Error("a job replaced its target")
	}
	l.Close()
	w.mirror(t)
}

// deadPID is the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	c := exec.Command(os.Args[0], "-test.run=^$")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	return c.Process.Pid
}

// TestKilledWriterLeavesNothingForever kills (SIGKILL) a client while it
// writes its -o file: the temporary file it leaves beside the target, and
// the temporary folder of a killed process, are removed by the next
// export, and another live writer's are not.
func TestKilledWriterLeavesNothingForever(t *testing.T) {
	w := newWorld(t, 300, time.Minute, "")
	w.mustRun(t, "sync")
	// A daemon that takes the request and never answers: the client waits
	// with its temporary file open.
	sock := filepath.Join(w.dir, "reconciled.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	dir := t.TempDir()
	target := filepath.Join(dir, "ops.csv")
	child, out := w.child(t, "export", "--what", "operations", "--format", "csv", "-o", target)
	var left []string
	deadline := time.Now().Add(30 * time.Second)
	for len(left) == 0 {
		left, _ = filepath.Glob(filepath.Join(dir, ".ops.csv.reconciled-"+strconv.Itoa(child.Process.Pid)+"-*.tmp"))
		if time.Now().After(deadline) {
			t.Fatalf("no temporary file with the writer's pid in 30 s: %s", out)
		}
		time.Sleep(time.Millisecond)
	}
	child.Process.Kill()
	child.Wait()
	ln.Close()
	if c := <-accepted; c != nil {
		c.Close()
	}
	if _, err := os.Stat(left[0]); err != nil {
		t.Fatalf("the kill left no temporary file: %v", err)
	}
	live := filepath.Join(dir, fmt.Sprintf(".other.csv.reconciled-%d-9.tmp", os.Getpid()))
	os.WriteFile(live, []byte("being written"), 0o600)
	tmp := t.TempDir()
	staleScratch := filepath.Join(tmp, fmt.Sprintf("reconciled-%d-1", child.Process.Pid))
	os.Mkdir(staleScratch, 0o700)
	os.WriteFile(filepath.Join(staleScratch, "excelize-2"), bytes.Repeat([]byte("row"), 1000), 0o600)

	next := exec.Command(os.Args[0], "--config", w.config, "export", "--what", "operations", "--format", "xlsx", "-o", filepath.Join(dir, "next.xlsx"))
	next.Env = append(os.Environ(), "RECONCILED_TEST_CHILD=1", "TMPDIR="+tmp)
	if b, err := next.CombinedOutput(); err != nil {
		t.Fatalf("the next export: %v\n%s", err, b)
	}
	if _, err := os.Stat(left[0]); err == nil {
		t.Error("the next export left the killed writer's temporary file")
	}
	if _, err := os.Stat(staleScratch); err == nil {
		t.Error("the next export left the killed process's temporary folder")
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the next export removed a live writer's file: %v", err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("the next export left its own temporary folder: %v", entries)
	}
}

// TestFullDiskNamesTheUsersFile: a write that fails for want of space (a
// file size limit in a child process) names the file asked for, not the
// temporary one.
func TestFullDiskNamesTheUsersFile(t *testing.T) {
	w := newWorld(t, 2000, time.Minute, "")
	w.mustRun(t, "sync")
	dir := t.TempDir()
	for _, args := range [][]string{
		{"export", "--what", "operations", "--format", "csv", "-o", filepath.Join(dir, "ops.csv")},
		{"export", "--what", "operations", "--format", "xlsx", "-o", filepath.Join(dir, "ops.xlsx")},
		{"backup", filepath.Join(dir, "copy.db")},
	} {
		c := exec.Command(os.Args[0], append([]string{"--config", w.config}, args...)...)
		c.Env = append(os.Environ(), "RECONCILED_TEST_CHILD=1", "RECONCILED_TEST_FSIZE=20000")
		b, err := c.CombinedOutput()
		msg := string(b)
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFailed {
			t.Errorf("%v: %v, want exit %d:\n%s", args, err, exitFailed, msg)
		}
		if !strings.Contains(msg, args[len(args)-1]+": file too large") || strings.Contains(msg, ".tmp") {
			t.Errorf("%v: the error does not name the file:\n%s", args, msg)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%v: left %v", args, left)
		}
	}
	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestABackupThatDoesNotCheckOutReplacesNothing: the copy is checked
// before it takes the target's name, so a copy that does not open (here a
// daemon that sends garbage) leaves the older backup at that name as it
// was, and the error names the file asked for, not the temporary one.
func TestABackupThatDoesNotCheckOutReplacesNothing(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	w.mustRun(t, "sync")
	target := filepath.Join(t.TempDir(), "backup.db")
	w.mustRun(t, "backup", target) // a sound older backup, before the daemon below answers
	old, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := control.Listen(filepath.Join(w.dir, "reconciled.sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &control.Server{Log: slog.New(slog.DiscardHandler), Handler: func(ctx context.Context, c *control.Command) int {
		c.Output.Write(bytes.Repeat([]byte("not a database "), 4096))
		return 0
	}}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(served) }()
	defer func() { cancel(); ln.Close(); <-served }()

	code, _, stderr := w.run(t, "backup", target)
	if code != exitFailed {
		t.Fatalf("backup of garbage: exit %d, want %d\n%s", code, exitFailed, stderr)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, old) {
		t.Errorf("the older backup was replaced by a copy that does not check out")
	}
	if !strings.Contains(stderr, target) || strings.Contains(stderr, ".tmp") {
		t.Errorf("the error should name %s, not the temporary file:\n%s", target, stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(target), ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// The config the command read is not an output either: `export -o
// reconciled.toml` (a slip of the shell's completion) replaced the config
// with a CSV, and the daemon's next start or reload failed on it.
func TestOutputsLeaveTheConfigAlone(t *testing.T) {
	w := newWorld(t, 100, time.Minute, "")
	w.mustRun(t, "sync")
	hard := filepath.Join(t.TempDir(), "hard.toml")
	if err := os.Link(w.config, hard); err != nil {
		t.Fatal(err)
	}
	before := snap(t, w.config)
	for _, path := range []string{w.config, hard} {
		for _, args := range [][]string{
			{"export", "--what", "operations", "--format", "csv", "-o", path},
			{"backup", path},
		} {
			code, _, errOut := w.run(t, args...)
			if code != exitUsage || !strings.Contains(errOut, "it is the config file") {
				t.Errorf("%v: exit %d, want %d saying it is the config:\n%s", args, code, exitUsage, errOut)
			}
		}
	}
	if !before.same(t, w.config) {
		t.Fatal("the config was replaced")
	}
}

// No output but a backup replaces a file that is a database, whichever
// it is: `export -o` or `report -o` onto yesterday's backup (under its
// name or under another) is refused and leaves it whole; a backup over an
// older backup goes on; a file that merely begins as a database does is
// replaced.
func TestOutputsLeaveOtherDatabasesAlone(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	w.mustRun(t, "sync")
	dir := t.TempDir()
	backup, renamed := filepath.Join(dir, "backup.db"), filepath.Join(dir, "old.csv")
	w.mustRun(t, "backup", backup)
	w.mustRun(t, "backup", renamed)
	want, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"export", "--what", "operations", "--format", "csv", "-o", backup},
		{"export", "--what", "reconciliation", "--format", "csv", "-o", renamed},
		{"report", "-o", renamed},
	} {
		path := args[len(args)-1]
		code, _, errOut := w.run(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "refusing to write "+path+": it is a database") {
			t.Errorf("%v: exit %d, want %d saying it is a database:\n%s", args, code, exitUsage, errOut)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
			t.Errorf("%v: %s was written over", args, path)
		}
	}
	w.mustRun(t, "backup", backup) // a newer backup over the older one
	notes := filepath.Join(dir, "notes.csv")
	if err := os.WriteFile(notes, want[:7], 0o600); err != nil { // a database's first bytes, not its header
		t.Fatal(err)
	}
	w.mustRun(t, "export", "--what", "operations", "--format", "csv", "-o", notes)
}
