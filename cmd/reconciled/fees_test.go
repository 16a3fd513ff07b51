package main

import (
	"encoding/csv"
	"path/filepath"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
	"strings"
	"testing"
	"time"
)

// With fees.sync on, `sync` pulls the fees too and says so, and `status`
// shows how far they are synced.
func TestSyncPullsTheFeesWhenAsked(t *testing.T) {
	w := newWorld(t, 400, 5*time.Minute, "") // the extra text would land in [data_api]
	appendConfig(t, w, "\n[fees]\nsync = true\n")
	code, out, errOut := w.run(t, "sync")
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out+errOut, " records: 400 new, 0 updated, 0 unchanged in ") {
		t.Fatalf("sync says:\n%s%s", out, errOut)
	}
	code, out, errOut = w.run(t, "status")
	if code != 0 || !strings.Contains(out, "fees (/financial-reporting/operations)") {
		t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
	}
	wm := w.now.UTC().Format("2006-01-02 15:04:05")
	for _, p := range []string{"580", "579"} {
		found := false
		for _, line := range strings.Split(out[strings.Index(out, "fees (/financial"):], "\n") {
			if strings.HasPrefix(line, p+" ") && strings.Contains(line, wm) {
				found = true
			}
		}
		if !found {
			t.Errorf("status has no fee watermark %s for project %s:\n%s", wm, p, out)
		}
	}
}

// export --what settlement: a row per day, project and currency whose net
// is purchases - refunds - payouts - fees - chargebacks, the fees summing
// to every fee the API charged; stats --by settlement shows the same rows.
func TestSettlementExport(t *testing.T) {
	w := newWorld(t, 600, 5*time.Minute, "")
	appendConfig(t, w, "\n[fees]\nsync = true\n")
	if code, out, errOut := w.run(t, "sync"); code != 0 {
		t.Fatalf("sync: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := w.run(t, "export", "--what", "settlement", "--format", "csv")
	if code != 0 {
		t.Fatalf("export: %d\n%s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 3 {
		t.Fatalf("%d rows, %v:\n%s", len(rows), err, out)
	}
	if got := strings.Join(rows[0], ","); got != "day,project_id,currency,purchases,refunds,payouts,fees,chargebacks,net,operations,charged" {
		t.Fatalf("header %s", got)
	}
	minor := func(s, cur string) int64 {
		m, err := domain.ParseMajor(s, cur)
		if err != nil {
			t.Fatalf("%q %s: %v", s, cur, err)
		}
		return m
	}
	fees := map[string]int64{}
	for _, r := range rows[1:] {
		cur := r[2]
		p, rf, po, f, cb, net := minor(r[3], cur), minor(r[4], cur), minor(r[5], cur), minor(r[6], cur), minor(r[7], cur), minor(r[8], cur)
		if net != p-rf-po-f-cb {
			t.Errorf("row %v: net %d, want %d", r, net, p-rf-po-f-cb)
		}
		fees[cur] += f
	}
	want := map[string]int64{}
	for _, op := range w.fake.Operations(w.now) {
		if fee := fakeapi.FeeOf(&op); fee.Currency != "" {
			want[fee.Currency] += fee.Amount
		}
		if op.OperationType == "commission" && op.OperationStatus == domain.StatusSuccess {
			want[op.SumInitial.Currency] += op.SumInitial.Amount
		}
	}
	for cur, n := range want {
		if fees[cur] != n {
			t.Errorf("%s: fees %d in the settlement, %d charged", cur, fees[cur], n)
		}
	}
	code, stats, _ := w.run(t, "stats", "--by", "settlement")
	if code != 0 || !strings.Contains(stats, "net settlement by day, project and currency") || !strings.Contains(stats, rows[1][8]) {
		t.Fatalf("stats --by settlement: %d\n%s", code, stats)
	}
	path := filepath.Join(t.TempDir(), "s.xlsx")
	if code, _, errOut := w.run(t, "export", "--what", "settlement", "--format", "xlsx", "-o", path); code != 0 {
		t.Fatalf("xlsx: %s", errOut)
	}
}
