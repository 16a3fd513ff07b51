package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	bolt "go.etcd.io/bbolt"
)

// `sync` reads the balances (balances.sync is on by default) and says
// so; `status` and `report` show them by name with the time read, and the
// report's workbook has them in a sheet.
func TestSyncReadsTheBalancesStatusAndReportShowThem(t *testing.T) {
	w := newWorld(t, 400, 5*time.Minute, "")
	code, out, errOut := w.run(t, "sync")
	if code != 0 || !strings.Contains(out+errOut, "; balances of 2 projects read") {
		t.Fatalf("sync: exit %d\n%s%s", code, out, errOut)
	}
	at := w.now.UTC().Format("2006-01-02 15:04:05")
	code, out, errOut = w.run(t, "status")
	if code != 0 || !strings.Contains(out, "balances (/balance/get") {
		t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
	}
	for _, p := range []string{"580", "579"} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, p+" ") && strings.Contains(line, " OUT ") && strings.Contains(line, " payout ") && strings.HasSuffix(line, at) {
				found = true
			}
		}
		if !found {
			t.Errorf("status has no OUT balance of %s read at %s:\n%s", p, at, out)
		}
	}
	code, out, errOut = w.run(t, "report")
	if code != 0 || !strings.Contains(out, "Balances, as ECommPay reports them") {
		t.Fatalf("report: exit %d\n%s%s", code, out, errOut)
	}
	xlsx := filepath.Join(w.dir, "report.xlsx")
	if code, out, errOut := w.run(t, "report", "-o", xlsx); code != 0 {
		t.Fatalf("report -o: exit %d\n%s%s", code, out, errOut)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Balances")
	if err != nil || len(rows) < 3 || rows[1][1] != "OUT" || rows[1][2] != "payout" {
		t.Fatalf("the Balances sheet: %q, %v", rows, err)
	}
}

// A database from before balances (no balances/ bucket: the next command
// that writes makes it) is read by status, report and check, which open it
// read-only, as one with no balances yet, never as damage.
func TestStatusAndReportOfADatabaseFromBeforeBalances(t *testing.T) {
	w := newWorld(t, 200, 5*time.Minute, "")
	if code, out, errOut := w.run(t, "sync"); code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", code, out, errOut)
	}
	db, err := bolt.Open(w.db, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("v1")).DeleteBucket([]byte("balances")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errOut := w.run(t, "status")
	if code != 0 || !strings.Contains(out, "balances  none read yet: the next sync reads them") {
		t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = w.run(t, "report")
	if code != 0 || strings.Contains(out, "Balances") {
		t.Fatalf("report: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = w.run(t, "check")
	if code != 0 || !strings.Contains(out+errOut, "balances") {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := w.run(t, "sync"); code != 0 || !strings.Contains(out+errOut, "; balances of 2 projects read") {
		t.Fatalf("sync after: exit %d\n%s%s", code, out, errOut)
	}
}
