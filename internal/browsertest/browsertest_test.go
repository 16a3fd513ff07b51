package browsertest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB whose Fatal and Skip end the goroutine and are
// remembered, so that a test can see what Start does to its test.
type recorder struct {
	testing.TB
	failed, skipped string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) { r.Fatal(fmt.Sprintf(format, args...)) }
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func startWith(t *testing.T) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(r)
	}()
	<-done
	return r
}

// Without a chromium, a browser test fails and says what installs one;
// with RECONCILED_NO_BROWSER=1 it skips, saying why.
func TestWithoutChromiumTheTestFailsUnlessToldToSkip(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(EnvChromium, "")
	t.Setenv(EnvNoBrowser, "")
	if _, err := Find(); !errors.Is(err, ErrNoBrowser) {
		t.Fatalf("Find on an empty PATH: %v", err)
	}
	r := startWith(t)
	if !strings.Contains(r.failed, ".ci/run installs") || r.skipped != "" {
		t.Errorf("failed %q, skipped %q; want a failure naming .ci/run", r.failed, r.skipped)
	}
	t.Setenv(EnvNoBrowser, "1")
	r = startWith(t)
	if r.failed != "" || !strings.Contains(r.skipped, EnvNoBrowser+"=1") {
		t.Errorf("failed %q, skipped %q; want a skip naming %s=1", r.failed, r.skipped, EnvNoBrowser)
	}
	t.Setenv(EnvChromium, "/nonexistent/chromium")
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "/nonexistent/chromium") {
		t.Errorf("a %s that is not there: %v", EnvChromium, err)
	}
}

// A page is loaded, clicked, screenshot and a download caught; when the
// test is over no process of its browser is left.
func TestTheBrowserLoadsClicksScreenshotsAndDownloads(t *testing.T) {
	csv := "id,amount\n1,10.00\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!DOCTYPE html><html><body><h1 id="h">before</h1>
<button id="b" onclick="document.getElementById('h').textContent='after'">go</button>
<a id="dl" href="/rows.csv">rows</a></body></html>`)
		case "/rows.csv":
			w.Header().Set("Content-Type", "text/csv")
			w.Header().Set("Content-Disposition", `attachment; filename="rows.csv"`)
			fmt.Fprint(w, csv)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	var b *Browser
	t.Run("browser", func(t *testing.T) {
		b = Start(t)
		b.Open(srv.URL + "/")
		if got := b.Text("#h"); got != "before" {
			t.Fatalf("heading %q", got)
		}
		b.Click("#b")
		if got := b.Text("#h"); got != "after" {
			t.Errorf("after the click the heading is %q", got)
		}
		path := b.Screenshot("page")
		png, err := os.ReadFile(path)
		if err != nil || !strings.HasPrefix(string(png), "\x89PNG") || !strings.Contains(path, "/screenshots/page.png") {
			t.Errorf("screenshot %s: %d bytes, %v", path, len(png), err)
		}
		name, data := b.Download("#dl")
		if name != "rows.csv" || string(data) != csv {
			t.Errorf("download %q: %q", name, data)
		}
	})
	if b == nil {
		t.Fatal("no browser")
	}
	if pids := b.processes(); len(pids) > 0 {
		t.Errorf("processes %v of the browser still run after its test", pids)
	}
}
