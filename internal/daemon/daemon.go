// Package daemon is `reconciled run`: it holds the database and runs the
// [[schedule]] jobs, the mail outbox's delivery loop, the alerts' loop
// (alerts.go), the control socket and the metrics server until it is
// stopped. A job calls the use case of internal/app its command calls: a
// scheduled sync is the App.Sync of `reconciled sync`, what the command
// prints going to the log (logLines).
// The commands that come through the control socket are the front door's
// to run (Options.Serve): the daemon hands each an App on its config,
// database and outbox whose logger writes to the client.
//
// One App per loaded config: New builds it (engine settings, zones: app.New)
// from Options.Config and each reload from the new one; every job and every
// command of the socket runs on a copy with its own logger (App.With). A
// job runs on the config it was scheduled with; a reload schedules the
// next runs on the new one. The daemon never opens the database a second
// time, and its one outbox (built here, on the [mail] of the config in
// force) is the one every App of the process queues in, so queueing wakes
// its loop.
//
// Signals: SIGHUP reloads the config (a bad one is logged and the old one
// keeps running); SIGTERM or SIGINT (the context Run is given) stop
// scheduling, cancel the running jobs' context (a sync stops between
// pages: the page being stored is one bbolt transaction and finishes) and
// wait for them up to stopTimeout, then Run returns nil. Under systemd
// (NOTIFY_SOCKET) the daemon says READY=1 when it is scheduling,
// RELOADING=1 during a reload, STOPPING=1 at shutdown, and WATCHDOG=1 at
// half of WatchdogSec from its main loop.
package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
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

// stopTimeout bounds the wait for running jobs at shutdown, within the
// 10 s that systemd and the issue give.
const stopTimeout = 8 * time.Second

// Options are what the daemon runs on, from the front door.
type Options struct {
	ConfigPath string
	Config     *config.Config // loaded with every credential (config.LoadAll)
	Ledger     *ledger.Ledger // open read-write; the daemon never opens a second handle
	Getenv     func(string) string
	Now        func() time.Time
	Log        func() *slog.Logger // the process's current logger (a reload may replace it)
	SetLog     func(config.Log)    // called on reload with the new [log]
	Protect    []export.Protected  // files no output may replace (database, config)
	// Serve runs one command that came through the control socket, on a, an App on the
	// daemon's current config, ledger and outbox whose Logger writes to c.Stderr.
	Serve func(ctx context.Context, a *app.App, c *control.Command) int
}

// Daemon is one run of the daemon.
type Daemon struct {
	o      Options
	l      *ledger.Ledger
	runner *schedule.Runner

	mu  sync.Mutex
	cfg *config.Config
	app *app.App // built once for cfg; jobs and commands get copies (With)

	outbox     *outbox.Outbox // one for the process: the loop, the jobs and the socket's commands
	delivering sync.WaitGroup // the outbox's loop and the alerts' (alerts.go)
	srv        *control.Server

	alertsReload   chan struct{} // a reload for the alerts' loop
	reconcileAsked chan struct{} // callbacks stored something: reconcile soon (callbacks.go)
	pendingMu      sync.Mutex
	pending        ledger.Changes // the units callbacks changed, not reconciled yet
}

// New is the daemon of o. A nil Now is time.Now, a nil Getenv os.Getenv,
// a nil Log slog.Default.
func New(o Options) *Daemon {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Log == nil {
		o.Log = slog.Default
	}
	if o.SetLog == nil {
		o.SetLog = func(config.Log) {}
	}
	d := &Daemon{o: o, l: o.Ledger, cfg: o.Config, alertsReload: make(chan struct{}, 1), reconcileAsked: make(chan struct{}, 1)}
	d.outbox = outbox.New(d.l, outbox.Options{Mail: func() config.Mail { return d.config().Mail }, Now: o.Now, Log: o.Log})
	d.app = d.newApp(o.Config)
	return d
}

// newApp is the App of cfg: its engine settings and zones built once, the
// daemon's database, outbox and protected files.
func (d *Daemon) newApp(cfg *config.Config) *app.App {
	return app.New(app.App{Config: cfg, Ledger: d.l, Now: d.o.Now, Logger: d.o.Log(), Outbox: d.outbox, Protect: d.o.Protect})
}

// Run runs the daemon until ctx is done (nil once the jobs stopped in
// time) or the database turns out damaged (its error).
func (d *Daemon) Run(parent context.Context) error {
	// Jobs, the outbox and metrics end with parent (SIGTERM) or when the
	// database turns out damaged (d.l.Damaged); the control socket's
	// commands end with parent only: on damage, those under way finish
	// (they fail at once) and tell their client why.
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	log := d.o.Log()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	cfg, a := d.current()
	d.runner = schedule.NewRunner(ctx, cfg.Zone(), log, d.l)
	mt := newMetrics(d.o.Now)
	d.runner.Done = func(j schedule.Job, took time.Duration, err error) {
		mt.jobDone(j, took, err)
		d.idle()
	}
	if addr := cfg.Daemon.Metrics; addr != "" {
		stop, err := serveMetrics(ctx, addr, mt, d.l, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	db, err := d.database()
	if err != nil {
		return err
	}
	// The socket first: Listen sets the process's umask for a moment, which
	// a job making a folder at that moment would inherit.
	ln, err := control.Listen(cfg.SocketPath())
	if err != nil {
		return err
	}
	if err := d.runner.Start(d.jobs(a)); err != nil {
		ln.Close()
		return err
	}
	d.srv = &control.Server{Handler: d.serve, Log: log, Database: db, DatabasePath: absolute(d.l.Path())}
	d.srv.SetLimits(socketLimits(cfg))
	served := make(chan struct{})
	go func() { d.srv.Serve(parent, ln); close(served) }()

	cbs, err := d.startCallbacks(ctx)
	if err != nil {
		ln.Close()
		d.runner.Stop(context.Background())
		return err
	}
	defer cbs.wait() // after cancel: the loop ends with ctx
	if cbs != nil {
		mt.countCallbacks(cbs.r.Counts)
	}
	ws, err := d.startWeb()
	if err != nil {
		ln.Close()
		cbs.stop()
		d.runner.Stop(context.Background())
		return err
	}
	defer ws.stop()
	d.sweep()
	d.delivering.Add(1)
	go func() { defer d.delivering.Done(); d.outbox.Run(ctx) }()
	d.delivering.Add(1)
	go func() { defer d.delivering.Done(); d.alerts(ctx) }()
	defer d.delivering.Wait()
	caught := d.runner.CatchUp()
	running := []any{"database", d.l.Path(), "socket", cfg.SocketPath(), "schedules", len(cfg.Schedules), "caught_up", len(caught), "pid", os.Getpid()}
	if cbs != nil {
		running = append(running, "callbacks", cbs.srv.Addr().String()+cfg.Callbacks.Path)
	}
	if ws != nil {
		running = append(running, "web", "http://"+ws.ln.Addr().String()+"/")
	}
	log.Info("reconciled is running", running...)
	notify(log, sd.SdNotifyReady, "STATUS=scheduling "+fmt.Sprint(len(cfg.Schedules))+" jobs")

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
			cbs.stop()
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
			cbs.stop()
			cancel()
			d.stop(served)
			return d.l.Err()
		}
	}
}

// serve runs a command that came through the control socket: the front
// door's Serve, on a copy of the current App that logs to the client.
func (d *Daemon) serve(ctx context.Context, c *control.Command) int {
	cfg, a := d.current()
	code := d.o.Serve(ctx, a.With(cfg.Log.Logger(c.Stderr, false)), c)
	d.idle()
	return code
}

// database is the daemon's database file (the one it opened), which it
// tells clients that write an output file, and against which the socket
// checks the database a client's config names (a command of another
// database's config runs nothing here): the front door's entry of it in
// Protect, else the file at the ledger's path now. Without one the
// daemon does not start: the socket's check would be off.
func (d *Daemon) database() (*control.FileID, error) {
	for _, p := range d.o.Protect {
		if p.What == export.DatabaseWhat {
			id := control.FileID(p.ID)
			return &id, nil
		}
	}
	p, ok, err := export.ProtectFile(d.l.Path(), export.DatabaseWhat)
	if err == nil && !ok {
		err = os.ErrNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("cannot tell which file the database %s is: %w", d.l.Path(), err)
	}
	id := control.FileID(p.ID)
	return &id, nil
}

// absolute is path from the root, for a client in another folder (path
// itself if the working folder cannot be told).
func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// sweep removes what writers killed earlier left: temporary files beside
// the schedules' files and processes' scratch folders (both only of
// processes that no longer run).
func (d *Daemon) sweep() {
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
		d.o.Log().Info("removed the temporary files of killed writers", "files", removed)
	}
}

// stop waits up to stopTimeout for the running jobs (their ctx is done)
// and the control socket's commands.
func (d *Daemon) stop(served <-chan struct{}) error {
	log := d.o.Log()
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

// config is the config in force.
func (d *Daemon) config() *config.Config {
	cfg, _ := d.current()
	return cfg
}

// current is the config in force and its App.
func (d *Daemon) current() (*config.Config, *app.App) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg, d.app
}

// reload reads the config again; a config that does not load, or that
// changes what cannot change while running, is refused and the old one
// stays.
func (d *Daemon) reload() {
	log := d.o.Log()
	cfg, err := config.LoadAll(d.o.ConfigPath, d.o.Getenv)
	if err != nil {
		log.Error("reload refused: the new config is not valid; still running the old one", "config", d.o.ConfigPath, "err", err)
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
	if w, o := cfg.Web, old.Web; w.Listen != o.Listen || w.TokenFile != o.TokenFile || w.BasicAuthFile != o.BasicAuthFile {
		log.Error("reload refused: [web] listen, token_file or basic_auth_file changed; restart to serve the web view so (dashboard_url reloads)")
		return
	}
	if !cfg.Callbacks.SameListener(&old.Callbacks) {
		log.Error("reload refused: [callbacks] listen, path, limits or TLS on/off changed; restart to serve callbacks so (secrets, projects and a renewed certificate reload)")
		return
	}
	a := d.newApp(cfg)
	if err := d.runner.Start(d.jobs(a)); err != nil {
		log.Error("reload refused; still running the old config", "err", err)
		return
	}
	d.mu.Lock()
	d.cfg, d.app = cfg, a
	d.mu.Unlock()
	d.srv.SetLimits(socketLimits(cfg))
	d.o.SetLog(cfg.Log)
	d.reloadAlerts()
	log.Info("config reloaded", "config", d.o.ConfigPath, "schedules", len(cfg.Schedules))
}

// socketLimits are the control socket's limits of cfg ([limits]).
func socketLimits(cfg *config.Config) control.Limits {
	return control.Limits{MaxInput: cfg.Limits.MaxImportBytes, MaxRunning: cfg.Limits.MaxCommands, MaxWaiting: cfg.Limits.MaxQueued}
}

// jobs are the schedules of a's config as runner jobs, each run on a.
func (d *Daemon) jobs(a *app.App) []schedule.Job {
	var jobs []schedule.Job
	for _, s := range a.Config.Schedules {
		runKey, _ := app.ScheduleKeys(s)
		jobs = append(jobs, schedule.Job{Key: runKey, Name: s.Job, Spec: s.Cron, Run: func(ctx context.Context) error { return d.job(ctx, a, s) }})
	}
	return jobs
}

// job runs one scheduled job: its command's use case, on a copy of a whose
// log lines are marked with the job.
func (d *Daemon) job(ctx context.Context, base *app.App, s config.Schedule) error {
	a := base.With(d.o.Log().With("job", s.Job))
	switch s.Job {
	case "sync":
		res, err := a.Sync(ctx, app.SyncRequest{})
		logLines(a.Logger, func(w io.Writer) { fmt.Fprintln(w, app.SyncLine(res)) })
		return err
	case "reconcile":
		res, err := a.RunReconcile(ctx, app.RunRequest{Recheck: true, User: app.CurrentUser(d.o.Getenv)})
		if err != nil {
			return err
		}
		logLines(a.Logger, func(w io.Writer) { app.WriteRun(w, res) })
		return nil
	case "export":
		return a.ExportJob(ctx, s)
	case "report":
		return a.ReportJob(ctx, s)
	}
	return fmt.Errorf("unknown job %q", s.Job)
}

// idle gives memory back between jobs: the database's mapped pages and the
// heap the job freed.
func (d *Daemon) idle() {
	d.l.ReleaseMemory()
	debug.FreeOSMemory()
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
