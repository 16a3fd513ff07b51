package web_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"reconciled/internal/web"
)

// mappedRSS is how many KB of path's mapping are resident in this
// process, from /proc/self/smaps.
func mappedRSS(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kb, in := 0, false
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) == 0 {
			continue
		}
		if !strings.HasSuffix(fields[0], ":") { // a mapping's first line: address range … path
			in = fields[len(fields)-1] == path
			continue
		}
		if in && fields[0] == "Rss:" {
			n, _ := strconv.Atoi(fields[1])
			kb += n
		}
	}
	return kb
}

// A page leaves none of the database's pages in the process's resident
// set: the daemon serving the view stays at its idle size (issue 5) after
// someone looked at the overview (whose Status walks the records: 135 MB
// of the mapping resident at a million, BENCHMARKS.md) or a payment.
func TestPagesLeaveNoDatabasePagesResident(t *testing.T) {
	a := world(t)
	s, ts := serve(t, a, web.Options{})
	s.Prepare()
	s.Wait()
	for _, path := range []string{"/", "/exceptions?q=p-a", "/payment?id=p-a", "/analytics?from=2026-11-01&to=2026-11-30", "/exceptions.csv"} {
		if res, body := get(t, "GET", ts.URL+path); res.StatusCode != 200 {
			t.Fatalf("%s: %d\n%s", path, res.StatusCode, body)
		}
		if kb := mappedRSS(t, a.Config.Storage.Path); kb != 0 {
			t.Errorf("after %s: %d KB of the database resident", path, kb)
		}
	}
}
