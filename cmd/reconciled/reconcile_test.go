package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// recordsFor writes a records CSV for the fake's operations (final at
// w.now), with edit applied to each line's fields (payment_id, type,
// amount, currency, status), returning the file.
func (w *world) recordsFor(t *testing.T, name string, edit func(i int, op domain.Operation, f []string) []string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("payment_id;type;amount;currency;status\n")
	for _, line := range booksOf(w.fake.Operations(w.now)) {
		op := line.op
		amount, _ := domain.FormatMajor(op.SumInitial.Amount, op.SumInitial.Currency)
		f := []string{op.PaymentID, line.typ, strings.Replace(amount, ".", ",", 1), op.SumInitial.Currency, line.status}
		if edit != nil {
			if f = edit(line.i, op, f); f == nil {
				continue
			}
		}
		b.WriteString(strings.Join(f, ";") + "\n")
	}
	path := filepath.Join(w.dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (w *world) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := w.run(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
	}
	return out
}

func exportRows(t *testing.T, w *world, args ...string) [][]string {
	t.Helper()
	out := w.mustRun(t, append([]string{"export", "--what", "reconciliation", "--format", "csv"}, args...)...)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

func TestImportReconcileResolve(t *testing.T) {
	w := newWorld(t, 400, 5*time.Minute, "")
	w.now = w.now.Add(30 * 24 * time.Hour) // everything final, and old
	w.mustRun(t, "sync", "--from", start.Format(time.DateOnly))
	var mismatched string
	file := w.recordsFor(t, "books.csv", func(i int, op domain.Operation, f []string) []string {
		if i == 10 {
			mismatched = op.PaymentID
			f[2] = "1,00"
		}
		return f
	})
	out := w.mustRun(t, "import", file)
	if !strings.Contains(out, "(csv, utf-8, ';')") || !strings.Contains(out, "new") {
		t.Fatalf("import: %s", out)
	}
	out = w.mustRun(t, "reconcile", "--no-recheck")
	if !regexp.MustCompile(`(?m)^amount_mismatch\s+1\s`).MatchString(out) || !strings.Contains(out, "matched") {
		t.Fatalf("reconcile:\n%s", out)
	}
	rows := exportRows(t, w, "--result", "amount_mismatch")
	if len(rows) != 1 || rows[0][2] != mismatched || rows[0][4] != "1.00" {
		t.Fatalf("export: %v", rows)
	}
	mid := start.Add(200 * 5 * time.Minute).Format(time.DateTime)
	out = w.mustRun(t, "reconcile", "--no-recheck", "--from", mid)
	// Operations 200–399 of the fake: 200 operations, of which the
	// refund taken back at 350–352 is two items (the sale, the refund).
	if !strings.Contains(out, "reconciled 199 items created in [") {
		t.Fatalf("reconcile of a window:\n%s", out)
	}
	// One line per purchase, payout and refund (an auth and its capture
	// are one purchase; a commission is no line).
	lines := len(booksOf(w.fake.Operations(w.now)))
	if lines >= 400 || lines < 390 {
		t.Fatalf("%d book lines for 400 operations", lines)
	}
	if out := w.mustRun(t, "status"); !strings.Contains(out, fmt.Sprintf("merchant records  %d", lines)) || !strings.Contains(out, "last reconcile") {
		t.Fatalf("status:\n%s", out)
	}

	out = w.mustRun(t, "resolve", mismatched, "--reason", "known-fee", "--note", "agreed with the bank")
	if !strings.Contains(out, "resolved "+mismatched) {
		t.Fatalf("resolve: %s", out)
	}
	if code, _, errOut := w.run(t, "resolve", mismatched, "--reason", "again"); code != 1 || !strings.Contains(errOut, "no open exception") {
		t.Fatalf("resolving twice: exit %d %s", code, errOut)
	}
	rows = exportRows(t, w, "--result", "resolved")
	if len(rows) != 1 || !strings.Contains(rows[0][15], "as known-fee (agreed with the bank); was amount_mismatch") {
		t.Fatalf("resolved: %v", rows)
	}

	// A later file corrects the amount to something else still wrong: the
	// resolution re-opens, reconcile says so and the audit trail shows it.
	later := w.recordsFor(t, "later.csv", func(i int, op domain.Operation, f []string) []string {
		if i == 10 {
			f[2] = "2,00"
		}
		return f
	})
	w.mustRun(t, "import", later)
	out = w.mustRun(t, "reconcile", "--no-recheck")
	if !strings.Contains(out, "re-opened: "+mismatched) {
		t.Fatalf("reconcile after the change:\n%s", out)
	}
	rows = exportRows(t, w, "--result", "amount_mismatch")
	if len(rows) != 1 || !strings.Contains(rows[0][15], "re-opened: the data changed since") {
		t.Fatalf("re-opened: %v", rows)
	}
	w.mustRun(t, "resolve", mismatched, "--reason", "known-fee")
	w.mustRun(t, "unresolve", mismatched)
	audit := w.mustRun(t, "export", "--what", "audit", "--format", "csv")
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(audit), "\n")[1:] {
		actions = append(actions, strings.Split(line, ",")[2])
	}
	if strings.Join(actions, " ") != "resolve reopen resolve unresolve" {
		t.Fatalf("audit actions %v\n%s", actions, audit)
	}
}

func TestBadRecordsFileStoresNothing(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	bad := filepath.Join(w.dir, "bad.csv")
	os.WriteFile(bad, []byte("payment_id;type;amount;currency;status\no1;purchase;10;UAH;paid\no2;purchase;10,001;UAH;paid\no3;gift;1;UAH;paid\n"), 0o600)
	code, _, errOut := w.run(t, "import", bad)
	if code != 1 || !strings.Contains(errOut, "bad.csv:3 column amount") || !strings.Contains(errOut, "bad.csv:4 column type") || !strings.Contains(errOut, "nothing imported") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err == nil {
		defer l.Close()
		if n, _ := l.RecordCount(); n != 0 {
			t.Errorf("%d records stored from a rejected file", n)
		}
	}
	if code, _, errOut := w.run(t, "import"); code != 2 || !strings.Contains(errOut, "give the file") {
		t.Errorf("no file: exit %d %s", code, errOut)
	}
}

// The same stored data and records give the same reconciliation export,
// byte for byte, whatever came first; and a run after new data equals a run
// from scratch on all the data.
func TestReconciliationIsDeterministic(t *testing.T) {
	mk := func() *world {
		w := newWorld(t, 600, 5*time.Minute, "")
		w.now = w.now.Add(40 * 24 * time.Hour)
		return w
	}
	edit := func(i int, op domain.Operation, f []string) []string {
		switch i % 37 {
		case 3:
			f[2] = "7,00"
		case 5:
			return nil
		case 8:
			f[4] = "failed"
		}
		return f
	}
	a, b := mk(), mk()
	// a: sync, then import. b: import, then sync.
	a.mustRun(t, "sync", "--from", start.Format(time.DateOnly))
	a.mustRun(t, "import", a.recordsFor(t, "books.csv", edit))
	b.mustRun(t, "import", b.recordsFor(t, "books.csv", edit))
	b.mustRun(t, "sync", "--from", start.Format(time.DateOnly))
	ea := a.mustRun(t, "export", "--what", "reconciliation", "--format", "csv")
	eb := b.mustRun(t, "export", "--what", "reconciliation", "--format", "csv")
	if ea != eb {
		t.Fatalf("exports differ with the order of import and sync:\n%s", firstDiff(ea, eb))
	}
	if strings.Count(ea, "\n") < 500 {
		t.Fatalf("export has %d lines", strings.Count(ea, "\n"))
	}
	// a reconciles, then learns more (a second file); c gets everything
	// at once. Same export.
	a.mustRun(t, "reconcile", "--no-recheck")
	more := func(i int, op domain.Operation, f []string) []string {
		if f = edit(i, op, f); f != nil && i%37 == 3 {
			f[2] = "8,00"
		}
		return f
	}
	a.mustRun(t, "import", a.recordsFor(t, "more.csv", more))
	// The stored result is behind until the next reconcile, which
	// recomputes only the payments more.csv changed.
	if _, _, errOut := a.run(t, "export", "--what", "reconciliation", "--format", "csv"); !strings.Contains(errOut, "payments changed") {
		t.Fatalf("an export of a result behind the data does not say so: %q", errOut)
	}
	a.mustRun(t, "reconcile", "--no-recheck")
	c := mk()
	c.mustRun(t, "import", c.recordsFor(t, "more.csv", more))
	c.mustRun(t, "sync", "--from", start.Format(time.DateOnly))
	ea = a.mustRun(t, "export", "--what", "reconciliation", "--format", "csv")
	ec := c.mustRun(t, "export", "--what", "reconciliation", "--format", "csv")
	if ea != ec {
		t.Fatalf("an incremental run differs from a run from scratch:\n%s", firstDiff(ea, ec))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n%s\n%s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(al), len(bl))
}

// reconcile asks the Data API about an overdue payment first: the fake
// knows it is final now, and the item comes out matched.
func TestReconcileRechecksBeforeCallingOverdue(t *testing.T) {
	w := newWorld(t, 3000, 3*time.Minute, "[reconcile]\nrecheck_interval = \"1ms\"\n")
	w.now = start.Add(3000 * 3 * time.Minute) // the end of the data: some operations processing
	w.mustRun(t, "sync")
	var processing []domain.Operation
	for _, op := range w.fake.Operations(w.now) {
		if !op.Final() && op.PaymentMethod == "advcash" {
			processing = append(processing, op)
		}
	}
	if len(processing) == 0 {
		t.Fatal("no processing ADVCash operation in the data")
	}
	// Forty days on, ECommPay has them final, but the database does not:
	// without asking, they would be overdue (ADVCash limit: 35 days).
	w.now = w.now.Add(40 * 24 * time.Hour)
	w.mustRun(t, "import", w.recordsFor(t, "books.csv", nil))
	rows := exportRows(t, w, "--result", "overdue")
	if len(rows) < len(processing) {
		t.Fatalf("before re-checking: %d overdue, want at least %d", len(rows), len(processing))
	}
	out := w.mustRun(t, "reconcile")
	if !strings.Contains(out, "re-checked") {
		t.Fatalf("no re-check:\n%s", out)
	}
	for _, r := range exportRows(t, w, "--result", "overdue") {
		for _, p := range processing {
			if r[2] == p.PaymentID {
				t.Errorf("%s still overdue after the re-check: %s", p.PaymentID, r[15])
			}
		}
	}
}

func TestExportFormatsAndStats(t *testing.T) {
	w := newWorld(t, 800, 7*time.Minute, "tz = \"Europe/Moscow\"\n")
	w.mustRun(t, "sync")
	dir := t.TempDir()
	for _, c := range []struct{ what, format string }{
		{"operations", "xlsx"}, {"operations", "csv"}, {"summary", "xlsx"}, {"summary", "csv"}, {"reconciliation", "xlsx"},
	} {
		path := filepath.Join(dir, c.what+"."+c.format)
		code, out, errOut := w.run(t, "export", "--what", c.what, "--format", c.format, "-o", path)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", c, code, errOut)
		}
		// Not a terminal: no progress bar, only the closing line.
		if out != "" || strings.Count(errOut, "\n") != 1 || strings.Contains(errOut, "\r") {
			t.Errorf("%v printed %q / %q", c, out, errOut)
		}
		data, err := os.ReadFile(path)
		if err != nil || len(data) == 0 {
			t.Fatalf("%v: %v", c, err)
		}
	}
	f, err := excelize.OpenFile(filepath.Join(dir, "operations.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("Operations")
	csvRows, _ := csv.NewReader(strings.NewReader(w.mustRun(t, "export", "--what", "operations", "--format", "csv"))).ReadAll()
	if len(rows) != len(csvRows) || len(rows) != 801 || rows[1][18] != csvRows[1][18] {
		t.Fatalf("xlsx %d rows (%v), csv %d rows (%v)", len(rows), rows[1], len(csvRows), csvRows[1])
	}
	if code, _, errOut := w.run(t, "export", "--what", "operations", "--format", "xlsx"); code != 2 || !strings.Contains(errOut, "needs -o") {
		t.Errorf("xlsx to a terminal: exit %d %s", code, errOut)
	}
	out := w.mustRun(t, "stats", "--by", "currency")
	for _, want := range []string{"800 operations", "by currency", "approval by method and day", "top decline codes", "time to final status", "UZS"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats lacks %q:\n%s", want, out)
		}
	}
}

// A sale refunded in two parts, one part not booked: the part is an
// exception of its own, resolved and unresolved on its own by its
// operation id.
func TestRefundPartsAreResolvedOnTheirOwn(t *testing.T) {
	w := newWorld(t, 400, 5*time.Minute, "")
	w.now = w.now.Add(30 * 24 * time.Hour)
	w.mustRun(t, "sync", "--from", start.Format(time.DateOnly))
	ops := w.fake.Operations(w.now)
	// The fake's index 250 starts a sale refunded in two parts (fakeapi's
	// scenarios): 251 and 252 are the refunds.
	sale, part1, part2 := ops[250], ops[251], ops[252]
	if sale.OperationType != domain.OpSale || part1.OperationType != domain.OpRefund || part2.OperationType != domain.OpRefund ||
		part1.PaymentID != sale.PaymentID || part2.PaymentID != sale.PaymentID {
		t.Fatalf("the fake's scenario moved: %s %s %s", sale.OperationType, part1.OperationType, part2.OperationType)
	}
	w.mustRun(t, "import", w.recordsFor(t, "books.csv", func(i int, op domain.Operation, f []string) []string {
		if i == 251 {
			return nil
		}
		return f
	}))
	w.mustRun(t, "reconcile", "--no-recheck")
	refunds := func() map[uint64][]string {
		got := map[uint64][]string{}
		for _, r := range exportRows(t, w, "--type", "refund") {
			if r[2] == sale.PaymentID {
				id, _ := strconv.ParseUint(r[10], 10, 64)
				got[id] = r
			}
		}
		return got
	}
	got := refunds()
	if len(got) != 2 || got[part1.OperationID][0] != "missing_in_records" || got[part2.OperationID][0] != "matched" ||
		!strings.HasPrefix(got[part1.OperationID][15], "refund 1 of 2: ") {
		t.Fatalf("refund items of %s: %v", sale.PaymentID, got)
	}
	ref := fmt.Sprintf("operation:%d", part1.OperationID)
	out := w.mustRun(t, "resolve", ref, "--reason", "booked-later")
	if !strings.Contains(out, "resolved "+sale.PaymentID+" refund ("+ref+")") {
		t.Fatalf("resolve: %s", out)
	}
	w.mustRun(t, "reconcile", "--no-recheck")
	if got := refunds(); got[part1.OperationID][0] != "resolved" || got[part2.OperationID][0] != "matched" {
		t.Fatalf("after resolving part 1: %v", got)
	}
	if out := w.mustRun(t, "unresolve", ref); !strings.Contains(out, "unresolved "+sale.PaymentID+" refund ("+ref+")") {
		t.Fatalf("unresolve: %s", out)
	}
	w.mustRun(t, "reconcile", "--no-recheck")
	if got := refunds(); got[part1.OperationID][0] != "missing_in_records" {
		t.Fatalf("after unresolving: %v", got)
	}
	audit := w.mustRun(t, "export", "--what", "audit", "--format", "csv")
	if strings.Count(audit, ref) != 2 {
		t.Errorf("the audit trail does not name the part twice:\n%s", audit)
	}
}
