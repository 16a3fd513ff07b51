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

	"golang.org/x/term"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
	"reconciled/internal/outbox"
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
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time

	configPath string // --config
	verbose    bool
	logger     *slog.Logger

	// Set when the daemon runs a command itself: the config it runs on and
	// the database it holds (see serveControl).
	cfg    *config.Config
	ledger *ledger.Ledger
	// Set for a command that came through the control socket: who sent it
	// (for the audit trail), and where its output file goes (the client
	// writes it; see forward.go).
	asUser     string
	outputSink io.Writer
	inputName  string // the input file as the person named it
	inputPath  string // where the daemon put the file the client sent
	// remote: the command came through the control socket. It then never
	// reads or writes a path of the daemon's file system itself: files
	// travel over the socket (outputSink, inputName), or the command fails.
	remote bool
	// protect are the files no output of the command may replace: the
	// database it opened (see output.go).
	protect []export.Protected
	// outbox is the process's: the daemon's when the daemon runs a
	// command, else the command's own, built where it opens the database
	// (openLedger). The App of the command queues mail there.
	outbox *outbox.Outbox

	logMu sync.Mutex // guards logger: a reload replaces it while jobs log
}

// user names the person running the command, for the audit trail.
func (m *Main) user() string {
	if m.asUser != "" {
		return m.asUser
	}
	return app.CurrentUser(m.Getenv)
}

// NewMain returns a Main on the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now}
}

type command struct {
	name, summary string
	run           func(m *Main, ctx context.Context, args []string) error
	// socket is how the command runs inside the daemon, through its control
	// socket, when one holds the database; nil: never (check-config, demo
	// and run do not touch a held database, or are the daemon).
	socket *socketUse
}

// socketUse says which of a command's arguments are files: the client
// sends the input file's content and writes the output file the daemon
// streams back, so that the daemon never opens a path a request names.
type socketUse struct {
	input  fileArg // import: the file to send
	output fileArg // export, report: -o; backup: its argument
	// bools are the command's flags that take no value: the client reads
	// -o as the flag package would, and must not take a flag's value for
	// a flag (TestOutputArgKnowsTheBoolFlags holds it to the flag sets).
	bools []string
}

// fileArg is where a command names a file.
type fileArg int

const (
	noFile   fileArg = iota
	firstArg         // the first argument, before the flags
	flagO            // the -o flag (the last one given)
)

// commandList is every command, in the order help lists them. It is a
// function, not a variable: the daemon runs commands from it, and a
// variable would be an initialisation cycle.
func commandList() []command {
	return []command{
		{"sync", "pull operations from the Data API now", (*Main).runSync, &socketUse{}},
		{"import", "import merchant records from a CSV or XLSX file; all or nothing", (*Main).runImport, &socketUse{input: firstArg}},
		{"reconcile", "reconcile now and print a summary by result code", (*Main).runReconcileCmd, &socketUse{}},
		{"resolve", "accept an exception by hand, with an audit trail", (*Main).runResolve, &socketUse{}},
		{"unresolve", "take a resolution back", (*Main).runUnresolve, &socketUse{}},
		{"status", "watermark, last sync and counts per project", (*Main).runStatus, &socketUse{}},
		{"export", "write operations, the reconciliation, the analytics or the audit trail as CSV or XLSX", (*Main).runExport,
			&socketUse{output: flagO, bools: []string{"bom", "h", "help"}}},
		{"stats", "the analytics in the terminal", (*Main).runStats, &socketUse{}},
		{"check-config", "validate the config and say exactly what is wrong", (*Main).runCheckConfig, nil},
		{"report", "the daily reconciliation report: to the terminal, a file (-o) or by mail (--send)", (*Main).runReport,
			&socketUse{output: flagO, bools: []string{"send", "h", "help"}}},
		{"backup", "write a consistent copy of the database", (*Main).runBackup, &socketUse{output: firstArg}},
		{"check", "verify the database: bbolt's consistency check and the ledger's invariants", (*Main).runCheck, &socketUse{}},
		{"run", "the daemon: run the [[schedule]] jobs until SIGTERM; SIGHUP reloads the config", (*Main).runDaemon, nil},
		{"demo", "the whole pipeline against a built-in fake Data API, into ./reconciled-demo", (*Main).runDemo, nil},
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
	if c, ok := lookup(name); ok {
		if code, ok := m.forward(ctx, c, rest); ok {
			return code
		}
		return m.exitCode(c.run(m, ctx, rest))
	}
	fmt.Fprintf(m.Stderr, "reconciled: unknown command %q\n\n", name)
	m.usage(m.Stderr)
	return exitUsage
}

// usageError is bad usage: exit status 2, with a hint.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func (m *Main) exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	var ps config.Problems
	var de *ledger.DamagedError
	switch {
	case errors.As(err, &ps):
		fmt.Fprintf(m.Stderr, "reconciled: the config has %d problem(s):\n", len(ps))
		for _, p := range ps {
			fmt.Fprintf(m.Stderr, "  %v\n", p)
		}
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(m.Stderr, "reconciled: %v\n", err)
		return exitUsage
	case errors.As(err, &de):
		fmt.Fprintf(m.Stderr, "reconciled: %v\n%s", err, restoreHint(de.Path))
		return exitFailed
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(m.Stderr, "reconciled: interrupted; what was stored is kept, nothing is half-written")
		return exitFailed
	default:
		fmt.Fprintf(m.Stderr, "reconciled: %v\n", err)
		return exitFailed
	}
}

// findConfig returns the config file to read.
func (m *Main) findConfig() (string, error) {
	if m.configPath != "" {
		return m.configPath, nil
	}
	if p := m.Getenv("RECONCILED_CONFIG"); p != "" {
		return p, nil
	}
	tried := []string{"./reconciled.toml", "/etc/reconciled/reconciled.toml"}
	for _, p := range tried {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", usagef("no config file: looked for --config, $RECONCILED_CONFIG, %s\n"+
		"  start from config.example.toml (cp config.example.toml reconciled.toml), or try `reconciled demo`",
		strings.Join(tried, ", "))
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
	if m.cfg != nil {
		return m.cfg, nil // the daemon's, with every credential
	}
	path, err := m.findConfig()
	if err != nil {
		return nil, err
	}
	cfg, err := load(path, m.Getenv)
	if err != nil {
		return nil, err
	}
	m.setLogger(cfg.Log)
	m.protectFile(path, configWhat) // no output replaces the config it read (output.go)
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

// openLedger opens the database of cfg.
func (m *Main) openLedger(cfg *config.Config, readOnly bool) (*ledger.Ledger, error) {
	if m.ledger != nil {
		return m.ledger.Shared(), nil
	}
	l, err := ledger.Open(cfg.Storage.Path, ledger.Options{ReadOnly: readOnly, Logger: m.log()})
	if err == nil {
		m.protectDatabase(cfg.Storage.Path)
		// The command's one outbox, on cfg's [mail] (report --send resolves
		// its password before it opens the database).
		m.outbox = outbox.New(l, outbox.Options{Mail: func() config.Mail { return cfg.Mail }, Now: m.Now, Log: m.log})
	}
	return l, err
}

// stderrIsTerminal says whether progress can be drawn.
func (m *Main) stderrIsTerminal() bool {
	f, ok := m.Stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newFlagSet returns a command's flag set; -h prints usage with examples
// to standard output (it is what was asked for); after a flag error it
// goes to standard error, where exitCode then prints the error.
func (m *Main) newFlagSet(name, synopsis, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package writes a flag error's text to the output and then
	// calls Usage; for -h it calls Usage alone. What was written tells the
	// two apart (the text itself is dropped: exitCode prints it once).
	failed := &wroteWriter{}
	fs.SetOutput(failed)
	fs.Usage = func() {
		w := m.Stdout
		if failed.wrote {
			w = m.Stderr
		}
		fmt.Fprintf(w, "Usage: %s\n", strings.TrimSpace("reconciled "+name+" "+synopsis))
		flags := 0
		fs.VisitAll(func(*flag.Flag) { flags++ })
		if flags > 0 {
			fmt.Fprint(w, "\nFlags:\n")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(failed)
		}
		if examples != "" {
			fmt.Fprintf(w, "\nExamples:\n%s", examples)
		}
	}
	return fs
}

// wroteWriter discards what it is given and remembers that it was.
type wroteWriter struct{ wrote bool }

func (w *wroteWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return len(p), nil
}

// parseFlags parses args; a flag error is a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// flagError is the error of a failed fs.Parse: a usage error.
func flagError(fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if strings.Contains(err.Error(), "-config") || strings.HasSuffix(err.Error(), "-v") {
		return usagef("%v: --config and -v go before the command: reconciled --config FILE %s …", err, fs.Name())
	}
	return &usageError{err.Error()}
}
