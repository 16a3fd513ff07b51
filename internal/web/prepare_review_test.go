package web_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/web"
)

// zoneApp is an App in zone over a real ledger holding ops (no
// reconciliation stored).
func zoneApp(t *testing.T, zone string, ops []domain.Operation) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.DataAPI.TZ = zone
	cfg.DataAPI.Projects = []int64{7}
	cfg.Storage.Path = filepath.Join(t.TempDir(), "reconciled.db")
	l, err := ledger.Open(cfg.Storage.Path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if _, err := l.UpsertPage(ops, now); err != nil {
		t.Fatal(err)
	}
	return app.New(app.App{Config: cfg, Ledger: l, Now: func() time.Time { return now }})
}

var (
	allCell   = regexp.MustCompile(`<td>all</td><td class="n">([0-9]+)</td>`)
	fromInput = regexp.MustCompile(`id="a-from" type="date" name="from" value="([^"]*)"`)
	toInput   = regexp.MustCompile(`id="a-to" type="date" name="to" value="([^"]*)"`)
)

// America/Santiago moves its clocks at midnight: 2024-09-08 begins at
// 01:00 -03 (there is no 00:00), and 2024-04-07 has its 23:00-24:00
// twice. A window of days is those days, whole, and the form says the
// days asked for.
func TestReviewWindowAcrossSantiagosMidnightChange(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	ops := []domain.Operation{
		sale(1, "p-6", "card", at(2024, 9, 6, 12, 0), 100, "CLP"),
		sale(2, "p-7", "card", at(2024, 9, 7, 23, 30), 100, "CLP"), // 03:30 UTC on the 8th
		sale(3, "p-8", "card", at(2024, 9, 8, 1, 30), 100, "CLP"),  // the 8th's first hour
		sale(4, "p-9", "card", at(2024, 9, 9, 0, 30), 100, "CLP"),
		sale(5, "p-a", "card", at(2024, 4, 6, 23, 30), 100, "CLP"), // the hour lived twice, first time
		sale(6, "p-b", "card", at(2024, 4, 6, 23, 30).Add(time.Hour), 100, "CLP"),
		sale(7, "p-c", "card", at(2024, 4, 7, 0, 30), 100, "CLP"),
	}
	for _, op := range ops[2:4] {
		if op.CreatedAt.In(loc).Hour() == 23 {
			t.Fatalf("the test's times are not what it thinks: %v", op.CreatedAt.In(loc))
		}
	}
	a := zoneApp(t, "America/Santiago", ops)
	for _, wait := range []time.Duration{0, -1} { // the partials, and a pass while they are being made
		s, ts := serve(t, a, web.Options{FirstWait: wait})
		if wait == 0 {
			s.Prepare()
			s.Wait()
		}
		for _, c := range []struct {
			from, to string
			want     string
		}{
			{"2024-09-07", "2024-09-07", "1"},
			{"2024-09-08", "2024-09-08", "1"},
			{"2024-09-07", "2024-09-08", "2"},
			{"2024-09-06", "2024-09-09", "4"},
			{"2024-09-09", "2024-09-09", "1"},
			{"2024-04-06", "2024-04-06", "2"},
			{"2024-04-07", "2024-04-07", "1"},
		} {
			body := ""
			if wait == 0 {
				_, body = until(t, ts.URL+"/analytics?from="+c.from+"&to="+c.to)
			} else {
				_, body = get(t, "GET", ts.URL+"/analytics?from="+c.from+"&to="+c.to)
			}
			f, to := fromInput.FindStringSubmatch(body), toInput.FindStringSubmatch(body)
			if f == nil || to == nil || f[1] != c.from || to[1] != c.to {
				t.Errorf("wait %v, %s..%s: the form says %q..%q", wait, c.from, c.to, f, to)
			}
			if wait < 0 && strings.Contains(body, `id="preparing"`) {
				continue // nothing to count yet
			}
			if cell := allCell.FindStringSubmatch(body); cell == nil || cell[1] != c.want {
				t.Errorf("wait %v, %s..%s: %q operations, want %s", wait, c.from, c.to, cell, c.want)
			}
		}
	}
}
