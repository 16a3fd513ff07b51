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

// The client and the daemon read a command line alike: the client parses
// it with the command's own parse before it dials and writes the file that
// parse names; the daemon parses the same words again and says it wrote
// that file. Each line ends the same way run here and through the daemon:
// the same exit status, the same files, the same words (with the folder
// named the same), a backup only told "checked" by the client.
func TestClientAndDaemonReadTheCommandLineAlike(t *testing.T) {
	w := newWorld(t, 300, time.Minute, "")
	w.setNow(time.Now())
	w.mustRun(t, "sync")
	books := filepath.Join(t.TempDir(), "books.csv")
	os.WriteFile(books, []byte("payment_id,type,amount,currency,status,created_at\nb-1,purchase,10.00,UAH,paid,2026-10-01 10:00:00\n"), 0o600)
	w.mustRun(t, "import", books, "--source", "s") // so that both imports below change nothing
	cases := []struct {
		args  []string // DIR is a new folder for each run
		files []string // what DIR holds after
	}{
		{[]string{"export", "--format", "csv", "--bom", "-o", "DIR/x.csv"}, []string{"x.csv"}},
		{[]string{"export", "-o", "DIR/a.csv", "--format", "csv", "-o", "DIR/b.csv"}, []string{"b.csv"}},
		{[]string{"export", "-o=DIR/a.csv", "--o", "DIR/b.csv"}, []string{"b.csv"}},
		{[]string{"export", "--method", "-o", "--format", "csv"}, nil}, // a method called "-o": standard output
		{[]string{"export", "-o", "DIR/a.csv", "--", "-o", "DIR/b.csv"}, nil},
		{[]string{"export", "--format", "xlsx", "--what", "summary", "-o", "DIR/s.xlsx"}, []string{"s.xlsx"}},
		{[]string{"report", "-o", "DIR/a.html", "--date", "2026-11-20", "-o", "DIR/b.html"}, []string{"b.html"}},
		{[]string{"backup", "DIR/copy.db"}, []string{"copy.db"}},
		{[]string{"backup", "--", "DIR/copy.db"}, nil},
		{[]string{"import", "--", "-file.csv"}, nil},
		{[]string{"import", books, "--source", "s"}, nil},
		{[]string{"import", "--source", "s", books}, nil}, // the file comes first
	}
	type outcome struct {
		code           int
		stdout, stderr string
		files          []string
	}
	run := func(args []string) outcome {
		dir := t.TempDir()
		args = slices.Clone(args)
		for i := range args {
			args[i] = strings.ReplaceAll(args[i], "DIR", dir)
		}
		code, out, errOut := w.run(t, args...)
		var files []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			files = append(files, e.Name())
		}
		var said []string // what it said, without the log's times
		for _, line := range strings.SplitAfter(errOut, "\n") {
			if _, rest, ok := strings.Cut(line, " level="); ok && strings.HasPrefix(line, "time=") {
				line = "level=" + rest
			}
			said = append(said, line)
		}
		return outcome{code, strings.ReplaceAll(out, dir, "DIR"), strings.ReplaceAll(strings.Join(said, ""), dir, "DIR"), files}
	}
	var here []outcome
	for _, c := range cases {
		here = append(here, run(c.args))
	}

	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
	for i, c := range cases {
		got, want := run(c.args), here[i]
		if !slices.Equal(want.files, c.files) || !slices.Equal(got.files, c.files) {
			t.Errorf("%v: wrote %v here and %v through the daemon, want %v", c.args, want.files, got.files, c.files)
		}
		if c.args[0] == "backup" && want.code == 0 {
			want.stderr = strings.Replace(want.stderr, " and checked\n", "\nbackup: DIR/copy.db checked\n", 1)
		}
		if got.code != want.code || got.stdout != want.stdout || got.stderr != want.stderr {
			t.Errorf("%v:\nhere: exit %d\n%s%s\nthrough the daemon: exit %d\n%s%s", c.args, want.code, want.stdout, want.stderr, got.code, got.stdout, got.stderr)
		}
	}
	// What the table does not let through is refused by the daemon too,
	// whoever asks: a hand-made request runs no process of its own there.
	sock := filepath.Join(w.dir, "reconciled.sock")
	for _, args := range [][]string{{"check-config"}, {"run"}, {"demo", "--dir", t.TempDir()}, {"nope"}} {
		conn, err := control.Dial(sock)
		if err != nil {
			t.Fatal(err)
		}
		var o, e bytes.Buffer
		code, err := control.Run(context.Background(), conn, control.Request{Args: args}, nil, &o, &e, nil)
		if err != nil || code != exitUsage || e.String() != "reconciled: "+args[0]+" does not run through the daemon\n" {
			t.Errorf("%v through the socket: exit %d, %v: %q", args, code, err, e.String())
		}
	}
	stopDaemon(t, cmd, out)
}
