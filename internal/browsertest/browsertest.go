// Package browsertest runs a test's pages in a real browser: Debian's
// chromium, headless, driven over the DevTools protocol by chromedp. It is
// for tests only (internal/archtest holds it out of the binary).
//
// Start finds chromium (RECONCILED_CHROMIUM, else chromium,
// chromium-browser, google-chrome or headless_shell on PATH) and starts it
// with a fresh profile in the test's temporary folder. When there is none
// the test fails, saying that .ci/run installs it: a browser test that
// skipped itself silently would hide that the pages were never looked at.
// RECONCILED_NO_BROWSER=1 makes them skip instead, saying why, for a
// machine that cannot have one.
//
// Screenshot writes a full-page PNG to t.TempDir()/screenshots/NAME.png
// (or RECONCILED_SCREENSHOTS/NAME.png, which outlives the test) and logs
// its path; Click clicks the first element a selector finds; Download
// clicks and catches the file the page sends (Browser.setDownloadBehavior
// into a folder of the test's), returning its name and bytes.
//
// The browser is stopped when the test ends: its context is cancelled
// (chromedp closes the browser and kills its process), and any process
// still running with the test's profile folder in its command line (a
// renderer, the zygote) is killed by its pid; the test fails if one will
// not go.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// Environment variables the package reads.
const (
	EnvNoBrowser   = "RECONCILED_NO_BROWSER"  // "1": browser tests skip instead of failing without chromium
	EnvChromium    = "RECONCILED_CHROMIUM"    // the browser's path, instead of looking on PATH
	EnvScreenshots = "RECONCILED_SCREENSHOTS" // a folder for the screenshots that outlives the test
)

// candidates are the names a chromium goes by on PATH, Debian's first.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"}

// ErrNoBrowser means no chromium was found.
var ErrNoBrowser = errors.New("no chromium found: .ci/run installs Debian's chromium (apt-get install chromium); " +
	"set " + EnvNoBrowser + "=1 to skip the browser tests instead")

// Find returns the path of the chromium to run.
func Find() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvChromium, p, err)
		}
		return p, nil
	}
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Timeout bounds each step (a page load, a click, a download): a guard
// against a browser that hangs, not a measure of anything.
const Timeout = 60 * time.Second

// Browser is one headless chromium of one test.
type Browser struct {
	t       testing.TB
	ctx     context.Context // the tab's
	profile string
	shots   string
	dls     string

	mu     sync.Mutex
	names  map[string]string // download GUID → the name the page suggested
	states map[string]string // download GUID → how it ended: completed, canceled
	event  chan struct{}     // a download began or ended
}

// Start starts a headless chromium for t, stopped when t ends. Without a
// chromium it fails t, or skips it when RECONCILED_NO_BROWSER=1.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := Find()
	if err != nil {
		if os.Getenv(EnvNoBrowser) == "1" {
			t.Skipf("%s=1: browser tests skipped (%v)", EnvNoBrowser, err)
		}
		t.Fatal(err)
	}
	dir := t.TempDir()
	b := &Browser{t: t, profile: filepath.Join(dir, "profile"), shots: filepath.Join(dir, "screenshots"), dls: filepath.Join(dir, "downloads"),
		names: map[string]string{}, states: map[string]string{}, event: make(chan struct{}, 1)}
	if d := os.Getenv(EnvScreenshots); d != "" {
		b.shots = d
	}
	for _, d := range []string{b.profile, b.shots, b.dls} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(b.profile),
		chromedp.NoSandbox, // tests run as root in CI; the pages are the test's own
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(func(string, ...any) {}))
	b.ctx = ctx
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		b.reap()
	})
	// The first action starts the browser, bound to ctx, which has no
	// deadline (the browser would die with it): Timeout guards it here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("browser: start %s: %v", path, err)
		}
	case <-time.After(Timeout):
		t.Fatalf("browser: %s did not start within %s", path, Timeout)
	}
	for _, listen := range []func(context.Context, func(any)) error{chromedp.ListenBrowser, chromedp.Listen} {
		if err := listen(ctx, b.onEvent); err != nil {
			t.Fatalf("browser: listen: %v", err)
		}
	}
	events := true
	b.run("allow downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: b.dls, EventsEnabled: &events})
		return err
	}))
	return b
}

// onEvent follows downloads.
func (b *Browser) onEvent(ev any) {
	b.mu.Lock()
	switch ev := ev.(type) {
	case *browser.EventDownloadWillBegin:
		b.names[ev.GUID] = ev.SuggestedFilename
	case *browser.EventDownloadProgress:
		if ev.State == browser.DownloadProgressStateCompleted || ev.State == browser.DownloadProgressStateCanceled {
			b.states[ev.GUID] = ev.State.String()
		}
	default:
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	select {
	case b.event <- struct{}{}:
	default:
	}
}

// run runs steps within Timeout, failing the test with what on an
// error.
func (b *Browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// value runs one action within Timeout and returns its value, failing
// the test with what on an error.
func value[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// Context is the browser tab's chromedp context, for actions this package
// has no method for.
func (b *Browser) Context() context.Context { return b.ctx }

// Open loads url and waits until its body is there.
func (b *Browser) Open(url string) {
	b.t.Helper()
	b.run("open "+url, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// Eval evaluates a JavaScript expression in the page and decodes its
// result as JSON into res (a pointer).
func (b *Browser) Eval(expr string, res any) {
	b.t.Helper()
	raw := value(b, "evaluate "+expr, chromedp.Evaluate[[]byte](expr))
	if err := json.Unmarshal(raw, res); err != nil {
		b.t.Fatalf("browser: evaluate %s: %v (%s)", expr, err, raw)
	}
}

// Text is the rendered text of the first element the CSS selector sel
// finds (innerText: what a person reads).
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return value(b, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// Click clicks the first element the CSS selector sel finds, once it is
// visible.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.run("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// Screenshot writes the whole page as NAME.png to the screenshots folder
// and returns its path (logged too).
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	png := value(b, "screenshot "+name, chromedp.FullScreenshot(100)) // 100: PNG
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		b.t.Fatalf("browser: screenshot %s is no PNG (%d bytes)", name, len(png))
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o640); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// Download clicks sel and waits for the download it starts: the name the
// page gave the file and its bytes.
func (b *Browser) Download(sel string) (string, []byte) {
	b.t.Helper()
	b.mu.Lock()
	before := map[string]bool{}
	for g := range b.names {
		before[g] = true
	}
	b.mu.Unlock()
	b.Click(sel)
	deadline := time.After(Timeout)
	for {
		b.mu.Lock()
		var guid, name, state string
		for g, n := range b.names {
			if !before[g] {
				guid, name, state = g, n, b.states[g]
			}
		}
		b.mu.Unlock()
		switch state {
		case "":
			select {
			case <-deadline:
				if guid == "" {
					b.t.Fatalf("browser: clicking %s started no download", sel)
				}
				b.t.Fatalf("browser: the download of %s (clicking %s) did not complete", name, sel)
			case <-b.event:
			}
			continue
		case browser.DownloadProgressStateCompleted.String():
		default:
			b.t.Fatalf("browser: the download of %s: %s", name, state)
		}
		data, err := os.ReadFile(filepath.Join(b.dls, guid)) // allowAndName saves it by its GUID
		if err != nil {
			b.t.Fatal(err)
		}
		return name, data
	}
}

// reap kills what is left of the browser: every process whose command
// line names the test's profile folder. The test fails if one outlives a
// SIGKILL.
func (b *Browser) reap() {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := b.processes()
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.t.Errorf("browser: processes %v of %s still running after SIGKILL", pids, b.profile)
			return
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL) // ours: they run with this test's profile
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// processes are the running processes whose command line names the
// profile folder (Linux's /proc; elsewhere none are found).
func (b *Browser) processes() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmd), b.profile) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && zombie(st) {
			continue // gone, its parent not told yet
		}
		out = append(out, pid)
	}
	return out
}

// zombie says whether a /proc/PID/stat line is a zombie's: the state after
// the command's closing parenthesis.
func zombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
