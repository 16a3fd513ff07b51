// Command reconciled pulls ECommPay operations into a local database,
// reconciles them with the merchant's records and exports the results.
// See README.md; `reconciled help` lists the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "time/tzdata" // time zones even on hosts without /usr/share/zoneinfo

	"reconciled/internal/cli"
	"reconciled/internal/config"
	"reconciled/internal/door"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
	"reconciled/internal/scratch"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := NewMain().Run(ctx, os.Args[1:])
	stop()
	scratch.Remove()
	os.Exit(code)
}

// Exit statuses (docs/commands.md).
const (
	exitOK     = 0
	exitFailed = 1 // a job failed
	exitUsage  = 2 // bad usage or bad config
)

// Main is the program with its environment, so that tests run it in-process.
// Where a command runs is not Main's: the front door chooses an env for it
// (internal/door), here or inside the daemon.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time

	configPath string // --config
	verbose    bool   // -v
	logger     *slog.Logger
	logMu      sync.Mutex // guards logger: a reload replaces it while jobs log
	// protect are the files no output of this process may replace: the
	// config it read, the database it opened (internal/door).
	protect []export.Protected
}

// NewMain returns a Main on the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now}
}

// command is one entry of the command table, which both front doors read:
// a command line typed here, and one that came through the control socket.
type command struct {
	name, summary string
	// parse reads the command's flags and arguments into a checked request
	// (bad usage is a *cli.UsageError; -h prints the usage to p's Stdout
	// and is flag.ErrHelp). It opens and reads nothing: the client of the control
	// socket parses with it before it dials, and takes the files to send
	// and to write back from the request (door.InputFile, door.OutputFile).
	parse func(p *cli.Program, args []string) (door.Request, error)
	// forward: the command may run inside the daemon, through its control
	// socket, when one holds the database. check-config, run and demo do
	// not touch a held database, or are the daemon.
	forward bool
}

// process is the request of a command that is a process of its own and
// runs only here, on the program itself (check-config, run, demo); the
// table never lets one through the socket.
type process func(m *Main, ctx context.Context) error

func (process) Run(context.Context, door.Env) error {
	return cli.Usagef("this command does not run through the daemon")
}

// commandList is the command table, in the order help lists them. A
// function, not a variable: no state at package level.
func commandList() []command {
	return []command{
		{"sync", "pull operations from the Data API now", parseSync, true},
		{"import", "import merchant records from a CSV or XLSX file; all or nothing", parseImport, true},
		{"reconcile", "reconcile now and print a summary by result code", parseReconcile, true},
		{"resolve", "accept an exception by hand, with an audit trail", parseResolve, true},
		{"unresolve", "take a resolution back", parseUnresolve, true},
		{"status", "watermark, last sync and counts per project", parseStatus, true},
		{"payment", "one payment: its verdicts, ECommPay's operations with every status, the books' records", parsePayment, true},
		{"export", "write operations, the reconciliation, the analytics or the audit trail as CSV or XLSX", parseExport, true},
		{"stats", "the analytics in the terminal", parseStats, true},
		{"check-config", "validate the config and say exactly what is wrong", parseCheckConfig, false},
		{"report", "the daily reconciliation report: to the terminal, a file (-o) or by mail (--send)", parseReport, true},
		{"backup", "write a consistent copy of the database", parseBackup, true},
		{"check", "verify the database: bbolt's consistency check and the ledger's invariants", parseCheck, true},
		{"web", "the read-only web view of a database no daemon holds, until SIGTERM", parseWeb, false},
		{"run", "the daemon: run the [[schedule]] jobs until SIGTERM; SIGHUP reloads the config", parseRun, false},
		{"demo", "the whole pipeline against a built-in fake Data API, into ./reconciled-demo", parseDemo, false},
	}
}

// lookup is the command called name.
func lookup(name string) (command, bool) {
	for _, c := range commandList() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// program is reconciled's command line, a command's usage going to stdout
// when asked for (-h), to stderr after a flag error.
func program(stdout, stderr io.Writer) *cli.Program {
	return &cli.Program{Name: "reconciled", Own: []string{"--config", "-v"}, Before: "--config FILE", Stdout: stdout, Stderr: stderr}
}

// usage writes the program's usage to w: standard output when asked for
// (-h, help), standard error after a usage error.
func (m *Main) usage(w io.Writer) {
	fmt.Fprintf(w, `Usage: reconciled [--config FILE] [-v] COMMAND [flags]

Commands:
`)
	for _, c := range commandList() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
The config is --config, else $RECONCILED_CONFIG, else ./reconciled.toml, else
/etc/reconciled/reconciled.toml. "reconciled COMMAND -h" shows a command's flags.
Exit status: 0 done, 1 a job failed, 2 bad usage or config.
`)
}

// Run runs one command line and returns the exit status.
func (m *Main) Run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("reconciled", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&m.configPath, "config", "", "config file")
	fs.BoolVar(&m.verbose, "v", false, "log debug messages")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			m.usage(m.Stdout)
			return exitOK
		}
		fmt.Fprintf(m.Stderr, "reconciled: %v\n\n", err)
		m.usage(m.Stderr)
		return exitUsage
	}
	if fs.NArg() == 0 {
		m.usage(m.Stderr)
		return exitUsage
	}
	if fs.Arg(0) == "help" {
		m.usage(m.Stdout)
		return exitOK
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(m.Stderr, "reconciled: unknown command %q\n\n", name)
		m.usage(m.Stderr)
		return exitUsage
	}
	req, err := c.parse(program(m.Stdout, m.Stderr), rest)
	if err != nil {
		return m.exitCode(err)
	}
	if p, ok := req.(process); ok {
		return m.exitCode(p(m, ctx))
	}
	if c.forward {
		if cfg, err := m.loadConfig(); err == nil { // else the command reports it
			client := door.Client{Stdout: m.Stdout, Stderr: m.Stderr, Protect: &m.protect, ExitCode: m.exitCode}
			if code, ok := client.Forward(ctx, cfg, c.name, rest, req); ok {
				return code
			}
		}
	}
	h := m.here()
	err = req.Run(ctx, h)
	h.Close()
	return m.exitCode(err)
}

// here is the env of a command this process runs itself.
func (m *Main) here() *door.Here {
	return &door.Here{Out: m.Stdout, Err: m.Stderr, Clock: m.Now, Getenv: m.Getenv, Load: m.loadConfig, Log: m.log, Protect: &m.protect}
}

func (m *Main) exitCode(err error) int { return exitCode(m.Stderr, err) }

// exitCode is the exit status of a command that ended with err, which it
// explains on stderr.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *cli.UsageError
	var ps config.Problems
	var de *ledger.DamagedError
	switch {
	case errors.As(err, &ps):
		fmt.Fprintf(stderr, "reconciled: the config has %d problem(s):\n", len(ps))
		for _, p := range ps {
			fmt.Fprintf(stderr, "  %v\n", p)
		}
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "reconciled: %v\n", err)
		return exitUsage
	case errors.As(err, &de) && de.Rebuild: // its error says to run reconcile --full: no backup to restore
		fmt.Fprintf(stderr, "reconciled: %v\n", err)
		return exitFailed
	case errors.As(err, &de):
		fmt.Fprintf(stderr, "reconciled: %v\n%s", err, restoreHint(de.Path))
		return exitFailed
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "reconciled: interrupted; what was stored is kept, nothing is half-written")
		return exitFailed
	default:
		fmt.Fprintf(stderr, "reconciled: %v\n", err)
		return exitFailed
	}
}

// findConfig is the config file to read (config.Find); none is bad usage.
func (m *Main) findConfig() (string, error) {
	path, err := config.Find(m.configPath, m.Getenv)
	if nf := (*config.NotFoundError)(nil); errors.As(err, &nf) {
		return "", cli.Usagef("no config file: looked for --config, $%s, %s\n"+
			"  start from config.example.toml (cp config.example.toml reconciled.toml), or try `reconciled demo`",
			config.EnvConfig, strings.Join(nf.Tried, ", "))
	}
	return path, err
}

// loadConfig finds, reads and validates the config, and sets up logging.
// It reads no credential: a command resolves those its work uses
// (cfg.WithSecrets), so that status, export & co. work where the secrets
// cannot be read, and a command forwarded to the daemon reads none.
func (m *Main) loadConfig() (*config.Config, error) { return m.loadConfigWith(config.Load) }

// loadConfigAll is loadConfig with every credential resolved too, and
// every problem of both at once: check-config and the daemon.
func (m *Main) loadConfigAll() (*config.Config, error) { return m.loadConfigWith(config.LoadAll) }

func (m *Main) loadConfigWith(load func(string, func(string) string) (*config.Config, error)) (*config.Config, error) {
	path, err := m.findConfig()
	if err != nil {
		return nil, err
	}
	cfg, err := load(path, m.Getenv)
	if err != nil {
		return nil, err
	}
	m.setLogger(cfg.Log)
	door.Protect(&m.protect, path, "the config file") // no output replaces the config it read
	return cfg, nil
}

func (m *Main) setLogger(l config.Log) {
	m.logMu.Lock()
	defer m.logMu.Unlock()
	m.logger = l.Logger(m.Stderr, m.verbose)
}

func (m *Main) log() *slog.Logger {
	m.logMu.Lock()
	l := m.logger
	m.logMu.Unlock()
	if l == nil {
		m.setLogger(config.Log{Level: "info", Format: "text"})
		return m.log()
	}
	return l
}
