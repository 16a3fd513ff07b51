package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/ledger"
)

// TestAnImportThatCannotBeWrittenStoresNothing: the disk fills up (a file
// size limit on the process) while an import's one transaction is being
// written: the command fails naming why, and the database holds what it
// held before, with no entry in the list of imports.
func TestAnImportThatCannotBeWrittenStoresNothing(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	small := filepath.Join(w.dir, "small.csv")
	os.WriteFile(small, []byte("payment_id;type;amount;currency;status\no-first;purchase;10;UAH;paid\n"), 0o600)
	w.mustRun(t, "import", small)
	fi, err := os.Stat(w.db)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("payment_id;type;amount;currency;status;customer_id\n")
	for i := range 30_000 {
		fmt.Fprintf(&b, "o-%d;purchase;%d,00;UAH;paid;customer-%d\n", i, i%900+1, i)
	}
	big := filepath.Join(w.dir, "big.csv")
	os.WriteFile(big, []byte(b.String()), 0o600)
	c := exec.Command(os.Args[0], "--config", w.config, "import", big)
	c.Env = append(os.Environ(), "RECONCILED_TEST_CHILD=1", fmt.Sprintf("RECONCILED_TEST_FSIZE=%d", fi.Size()+64<<10))
	out, err := c.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFailed || !strings.Contains(string(out), "file too large") {
		t.Fatalf("import on a full disk: %v, want exit %d naming the cause:\n%s", err, exitFailed, out)
	}
	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	if n, err := l.RecordCount(); err != nil || n != 1 {
		t.Errorf("%d records stored (%v), want the first file's one", n, err)
	}
	if imports, err := l.Imports(); err != nil || len(imports) != 1 || imports[0].File != "small.csv" {
		t.Errorf("imports %+v (%v), want small.csv's only", imports, err)
	}
}
