package ledger

import (
	"fmt"
	"path/filepath"
	"testing"

	"reconciled/internal/domain"
)

// A sync's page waits for callbacks counted as waiting, but not for
// ever: with one left counted (a count gone wrong), it is still stored.
func TestAPageIsStoredWhileCallbacksWait(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.CallbacksWaiting(1)
	defer l.CallbacksWaiting(-1)
	var ops []domain.Operation
	for i := range 50 {
		ops = append(ops, sale(uint64(1000+i), fmt.Sprintf("p%d", i), "success"))
	}
	if st, err := l.UpsertPage(ops, t0); err != nil || st.New != 50 {
		t.Fatalf("%+v %v", st, err)
	}
	if n := l.CallbacksPending(); n != 1 {
		t.Fatalf("pending %d", n)
	}
}
