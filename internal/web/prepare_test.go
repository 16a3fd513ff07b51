package web_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/web"
)

// until gets path until its body has none of the "being prepared" hook,
// and returns the pages seen before it and the one after.
func until(t *testing.T, url string) (prepared []string, body string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		res, b := get(t, "GET", url)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d\n%s", url, res.StatusCode, b)
		}
		if !strings.Contains(b, `id="preparing"`) {
			return prepared, b
		}
		prepared = append(prepared, b)
		if time.Now().After(deadline) {
			t.Fatalf("%s is still being prepared:\n%s", url, b)
		}
	}
}

// With nothing held and no wait, the first pages answer at once that
// they are being prepared, reload themselves (a meta refresh: no
// script), and then show what a page with everything held shows.
func TestFirstPagesSayTheyAreBeingPrepared(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{FirstWait: -1})
	window := "/analytics?from=2026-11-01&to=2026-11-30"
	for _, c := range []struct{ path, done string }{
		{window, `id="chart-approval"`},
		{"/exceptions", `id="exceptions"`},
	} {
		res, first := get(t, "GET", ts.URL+c.path)
		if res.StatusCode != 200 || !strings.Contains(first, `id="preparing"`) || !strings.Contains(first, `<meta http-equiv="refresh" content="1">`) {
			t.Fatalf("%s, the first: %d\n%s", c.path, res.StatusCode, first)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(first, "<script") {
			t.Errorf("%s: the page being prepared has a script or lost its CSP %q", c.path, csp)
		}
		if c.path == window && !regexp.MustCompile(`being prepared: [0-9,]+ (of 31 operations read|operations read so far)`).MatchString(first) {
			t.Errorf("the analytics being prepared do not say how far:\n%s", first)
		}
		if !strings.Contains(first, `id="window"`) && !strings.Contains(first, `id="filters"`) {
			t.Errorf("%s: the form is not on the page being prepared", c.path)
		}
		_, body := until(t, ts.URL+c.path)
		if !strings.Contains(body, c.done) || strings.Contains(body, "http-equiv") {
			t.Errorf("%s, once prepared:\n%s", c.path, body)
		}
	}
	// The overview's ages too; and its results (the stored result's
	// counts) are there at once.
	_, ov := get(t, "GET", ts.URL+"/")
	if !strings.Contains(ov, `id="results"`) || strings.Contains(ov, `id="preparing"`) {
		t.Errorf("the overview after the index was built:\n%s", ov)
	}
}

// The analytics merged from the day partials are the analytics of a
// pass over the window: the page's totals, decline counts and times to
// final are the ones App.Summary gives.
func TestAnalyticsPageIsTheSummary(t *testing.T) {
	a := world(t)
	s, ts := serve(t, a, web.Options{})
	s.Prepare()
	s.Wait()
	berlin := a.Config.Zone()
	from, to := time.Date(2026, 11, 2, 0, 0, 0, 0, berlin), time.Date(2026, 11, 13, 0, 0, 0, 0, berlin)
	want, err := a.Summary(context.Background(), app.SummaryRequest{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	_, body := until(t, ts.URL+"/analytics?from=2026-11-02&to=2026-11-12")
	cell := regexp.MustCompile(`<td>all</td><td class="n">([0-9]+)</td><td class="n">([0-9]+)</td>`).FindStringSubmatch(body)
	if cell == nil || cell[1] != strconv.Itoa(want.Total.Operations) || cell[2] != strconv.Itoa(want.Total.Success) || want.Total.Operations == 0 ||
		want.Total.Operations == 31 {
		t.Fatalf("totals %q, want %d operations, %d successful (of a part of the 31)\n%s", cell, want.Total.Operations, want.Total.Success, body)
	}
	for _, tf := range want.TimeToFinal {
		if !strings.Contains(body, "<td>"+tf.Method+"</td><td class=\"n\">"+strconv.Itoa(tf.Count)+"</td><td class=\"n\">"+tf.Median.String()+"</td>") {
			t.Errorf("time to final of %s: %+v not on the page", tf.Method, tf)
		}
	}
	if s.AnalyticsEntries() == 0 {
		t.Error("no partials held")
	}
}

// Past the idle drop a small index and small partials are kept (the
// next first page needs no build), a large one is dropped.
func TestIdleKeepsWhatIsSmall(t *testing.T) {
	a := world(t)
	for _, c := range []struct {
		keep int
		held bool
	}{{0, true}, {-1, false}} {
		s, ts := serve(t, a, web.Options{KeepIdle: c.keep})
		until(t, ts.URL+"/exceptions")
		until(t, ts.URL+"/analytics")
		web.IdleNow(s)
		if s.Indexed() != c.held || (s.AnalyticsEntries() > 0) != c.held {
			t.Errorf("KeepIdle %d: index held %v, partials %d entries; want held %v", c.keep, s.Indexed(), s.AnalyticsEntries(), c.held)
		}
		// Dropped or not, the next page shows the exceptions.
		if _, body := until(t, ts.URL+"/exceptions"); !strings.Contains(body, `id="exceptions"`) {
			t.Errorf("KeepIdle %d: after the idle drop:\n%s", c.keep, body)
		}
	}
}
