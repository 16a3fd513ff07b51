package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/control"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
	"reconciled/internal/outbox"
	"reconciled/internal/schedule"
	"reconciled/internal/scratch"
)

// The daemon. `run` holds the database and runs the [[schedule]] jobs. A
// job calls the use case of internal/app its command calls, on the
// daemon's config and its open database (d.app): a scheduled sync is the
// App.Sync of `reconciled sync`, what the command prints going to the log.
//
// Signals: SIGHUP reloads the config (a bad one is logged and the old one
// keeps running); SIGTERM or SIGINT stop scheduling, cancel the running
// jobs' context (a sync stops between pages: the page being stored is one
// bbolt transaction and finishes) and wait for them up to stopTimeout,
// then exit 0. Under systemd (NOTIFY_SOCKET) the daemon says READY=1 when
// it is scheduling, RELOADING=1 during a reload, STOPPING=1 at shutdown, and
// WATCHDOG=1 at half of WatchdogSec from its main loop.

// stopTimeout bounds the wait for running jobs at shutdown, within the
// 10 s that systemd and the issue give.
const stopTimeout = 8 * time.Second

type daemon struct {
	m          *Main
	configPath string
	l          *ledger.Ledger
	runner     *schedule.Runner

	mu  sync.Mutex
	cfg *config.Config

	outbox     *outbox.Outbox // one for the process: the loop, the jobs and the socket's commands
	delivering sync.WaitGroup // the outbox's loop
	srv        *control.Server
}

// newDaemon is the daemon of m on the config at path (cfg, as loaded) and
// its open database l.
func newDaemon(m *Main, path string, l *ledger.Ledger, cfg *config.Config) *daemon {
	d := &daemon{m: m, configPath: path, l: l, cfg: cfg}
	d.outbox = outbox.New(l, outbox.Options{Mail: func() config.Mail { return d.config().Mail }, Now: m.Now, Log: m.log})
	return d
}

func (m *Main) runDaemon(ctx context.Context, args []string) error {
	fs := m.newFlagSet("run", "", `  reconciled run                               # in the foreground; logs to standard error
  systemctl start reconciled                   # as a service: see deploy/reconciled.service
`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	path, err := m.findConfig()
	if err != nil {
		return err
	}
	cfg, err := m.loadConfigAll() // its jobs and the commands it runs use every credential
	if err != nil {
		return err
	}
	l, err := m.openLedger(cfg, false)
	if err != nil {
		return err
	}
	defer l.Close()
	return newDaemon(m, path, l, cfg).run(ctx)
}

func (d *daemon) run(parent context.Context) error {
	// Jobs, the outbox and metrics end with parent (SIGTERM) or when the
	// database turns out damaged (d.l.Damaged); the control socket's
	// commands end with parent only: on damage, those under way finish
	// (they fail at once) and tell their client why.
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	log := d.m.log()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	loc := d.config().Zone()
	d.runner = schedule.NewRunner(ctx, loc, log, d.l)
	mt := newMetrics()
	d.runner.Done = func(j schedule.Job, took time.Duration, err error) {
		mt.jobDone(j, took, err)
		d.idle()
	}
	if addr := d.config().Daemon.Metrics; addr != "" {
		stop, err := serveMetrics(ctx, addr, mt, d.l, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	// The socket first: Listen sets the process's umask for a moment, which
	// a job making a folder at that moment would inherit.
	ln, err := control.Listen(d.config().SocketPath())
	if err != nil {
		return err
	}
	if err := d.runner.Start(d.jobs(d.config())); err != nil {
		ln.Close()
		return err
	}
	d.srv = &control.Server{Handler: d.serveControl, Log: log, Database: d.database()}
	d.srv.SetLimits(socketLimits(d.config()))
	served := make(chan struct{})
	go func() { d.srv.Serve(parent, ln); close(served) }()

	d.sweep()
	d.delivering.Add(1)
	go func() { defer d.delivering.Done(); d.outbox.Run(ctx) }()
	defer d.delivering.Wait()
	caught := d.runner.CatchUp()
	log.Info("reconciled is running", "database", d.l.Path(), "socket", d.config().SocketPath(), "schedules", len(d.config().Schedules), "caught_up", len(caught), "pid", os.Getpid())
	notify(log, sd.SdNotifyReady, "STATUS=scheduling "+fmt.Sprint(len(d.config().Schedules))+" jobs")

	var watchdog <-chan time.Time
	if interval, err := sd.SdWatchdogEnabled(false); err == nil && interval > 0 {
		t := time.NewTicker(interval / 2)
		defer t.Stop()
		watchdog = t.C
		notify(log, sd.SdNotifyWatchdog)
	}
	d.idle()
	for {
		select {
		case <-hup:
			notify(log, sd.SdNotifyReloading, fmt.Sprintf("MONOTONIC_USEC=%d", monotonicUsec()))
			d.reload()
			notify(log, sd.SdNotifyReady)
		case <-watchdog:
			notify(log, sd.SdNotifyWatchdog)
		case <-parent.Done():
			notify(log, sd.SdNotifyStopping)
			log.Info("stopping: letting running jobs finish", "within", stopTimeout)
			if err := d.stop(served); err != nil {
				return err
			}
			log.Info("stopped")
			return nil
		case <-d.l.Damaged():
			// Exit 1 with the damage (main prints how to restore); the
			// unit's start limit keeps systemd from restarting it forever.
			notify(log, sd.SdNotifyStopping)
			log.Error("stopping: the database is damaged", "database", d.l.Path(), "err", d.l.Err())
			ln.Close() // no new commands
			cancel()
			d.stop(served)
			return d.l.Err()
		}
	}
}

// database is the daemon's database file (the one it opened), which it
// tells clients that write an output file (see output.go); nil if unknown.
func (d *daemon) database() *control.FileID {
	for _, p := range d.m.protect { // openLedger's (the config is protected too)
		if p.What == databaseWhat {
			id := control.FileID(p.ID)
			return &id
		}
	}
	return nil
}

// sweep removes what writers killed earlier left: temporary files beside
// the schedules' files and processes' scratch folders (both only of
// processes that no longer run).
func (d *daemon) sweep() {
	cfg := d.config()
	scratch.SweepStale()
	var removed []string
	for _, s := range cfg.Schedules {
		switch s.Job {
		case "export", "report":
			removed = append(removed, export.SweepTemps(app.JobDir(cfg, s))...)
		}
	}
	if len(removed) > 0 {
		d.m.log().Info("removed the temporary files of killed writers", "files", removed)
	}
}

// stop waits up to stopTimeout for the running jobs (their ctx is done)
// and the control socket's commands.
func (d *daemon) stop(served <-chan struct{}) error {
	log := d.m.log()
	stopCtx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := d.runner.Stop(stopCtx); err != nil {
		log.Error("stopped with jobs still running", "err", err)
		return err
	}
	select {
	case <-served:
	case <-stopCtx.Done():
		log.Error("stopped with commands of the control socket still running")
		return stopCtx.Err()
	}
	return nil
}

func (d *daemon) config() *config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// reload reads the config again; a config that does not load, or that
// changes what cannot change while running, is refused and the old one
// stays.
func (d *daemon) reload() {
	log := d.m.log()
	cfg, err := config.LoadAll(d.configPath, d.m.Getenv)
	if err != nil {
		log.Error("reload refused: the new config is not valid; still running the old one", "config", d.configPath, "err", err)
		return
	}
	old := d.config()
	if cfg.SocketPath() != old.SocketPath() {
		log.Error("reload refused: daemon.socket changed; restart to move the socket", "old", old.SocketPath(), "new", cfg.SocketPath())
		return
	}
	if cfg.Storage.Path != old.Storage.Path {
		log.Error("reload refused: storage.path changed; restart to move the database", "old", old.Storage.Path, "new", cfg.Storage.Path)
		return
	}
	if err := d.runner.Start(d.jobs(cfg)); err != nil {
		log.Error("reload refused; still running the old config", "err", err)
		return
	}
	d.mu.Lock()
	d.cfg = cfg
	d.mu.Unlock()
	d.srv.SetLimits(socketLimits(cfg))
	d.m.setLogger(cfg.Log)
	log.Info("config reloaded", "config", d.configPath, "schedules", len(cfg.Schedules))
}

// socketLimits are the control socket's limits of cfg ([limits]).
func socketLimits(cfg *config.Config) control.Limits {
	return control.Limits{MaxInput: cfg.Limits.MaxImportBytes, MaxRunning: cfg.Limits.MaxCommands, MaxWaiting: cfg.Limits.MaxQueued}
}

// jobs are cfg's schedules as runner jobs.
func (d *daemon) jobs(cfg *config.Config) []schedule.Job {
	var jobs []schedule.Job
	for _, s := range cfg.Schedules {
		runKey, _ := app.ScheduleKeys(s)
		jobs = append(jobs, schedule.Job{Key: runKey, Name: s.Job, Spec: s.Cron, Run: func(ctx context.Context) error { return d.job(ctx, cfg, s) }})
	}
	return jobs
}

// job runs one scheduled job: its command's use case.
func (d *daemon) job(ctx context.Context, cfg *config.Config, s config.Schedule) error {
	switch s.Job {
	case "sync":
		a := d.app(cfg, "sync")
		res, err := a.Sync(ctx, app.SyncRequest{})
		logLines(a.Logger, func(w io.Writer) { fmt.Fprintln(w, app.SyncLine(res)) })
		return err
	case "reconcile":
		a := d.app(cfg, "reconcile")
		res, err := a.RunReconcile(ctx, app.RunRequest{Recheck: true, User: currentUser(d.m.Getenv)})
		if err != nil {
			return err
		}
		logLines(a.Logger, func(w io.Writer) { app.WriteRun(w, res) })
		return nil
	case "export":
		return d.app(cfg, "export").ExportJob(ctx, s)
	case "report":
		return d.app(cfg, "report").ReportJob(ctx, s)
	}
	return fmt.Errorf("unknown job %q", s.Job)
}

// app is the App of a job called name: the config it runs on, the
// daemon's database and outbox, its log lines marked with the job.
func (d *daemon) app(cfg *config.Config, name string) *app.App {
	return app.New(app.App{Config: cfg, Ledger: d.l, Now: d.m.Now, Logger: d.m.log().With("job", name), Outbox: d.outbox, Protect: d.m.protect})
}

// idle gives memory back between jobs: the database's mapped pages and the
// heap the job freed.
func (d *daemon) idle() {
	d.l.ReleaseMemory()
	debug.FreeOSMemory()
}

// logLines logs what print writes, a record a line, as the command's
// output when a job runs it.
func logLines(log *slog.Logger, print func(io.Writer)) {
	w := &logWriter{log: log}
	print(w)
	w.Flush()
}

// logWriter turns a command's output lines into log records.
type logWriter struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			break
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *logWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func (w *logWriter) emit(line string) {
	if line = strings.TrimRight(line, "\r "); line != "" {
		w.log.Info(line)
	}
}

// notify tells systemd (when it started us with NOTIFY_SOCKET) a state.
func notify(log *slog.Logger, states ...string) {
	if _, err := sd.SdNotify(false, strings.Join(states, "\n")); err != nil {
		log.Warn("systemd notify failed", "err", err)
	}
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, which systemd wants
// with RELOADING=1.
func monotonicUsec() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Sec*1_000_000 + ts.Nsec/1000
}
