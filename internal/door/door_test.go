package door

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/config"
	"reconciled/internal/control"
	"reconciled/internal/export"
	"reconciled/internal/scratch"
)

// TestMain removes the scratch folder that received files went to, as the
// daemon does when it ends.
func TestMain(m *testing.M) {
	code := m.Run()
	scratch.Remove()
	os.Exit(code)
}

// world is a config on a folder of its own (short enough for a socket's
// path), its database and its socket.
type world struct {
	dir, config string
	cfg         *config.Config
}

func newWorld(t *testing.T) *world {
	t.Helper()
	dir, err := os.MkdirTemp("", "door")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	w := &world{dir: dir, config: filepath.Join(dir, "reconciled.toml")}
	text := fmt.Sprintf("[storage]\npath = %q\n[data_api]\ntoken = \"t\"\nsecret = \"s\"\nprojects = [580]\n", filepath.Join(dir, "reconciled.db"))
	if err := os.WriteFile(w.config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if w.cfg, err = config.Load(w.config, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	return w
}

// here is a Here env on w's config, writing to out and errOut.
func (w *world) here(out, errOut io.Writer, protect *[]export.Protected) *Here {
	return &Here{Out: out, Err: errOut, Clock: time.Now, Getenv: func(string) string { return "" },
		Load: func() (*config.Config, error) { return w.cfg, nil }, Log: func() *slog.Logger { return slog.New(slog.DiscardHandler) }, Protect: protect}
}

// fileRequest writes text into its output file and says what it read from
// its input file, on whichever env it runs, which it tells ran (if set).
type fileRequest struct {
	in, out string
	text    string
	ran     *Env
}

func (r *fileRequest) InputFile() (string, int) { return r.in, 1 } // after -in
func (r *fileRequest) OutputFile() OutFile      { return OutFile{Path: r.out} }

func (r *fileRequest) Run(ctx context.Context, e Env) error {
	if r.ran != nil {
		*r.ran = e
	}
	if r.in != "" {
		path, name := e.Input(r.in)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout(), "read %q from %s as %s\n", data, path, name)
	}
	if r.out == "" {
		return nil
	}
	_, err := WriteExport(ctx, e, r.out, func(w io.Writer) (int, error) { n, err := io.WriteString(w, r.text); return n, err })
	return err
}

// table is a command table of two commands, "write" (may run in the
// daemon) and "local" (may not), parsing into a fileRequest: "write
// [-in FILE] OUT TEXT".
func table(parsed *int, ran *Env) Lookup {
	return func(name string) (Command, bool) {
		parse := func(stdout, stderr io.Writer, args []string) (Request, error) {
			*parsed++
			r := &fileRequest{ran: ran}
			if len(args) > 0 && args[0] == "-in" {
				r.in, args = args[1], args[2:]
			}
			if len(args) == 2 {
				r.out, r.text = args[0], args[1]
			}
			return r, nil
		}
		switch name {
		case "write":
			return Command{Parse: parse, Forward: true}, true
		case "local":
			return Command{Parse: parse}, true
		}
		return Command{}, false
	}
}

func usageText(err error) string {
	var ue *cli.UsageError
	if !errors.As(err, &ue) {
		return fmt.Sprintf("not bad usage: %v", err)
	}
	return ue.Msg
}

// TestServeGoesThroughTheTable holds the daemon's side to the table: a
// command not in it or that may not be forwarded is refused before its
// parse, and one naming a file that did not travel with it before it runs.
func TestServeGoesThroughTheTable(t *testing.T) {
	w := newWorld(t)
	a := &app.App{Config: w.cfg, Now: time.Now}
	var parsed int
	var ran Env
	serve := func(c *control.Command) error { return Serve(t.Context(), a, c, table(&parsed, &ran)) }

	for _, name := range []string{"nosuch", "local"} {
		err := serve(&control.Command{Request: control.Request{Args: []string{name}}})
		if got := usageText(err); got != name+" does not run through the daemon" || parsed != 0 {
			t.Errorf("%s: %s, parsed %d times", name, got, parsed)
		}
	}

	var stdout bytes.Buffer
	out := filepath.Join(w.dir, "out.csv")
	for _, c := range []*control.Command{
		{Request: control.Request{Args: []string{"write", out, "x"}}, Stdout: &stdout},                  // no output stream
		{Request: control.Request{Args: []string{"write", "-in", "books.csv"}}, Stdout: &stdout},        // not sent
		{Request: control.Request{Args: []string{"write", "-in", "books.csv"}}, InputPath: "other.csv"}, // not that one
	} {
		parsed = 0
		err := serve(c)
		if got := usageText(err); !strings.Contains(got, "files travel with the command") || parsed != 1 {
			t.Errorf("%v: %s, parsed %d times", c.Args, got, parsed)
		}
	}
	if stdout.Len() != 0 || fileExists(out) || ran != nil {
		t.Errorf("a refused request ran: %q, %s there: %v", stdout.String(), out, fileExists(out))
	}

	// Run on the daemon's env: its App, the client's streams, the peer.
	var sink bytes.Buffer
	c := &control.Command{Request: control.Request{Args: []string{"write", out, "sent back"}, Output: true}, Peer: control.Peer{User: "alice"}, Stdout: &stdout, Output: &sink}
	if err := serve(c); err != nil {
		t.Fatal(err)
	}
	d, ok := ran.(*InDaemon)
	if !ok || d.App != a || d.User() != "alice" || d.Stdout() != &stdout {
		t.Fatalf("ran on %#v", ran)
	}
	if cfg, _ := d.Config(); cfg != a.Config {
		t.Errorf("the daemon's env has another config")
	}
	if sink.String() != "sent back" || fileExists(out) {
		t.Errorf("the output went to %q (want the client's stream), %s written by the daemon: %v", sink.String(), out, fileExists(out))
	}
	if same, _ := d.Open(a.Config, false); same != a {
		t.Errorf("Open on the daemon's config is not the daemon's App")
	}
	other := *a.Config
	if b, _ := d.Open(&other, true); b == a || b.Config != &other || a.Config == &other {
		t.Errorf("Open on another config: %p, config %p", b, b.Config)
	}
}

// TestHereProtectsWhatItOpened: an output of a command run here never
// replaces the database it opened (under another name too) nor a file the
// front door protected, and a file that fails its check replaces nothing.
func TestHereProtectsWhatItOpened(t *testing.T) {
	w := newWorld(t)
	var protect []export.Protected
	Protect(&protect, w.config, "the config file")
	var stdout, stderr bytes.Buffer
	h := w.here(&stdout, &stderr, &protect)
	defer h.Close()
	a, err := OpenApp(h, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.Ledger.Path() != w.cfg.Storage.Path || len(protect) != 2 || protect[1].What != DatabaseWhat {
		t.Fatalf("opened %s, protecting %v", a.Ledger.Path(), protect)
	}
	link := filepath.Join(w.dir, "another-name.db")
	if err := os.Link(w.cfg.Storage.Path, link); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(w.cfg.Storage.Path)
	config, _ := os.ReadFile(w.config)
	for path, what := range map[string]string{w.cfg.Storage.Path: DatabaseWhat, link: DatabaseWhat, w.config: "the config file"} {
		_, err := WriteExport(t.Context(), h, path, func(w io.Writer) (int, error) { return io.WriteString(w, "rows") })
		if got := usageText(err); !strings.Contains(got, what) || !strings.HasPrefix(err.Error(), "export: refusing to write "+path) {
			t.Errorf("export to %s: %s", path, got)
		}
	}
	if now, _ := os.ReadFile(w.cfg.Storage.Path); !bytes.Equal(now, before) {
		t.Errorf("the database changed")
	}
	if now, _ := os.ReadFile(w.config); !bytes.Equal(now, config) {
		t.Errorf("the config changed")
	}

	old := filepath.Join(w.dir, "copy.db")
	os.WriteFile(old, []byte("an older copy"), 0o644)
	bad := errors.New("not a database")
	verified, err := h.Output(OutFile{Path: old, Private: true, Verify: func(string) error { return bad }}, func(w io.Writer) error {
		_, err := io.WriteString(w, "a broken copy")
		return err
	})
	if now, _ := os.ReadFile(old); !verified || !errors.Is(err, bad) || string(now) != "an older copy" {
		t.Errorf("a copy that fails its check: verified %v, %v, the old file now %q", verified, err, now)
	}
	verified, err = h.Output(OutFile{Path: old, Private: true, Verify: func(string) error { return nil }}, func(w io.Writer) error {
		_, err := io.WriteString(w, "a good copy")
		return err
	})
	fi, _ := os.Stat(old)
	if now, _ := os.ReadFile(old); !verified || err != nil || string(now) != "a good copy" || fi.Mode().Perm() != 0o600 {
		t.Errorf("a copy that checks out: verified %v, %v, the file now %q, %v", verified, err, now, fi.Mode())
	}
}

// TestWriteExport: without a path to standard output; with one, once the
// context is done, no file.
func TestWriteExport(t *testing.T) {
	w := newWorld(t)
	var protect []export.Protected
	var stdout bytes.Buffer
	h := w.here(&stdout, io.Discard, &protect)
	rows := func(w io.Writer) (int, error) { _, err := io.WriteString(w, "a,b\n"); return 1, err }
	if n, err := WriteExport(t.Context(), h, "", rows); n != 1 || err != nil || stdout.String() != "a,b\n" {
		t.Errorf("to standard output: %d %v %q", n, err, stdout.String())
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	path := filepath.Join(w.dir, "out.csv")
	if _, err := WriteExport(ctx, h, path, rows); !errors.Is(err, context.Canceled) || fileExists(path) {
		t.Errorf("cancelled: %v, file there: %v", err, fileExists(path))
	}
}

// TestClientAndServerThroughTheSocket runs a command through a real
// control socket: the client sends the file the request reads and writes
// the one it writes, never over the daemon's database, under any name;
// with no daemon the command runs here. A daemon that holds another
// database than the client's config names runs nothing of it.
func TestClientAndServerThroughTheSocket(t *testing.T) {
	w := newWorld(t)
	var parsed int
	var none []export.Protected
	var errs []error
	client := func(stdout, stderr io.Writer) Client {
		return Client{Stdout: stdout, Stderr: stderr, Protect: &none, ExitCode: func(err error) int {
			errs = append(errs, err)
			if usageText(err) == fmt.Sprintf("not bad usage: %v", err) {
				return 1
			}
			return 2
		}}
	}
	forwardOn := func(cfg *config.Config, args ...string) (code int, ok bool, stdout string) {
		req, _ := table(&parsed, nil)(args[0])
		r, _ := req.Parse(io.Discard, io.Discard, args[1:])
		var o bytes.Buffer
		code, ok = client(&o, io.Discard).Forward(t.Context(), cfg, args[0], args[1:], r)
		return code, ok, o.String()
	}
	forward := func(args ...string) (int, bool, string) { return forwardOn(w.cfg, args...) }
	if code, ok, _ := forward("write", filepath.Join(w.dir, "x.csv"), "x"); ok || code != 0 {
		t.Fatalf("with no daemon: %d %v, want to run here", code, ok)
	}

	// The daemon: the database the client's config names, which it knows
	// by another name (a hard link), its App on it.
	var protect []export.Protected
	os.WriteFile(w.cfg.Storage.Path, []byte("the daemon's"), 0o600)
	daemonDB := filepath.Join(w.dir, "daemon.db")
	if err := os.Link(w.cfg.Storage.Path, daemonDB); err != nil {
		t.Fatal(err)
	}
	Protect(&protect, daemonDB, DatabaseWhat)
	id := control.FileID(protect[0].ID)
	ln, err := control.Listen(w.cfg.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	a := &app.App{Config: w.cfg, Now: time.Now}
	ctx, stop := context.WithCancel(t.Context())
	var handled int
	srv := &control.Server{Log: slog.New(slog.DiscardHandler), Database: &id, DatabasePath: daemonDB, Handler: func(ctx context.Context, c *control.Command) int {
		handled++
		if err := Serve(ctx, a, c, table(&parsed, nil)); err != nil {
			fmt.Fprintln(c.Stderr, err)
			return 2
		}
		return 0
	}}
	served := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(served) }()
	t.Cleanup(func() { stop(); <-served })

	books := filepath.Join(w.dir, "books.csv")
	os.WriteFile(books, []byte("payment_id\n1\n"), 0o600)
	out := filepath.Join(w.dir, "out.csv")
	code, ok, stdout := forward("write", "-in", books, out, "rows")
	if got, _ := os.ReadFile(out); !ok || code != 0 || string(got) != "rows" {
		t.Errorf("through the daemon: exit %d (%v), the file holds %q, errors %v", code, ok, got, errs)
	}
	if !strings.Contains(stdout, `read "payment_id\n1\n" from `) || !strings.HasSuffix(stdout, " as "+books+"\n") || strings.Contains(stdout, "from "+books) {
		t.Errorf("the daemon did not read the copy it was sent, shown as the client named it: %q", stdout)
	}

	for _, path := range []string{daemonDB, w.cfg.Storage.Path} {
		errs = nil
		code, ok, _ = forward("write", path, "rows")
		if got, _ := os.ReadFile(path); !ok || code != 2 || len(errs) != 1 || !strings.Contains(usageText(errs[0]), "refusing to write "+path+": it is the database") || string(got) != "the daemon's" {
			t.Errorf("onto the daemon's database as %s: exit %d (%v), errors %v, it holds %q", path, code, ok, errs, got)
		}
	}

	errs = nil
	code, ok, _ = forward("local", out, "rows")
	if !ok || code != 2 || len(errs) != 0 {
		t.Errorf("a command the table keeps here, sent anyway: exit %d (%v), errors %v", code, ok, errs)
	}

	// Another config on the same socket, its database another file or
	// none (none yet, or a path through a file): refused before the daemon
	// takes its file or runs anything.
	other := *w.cfg
	other.File = "other.toml"
	other.Daemon.Socket = w.cfg.SocketPath() // named: a path through a file has no folder for one beside it
	os.WriteFile(filepath.Join(w.dir, "other.db"), []byte("another"), 0o600)
	os.Remove(out)
	for _, db := range []string{filepath.Join(w.dir, "other.db"), filepath.Join(w.dir, "none.db"), filepath.Join(books, "x.db")} {
		other.Storage.Path = db
		want := fmt.Sprintf("the daemon on %s holds %s, not %s (storage.path of other.toml): give each database its own daemon.socket, or stop the daemon", w.cfg.SocketPath(), daemonDB, db)
		for _, args := range [][]string{{"write", "-in", books, out, "rows"}, {"write", "-in", books}, {"local"}} {
			errs, handled = nil, 0
			code, ok, stdout = forwardOn(&other, args...)
			if !ok || code != 2 || stdout != "" || len(errs) != 1 || usageText(errs[0]) != want || handled != 0 || fileExists(out) {
				t.Errorf("%v of a config naming %s: exit %d (%v), stdout %q, errors %v, handled %d times, %s made: %v", args, db, code, ok, stdout, errs, handled, out, fileExists(out))
			}
		}
	}
	if fileExists(filepath.Join(w.dir, "none.db")) {
		t.Error("none.db was made")
	}

	// A database that cannot be looked at: the client cannot tell, and
	// sends nothing (a loop of symbolic links stands for a folder this
	// user may not search: the tests run as root).
	loop := filepath.Join(w.dir, "loop.db")
	os.Symlink("loop.db", loop)
	other.Storage.Path = loop
	errs, handled = nil, 0
	code, ok, _ = forwardOn(&other, "write", "-in", books, out, "rows")
	if !ok || code != 1 || len(errs) != 1 || handled != 0 || fileExists(out) ||
		!strings.HasPrefix(errs[0].Error(), "the daemon on "+w.cfg.SocketPath()+": cannot tell whether it holds "+loop+" (storage.path of other.toml): stat "+loop+": too many levels of symbolic links\n") {
		t.Errorf("a database that cannot be looked at: exit %d (%v), errors %v, handled %d times", code, ok, errs, handled)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
