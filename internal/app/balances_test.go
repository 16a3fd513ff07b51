package app

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/syncer"
)

// balancesWorld is newAPIWorld with the Data API behind a switch that
// makes /balance/get answer 503 (the operations are served as ever).
func balancesWorld(t *testing.T) (*apiWorld, *atomic.Bool) {
	w := newAPIWorld(t, 600, apiToken)
	var fail atomic.Bool
	inner := w.fake.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == dataapi.PathBalance && fail.Load() {
			rw.WriteHeader(http.StatusServiceUnavailable)
			rw.Write([]byte(`{"status":"error","code":"unavailable","message":"balances are being recalculated"}`))
			return
		}
		inner.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.app.Config.DataAPI.BaseURL = srv.URL
	return w, &fail
}

// fakeBalance is how status writes the fake's balance name of project p
// in cur: "1 234.56 EUR".
func (w *apiWorld) fakeBalance(t *testing.T, p int64, name, cur string) string {
	t.Helper()
	for _, e := range w.fake.Balances([]int64{p}, now) {
		for _, m := range e.Amounts {
			if e.Name == name && m.Currency == cur {
				return GroupThousands(domain.Money{Amount: m.Amount, Currency: cur}.String())
			}
		}
	}
	t.Fatalf("the fake has no %s balance in %s for %d", name, cur, p)
	return ""
}

func statusText(t *testing.T, a *App) string {
	t.Helper()
	st, err := a.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteStatus(&b, st); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A sync reads the balances (balances.sync is on by default) and says
// so; status shows every balance by name with its amount in major units
// and the time read; a failed read later keeps them, with its error,
// and fails no sync; the report shows them too.
func TestSyncReadsTheBalancesStatusAndTheReportShowThem(t *testing.T) {
	w, fail := balancesWorld(t)
	ctx := context.Background()
	if got := statusText(t, w.app); !strings.Contains(got, "balances  none read yet: the next sync reads them (balances.sync)") {
		t.Errorf("status before a sync:\n%s", got)
	}
	res, err := w.app.Sync(ctx, SyncRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if line := SyncLine(res); !regexp.MustCompile(` in [0-9.]+[µm]?s; balances of 2 projects read($|;)`).MatchString(line) {
		t.Errorf("sync line: %s", line)
	}
	out := statusText(t, w.app)
	at := now.Format("2006-01-02 15:04:05")
	eur, uzs := w.fakeBalance(t, 580, "OUT", "EUR"), w.fakeBalance(t, 579, "OUT", "UZS")
	for _, want := range []string{
		"balances (/balance/get, each as ECommPay names it; never added together)",
		"project  balance  kind",
		"580      OUT      payout  ",
		eur + "  " + at,
		"579      OUT      payout  ",
		uzs + "  " + at,
		"580      IN       other   ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "580      OUT") > strings.Index(out, "580      IN") {
		t.Errorf("the OUT balance is not first:\n%s", out)
	}

	fail.Store(true)
	res, err = w.app.Sync(ctx, SyncRequest{})
	if err != nil {
		t.Fatalf("a failed balance read failed the sync: %v", err)
	}
	if line := SyncLine(res); !strings.Contains(line, "; balances not read for 580, 579 (the last reading stays; status shows why)") {
		t.Errorf("sync line: %s", line)
	}
	out = statusText(t, w.app)
	for _, want := range []string{
		eur + "  " + at + " (below)",
		"last balance read errors (the balances above are of the read before):\n  579, " + at + ": balances of projects [579]: /balance/get: HTTP 503 unavailable: balances are being recalculated",
		"\n  580, " + at + ": balances of projects [580]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, apiToken) {
		t.Error("the token shows in status")
	}

	dr, err := w.app.Report(ctx, w.app.Yesterday())
	if err != nil {
		t.Fatal(err)
	}
	var txt bytes.Buffer
	if err := dr.Text(&txt); err != nil {
		t.Fatal(err)
	}
	report := strings.ReplaceAll(txt.String(), "\u202f", " ")
	for _, want := range []string{"Balances, as ECommPay reports them", strings.TrimSuffix(strings.ReplaceAll(eur, "\u202f", " "), " EUR"),
		"project 580: the last read failed at 2026-11-21 09:00 (balances of projects [580]: /balance/get: HTTP 503"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
}

// With balances.sync off a sync reads none and status says nothing of
// them; readings kept from before are shown as old.
func TestBalancesSyncOff(t *testing.T) {
	w, _ := balancesWorld(t)
	w.app.Config.Balances.Sync = false
	res, err := w.app.Sync(context.Background(), SyncRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if line := SyncLine(res); strings.Contains(line, "balances") {
		t.Errorf("sync line: %s", line)
	}
	if rs, _ := w.app.Ledger.Balances(); len(rs) != 0 {
		t.Fatalf("read with balances.sync off: %+v", rs)
	}
	if out := statusText(t, w.app); strings.Contains(out, "balances") {
		t.Errorf("status:\n%s", out)
	}
	w.app.Config.Balances.Sync = true
	if _, err := w.app.Sync(context.Background(), SyncRequest{}); err != nil {
		t.Fatal(err)
	}
	w.app.Config.Balances.Sync = false
	if out := statusText(t, w.app); !strings.Contains(out, "balances.sync is off: the last readings, as old as they say") {
		t.Errorf("status:\n%s", out)
	}
}

// The sync line names the projects whose balances were not read.
func TestBalancesNote(t *testing.T) {
	for _, tt := range []struct {
		r    syncer.BalanceResult
		want string
	}{
		{syncer.BalanceResult{}, ""},
		{syncer.BalanceResult{Read: []int64{580}}, "; balances of 1 project read"},
		{syncer.BalanceResult{Read: []int64{580}, Failed: []int64{579}}, "; balances of 1 project read, not read for 579 (the last reading stays; status shows why)"},
		{syncer.BalanceResult{Failed: []int64{580, 579}}, "; balances not read for 580, 579 (the last reading stays; status shows why)"},
	} {
		if got := balancesNote(tt.r); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.r, got, tt.want)
		}
	}
}
