package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// limitFiles makes, in a new folder, a CSV of size bytes, a named pipe
// and a link to /dev/zero, each with a .csv name.
func limitFiles(t *testing.T, size int) (big, fifo, zero string) {
	t.Helper()
	dir := t.TempDir()
	line := "order-1,purchase,10.00,UAH,paid,2026-11-20 10:00:00\n"
	text := "payment_id,type,amount,currency,status,created_at\n"
	for len(text) < size {
		text += line
	}
	big = filepath.Join(dir, "big.csv")
	fifo = filepath.Join(dir, "pipe.csv")
	zero = filepath.Join(dir, "zero.csv")
	if err := os.WriteFile(big, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	return big, fifo, zero
}

// checkRefusedImports runs import of each file and expects exit 1 with
// what stderr must say, and nothing stored.
func checkRefusedImports(t *testing.T, w *world, want map[string]string) {
	t.Helper()
	for file, msg := range want {
		code, _, errOut := w.run(t, "import", file)
		if code != exitFailed || !strings.Contains(errOut, msg) {
			t.Errorf("import %s: exit %d, want 1 and %q:\n%s", file, code, msg, errOut)
		}
	}
	if status := w.mustRun(t, "status"); !strings.Contains(status, "merchant records  0") {
		t.Errorf("a refused import stored records:\n%s", status)
	}
}

// TestImportIsBoundedByTheConfig: import refuses a file over
// limits.max_import_bytes, a named pipe and /dev/zero at once, by hand and
// through the daemon; the daemon holds to its own limit whatever the
// client's config says.
func TestImportIsBoundedByTheConfig(t *testing.T) {
	w := newWorld(t, 100, time.Minute, "[limits]\nmax_import_bytes = 2000\n")
	w.setNow(time.Now())
	w.mustRun(t, "sync")
	big, fifo, zero := limitFiles(t, 5000)
	want := map[string]string{
		big:  big + " is 5", // 5000-odd bytes
		fifo: fifo + " is not a regular file (a named pipe)",
		zero: zero + " is not a regular file (a device)",
	}
	checkRefusedImports(t, w, want)
	if _, _, errOut := w.run(t, "import", big); !strings.Contains(errOut, "over limits.max_import_bytes (2000 bytes): nothing imported; raise it") {
		t.Errorf("the refusal does not name the key:\n%s", errOut)
	}

	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
	checkRefusedImports(t, w, want)

	// A client whose config allows more: the daemon refuses the file
	// itself, and the client hears why.
	data, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	generous := filepath.Join(t.TempDir(), "client.toml")
	if err := os.WriteFile(generous, bytes.Replace(data, []byte("max_import_bytes = 2000"), []byte("max_import_bytes = 1000000"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	client := &world{dir: w.dir, config: generous, db: w.db, fake: w.fake, now: w.now}
	code, _, errOut := client.run(t, "import", big)
	if code != exitFailed || !strings.Contains(errOut, "big.csv is over the daemon's limits.max_import_bytes (2000 bytes): nothing imported") {
		t.Errorf("import over the daemon's limit: exit %d\n%s", code, errOut)
	}
	small, _, _ := limitFiles(t, 1000)
	if got := w.mustRun(t, "import", small); !strings.Contains(got, "new") {
		t.Errorf("a file within the limit: %s", got)
	}
	stopDaemon(t, cmd, out)
}

// signalWriter collects what is written; wrote is closed at the first
// write.
type signalWriter struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{}
}

func newSignalWriter() *signalWriter { return &signalWriter{wrote: make(chan struct{})} }

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() == 0 {
		close(w.wrote)
	}
	return w.b.Write(p)
}
func (w *signalWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.b.String() }

// stalledExport asks the daemon's socket for the operations as CSV on
// standard output and reads only the first frame: the command runs (it
// holds its turn) and then blocks, the socket's buffers full, until the
// connection is closed.
func stalledExport(t *testing.T, sock string) net.Conn {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := json.Marshal(map[string]any{"args": []string{"export", "--what", "operations", "--format", "csv"}})
	var h [5]byte
	h[0] = 'R'
	binary.BigEndian.PutUint32(h[1:], uint32(len(req)))
	if _, err := conn.Write(append(h[:], req...)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(bufio.NewReader(conn), h[:]); err != nil || h[0] != 'O' {
		t.Fatalf("the export did not start: %v %q", err, h[0])
	}
	return conn
}

// TestSocketCommandsWaitInLine: with limits.max_commands running, the next
// command waits and is told so, one more than limits.max_queued is refused
// at once, and a reload that raises max_commands lets the waiting one run.
func TestSocketCommandsWaitInLine(t *testing.T) {
	w := newWorld(t, 6000, time.Minute, "[limits]\nmax_commands = 1\nmax_queued = 1\n")
	w.setNow(time.Now())
	w.mustRun(t, "sync")
	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
	hold := stalledExport(t, filepath.Join(w.dir, "reconciled.sock"))
	defer hold.Close()

	waiting := newSignalWriter()
	var stdout bytes.Buffer
	done := make(chan int, 1)
	go func() {
		m := &Main{Stdout: &stdout, Stderr: waiting, Getenv: func(string) string { return "" }, Now: time.Now}
		done <- m.Run(context.Background(), []string{"--config", w.config, "status"})
	}()
	<-waiting.wrote
	if got := waiting.String(); !strings.Contains(got, "waiting for the daemon: 1 command running (limits.max_commands = 1), 0 ahead of this one") {
		t.Errorf("the waiting command was told %q", got)
	}
	code, _, errOut := w.run(t, "status")
	if code != exitFailed || !strings.Contains(errOut, "the daemon is busy: 1 command running and 1 waiting (limits.max_commands = 1, limits.max_queued = 1)") {
		t.Errorf("with the line full: exit %d\n%s", code, errOut)
	}

	data, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.config, bytes.Replace(data, []byte("max_commands = 1"), []byte("max_commands = 2"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	if code := <-done; code != exitOK || !strings.Contains(stdout.String(), "operations") {
		t.Errorf("the waiting status after the reload: exit %d\n%s\n%s", code, stdout.String(), waiting.String())
	}
	hold.Close()
	stopDaemon(t, cmd, out)
	if !strings.Contains(out.String(), "control socket: command refused: the daemon is busy") {
		t.Errorf("the daemon did not log the refusal:\n%s", out.String())
	}
}

// TestImportErrorsThroughTheDaemonNameTheUsersFile: every import error that
// comes back through the daemon names the file as the person gave it, never
// the daemon's private copy in its scratch folder.
func TestImportErrorsThroughTheDaemonNameTheUsersFile(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	w.setNow(time.Now())
	w.mustRun(t, "sync")
	sd := newNotifySocket(t)
	_, out := w.daemonChild(t, sd)
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
	dir := t.TempDir()
	broken := filepath.Join(dir, "books.xlsx")
	os.WriteFile(broken, []byte("PK\x03\x04 not a zip at all"), 0o600)
	code, _, errOut := w.run(t, "import", broken)
	if code != exitFailed || !strings.Contains(errOut, broken) || strings.Contains(errOut, "input-") {
		t.Errorf("import of a broken XLSX through the daemon: exit %d, want %d naming %s and not the daemon's copy:\n%s", code, exitFailed, broken, errOut)
	}
}
