package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
)

// freeLoopbackAddr is a loopback address with a port free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// notifySocket is a stand-in for systemd's notification socket.
type notifySocket struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	// A short path: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "sd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	n := &notifySocket{path: filepath.Join(dir, "notify")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	return n
}

func (n *notifySocket) count(state string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, m := range n.msgs {
		for _, line := range strings.Split(m, "\n") {
			if line == state {
				c++
			}
		}
	}
	return c
}

// daemonChild starts `reconciled run` as its own process under a fake
// systemd (NOTIFY_SOCKET, WATCHDOG_USEC), with env added to its
// environment (RECONCILED_TEST_NOW: a fixed clock).
func (w *world) daemonChild(t *testing.T, sd *notifySocket, env ...string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "--config", w.config, "run")
	cmd.Env = append(os.Environ(), "RECONCILED_TEST_CHILD=1", "NOTIFY_SOCKET="+sd.path, "WATCHDOG_USEC=300000")
	cmd.Env = append(cmd.Env, env...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, out
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, out *lockedBuffer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20 s for %s; the daemon said:\n%s", what, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stopDaemon sends SIGTERM and expects exit 0 within 10 s.
func stopDaemon(t *testing.T, cmd *exec.Cmd, out *lockedBuffer) {
	t.Helper()
	begin := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the daemon exited with %v after SIGTERM:\n%s", err, out.String())
		}
		if took := time.Since(begin); took > 10*time.Second {
			t.Errorf("stopping took %s", took)
		}
	case <-time.After(12 * time.Second):
		t.Fatalf("the daemon did not stop within 12 s of SIGTERM:\n%s", out.String())
	}
}

func TestDaemonReloadsOnSIGHUPAndStopsOnSIGTERM(t *testing.T) {
	const syncEverySecond = "[[schedule]]\njob = \"sync\"\ncron = \"@every 1s\"\n"
	metricsAddr := freeLoopbackAddr(t)
	w := newWorld(t, 500, time.Minute, "[daemon]\nmetrics = \""+metricsAddr+"\"\n"+syncEverySecond)
	w.setNow(time.Now()) // the child's clock is real
	original, _ := os.ReadFile(w.config)
	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)

	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
	waitFor(t, "a scheduled sync", out, func() bool { return strings.Contains(out.String(), `msg="job done" job=sync`) })
	waitFor(t, "watchdog pings", out, func() bool { return sd.count("WATCHDOG=1") >= 3 })
	// A run is counted before its "job done" line is written: one scrape
	// after the line must see it.
	body := httpGet(t, "http://"+metricsAddr+"/metrics")
	if !strings.Contains(body, `reconciled_job_runs_total{job="sync",result="ok"}`) ||
		!strings.Contains(body, `reconciled_operations{project="580"}`) || !strings.Contains(body, `reconciled_outbox_messages{state="pending"} 0`) {
		t.Errorf("/metrics after \"job done\":\n%s", body)
	}
	if body := httpGet(t, "http://"+metricsAddr+"/healthz"); body != "ok\n" {
		t.Errorf("/healthz: %q", body)
	}

	// A bad config is refused, and the old one goes on.
	bad := strings.Replace(string(original), "@every 1s", "61 * * * *", 1)
	if err := os.WriteFile(w.config, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the refusal", out, func() bool { return strings.Contains(out.String(), "reload refused") })
	syncs := strings.Count(out.String(), `msg="job done" job=sync`)
	waitFor(t, "syncs after the refusal", out, func() bool { return strings.Count(out.String(), `msg="job done" job=sync`) >= syncs+2 })
	if sd.count("READY=1") != 2 || sd.count("RELOADING=1") != 1 {
		t.Errorf("notifications around the reload: %d READY, %d RELOADING", sd.count("READY=1"), sd.count("RELOADING=1"))
	}

	// A good config is taken: a reconcile job appears.
	good := string(original) + "[[schedule]]\njob = \"reconcile\"\ncron = \"@every 1s\"\n"
	if err := os.WriteFile(w.config, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", out, func() bool { return strings.Contains(out.String(), "config reloaded") })
	waitFor(t, "a scheduled reconcile", out, func() bool { return strings.Contains(out.String(), `msg="job done" job=reconcile`) })

	stopDaemon(t, cmd, out)
	// The datagram was queued before the exit; the reader may not have
	// taken it yet (on a loaded machine the count was 0).
	waitFor(t, "STOPPING=1", out, func() bool { return sd.count("STOPPING=1") >= 1 })
	if sd.count("STOPPING=1") != 1 {
		t.Errorf("%d STOPPING notifications", sd.count("STOPPING=1"))
	}
	if strings.Contains(out.String(), "panic") {
		t.Errorf("the daemon panicked:\n%s", out.String())
	}
	w.mirror(t)
}

// TestDaemonSIGTERMInTheMiddleOfASync stops the daemon while a long sync is
// storing pages: it exits 0 within 10 s, the database checks out, the stop
// is logged as a stop (not an error) and is no sync error in status, and
// the next sync completes it.
func TestDaemonSIGTERMInTheMiddleOfASync(t *testing.T) {
	w := newWorld(t, 30000, 10*time.Second, "page_size = 200\n[[schedule]]\njob = \"sync\"\ncron = \"@every 1s\"\n")
	w.setNow(time.Now())
	w.fake.SetFaults(fakeapi.Faults{Delay: 20 * time.Millisecond})
	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)
	waitServed(t, w.fake, 0, 2000)
	stopDaemon(t, cmd, out)
	if w.fake.Served() >= 30000 {
		t.Fatalf("the sync had finished (%d served): nothing was interrupted", w.fake.Served())
	}
	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Check(); err != nil {
		t.Fatalf("after SIGTERM: %v", err)
	}
	l.Close()
	log := out.String()
	if strings.Contains(log, "level=ERROR") || !strings.Contains(log, `level=INFO msg="job stopped" job=sync`) ||
		!strings.Contains(log, `level=INFO msg="sync stopped"`) {
		t.Errorf("the stop is not logged as one:\n%s", log)
	}
	if status := w.mustRun(t, "status"); strings.Contains(status, "last sync errors") || strings.Contains(status, "canceled") {
		t.Errorf("status after the stop shows it as a sync error:\n%s", status)
	}
	w.fake.SetFaults(fakeapi.Faults{})
	if code, _, errOut := w.run(t, "sync"); code != 0 {
		t.Fatalf("sync after the stop: %d %s", code, errOut)
	}
	w.mirror(t)
}
