// Package web is reconciled's read-only web view: server-rendered pages
// (html/template, no script, no external resource) over the same App
// calls as the commands — Status for the overview, the stored
// reconciliation for the exceptions, Payment for one payment, Summary for
// the analytics, Export for the downloads. `reconciled run` serves it at
// [web] listen; `reconciled web` serves it on its own over a database it
// opens read-only.
//
// Nothing here writes: every route is GET or HEAD (anything else is 405),
// resolving stays in the command line with its audit of the OS user.
// Every response carries a Content-Security-Policy of default-src 'none'
// with only our own stylesheet allowed (no script at all, inline or not;
// the charts are SVG drawn here), frame-ancestors 'none', nosniff and
// no-referrer. A listen address other hosts can reach needs a bearer token
// or basic-auth credentials from a file (refused at config load
// otherwise; a file others may read is refused too); both are compared
// in constant time (of their SHA-256, so the length does not show
// either). Without credentials only a Host of localhost or a loopback IP
// is answered (421 else): a page elsewhere that rebinds its own name to
// 127.0.0.1 would otherwise read the view as its own origin. A download
// is written to a scratch file, then sent, at most MaxDownloads at once:
// the export's read transaction never waits on a client (bbolt's remap,
// and every reader after it, would wait for it). Free text from the
// merchant's books or a person (a method, a reason, a note) is shown with
// card numbers masked (domain.MaskCardNumbers), as the mailed report
// shows reasons; ids are shown as they are (they are searched by).
//
// What the pages read is held in memory and prepared in the background
// (prepare.go), so that every page answers within 100 ms at a million
// operations and a million records, the first one too (BENCHMARKS.md):
//
//   - The exceptions page (and the overview's ages) read an index of the
//     open exceptions (index.go): one pass over the stored items,
//     decoding only the exceptions' (0.15 s at a million items, 5.5 MB
//     for their 20,000 exceptions); a page is one pass over the index
//     (about 1 ms).
//   - The analytics are the merge of per-day partials of every stored
//     operation and chargebacks (analytics.Days, in data_api.tz, made in
//     one pass by App.SummaryDays: 1.5–2.5 s at a million): a window of
//     whole days (the page's windows always are) is the merge of its days,
//     exact; its last few merges are kept. A window that is not whole
//     days would be a pass over its operations (App.Summary), as before.
//
// Both are started when the server starts serving (Prepare) and again
// when a page finds them older than the data: after a reconcile (the
// index, keyed by the stored result's state) or any write (the
// partials, keyed by Ledger.Generation) the ones held are served with a
// note saying of when, while new ones are built in the background, one
// at a time. A page with nothing held (the first seconds after a start,
// or after an idle drop of a large one) waits up to FirstWait (40 ms)
// for the build (the whole build when it is small: up to 20,000
// operations, 100,000 items, so that a small database never shows it,
// however loaded the machine) and otherwise answers that it is being prepared
// ("N of M operations read"), reloading itself each second by a meta
// refresh (no script). A build that failed (a damaged database) is not
// started again for the same data (generation and zone, the result's
// key): the page answers 500 saying what could not be prepared, without
// a refresh, until the data changes. After IdleDrop (10 minutes) without a page the
// merges are dropped, and the index and the partials too unless they
// are under KeepIdle (6 MB each, estimated; at the benchmark's million
// operations and items they are 5.5 MB and 2.9 MB): an idle daemon holds
// at most 12 MB of them, never a large one.
// With no reconciliation stored the pages say so; they never run the
// engine (a run over everything is the reconcile command's, and takes a
// gigabyte at a million operations).
//
// Stable hooks for browser tests (ids unless said):
//
//	nav-overview, nav-exceptions, nav-analytics  the links of the menu
//	note (which stored reconciliation, what it lacks), stale (the rows are
//	  of an older one, a newer index being built), preparing (nothing
//	  held yet: the page reloads itself until it shows the rest; on the
//	  overview in its ages section, on the exceptions and analytics below
//	  their forms)
//	last-reconcile, results, ages, sync, outbox, unknown   overview's sections
//	filters (the form), f-code, f-method, f-currency, f-project, f-from,
//	  f-to, f-q, f-sort, f-per, f-apply            the exceptions' filters
//	exceptions (the table); each row tr.exception with data-payment-id,
//	  data-code; its link a.payment-link
//	match-count (data-total), page-prev, page-next, page-info
//	download-csv, download-xlsx                   exactly the filtered rows
//	payment (data-payment-id), operations, records, items, resolutions,
//	  audit, chargebacks, dashboard-link, p-id (the form to open one), p-open
//	window (the analytics' form), a-from, a-to, a-apply,
//	  chart-volume-CUR, chart-approval, totals, by-method, by-currency,
//	  by-project, by-status, time-to-final, volumes, declines
package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"reconciled/internal/analytics"
	"reconciled/internal/app"
	"reconciled/internal/config"
)

// DefaultIdleDrop is how long the index of the exceptions stays without
// a request for it.
const DefaultIdleDrop = 10 * time.Minute

// MaxDownloads is how many downloads are made (and sent) at once;
// another is answered 503 with Retry-After. Each is a pass over every
// stored item and a file in the scratch folder.
const MaxDownloads = 2

// Options configure a Server.
type Options struct {
	// App is the App in force at each request (the daemon's changes at a
	// reload; [web] dashboard_url is read from its config).
	App func() *app.App
	// Token and User/Password, when set, are required of every request
	// (either will do when both are set).
	Token          string
	User, Password string
	// IdleDrop: the index is dropped after this long without a request
	// for it (DefaultIdleDrop when 0).
	IdleDrop time.Duration
	// KeepIdle: an index or analytics' partials of at most this many
	// bytes (estimated) are kept past the idle drop (DefaultKeepIdle
	// when 0; negative: none is kept).
	KeepIdle int
	// FirstWait: how long a page with nothing held waits for a build
	// (not a small one's, waited for whole) under way before it answers
	// "being prepared" (DefaultFirstWait
	// when 0; negative: it does not wait).
	FirstWait time.Duration
	Log       *slog.Logger
	Now       func() time.Time // a.Now when nil
}

// Server is the web view's handler, with its index and caches.
type Server struct {
	o   Options
	mux *http.ServeMux

	mu       sync.Mutex // the index: one build at a time
	ix       *index
	building string // the key of the index being built in the background
	ixJob    *job   // that build
	ixFailed *job   // the last build, failed (its key): not tried again for that key
	used     time.Time
	timer    *time.Timer   // the idle drop's; nil after it fired
	epoch    atomic.Uint64 // moved on by Drop: a build under way is not held
	life     atomic.Pointer[life]

	sumMu   sync.Mutex
	days    *heldDays // the analytics' partials
	daysJob *job      // making them anew, in the background
	// daysFailed: the last build of the partials, failed (its gen and
	// zone); not tried again for the same ones.
	daysFailed *job
	sums       []*cachedSummary // merged from days, most recent last

	downloads chan struct{} // a slot per download under way (MaxDownloads)
}

// life is the context of the builds started until the next Drop, which
// cancels it: a stopping server's ledger Close waits for their read
// transactions (seconds at a million operations).
type life struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newLife() *life {
	ctx, cancel := context.WithCancel(context.Background())
	return &life{ctx, cancel}
}

// cachedSummary is the analytics of one window, merged from one
// heldDays (sumMu guards it).
type cachedSummary struct {
	window string
	of     *heldDays
	s      *analytics.Summary
}

// New returns the web view of o.
func New(o Options) *Server {
	if o.IdleDrop <= 0 {
		o.IdleDrop = DefaultIdleDrop
	}
	if o.FirstWait == 0 {
		o.FirstWait = DefaultFirstWait
	}
	if o.KeepIdle == 0 {
		o.KeepIdle = DefaultKeepIdle
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{o: o, mux: http.NewServeMux(), downloads: make(chan struct{}, MaxDownloads)}
	s.life.Store(newLife())
	s.mux.HandleFunc("GET /{$}", s.overview)
	s.mux.HandleFunc("GET /exceptions", s.exceptions)
	s.mux.HandleFunc("GET /exceptions.csv", s.download)
	s.mux.HandleFunc("GET /exceptions.xlsx", s.download)
	s.mux.HandleFunc("GET /payment", s.payment)
	s.mux.HandleFunc("GET /analytics", s.analytics)
	s.mux.HandleFunc("GET /style.css", s.style)
	return s
}

// Credentials reads the token and the basic-auth pair from their files
// (each one line; $CREDENTIALS_DIRECTORY is expanded, as systemd sets it),
// into o. An empty or unreadable file is an error naming its key.
func Credentials(o *Options, tokenFile, basicAuthFile string, getenv func(string) string) error {
	read := func(key, file string) (string, error) {
		path := os.Expand(file, func(name string) string {
			if name == "CREDENTIALS_DIRECTORY" {
				return getenv(name)
			}
			return "$" + name
		})
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("web.%s: %w", key, err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return "", fmt.Errorf("web.%s: %w", key, err)
		}
		if m := fi.Mode().Perm(); m&0o004 != 0 {
			return "", fmt.Errorf("web.%s: %s is readable by others (mode %04o): chmod o-r it", key, path, m)
		}
		b, err := io.ReadAll(f)
		if err != nil {
			return "", fmt.Errorf("web.%s: %w", key, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" || strings.ContainsAny(v, "\r\n") {
			return "", fmt.Errorf("web.%s: %s must hold one non-empty line", key, path)
		}
		return v, nil
	}
	if tokenFile != "" {
		t, err := read("token_file", tokenFile)
		if err != nil {
			return err
		}
		o.Token = t
	}
	if basicAuthFile != "" {
		v, err := read("basic_auth_file", basicAuthFile)
		if err != nil {
			return err
		}
		u, p, ok := strings.Cut(v, ":")
		if !ok || u == "" || p == "" {
			return fmt.Errorf("web.basic_auth_file: %s must hold user:password", basicAuthFile)
		}
		o.User, o.Password = u, p
	}
	return nil
}

// ServeHTTP answers one request: the method, then who asks, then the
// page, with the security headers on every answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "read-only: GET or HEAD only", http.StatusMethodNotAllowed)
		return
	}
	if s.o.Token == "" && s.o.User == "" && !loopbackHost(r.Host) {
		// Without credentials only a loopback name: a page elsewhere
		// that rebinds its own name to 127.0.0.1 (DNS rebinding) would
		// read the view as its own origin.
		http.Error(w, "without web.token_file or web.basic_auth_file this view answers to 127.0.0.1, [::1] or localhost only", http.StatusMisdirectedRequest)
		return
	}
	if !s.authorized(r) {
		if s.o.User != "" {
			h.Set("WWW-Authenticate", `Basic realm="reconciled", charset="UTF-8"`)
		}
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	// The database's pages the answer read leave the resident set (the
	// overview's Status walks the records: 135 MB of the mapping at a
	// million would stay with the daemon otherwise, BENCHMARKS.md), before
	// its first byte is sent: a client holding the whole answer found them
	// still resident now and then (after a download most).
	rw := &releasing{ResponseWriter: w, release: func() {
		if a := s.o.App(); a != nil && a.Ledger != nil {
			a.Ledger.ReleaseMemory()
		}
	}}
	s.mux.ServeHTTP(rw, r)
	if !rw.released {
		rw.release()
	}
}

// releasing calls release once, before the answer's header is written.
type releasing struct {
	http.ResponseWriter
	release  func()
	released bool
}

func (w *releasing) WriteHeader(code int) {
	if !w.released {
		w.released = true
		w.release()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *releasing) Write(b []byte) (int, error) {
	if !w.released {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *releasing) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// loopbackHost reports whether a request's Host names this machine's
// loopback: localhost or a loopback IP, with any port.
func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	}
	return strings.EqualFold(host, "localhost") || config.Loopback(host)
}

// equal compares a and b in constant time, whatever their lengths.
func equal(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}

func (s *Server) authorized(r *http.Request) bool {
	if s.o.Token == "" && s.o.User == "" {
		return true
	}
	ok := false
	if s.o.Token != "" {
		// The scheme's name is case-insensitive (RFC 9110 11.1).
		if h := r.Header.Get("Authorization"); len(h) > len("Bearer ") && strings.EqualFold(h[:len("Bearer ")], "Bearer ") {
			ok = equal(h[len("Bearer "):], s.o.Token)
		}
	}
	if s.o.User != "" {
		if u, p, found := r.BasicAuth(); found {
			// Both compared, always: no early exit on the user.
			uok, pok := equal(u, s.o.User), equal(p, s.o.Password)
			ok = ok || (uok && pok)
		}
	}
	return ok
}

// Listener is a Server on an address.
type Listener struct {
	srv *http.Server
	ln  net.Listener
}

// Listen binds addr for s with the server's time limits: 5 s for the
// headers, 30 s to read a request, 5 min to write an answer (a download
// of a million rows), 2 min idle. Without credentials the address bound
// must be a loopback one, whatever the caller checked of addr's name
// ("localhost" that /etc/hosts sends elsewhere).
func Listen(s *Server, addr string) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("web.listen: %w", err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); s.o.Token == "" && s.o.User == "" && (!ok || !tcp.IP.IsLoopback()) {
		ln.Close()
		return nil, fmt.Errorf("web.listen: %q is bound to %s, which other hosts can reach: set web.token_file or web.basic_auth_file, or listen on 127.0.0.1", addr, ln.Addr())
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 32 << 10,
		ErrorLog: slog.NewLogLogger(s.o.Log.Handler(), slog.LevelWarn)}
	return &Listener{srv: srv, ln: ln}, nil
}

// Addr is where it listens.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Serve serves until Shutdown (then nil).
func (l *Listener) Serve() error {
	if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting, waits for the answers under way until ctx is
// done, then cuts them.
func (l *Listener) Shutdown(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	if err != nil {
		l.srv.Close()
	}
	return err
}

// Drop lets the index and the summaries go and stops the builds under
// way (a stopping server, a benchmark of the first page).
func (s *Server) Drop() {
	s.epoch.Add(1)
	s.life.Swap(newLife()).cancel() // the builds under way stop
	s.mu.Lock()
	s.ix, s.ixFailed = nil, nil
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
	s.sumMu.Lock()
	s.sums, s.days, s.daysFailed = nil, nil, nil
	s.sumMu.Unlock()
}

// Wait waits until no build is under way (a benchmark of the page after
// the first, a test).
func (s *Server) Wait() {
	for {
		s.mu.Lock()
		j := s.ixJob
		s.mu.Unlock()
		s.sumMu.Lock()
		k := s.daysJob
		s.sumMu.Unlock()
		if j == nil && k == nil {
			return
		}
		for _, x := range []*job{j, k} {
			if x != nil {
				<-x.done
			}
		}
	}
}
