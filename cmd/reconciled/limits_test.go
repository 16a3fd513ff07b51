package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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
