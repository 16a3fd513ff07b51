package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/control"
	"reconciled/internal/ledger"
)

// TestCommandsGoThroughTheDaemon runs the hand commands while `run` holds
// the database: they work unchanged, files are read and written on the
// client's side, and the audit trail names the person, not the daemon.
func TestCommandsGoThroughTheDaemon(t *testing.T) {
	w := newWorld(t, 3000, time.Minute, "")
	w.setNow(time.Now())
	w.mustRun(t, "sync")
	directStatus := w.mustRun(t, "status")
	directExport := w.mustRun(t, "export", "--what", "operations", "--format", "csv")

	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
	sock := filepath.Join(w.dir, "reconciled.sock")
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&^0o660 != 0 {
		t.Errorf("socket mode %v, want at most 0660", fi.Mode().Perm())
	}
	// The database is the daemon's: a direct open would fail.
	if _, err := ledger.Open(w.db, ledger.Options{ReadOnly: true, LockTimeout: 100 * time.Millisecond}); err == nil {
		t.Fatal("the database opened beside the daemon")
	}

	if got := w.mustRun(t, "status"); got != directStatus {
		t.Errorf("status through the daemon:\n%s\ndirect:\n%s", got, directStatus)
	}
	if got := w.mustRun(t, "export", "--what", "operations", "--format", "csv"); got != directExport {
		t.Errorf("export through the daemon differs: %d bytes, direct %d", len(got), len(directExport))
	}
	dir := t.TempDir()
	xlsx := filepath.Join(dir, "ops.xlsx")
	w.mustRun(t, "export", "--what", "operations", "--format", "xlsx", "-o", xlsx)
	if fi, err := os.Stat(xlsx); err != nil || fi.Size() < 10000 || fi.Mode().Perm() != 0o640 {
		t.Errorf("xlsx through the daemon: %v %v", fi, err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if code, _, errOut := w.run(t, "backup", copyPath); code != 0 || !strings.Contains(errOut, "checked") {
		t.Errorf("backup: %d %s", code, errOut)
	}
	if fi, err := os.Stat(copyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup copy: %v %v", fi, err)
	}

	// A bad file: rejected, named as the person named it, exit 1.
	bad := filepath.Join(dir, "books.csv")
	os.WriteFile(bad, []byte("payment_id,type,amount,currency,status\np1,purchase,10.001,UAH,paid\n"), 0o600)
	code, _, errOut := w.run(t, "import", bad)
	if code != 1 || !strings.Contains(errOut, bad+": rejected") || !strings.Contains(errOut, "books.csv:2") {
		t.Errorf("bad import through the daemon: %d\n%s", code, errOut)
	}
	// A good one, then a resolution: the audit trail has this user.
	good := filepath.Join(dir, "books2.csv")
	os.WriteFile(good, []byte("payment_id,type,amount,currency,status,created_at\nnot-at-provider,purchase,10.00,UAH,paid,2026-10-01 10:00:00\n"), 0o600)
	w.mustRun(t, "import", good)
	w.mustRun(t, "reconcile", "--no-recheck")
	w.mustRun(t, "resolve", "not-at-provider", "--reason", "test")
	audit := w.mustRun(t, "export", "--what", "audit", "--format", "csv")
	if me := app.CurrentUser(os.Getenv); !strings.Contains(audit, ","+me+",") {
		t.Errorf("audit trail lacks the user %q:\n%s", me, audit)
	}

	// Ctrl-C on a command in the daemon: the command stops, no file is
	// left, the daemon serves on.
	ctx, cancel := context.WithCancel(context.Background())
	var o, e bytes.Buffer
	m := &Main{Stdout: &o, Stderr: &e, Getenv: func(string) string { return "" }, Now: time.Now}
	big := filepath.Join(dir, "big.xlsx")
	time.AfterFunc(30*time.Millisecond, cancel)
	if code := m.Run(ctx, []string{"--config", w.config, "export", "--what", "reconciliation", "--format", "xlsx", "-o", big}); code == 0 {
		t.Logf("the export finished before the interrupt (%s); not a failure, but nothing was interrupted", e.String())
	} else if _, err := os.Stat(big); err == nil {
		t.Errorf("an interrupted export left %s", big)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("left %v", left)
	}
	w.mustRun(t, "status")

	// A hand-made request that names a path without sending the file: the
	// daemon reads and writes nothing of its own file system for it (it
	// would with its own rights: -o over the database, import of its
	// files).
	victim := filepath.Join(w.dir, "victim.csv")
	os.WriteFile(victim, []byte("payment_id,type,amount,currency,status\nx,purchase,1.00,UAH,paid\n"), 0o600)
	for _, args := range [][]string{
		{"export", "--what", "operations", "--format", "csv", "-o", w.db},
		{"report", "-o", filepath.Join(w.dir, "report.html")},
		{"backup", w.db},
		{"import", victim},
	} {
		conn, err := control.Dial(sock)
		if err != nil {
			t.Fatal(err)
		}
		var o, e bytes.Buffer
		code, err := control.Run(context.Background(), conn, control.Request{Args: args}, nil, &o, &e, nil)
		if err != nil || code != exitUsage || !strings.Contains(e.String(), "files travel with the command") {
			t.Errorf("%v without its file: exit %d, %v: %s", args, code, err, e.String())
		}
	}
	if _, err := os.Stat(filepath.Join(w.dir, "report.html")); err == nil {
		t.Error("the daemon wrote a path a request named")
	}
	if got := w.mustRun(t, "status"); !strings.Contains(got, "operations") {
		t.Errorf("status after the refused requests:\n%s", got)
	}
	if code, _, _ := w.run(t, "export", "--what", "audit", "--format", "csv"); code != 0 {
		t.Error("the database is not whole after the refused requests")
	}
	stopDaemon(t, cmd, out)
	if !strings.Contains(out.String(), "control socket: command") {
		t.Errorf("the daemon did not log the commands:\n%s", out.String())
	}
	if _, err := os.Stat(sock); err == nil {
		t.Error("the socket outlived the daemon")
	}
}

// The client takes back the file the daemon's flag parsing writes: the
// last -o, as the flag package keeps the last value (with the first, the
// client wrote a.csv while the daemon said "written to b.csv").
func TestOutputArgIsTheFlagsLast(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"export", []string{"--format", "csv", "-o", "a.csv"}, "a.csv"},
		{"export", []string{"-o", "a.csv", "--format", "csv", "-o", "b.csv"}, "b.csv"},
		{"export", []string{"-o=a.csv", "--o", "b.csv"}, "b.csv"},
		{"export", []string{"--o=a.csv", "-o=b.csv"}, "b.csv"},
		{"report", []string{"-o", "a.html", "--date", "2026-11-20", "-o", "b.html"}, "b.html"},
		{"export", []string{"--format", "csv"}, ""},
		{"export", []string{"--bom", "-o", "a.csv"}, "a.csv"},
		{"export", []string{"--method", "-o", "--format", "csv"}, ""}, // a method called "-o"
		{"report", []string{"--send", "--to", "-o", "-o", "a.csv"}, "a.csv"},
		{"export", []string{"-o", "a.csv", "--", "-o", "b.csv"}, "a.csv"},
		{"backup", []string{"copy.db"}, "copy.db"},
	} {
		if got := outputArg(c.name, c.args); got != c.want {
			t.Errorf("%s %v: %q, want %q", c.name, c.args, got, c.want)
		}
	}
}

// outputArg knows every flag of the commands with -o that takes no value (a
// new one unknown to it would hide the -o after it, and the daemon would
// then refuse the command as one naming a path without its file).
func TestOutputArgKnowsTheBoolFlags(t *testing.T) {
	for _, c := range commandList() {
		if c.socket == nil || c.socket.output != flagO {
			continue
		}
		name, bools := c.name, c.socket.bools
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }, Now: time.Now}
		m.Run(context.Background(), []string{name, "-h"})
		for _, line := range strings.Split(out.String(), "\n") {
			f := strings.Fields(line)
			if len(f) == 1 && strings.HasPrefix(line, "  -") && !slices.Contains(bools, strings.TrimLeft(f[0], "-")) { // PrintDefaults: a bool flag has no type
				t.Errorf("%s: the flag %s takes no value and outputArg does not know it", name, f[0])
			}
		}
	}
}
