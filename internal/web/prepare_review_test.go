package web_test

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/web"

	bolt "go.etcd.io/bbolt"
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

// damagedApp is zoneApp's App (Europe/Berlin; reconciled, with a
// record of another amount) whose operation id's stored value and, with
// items, every stored item's value are garbage: the database opens, its
// generation and result's state read, but a pass over the operations
// (or the items) fails.
func damagedApp(t *testing.T, id uint64, items bool) *app.App {
	t.Helper()
	day := time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC)
	a := zoneApp(t, "Europe/Berlin", []domain.Operation{sale(1, "p-1", "card", day, 100, "EUR"), sale(id, "p-2", "card", day, 100, "EUR")})
	if _, err := a.Ledger.ImportRecords([]domain.Record{paid("p-1", "card", day, 90, "EUR")}, ledger.Import{At: now, User: "tester", File: "books.csv", Format: "csv", Lines: 1}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RunReconcile(context.Background(), app.RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	path := a.Config.Storage.Path
	if err := a.Ledger.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket([]byte("v1"))
		if items {
			b := root.Bucket([]byte("result")).Bucket([]byte("items"))
			var keys [][]byte
			b.ForEach(func(k, _ []byte) error { keys = append(keys, append([]byte(nil), k...)); return nil })
			for _, k := range keys {
				if err := b.Put(k, []byte{1, 2, 3}); err != nil {
					return err
				}
			}
		}
		return root.Bucket([]byte("ops")).Put(binary.BigEndian.AppendUint64(nil, id), []byte{0xff, 0xff, 0xff})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return app.New(app.App{Config: a.Config, Ledger: l, Now: a.Now})
}

// A build that fails (a damaged database) is not started again and
// again by each reload of a page "being prepared": the page says what
// could not be prepared, once the build failed, and does not reload
// itself. (FirstWait -1 stands for a large database, whose build fails
// after the first page answered.)
func TestReviewAFailedBuildIsNotAnEndlessRefresh(t *testing.T) {
	a := damagedApp(t, 2, false)
	if _, _, err := a.Ledger.Get(2); err == nil {
		t.Fatal("the operation is not damaged")
	}
	s, ts := serve(t, a, web.Options{FirstWait: -1})
	var res *http.Response
	var body string
	for i := range 5 {
		res, body = get(t, "GET", ts.URL+"/analytics?from=2026-11-01&to=2026-11-30")
		s.Wait()
		if i > 0 && !strings.Contains(body, `id="preparing"`) {
			break
		}
	}
	if strings.Contains(body, "http-equiv") || strings.Contains(body, `id="preparing"`) {
		t.Fatalf("after the analytics' build failed, the page still reloads itself:\n%s", body)
	}
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "analytics could not be prepared") {
		t.Errorf("after the build failed: %d\n%s", res.StatusCode, body)
	}
	// A write (a new generation) tries again: still damaged, still said.
	if _, err := a.Ledger.UpsertPage([]domain.Operation{sale(3, "p-3", "card", time.Date(2026, 11, 11, 10, 0, 0, 0, time.UTC), 5, "EUR")}, now); err != nil {
		t.Fatal(err)
	}
	res, body = get(t, "GET", ts.URL+"/analytics?from=2026-11-01&to=2026-11-30")
	if !strings.Contains(body, `id="preparing"`) {
		t.Errorf("after a write the analytics are not tried again: %d\n%s", res.StatusCode, body)
	}
	s.Wait()
}

// The same of the index of the open exceptions: a result whose items do
// not decode is said, on the exceptions page and the overview, not
// indexed again at every reload.
func TestReviewAFailedIndexIsNotAnEndlessRefresh(t *testing.T) {
	a := damagedApp(t, 2, true)
	if st, err := a.StoredResult(); err != nil || st.None {
		t.Fatalf("the stored result's state: %+v %v", st, err)
	}
	s, ts := serve(t, a, web.Options{FirstWait: -1})
	for _, path := range []string{"/exceptions", "/"} {
		var res *http.Response
		var body string
		for i := range 5 {
			res, body = get(t, "GET", ts.URL+path)
			s.Wait()
			if i > 0 && !strings.Contains(body, `id="preparing"`) {
				break
			}
		}
		if strings.Contains(body, "http-equiv") || res.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "open exceptions could not be prepared") {
			t.Errorf("%s after the index's build failed: %d\n%s", path, res.StatusCode, body)
		}
	}
}

// Windows at the edges: one day, none of the data's, before any data,
// far in the future, the widest the form can send, to before from. Each
// answers at once (no pass: the partials) with the operations of its
// days, and says the days it shows.
func TestReviewWindowsAtTheEdges(t *testing.T) {
	a := world(t) // 31 operations, 2026-11-01 10:00 UTC every 13 hours
	s, ts := serve(t, a, web.Options{})
	s.Prepare()
	s.Wait()
	for _, c := range []struct{ from, to, wantFrom, wantTo, ops string }{
		{"2026-11-01", "2026-11-01", "2026-11-01", "2026-11-01", "2"}, // 10:00 UTC and the hostile one; 23:00 UTC is the 2nd in Berlin
		{"2026-11-02", "2026-11-02", "2026-11-02", "2026-11-02", "2"},
		{"2020-01-01", "2020-01-31", "2020-01-01", "2020-01-31", "0"},
		{"9999-12-01", "9999-12-31", "9999-12-01", "9999-12-31", "0"},
		{"0001-01-01", "9999-12-31", "0001-01-01", "9999-12-31", "31"},
		{"2026-11-20", "2026-11-10", "2026-10-12", "2026-11-10", "19"}, // to before from: the 30 days up to to
	} {
		_, body := until(t, ts.URL+"/analytics?from="+c.from+"&to="+c.to)
		f, to := fromInput.FindStringSubmatch(body), toInput.FindStringSubmatch(body)
		if f == nil || to == nil || f[1] != c.wantFrom || to[1] != c.wantTo {
			t.Errorf("%s..%s: the form says %q..%q, want %s..%s", c.from, c.to, f, to, c.wantFrom, c.wantTo)
		}
		if cell := allCell.FindStringSubmatch(body); cell == nil || cell[1] != c.ops {
			t.Errorf("%s..%s: %q operations, want %s", c.from, c.to, cell, c.ops)
		}
	}
}

// Many clients at once while the data changes under them (an operation
// a write, a reconcile now and then) and the server drops what it holds:
// every answer is a page, and the analytics shown without a note saying
// they are older are never older than the data was when the page was
// asked for (nor newer than what was written by its end). Run with
// -race.
func TestReviewManyClientsWhileTheDataChanges(t *testing.T) {
	a := world(t)
	s, ts := serve(t, a, web.Options{FirstWait: 5 * time.Millisecond})
	s.Prepare()
	var committed, started atomic.Int64
	committed.Store(31)
	started.Store(31)
	stop := make(chan struct{})
	var writers sync.WaitGroup
	writers.Add(1)
	go func() {
		defer writers.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			started.Add(1)
			op := sale(uint64(10_000+i), "w-"+strconv.Itoa(i), "card", time.Date(2026, 11, 5, 10, 0, i, 0, time.UTC), 100, "EUR")
			if _, err := a.Ledger.UpsertPage([]domain.Operation{op}, now); err != nil {
				t.Error(err)
				return
			}
			committed.Add(1)
			if i%5 == 4 {
				if _, err := a.RunReconcile(context.Background(), app.RunRequest{User: "tester"}); err != nil {
					t.Error(err)
					return
				}
			}
			if i%7 == 6 {
				s.Drop()
			}
			time.Sleep(2 * time.Millisecond) // let readers in between writes (not a timing assertion)
		}
	}()
	var clients sync.WaitGroup
	var checked atomic.Int64
	for c := range 8 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for range 25 {
				path := []string{"/analytics?from=2026-11-01&to=2026-11-30", "/exceptions", "/"}[c%3]
				before := committed.Load()
				res, body := get(t, "GET", ts.URL+path)
				after := started.Load()
				if res.StatusCode != 200 {
					t.Errorf("%s: %d\n%s", path, res.StatusCode, body)
					return
				}
				if c%3 != 0 || strings.Contains(body, `id="preparing"`) {
					continue
				}
				cell := allCell.FindStringSubmatch(body)
				if cell == nil {
					t.Errorf("no totals:\n%s", body)
					return
				}
				n, _ := strconv.ParseInt(cell[1], 10, 64)
				checked.Add(1)
				stale := strings.Contains(body, "the data changed since")
				if n > after || (!stale && n < before) {
					t.Errorf("analytics of %d operations (stale note %v), while %d..%d were stored", n, stale, before, after)
				}
			}
		}()
	}
	clients.Wait()
	close(stop)
	writers.Wait()
	s.Wait()
	if checked.Load() == 0 {
		t.Error("no analytics page showed numbers: nothing was checked")
	}
	t.Logf("%d analytics pages checked, %d operations written", checked.Load(), committed.Load()-31)
}

// A reload changing data_api.tz while the partials are being made (in
// the old zone): the pages after it count days in the new zone, never
// the old zone's partials as the new's.
func TestReviewAReloadChangingTheZoneDuringABuild(t *testing.T) {
	// 02:00 UTC on the 1st: the 1st in Berlin, the 31st of October in Santiago (-03).
	op := sale(1, "p-1", "card", time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC), 100, "EUR")
	berlin := zoneApp(t, "Europe/Berlin", []domain.Operation{op})
	cfg := *berlin.Config
	cfg.DataAPI.TZ = "America/Santiago"
	santiago := app.New(app.App{Config: &cfg, Ledger: berlin.Ledger, Now: berlin.Now})
	if berlin.Config.Zone().String() != "Europe/Berlin" || santiago.Config.Zone().String() != "America/Santiago" {
		t.Fatalf("the two configs' zones: %v, %v", berlin.Config.Zone(), santiago.Config.Zone())
	}
	var current atomic.Pointer[app.App]
	current.Store(berlin)
	s := web.New(web.Options{App: current.Load, FirstWait: -1})
	ts := httptest.NewServer(s)
	defer ts.Close()
	s.Prepare() // in Berlin
	current.Store(santiago)
	for _, c := range []struct{ day, want string }{{"2026-11-01", "0"}, {"2026-10-31", "1"}} {
		var body string
		for range 100 {
			_, body = get(t, "GET", ts.URL+"/analytics?from="+c.day+"&to="+c.day)
			if !strings.Contains(body, `id="preparing"`) {
				break
			}
			s.Wait()
		}
		if cell := allCell.FindStringSubmatch(body); cell == nil || cell[1] != c.want || !strings.Contains(body, "America/Santiago") {
			t.Errorf("%s in Santiago after the reload: %q operations, want %s\n%s", c.day, cell, c.want, body)
		}
	}
}
