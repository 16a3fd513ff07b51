package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// damagedWorld is a world whose database holds operations, merchant
// records and a resolution: what a damaged file would lose.
func damagedWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, 600, 2*time.Minute, "")
	w.now = w.now.Add(30 * 24 * time.Hour)
	w.mustRun(t, "sync", "--from", start.Format(time.DateOnly))
	var mismatched string
	w.mustRun(t, "import", w.recordsFor(t, "books.csv", func(i int, op domain.Operation, f []string) []string {
		if i == 3 {
			f[2] = "1,00" // one exception, to resolve
			mismatched = op.PaymentID
		}
		return f
	}))
	w.mustRun(t, "reconcile", "--no-recheck")
	w.mustRun(t, "resolve", mismatched, "--reason", "test")
	return w
}

// opsPages returns the database's page size, the page of the ops bucket's
// root (a branch: the bucket has several leaves) and its first leaf.
func opsPages(t *testing.T, path string) (pageSize int, branch, leaf int64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pageSize = db.Info().PageSize
	db.View(func(tx *bolt.Tx) error {
		branch = int64(tx.Bucket([]byte("v1")).Bucket([]byte("ops")).Root())
		return nil
	})
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A page starts with id (8), flags (2), count (2), overflow (4).
	var flags [2]byte
	if _, err := f.ReadAt(flags[:], branch*int64(pageSize)+8); err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint16(flags[:]) != 0x01 {
		t.Fatalf("the ops bucket's root page %d has flags %x, not a branch's: too few operations", branch, flags)
	}
	// A branch page: 16 bytes of header, then elements of pos (4),
	// ksize (4), pgid (8).
	var elem [8]byte
	if _, err := f.ReadAt(elem[:], branch*int64(pageSize)+16+8); err != nil {
		t.Fatal(err)
	}
	return pageSize, branch, int64(binary.LittleEndian.Uint64(elem[:]))
}

// A damage turns a good database file's bytes into a damaged one's.
type damage struct {
	name  string
	apply func(t *testing.T, path string, good []byte) []byte
	// says is what the error must say beyond "is damaged".
	says string
}

func damages() []damage {
	header := func(page func(branch, leaf int64) int64, off int, b ...byte) func(t *testing.T, path string, good []byte) []byte {
		return func(t *testing.T, path string, good []byte) []byte {
			ps, branch, leaf := opsPages(t, path)
			bad := bytes.Clone(good)
			at := page(branch, leaf)*int64(ps) + int64(off)
			for i, v := range b {
				bad[at+int64(i)] ^= v
			}
			return bad
		}
	}
	branchPage := func(branch, _ int64) int64 { return branch }
	leafPage := func(_, leaf int64) int64 { return leaf }
	return []damage{
		{"truncated to half", func(t *testing.T, _ string, good []byte) []byte { return good[:len(good)/2] }, "bytes long"},
		{"zero bytes", func(*testing.T, string, []byte) []byte { return nil }, "empty"},
		// flags at offset 8: branch (0x01) becomes 0x00
		{"branch page type", header(branchPage, 8, 0x01), "page"},
		// id at offset 0: the page says it is another one
		{"leaf page id", header(leafPage, 0, 0x40, 0x01), "page"},
		// count at offset 10: elements run off the page
		{"leaf page count", header(leafPage, 10, 0x00, 0xf0), "page"},
	}
}

// commandsOnDamage are every command that opens the database, as a child
// process: a crash inside bbolt must show as what it is.
func commandsOnDamage(w *world, out string) [][]string {
	return [][]string{
		{"sync"},
		{"import", filepath.Join(w.dir, "books.csv")},
		{"reconcile", "--no-recheck"},
		{"status"},
		{"export", "--what", "operations", "--format", "csv"},
		{"export", "--what", "reconciliation", "--format", "csv"},
		{"stats"},
		{"report", "--date", "2026-11-01"},
		{"resolve", "any-payment", "--reason", "test"},
		{"backup", out},
		{"check"},
		{"run"},
	}
}

// runChild runs the test binary as reconciled and returns its exit status
// and output; a child that does not end within a minute is killed.
func (w *world) runChild(t *testing.T, args ...string) (code int, out string, signaled bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"--config", w.config}, args...)...)
	cmd.Env = append(os.Environ(), "RECONCILED_TEST_CHILD=1")
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%v did not end within a minute:\n%s", args, b.String())
	}
	return cmd.ProcessState.ExitCode(), b.String(), cmd.ProcessState.ExitCode() < 0
}

// TestDamagedDatabaseEveryCommandSaysSo damages a database in the ways a
// disk, a copy or a crash does, and runs every command on it: each exits 1
// saying the file is damaged and how to restore it, none crashes, and
// none changes the file (a 0-byte file is not replaced by a new one).
func TestDamagedDatabaseEveryCommandSaysSo(t *testing.T) {
	w := damagedWorld(t)
	good, err := os.ReadFile(w.db)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range damages() {
		t.Run(strings.ReplaceAll(d.name, " ", "_"), func(t *testing.T) {
			if err := os.WriteFile(w.db, good, 0o600); err != nil {
				t.Fatal(err)
			}
			bad := d.apply(t, w.db, good)
			out := filepath.Join(t.TempDir(), "copy.db")
			for _, args := range commandsOnDamage(w, out) {
				if err := os.WriteFile(w.db, bad, 0o600); err != nil {
					t.Fatal(err)
				}
				code, output, signaled := w.runChild(t, args...)
				if signaled || code != 1 {
					t.Errorf("%s on a database %s: exit %d (signal: %v), want 1:\n%s", args[0], d.name, code, signaled, output)
					continue
				}
				for _, want := range []string{w.db + " is damaged", d.says, "reconciled backup", "reconciled check"} {
					if !strings.Contains(output, want) {
						t.Errorf("%s on a database %s: the output lacks %q:\n%s", args[0], d.name, want, output)
					}
				}
				for _, crash := range []string{"panic", "SIGSEGV", "SIGBUS", "goroutine "} {
					if strings.Contains(output, crash) {
						t.Errorf("%s on a database %s crashed (%s):\n%s", args[0], d.name, crash, output)
					}
				}
				if now, _ := os.ReadFile(w.db); !bytes.Equal(now, bad) {
					t.Errorf("%s on a database %s changed the file: %d bytes, was %d", args[0], d.name, len(now), len(bad))
				}
				if _, err := os.Stat(out); err == nil {
					t.Errorf("%s on a database %s wrote a backup of it", args[0], d.name)
					os.Remove(out)
				}
			}
		})
	}
	// The good file is as it was, and every command works on it again.
	if err := os.WriteFile(w.db, good, 0o600); err != nil {
		t.Fatal(err)
	}
	w.mustRun(t, "check")
}

// corruptValue replaces the stored value of key in bucket with what bad
// makes of it.
func corruptValue(t *testing.T, path, bucket string, key []byte, bad func(v []byte) []byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("v1")).Bucket([]byte(bucket))
		if key == nil {
			key, _ = b.Cursor().First()
		}
		v := b.Get(key)
		if v == nil {
			return fmt.Errorf("%s has no key %x", bucket, key)
		}
		return b.Put(key, bad(bytes.Clone(v)))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func storedValue(t *testing.T, path, bucket string, key []byte) []byte {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v []byte
	db.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket([]byte("v1")).Bucket([]byte(bucket)).Get(key))
		return nil
	})
	return v
}

// firstRecordKey is the key of the first merchant record, and the payment
// id it names (kind 'P' | len (2) | id | …).
func firstRecordKey(t *testing.T, path string) ([]byte, string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var k []byte
	db.View(func(tx *bolt.Tx) error {
		k, _ = tx.Bucket([]byte("v1")).Bucket([]byte("records")).Cursor().First()
		k = bytes.Clone(k)
		return nil
	})
	if len(k) < 3 || k[0] != 'P' {
		t.Fatalf("first record key %q", k)
	}
	n := int(binary.BigEndian.Uint16(k[1:3]))
	return k, string(k[3 : 3+n])
}

// TestCorruptRecordIsNamedBySyncImportExportAndCheck corrupts one
// operation's stored record and one merchant record: sync and import fail
// naming them instead of overwriting or skipping them, as do the
// register's export, a full reconcile and check; the bytes stay for
// someone to look at.
func TestCorruptRecordIsNamedBySyncImportExportAndCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		bad  func(v []byte) []byte
	}{
		{"garbage", func([]byte) []byte { return []byte{1, 0x7f, 3} }},
		// The operation's own bytes intact, what follows them cut short:
		// an unchanged operation must not pass for unchanged.
		{"tail cut", func(v []byte) []byte { return v[:len(v)-1] }},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			w := damagedWorld(t)
			books := filepath.Join(w.dir, "books.csv")
			op := w.fake.Operations(w.now)[5]
			opKey := binary.BigEndian.AppendUint64(nil, op.OperationID)
			corruptValue(t, w.db, "ops", opKey, c.bad)
			recKey, payment := firstRecordKey(t, w.db)
			corruptValue(t, w.db, "records", recKey, c.bad)
			badOp, badRec := storedValue(t, w.db, "ops", opKey), storedValue(t, w.db, "records", recKey)
			namesOp := "operation " + strconv.FormatUint(op.OperationID, 10)

			for _, run := range []struct {
				args  []string
				names []string // all of them
			}{
				{[]string{"sync", "--from", start.Format(time.DateOnly)}, []string{namesOp}},
				{[]string{"import", books}, []string{payment}},
				{[]string{"export", "--what", "operations", "--format", "csv"}, []string{namesOp}},
				// The stored reconciliation holds neither value: an
				// incremental reconcile and its export read neither, a
				// full one meets them.
				{[]string{"reconcile", "--full", "--no-recheck"}, nil}, // the first it meets
				{[]string{"check"}, []string{namesOp, payment}},
			} {
				code, out, errOut := w.run(t, run.args...)
				if code != 1 || !strings.Contains(errOut, "is damaged") || !strings.Contains(out+errOut, namesOp) && !strings.Contains(out+errOut, payment) {
					t.Errorf("%v: exit %d, want 1 naming what is damaged:\n%s\n%s", run.args, code, out, errOut)
				}
				for _, name := range run.names {
					if !strings.Contains(out+errOut, name) {
						t.Errorf("%v does not name %q:\n%s\n%s", run.args, name, out, errOut)
					}
				}
			}
			if v := storedValue(t, w.db, "ops", opKey); !bytes.Equal(v, badOp) {
				t.Errorf("the corrupt operation was overwritten: %x, was %x", v, badOp)
			}
			if v := storedValue(t, w.db, "records", recKey); !bytes.Equal(v, badRec) {
				t.Errorf("the corrupt record was overwritten: %x, was %x", v, badRec)
			}
		})
	}
}

// TestCheck: a sound database passes, saying what was checked; --quick
// reads the structure only; through the daemon the same check runs on the
// daemon's database.
func TestCheck(t *testing.T) {
	w := damagedWorld(t)
	out := w.mustRun(t, "check")
	for _, want := range []string{w.db, "bbolt's check", "schema 6", "600 operations: each record decodes", "merchant records: each decodes", "1 resolutions", "no problem found"} {
		if !strings.Contains(out, want) {
			t.Errorf("check lacks %q:\n%s", want, out)
		}
	}
	quick := w.mustRun(t, "check", "--quick")
	if !strings.Contains(quick, "bbolt") || strings.Contains(quick, "600 operations") {
		t.Errorf("check --quick:\n%s", quick)
	}
	if code, _, errOut := w.run(t, "check", "extra"); code != 2 {
		t.Errorf("check extra: exit %d %s", code, errOut)
	}

	w.setNow(time.Now())
	sd := newNotifySocket(t)
	cmd, dout := w.daemonChild(t, sd)
	waitFor(t, "READY=1", dout, func() bool { return sd.count("READY=1") == 1 })
	if got := w.mustRun(t, "check"); got != out {
		t.Errorf("check through the daemon:\n%s\ndirect:\n%s", got, out)
	}
	stopDaemon(t, cmd, dout)
}

// TestDaemonExitsWhenItsDatabaseTurnsDamaged damages a page under a
// running daemon: the command that meets it fails saying so, and the
// daemon, whose database is no longer safe to use, exits 1 instead of
// serving on.
func TestDaemonExitsWhenItsDatabaseTurnsDamaged(t *testing.T) {
	w := damagedWorld(t)
	w.setNow(time.Now())
	ps, branch, _ := opsPages(t, w.db)
	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
	f, err := os.OpenFile(w.db, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0}, branch*int64(ps)+8); err != nil { // the branch's type
		t.Fatal(err)
	}
	f.Close()
	code, _, errOut := w.run(t, "export", "--what", "operations", "--format", "csv")
	if code != 1 || !strings.Contains(errOut, w.db+" is damaged") || !strings.Contains(errOut, "reconciled backup") {
		t.Errorf("export through the daemon on a damaged page: exit %d\n%s", code, errOut)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("the daemon ended with %v, want exit status 1:\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the daemon went on with a damaged database:\n%s", out.String())
	}
	if s := out.String(); !strings.Contains(s, "is damaged") || strings.Contains(s, "panic") {
		t.Errorf("the daemon's log:\n%s", s)
	}
}

// TestUnitStopsRestartingAfterAFewFailures: a daemon that cannot start
// (a damaged database exits 1 at once) is restarted every RestartSec; the
// unit's start limit must end that within its interval instead of
// restarting it forever.
func TestUnitStopsRestartingAfterAFewFailures(t *testing.T) {
	data, err := os.ReadFile("../../deploy/reconciled.service")
	if err != nil {
		t.Fatal(err)
	}
	get := func(key string) string {
		m := regexp.MustCompile(`(?m)^` + key + `=(.*)$`).FindStringSubmatch(string(data))
		if m == nil {
			t.Fatalf("the unit has no %s=", key)
		}
		return strings.TrimSpace(m[1])
	}
	seconds := func(key string) time.Duration {
		d, err := time.ParseDuration(strings.ReplaceAll(get(key), "min", "m"))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return d
	}
	if got := get("Restart"); got != "on-failure" {
		t.Errorf("Restart=%s: a daemon that stops on a transient error stays stopped", got)
	}
	burst, err := strconv.Atoi(get("StartLimitBurst"))
	if err != nil || burst < 2 {
		t.Fatalf("StartLimitBurst=%s", get("StartLimitBurst"))
	}
	// burst starts, RestartSec apart, must fall within the interval for
	// the limit to be hit.
	if span, interval := time.Duration(burst-1)*seconds("RestartSec"), seconds("StartLimitIntervalSec"); span >= interval {
		t.Errorf("%d starts take %s, longer than StartLimitIntervalSec=%s: the unit would restart forever", burst, span, interval)
	}
	if !regexp.MustCompile(`(?s)\[Unit\].*StartLimitIntervalSec=.*\[Service\]`).Match(data) {
		t.Errorf("StartLimitIntervalSec= and StartLimitBurst= belong in [Unit]")
	}
}
