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
	"strings"
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
// It also reports the first exceptions and analytics pages with nothing
// held (they answer "being prepared" at once, or the page when the build
// ends within the view's first wait), how long the build they start
// takes, what it holds (the index's size, the partials' entries, the
// heap each added), and a window's first page once the partials are
// held (their merge).
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
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = "127.0.0.1:8088" // as a browser on the host names it (httptest's example.com is refused: 421)
		s.ServeHTTP(rec, req)
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
	ready := func(b *testing.B, path string) string {
		for {
			page := get(b, path)
			if !strings.Contains(page, `id="preparing"`) {
				return page
			}
			s.Wait()
		}
	}
	page := ready(b, "/exceptions")
	m := regexp.MustCompile(`data-payment-id="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		b.Fatalf("no exception on the page:\n%s", page)
	}
	payment := "/payment?id=" + m[1]
	window := "/analytics?from=" + start.Format(time.DateOnly) + "&to=" + w.now.Format(time.DateOnly)
	// The first page with nothing held (after a start, or an idle drop
	// of a large index): what it answers at once ("being prepared", or
	// the page if the build was done within the view's first wait), and,
	// once, how long the build it started took (ready-ms) and what it
	// holds.
	first := func(b *testing.B, page string) (took time.Duration, added uint64) {
		for b.Loop() {
			b.StopTimer()
			s.Drop()
			h0 := heap()
			b.StartTimer()
			t0 := time.Now()
			get(b, page)
			b.StopTimer()
			s.Wait()
			took = time.Since(t0)
			added = heap() - h0
			b.StartTimer()
		}
		return took, added
	}
	b.Run("exceptions-first", func(b *testing.B) {
		took, added := first(b, "/exceptions")
		b.ReportMetric(float64(took.Microseconds())/1e3, "ready-ms")
		b.ReportMetric(float64(s.IndexBytes())/1e6, "index-MB")
		b.ReportMetric(float64(added)/1e6, "index-heap-MB")
	})
	b.Run("analytics-first", func(b *testing.B) {
		took, added := first(b, window)
		b.ReportMetric(float64(took.Microseconds())/1e3, "ready-ms")
		b.ReportMetric(float64(s.AnalyticsEntries()), "days-entries")
		b.ReportMetric(float64(added)/1e6, "days-heap-MB")
	})
	ready(b, "/exceptions")
	ready(b, window)
	// A window not asked for before, its partials held: the merge of
	// its days (ten windows in turn, more than the view keeps merged).
	b.Run("analytics-new-window", func(b *testing.B) {
		i := 0
		for b.Loop() {
			get(b, "/analytics?from="+start.AddDate(0, 0, i%10).Format(time.DateOnly)+"&to="+w.now.Format(time.DateOnly))
			i++
		}
	})
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
	// fetch gets path until it is neither being prepared nor of older
	// data (a write of the daemon's start moved the generation on: the
	// partials are made again in the background), so that the RSS read
	// after it is of what the view holds, no build under way.
	peak := 0 // the largest RSS seen while polling: while the view prepared
	fetch := func(path string) string {
		for deadline := time.Now().Add(time.Minute); ; {
			if rss, _ := procStatus(b, cmd.Process.Pid); rss > peak {
				peak = rss
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s: still being prepared, or of older data, after a minute\n%s", path, logs.String())
			}
			res, err := http.Get("http://" + addr + path)
			if err != nil {
				b.Fatalf("%s: %v\n%s", path, err, logs.String())
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatalf("%s: %d", path, res.StatusCode)
			}
			if page := string(body); !strings.Contains(page, `id="preparing"`) && !strings.Contains(page, "being summed again") && !strings.Contains(page, `id="stale"`) {
				return page
			}
			time.Sleep(100 * time.Millisecond) // as the page's refresh would, a little faster
		}
	}
	// The daemon prepares the index and the partials when it starts:
	// its RSS once both are held is what it holds idle (both are under
	// the view's KeepIdle at this size).
	fetch("/exceptions")
	fetch(window)
	time.Sleep(2 * time.Second) // the start's own work settles
	fetch(window)
	rss1, _ := procStatus(b, cmd.Process.Pid)
	line := fmt.Sprintf("daemon RSS: %.1f MB at most seen while it prepared (sampled every 0.1 s), %.1f MB with the index and the partials held",
		float64(peak)/1024, float64(rss1)/1024)
	for _, path := range []string{"/", "/exceptions?q=99", payment, "/analytics?from=" + start.AddDate(0, 0, 3).Format(time.DateOnly)} {
		fetch(path)
		rss, _ := procStatus(b, cmd.Process.Pid)
		line += fmt.Sprintf(", %.1f MB after %s", float64(rss)/1024, path)
	}
	b.Log(line)
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
