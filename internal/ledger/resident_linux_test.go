package ledger

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"reconciled/internal/domain"
)

// mappedRSS is how many KB of path's mapping are resident in this process,
// from /proc/self/smaps.
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

func TestReleaseMemoryDropsMappedPagesAndKeepsData(t *testing.T) {
	l := openTemp(t)
	page := make([]domain.Operation, 0, 1000)
	for i := range 30_000 {
		if page = append(page, sale(uint64(i+1), "p-"+strconv.Itoa(i), domain.StatusSuccess)); len(page) == cap(page) {
			if _, err := l.UpsertPage(page, t0); err != nil {
				t.Fatal(err)
			}
			page = page[:0]
		}
	}
	scan := func() (n int, sum uint64) {
		err := l.ForEachByID(context.Background(), func(op *domain.Operation) error {
			n++
			sum += op.OperationID * uint64(op.SumInitial.Amount)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, sum
	}
	n, sum := scan()
	before := mappedRSS(t, l.Path())
	l.ReleaseMemory()
	after := mappedRSS(t, l.Path())
	t.Logf("mapped RSS %d KB after a scan, %d KB after ReleaseMemory", before, after)
	if before < 1024 || after > before/10 {
		t.Errorf("mapped RSS %d KB after a scan, %d KB after ReleaseMemory: pages not dropped", before, after)
	}
	if n2, sum2 := scan(); n2 != n || sum2 != sum || n != 30_000 {
		t.Errorf("after release: %d operations (sum %d), before: %d (sum %d)", n2, sum2, n, sum)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
}
