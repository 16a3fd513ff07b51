package daemon

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/doccheck"
	"reconciled/internal/ledger"
	"reconciled/internal/receiver"
	"reconciled/internal/schedule"
)

// The metrics the reference lists are the series /metrics writes, with
// their types.
func TestReferenceListsEveryMetric(t *testing.T) {
	l, err := ledger.Open(filepath.Join(t.TempDir(), "m.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var b strings.Builder
	mt := newMetrics(time.Now)
	mt.countCallbacks(func() receiver.Counts { return receiver.Counts{} }) // with [callbacks]
	if err := mt.write(&b, l); err != nil {
		t.Fatal(err)
	}
	written := map[string]string{}
	var order []string
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)$`).FindAllStringSubmatch(b.String(), -1) {
		written[m[1]] = m[2]
		order = append(order, m[1])
	}
	rows := doccheck.Table(t, doccheck.Read(t, "commands.md"), "metrics")
	documented := doccheck.Column(rows, 0)
	if !slices.Equal(documented, order) {
		t.Errorf("docs/commands.md lists the metrics\n%v\n/metrics writes\n%v", documented, order)
	}
	for _, r := range rows {
		name, _ := doccheck.Code(r[0])
		if typ, ok := written[name]; ok && r[1] != typ {
			t.Errorf("docs/commands.md: %s is a %s, the doc says %s", name, typ, r[1])
		}
	}
}

// The timestamps of /metrics are the daemon's clock's (Options.Now), as
// everything else it stamps, not the machine's.
func TestMetricsReadTheDaemonsClock(t *testing.T) {
	l, err := ledger.Open(filepath.Join(t.TempDir(), "m.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	at := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	mt := newMetrics(func() time.Time { return at })
	at = at.Add(time.Minute)
	mt.jobDone(schedule.Job{Name: "sync"}, time.Second, nil)
	var b strings.Builder
	if err := mt.write(&b, l); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("reconciled_start_timestamp_seconds %d\n", at.Add(-time.Minute).Unix()),
		fmt.Sprintf("reconciled_job_last_finished_timestamp_seconds{job=\"sync\"} %d\n", at.Unix()),
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
