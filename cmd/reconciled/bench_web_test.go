package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/ledger"
	"reconciled/internal/web"
)

// BenchmarkWebPages times each page of the web view, in this process
// (server time: the handler, no network), over the database of
// BenchmarkImportAndReconcileCommands: -reconcile.n operations
// (1,000,000) and their books, imported and reconciled by the commands.
// It also reports, once, the first exceptions page (which builds the
// index of the open exceptions), the index's size, the heap it added,
// and the first analytics page of the whole window (the summary made;
// later ones come from its cache until the database changes).
func BenchmarkWebPages(b *testing.B) {
	w, csvPath := bigWorld(b, *benchReconcileN)
	defer os.RemoveAll(w.dir)
	if _, rss := w.measure(b, "import", csvPath); rss == 0 {
		b.Fatal("import")
	}
	w.measure(b, "reconcile", "--no-recheck")
	cfg, err := config.Load(w.config, func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	a := app.New(app.App{Config: cfg, Ledger: l, Now: func() time.Time { return w.now }})
	s := web.New(web.Options{App: func() *app.App { return a }})
	get := func(b *testing.B, path string) string {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != 200 {
			b.Fatalf("%s: %d\n%s", path, rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	page := get(b, "/exceptions")
	m := regexp.MustCompile(`data-payment-id="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		b.Fatalf("no exception on the page:\n%s", page)
	}
	payment := "/payment?id=" + m[1]
	window := "/analytics?from=" + start.Format(time.DateOnly) + "&to=" + w.now.Format(time.DateOnly)
	// The first page after a change: the index built, the summary made.
	b.Run("exceptions-first", func(b *testing.B) {
		var added uint64
		for b.Loop() {
			b.StopTimer()
			s.Drop()
			h0 := heap()
			b.StartTimer()
			get(b, "/exceptions")
			b.StopTimer()
			added = heap() - h0
			b.StartTimer()
		}
		b.ReportMetric(float64(s.IndexBytes())/1e6, "index-MB")
		b.ReportMetric(float64(added)/1e6, "index-heap-MB")
	})
	b.Run("analytics-first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s.Drop()
			b.StartTimer()
			get(b, window)
		}
	})
	get(b, "/exceptions")
	get(b, window)
	for _, c := range []struct{ name, path string }{
		{"overview", "/"},
		{"exceptions", "/exceptions"},
		{"exceptions-filtered", "/exceptions?currency=EUR&method=card&sort=amount&page=3"},
		{"exceptions-text", "/exceptions?q=99&sort=newest"},
		{"exceptions-last-page", "/exceptions?per=500&page=1000000"},
		{"payment", payment},
		{"analytics", window},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				get(b, c.path)
			}
		})
	}
	// The daemon's resident memory with the view on, before any page and
	// after the first exceptions page and the first analytics page (the
	// index and the summary held). Logged, once.
	l.Close()
	addr := freeWebPort(b)
	f, err := os.OpenFile(w.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(f, "\n[web]\nlisten = %q\n", addr)
	f.Close()
	cmd, logs := startDaemonChild(b, w)
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	fetch := func(path string) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			b.Fatalf("%s: %v\n%s", path, err, logs.String())
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("%s: %d", path, res.StatusCode)
		}
	}
	time.Sleep(2 * time.Second) // the start's own work settles
	rss0, _ := procStatus(b, cmd.Process.Pid)
	fetch("/exceptions")
	rss1, _ := procStatus(b, cmd.Process.Pid)
	fetch(window)
	rss2, _ := procStatus(b, cmd.Process.Pid)
	b.Logf("daemon RSS: %.1f MB at start, %.1f MB after the first exceptions page, %.1f MB after the first analytics page",
		float64(rss0)/1024, float64(rss1)/1024, float64(rss2)/1024)
}

// freeWebPort is a loopback address with a port free a moment ago.
func freeWebPort(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
