package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/control"
	"reconciled/internal/ledger"
)

// lockedBuffer collects the daemon's log while the test reads it.
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

// waitLog polls the log for up to 20 s for want.
func waitLog(t *testing.T, log *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20 s for %q; the daemon said:\n%s", want, log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// daemonFolder is a folder for a daemon's config (path) and database
// (db), with a short name: unix sockets stop at 108 bytes.
func daemonFolder(t *testing.T) (dir, path, db string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "d")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir, filepath.Join(dir, "reconciled.toml"), filepath.Join(dir, "reconciled.db")
}

// openConfig writes the config (writeConfig's, with extra), loads it and
// opens its database, closed when the test ends.
func openConfig(t *testing.T, path, db, extra string) (*config.Config, *ledger.Ledger) {
	t.Helper()
	writeConfig(t, path, db, extra)
	cfg, err := config.LoadAll(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return cfg, l
}

// startDaemon runs a daemon on the config at path (cfg, l: openConfig's)
// until the returned stop, which says how Run ended; it returns once the
// daemon said it is running, with its log.
func startDaemon(t *testing.T, path string, cfg *config.Config, l *ledger.Ledger) (*lockedBuffer, func() error) {
	t.Helper()
	log := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(log, nil))
	d := New(Options{ConfigPath: path, Config: cfg, Ledger: l, Getenv: func(string) string { return "" }, Log: func() *slog.Logger { return logger }})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitLog(t, log, "reconciled is running")
	return log, func() error { cancel(); return <-done }
}

func writeConfig(t *testing.T, path, db, extra string) {
	t.Helper()
	text := fmt.Sprintf("[storage]\npath = %q\n[data_api]\nbase_url = \"http://127.0.0.1:9\"\ntoken = \"WKiarERJ5pcceNerpM9R5TNnyPTQMl\"\nsecret = \"s\"\nprojects = [580]\n%s", db, extra)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestServedCommandsRunOnTheAppOfTheConfigInForce: a command of the control
// socket is handed an App on the daemon's config, database and outbox,
// whose logger writes to the client; after a reload, on the new config.
func TestServedCommandsRunOnTheAppOfTheConfigInForce(t *testing.T) {
	_, path, db := daemonFolder(t)
	cfg, l := openConfig(t, path, db, "")
	log := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(log, nil))

	var mu sync.Mutex
	var served []*app.App
	d := New(Options{ConfigPath: path, Config: cfg, Ledger: l, Getenv: func(string) string { return "" },
		Log: func() *slog.Logger { return logger },
		Serve: func(ctx context.Context, a *app.App, c *control.Command) int {
			mu.Lock()
			served = append(served, a)
			mu.Unlock()
			a.Logger.Info("served", "args", strings.Join(c.Args, " "))
			return 3
		}})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitLog(t, log, "reconciled is running")

	run := func() (int, string) {
		t.Helper()
		conn, err := control.Dial(cfg.SocketPath())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var out, errOut bytes.Buffer
		code, err := control.Run(t.Context(), conn, control.Request{Args: []string{"status"}}, nil, &out, &errOut, nil)
		if err != nil {
			t.Fatal(err)
		}
		return code, errOut.String()
	}
	for range 2 {
		if code, errOut := run(); code != 3 || !strings.Contains(errOut, `msg=served args=status`) {
			t.Fatalf("the served command: exit %d, its stderr %q", code, errOut)
		}
	}
	// The front door protected no file here (Options.Protect is empty): the
	// daemon still knows its database, the one its ledger opened, and
	// refuses a command whose config names another.
	conn, err := control.Dial(cfg.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	other := control.FileID{Dev: 1, Ino: 2}
	_, err = control.Run(t.Context(), conn, control.Request{Args: []string{"status"}, DatabaseFile: &control.DatabaseFile{ID: &other}}, nil, &out, &errOut, nil)
	conn.Close()
	if od := (*control.OtherDatabaseError)(nil); !errors.As(err, &od) {
		t.Fatalf("a command of another database's config: %v (stderr %q)", err, errOut.String())
	}
	mu.Lock()
	first := served[0]
	if first.Config != cfg || first.Ledger != l || first.Outbox == nil || first.Outbox != served[1].Outbox || served[1].Config != cfg {
		t.Errorf("the served Apps are not on the daemon's config, database and one outbox")
	}
	if first == served[1] {
		t.Errorf("two commands were handed the same App: each needs its own logger")
	}
	mu.Unlock()

	writeConfig(t, path, db, "[limits]\nmax_commands = 3\n")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLog(t, log, "config reloaded")
	run()
	mu.Lock()
	if after := served[2]; after.Config == cfg || after.Config.Limits.MaxCommands != 3 || after.Outbox != first.Outbox {
		t.Errorf("after the reload the command ran on the old config, or another outbox")
	}
	mu.Unlock()

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestJobsAreKeyedByTheirScheduleRunKey: the runner knows a job by the
// run key of its schedule, the one status shows and the catch-up reads.
func TestJobsAreKeyedByTheirScheduleRunKey(t *testing.T) {
	cfg := config.Default()
	cfg.Storage.Path = filepath.Join(t.TempDir(), "reconciled.db")
	cfg.Schedules = []config.Schedule{
		{Job: "report", Cron: "0 7 * * *", To: []string{"b@example.test", "a@example.test"}},
		{Job: "export", Cron: "@every 1h", What: "operations", Format: "csv"},
	}
	l, err := ledger.Open(cfg.Storage.Path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d := New(Options{Config: cfg, Ledger: l})
	jobs := d.jobs(d.app)
	if len(jobs) != 2 {
		t.Fatalf("%d jobs of 2 schedules", len(jobs))
	}
	for i, j := range jobs {
		run, _ := app.ScheduleKeys(cfg.Schedules[i])
		if j.Key != run || j.Name != cfg.Schedules[i].Job || j.Spec != cfg.Schedules[i].Cron {
			t.Errorf("job %d: key %q name %q spec %q; want %q %q %q", i, j.Key, j.Name, j.Spec, run, cfg.Schedules[i].Job, cfg.Schedules[i].Cron)
		}
	}
}
