package daemon

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"reconciled/internal/doccheck"
	"reconciled/internal/ledger"
	"reconciled/internal/receiver"
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
	mt := newMetrics()
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
