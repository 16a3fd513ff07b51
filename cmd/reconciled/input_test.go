package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/ledger"
)

// A payment id too long to be a key is a bad line of the file, named by
// its line and column, and nothing is stored (it was "store records: key
// too large", with no line, from the database).
func TestOverlongPaymentIDIsABadLine(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	bad := filepath.Join(w.dir, "long.csv")
	long := strings.Repeat("x", 40_000)
	os.WriteFile(bad, []byte("payment_id;type;amount;currency;status;provider_payment_id\n"+
		"o1;purchase;10;UAH;paid;\n"+
		long+";purchase;10;UAH;paid;\n"+
		"o3;purchase;10;UAH;paid;"+long+"\n"), 0o600)
	code, _, errOut := w.run(t, "import", bad)
	if code != 1 || !strings.Contains(errOut, "long.csv:3 column payment_id: 40000 bytes long; at most 256") ||
		!strings.Contains(errOut, "long.csv:4 column provider_payment_id: 40000 bytes long; at most 256") ||
		!strings.Contains(errOut, "nothing imported") || strings.Contains(errOut, long) {
		t.Fatalf("exit %d\n%.2000s", code, errOut)
	}
	if l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true}); err == nil {
		defer l.Close()
		if n, _ := l.RecordCount(); n != 0 {
			t.Errorf("%d records stored from a rejected file", n)
		}
	}
}
