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
	if code != 1 || !strings.Contains(errOut, "long.csv:3 column payment_id: 40000 bytes long; at most 1024") ||
		!strings.Contains(errOut, "long.csv:4 column provider_payment_id: 40000 bytes long; at most 1024") ||
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

// A payment id that starts with '-' is given after "--", before or after
// the flags, to resolve and unresolve; without "--" the error says how.
func TestResolveAnIDThatStartsWithADash(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	w.now = start.Add(40 * 24 * time.Hour)
	books := filepath.Join(w.dir, "books.csv")
	os.WriteFile(books, []byte("payment_id;type;amount;currency;status;created_at\n"+
		"-2+32;purchase;10;UAH;paid;2026-11-01 00:00:00\n-7;purchase;10;UAH;paid;2026-11-01 00:00:00\n"), 0o600)
	w.mustRun(t, "import", books)
	if out := w.mustRun(t, "resolve", "--", "-2+32", "--reason", "written-off"); !strings.Contains(out, "resolved -2+32 purchase (was missing_at_provider)") {
		t.Fatalf("resolve -- ID --reason: %s", out)
	}
	if out := w.mustRun(t, "unresolve", "--", "-2+32"); !strings.Contains(out, "unresolved -2+32 purchase") {
		t.Fatalf("unresolve -- ID: %s", out)
	}
	if out := w.mustRun(t, "resolve", "--reason", "written-off", "--", "-2+32"); !strings.Contains(out, "resolved -2+32 purchase") {
		t.Fatalf("resolve --reason -- ID: %s", out)
	}
	if out := w.mustRun(t, "unresolve", "--type", "purchase", "--", "-2+32"); !strings.Contains(out, "unresolved -2+32 purchase") {
		t.Fatalf("unresolve --type -- ID: %s", out)
	}
	for _, args := range [][]string{
		{"resolve", "-2+32", "--reason", "written-off"},
		{"unresolve", "-7"},
	} {
		code, _, errOut := w.run(t, args...)
		if code != 2 || !strings.Contains(errOut, "an id that starts with '-' goes after --: reconciled "+args[0]+" -- "+args[1]) {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
	if code, _, errOut := w.run(t, "resolve", "--", "-2+32", "-7", "--reason", "written-off"); code != 2 || !strings.Contains(errOut, "flag provided but not defined: -7") {
		t.Errorf("a second id: exit %d %s", code, errOut)
	}
	for _, args := range [][]string{
		{"resolve", "--reason", "written-off", "--", "-2+32", "-7"},
		{"resolve", "order-1", "--reason", "written-off", "--", "-7"},
	} {
		if code, _, errOut := w.run(t, args...); code != 2 || !strings.Contains(errOut, `unexpected argument "-7"`) {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
}

// File and source names are stored and shown without control characters:
// an import named with "\x1b[2J" cleared the screen of everyone running
// status.
func TestControlCharactersInNames(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	name := filepath.Join(w.dir, "\x1b[2Jbooks\nof\u202enov.csv")
	os.WriteFile(name, []byte("payment_id;type;amount;currency;status\no1;purchase;10;UAH;paid\no1;purchase;10;UAH;paid\n"), 0o600)
	out := w.mustRun(t, "import", name, "--source", "\x1b]0;pwned\x07shop\tone")
	clean := func(what, s string) {
		t.Helper()
		for _, bad := range []string{"\x1b", "\n", "\t", "\u202e", "\x07"} {
			if strings.Contains(strings.TrimSuffix(s, "\n"), bad) {
				t.Errorf("%s holds %q: %q", what, bad, s)
			}
		}
	}
	clean("import's output", out)
	if !strings.Contains(out, "booksofnov.csv") && !strings.Contains(out, "books ofnov.csv") {
		t.Errorf("import: %q", out)
	}
	status := w.mustRun(t, "status")
	clean("status", strings.ReplaceAll(status, "\n", ""))
	if !strings.Contains(status, "last import books ofnov.csv at") {
		t.Errorf("status: %q", status)
	}
	w.now = w.now.Add(40 * 24 * time.Hour)
	rows := exportRows(t, w, "--result", "duplicate")
	if len(rows) != 1 || !strings.Contains(rows[0][15], "books ofnov.csv:2, books ofnov.csv:3") {
		t.Errorf("duplicate: %q", rows)
	}
	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	imports, err := l.Imports()
	if err != nil || len(imports) != 1 {
		t.Fatal(imports, err)
	}
	clean("the stored file name", imports[0].File)
	if imports[0].Source != "shop one" {
		t.Errorf("stored source %q", imports[0].Source)
	}
	l.ForEachRecord(func(r *ledger.StoredRecord) error {
		if r.Source != "shop one" || r.Origin != "books ofnov.csv:"+strings.TrimPrefix(r.Origin, "books ofnov.csv:") {
			t.Errorf("stored record: source %q origin %q", r.Source, r.Origin)
		}
		return nil
	})
	l.Close()

	// A rejected file's name is shown clean too; a source that is nothing
	// but control characters is refused.
	bad := filepath.Join(w.dir, "\x1b[2Jbad.csv")
	os.WriteFile(bad, []byte("payment_id;type;amount;currency;status\no1;gift;10;UAH;paid\n"), 0o600)
	code, _, errOut := w.run(t, "import", bad)
	clean("a rejection", strings.ReplaceAll(errOut, "\n", ""))
	if code != 1 || !strings.Contains(errOut, "bad.csv:2 column type") {
		t.Errorf("exit %d: %q", code, errOut)
	}
	code, _, errOut = w.run(t, "import", name, "--source", "\x1b[2J")
	if code != 2 || !strings.Contains(errOut, "--source") {
		t.Errorf("an empty source: exit %d %q", code, errOut)
	}
}

// TestFlagsThatWouldDoNothingAreBadUsage: a --type that no item can have
// made resolve say "no open exception" as if the payment had none, and
// filters on the audit trail were ignored without a word.
func TestFlagsThatWouldDoNothingAreBadUsage(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	w.mustRun(t, "sync")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"resolve", "order-1", "--reason", "x", "--type", "sale"}, `--type "sale": use purchase, payout or refund`},
		{[]string{"unresolve", "order-1", "--type", "Purchase"}, `--type "Purchase": use purchase, payout or refund`},
		{[]string{"export", "--what", "audit", "--from", "2026-11-01"}, "--what audit exports the whole trail: it takes no --from"},
		{[]string{"export", "--what", "audit", "--method", "advcash"}, "--what audit exports the whole trail: it takes no --method"},
	} {
		code, _, errOut := w.run(t, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", c.args, code, exitUsage, c.want, errOut)
		}
	}
}
