package main

import (
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
