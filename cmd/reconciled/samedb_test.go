package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/control"
)

// runWith runs reconciled in-process on the config file named as given
// (relative to the test's folder), with the clock at w.now.
func (w *world) runWith(t *testing.T, config string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: func() time.Time { return w.now }}
	code = m.Run(context.Background(), append([]string{"--config", config}, args...))
	return code, out.String(), errb.String()
}

// TestACommandRunsOnlyOnItsOwnConfigsDatabase: two configs in one folder
// name two databases and, neither setting daemon.socket, the same socket
// beside them. With the daemon running on one, a command of the other is
// refused before it runs anything (exit 2, saying which database the daemon
// holds and how to fix it), whether the other database exists or not; it
// imports, resolves, exports and syncs nothing anywhere. A config that names
// the daemon's database under another name (a symbolic link, a hard link,
// the absolute path) is the daemon's: its commands go through as before,
// and so does a request that names no database (an older client).
func TestACommandRunsOnlyOnItsOwnConfigsDatabase(t *testing.T) {
	w := newWorld(t, 300, time.Minute, "")
	w.setNow(time.Now())
	t.Chdir(w.dir)
	text, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	writeConfig := func(name, db string) {
		t.Helper()
		c := strings.Replace(string(text), fmt.Sprintf("path = %q", w.db), fmt.Sprintf("path = %q", db), 1)
		if c == string(text) && db != w.db {
			t.Fatalf("the world's config names no %s", w.db)
		}
		if err := os.WriteFile(name, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig("reconciled.toml", "./reconciled.db") // the daemon's, as the brief's person wrote it
	writeConfig("other.toml", "./other.db")           // another database, which exists
	writeConfig("fresh.toml", "./fresh.db")           // another, not made yet
	writeConfig("link.toml", "./link.db")             // the daemon's, through a symbolic link
	writeConfig("hard.toml", "./hard.db")             // the daemon's, through a hard link
	writeConfig("abs.toml", w.db)                     // the daemon's, by its absolute path

	w.mustRun(t, "sync")
	if code, _, errOut := w.runWith(t, "other.toml", "sync"); code != 0 {
		t.Fatalf("sync of other.toml: %d\n%s", code, errOut)
	}
	if err := os.Symlink("reconciled.db", "link.db"); err != nil {
		t.Fatal(err)
	}
	if err := os.Link("reconciled.db", "hard.db"); err != nil {
		t.Fatal(err)
	}
	books := "books.csv"
	if err := os.WriteFile(books, []byte("payment_id,type,amount,currency,status,created_at\nb-1,purchase,10.00,UAH,paid,2026-10-01 10:00:00\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	state := func(config string) string { // what a command could have changed, read here
		t.Helper()
		var all []string
		for _, args := range [][]string{{"status"}, {"export", "--what", "audit", "--format", "csv"}, {"export", "--what", "reconciliation", "--format", "csv"}} {
			code, out, errOut := w.runWith(t, config, args...)
			if code != 0 {
				t.Fatalf("%s %v: %d\n%s", config, args, code, errOut)
			}
			all = append(all, out)
		}
		return strings.Join(all, "\n")
	}
	daemonsBefore, otherBefore := state("reconciled.toml"), state("other.toml")

	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
	daemonsStatus := w.mustRun(t, "status")

	refused := [][]string{
		{"status"},
		{"import", books},
		{"resolve", "b-1", "--reason", "test"},
		{"unresolve", "b-1"},
		{"export", "--what", "operations", "--format", "csv"},
		{"export", "--what", "operations", "--format", "csv", "-o", "out.csv"},
		{"sync"},
		{"reconcile", "--no-recheck"},
		{"report", "-o", "report.html"},
		{"stats"},
		{"backup", "copy.db"},
		{"check"},
	}
	daemonDB := filepath.Join(w.dir, "reconciled.db")
	for _, c := range []struct{ config, db string }{{"other.toml", "./other.db"}, {"fresh.toml", "./fresh.db"}} {
		want := fmt.Sprintf("reconciled: the daemon on reconciled.sock holds %s, not %s (storage.path of %s): give each database its own daemon.socket, or stop the daemon\n",
			daemonDB, c.db, c.config)
		for _, args := range refused {
			code, stdout, stderr := w.runWith(t, c.config, args...)
			if code != exitUsage || stdout != "" || stderr != want {
				t.Errorf("%s %v with the daemon on another database: exit %d\nstdout: %q\nstderr: %q\nwant exit 2 and %q", c.config, args, code, stdout, stderr, want)
			}
		}
	}
	for _, f := range []string{"fresh.db", "out.csv", "report.html", "copy.db"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("a refused command left %s", f)
		}
	}
	if got := w.mustRun(t, "status"); got != daemonsStatus {
		t.Errorf("the daemon's database changed under the refused commands:\n%s\nbefore:\n%s", got, daemonsStatus)
	}

	// An older client names no database: its request runs as before.
	conn, err := control.Dial("reconciled.sock")
	if err != nil {
		t.Fatal(err)
	}
	var o, e bytes.Buffer
	if code, err := control.Run(context.Background(), conn, control.Request{Args: []string{"status"}}, nil, &o, &e, nil); code != 0 || err != nil || o.String() != daemonsStatus {
		t.Errorf("a request naming no database: exit %d, %v\n%s%s", code, err, o.String(), e.String())
	}

	// The daemon's database under other names: through the daemon (a
	// command run here would find the database held and fail).
	for _, config := range []string{"link.toml", "hard.toml", "abs.toml"} {
		if code, stdout, stderr := w.runWith(t, config, "status"); code != 0 || stdout != daemonsStatus {
			t.Errorf("%s, naming the daemon's database: exit %d\n%s%s", config, code, stdout, stderr)
		}
	}
	if code, _, stderr := w.runWith(t, "link.toml", "import", books); code != 0 {
		t.Errorf("import through link.toml: exit %d\n%s", code, stderr)
	}
	if got := w.mustRun(t, "status"); !strings.Contains(got, "merchant records  1") {
		t.Errorf("the import through link.toml is not in the daemon's database:\n%s", got)
	}
	stopDaemon(t, cmd, out)
	if !strings.Contains(out.String(), "command refused: the client's config names another database") {
		t.Errorf("the daemon did not log the refusals:\n%s", out.String())
	}

	if got := state("other.toml"); got != otherBefore {
		t.Errorf("other.toml's database changed:\n%s\nbefore:\n%s", got, otherBefore)
	}
	if got := state("reconciled.toml"); got == daemonsBefore {
		t.Errorf("the import through link.toml did not reach the daemon's database")
	}
	if _, err := os.Stat("fresh.db"); err == nil {
		t.Error("fresh.db was made")
	}
}
