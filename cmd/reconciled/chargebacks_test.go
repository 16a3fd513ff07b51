package main

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
	"reconciled/internal/ledger"
)

// chargebackWorld is a world whose database holds operations, merchant
// records, a stored reconciliation and the fake's chargebacks (synced
// with chargebacks.sync): some open, some decided.
func chargebackWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, 4000, 2*time.Minute, "")
	appendConfig(t, w, "\n[chargebacks]\nsync = true\n")
	w.now = w.now.Add(48 * time.Hour) // past ChargebackAfter and ChargebackDecided of the last ones
	w.mustRun(t, "sync", "--from", start.Format(time.DateOnly))
	w.mustRun(t, "import", w.recordsFor(t, "books.csv", nil))
	w.mustRun(t, "reconcile", "--no-recheck")
	if n := len(w.fake.Chargebacks(w.now)); n < 3 {
		t.Fatalf("the fake has %d chargebacks: too few to test", n)
	}
	return w
}

// firstChargeback is the lowest stored chargeback id and its payment.
func firstChargeback(t *testing.T, path string) (uint64, string) {
	t.Helper()
	l, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var id uint64
	var payment string
	l.ForEachChargeback(func(sc *ledger.StoredChargeback) error {
		if id == 0 {
			id, payment = sc.ID, sc.PaymentID
		}
		return nil
	})
	if id == 0 {
		t.Fatal("no chargeback stored")
	}
	return id, payment
}

// readCommands are the commands that open the database read only, each
// writing what it makes into dir.
func readCommands(dir string) [][]string {
	return [][]string{
		{"status"},
		{"check"},
		{"backup", filepath.Join(dir, "copy.db")},
		{"export", "--what", "operations", "--format", "csv"},
		{"export", "--what", "operations", "--format", "xlsx", "-o", filepath.Join(dir, "ops.xlsx")},
		{"export", "--what", "reconciliation", "--format", "csv"},
		{"export", "--what", "settlement", "--format", "csv"},
		{"stats"},
		{"stats", "--by", "settlement"},
		{"report", "--date", start.Format(time.DateOnly)},
		{"report", "--date", start.Format(time.DateOnly), "-o", filepath.Join(dir, "report.xlsx")},
	}
}

// A database from before chargebacks (no chargebacks/ or
// chargeback_payments/ bucket) read by every command that opens it read
// only, with the stored reconciliation behind (a changed book marked
// payments), is a database without chargebacks: no command calls it
// damaged or fails, and none writes to it. The first writable command
// makes the buckets.
func TestADatabaseFromBeforeChargebacksIsNotDamaged(t *testing.T) {
	w := damagedWorld(t)
	w.mustRun(t, "import", w.recordsFor(t, "books2.csv", func(i int, op domain.Operation, f []string) []string {
		if i == 5 {
			f[2] = "2,00" // marks its payment: the stored result is behind
		}
		return f
	}))
	db, err := bolt.Open(w.db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"chargebacks", "chargeback_payments"} {
			if err := tx.Bucket([]byte("v1")).DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, err := os.ReadFile(w.db)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range readCommands(t.TempDir()) {
		code, out, errOut := w.run(t, args...)
		if code != 0 || strings.Contains(out+errOut, "damaged") {
			t.Errorf("%v on a database from before chargebacks: exit %d\n%s\n%s", args, code, out, errOut)
		}
		if now, _ := os.ReadFile(w.db); !bytes.Equal(now, before) {
			t.Fatalf("%v changed the database", args)
		}
	}
	w.mustRun(t, "reconcile", "--no-recheck")
	if out := w.mustRun(t, "check"); strings.Contains(out, "buckets not made yet") {
		t.Errorf("a writable open left the chargeback buckets unmade:\n%s", out)
	}
}

// A chargeback whose stored value does not decode is named by every
// command that reads it (as damage, exit 1), including the sync that
// would write over it, and by check; none panics, and the bytes stay for
// someone to look at. A chargeback whose index entry is gone is named by
// check (an incremental reconcile of its payment would leave it out).
func TestADamagedChargebackIsNamed(t *testing.T) {
	w := chargebackWorld(t)
	good, err := os.ReadFile(w.db)
	if err != nil {
		t.Fatal(err)
	}
	id, payment := firstChargeback(t, w.db)
	key := binary.BigEndian.AppendUint64(nil, id)
	names := "chargeback " + strconv.FormatUint(id, 10) + ": its stored value does not decode"
	corruptValue(t, w.db, "chargebacks", key, func([]byte) []byte { return []byte{1, 0x7f, 3} })
	bad := storedValue(t, w.db, "chargebacks", key)
	dir := t.TempDir()
	for _, args := range append(readCommands(dir),
		[]string{"sync"},
		[]string{"reconcile", "--full", "--no-recheck"},
		[]string{"resolve", "chargeback:" + strconv.FormatUint(id, 10), "--reason", "test"},
		[]string{"resolve", payment, "--reason", "test"},
	) {
		code, out, errOut := w.run(t, args...)
		if strings.Contains(out+errOut, "panic") || strings.Contains(out+errOut, "goroutine ") {
			t.Errorf("%v panicked:\n%s\n%s", args, out, errOut)
		}
		switch {
		case args[0] == "backup":
			// It copies the pages, which are sound, and refuses the copy
			// its check finds damaged (blaming the disk: DEVELOPERS.md).
			if code != 1 || !strings.Contains(errOut, names) {
				t.Errorf("%v: exit %d\n%s\n%s", args, code, out, errOut)
			}
		case args[0] == "export" && args[2] == "reconciliation":
			// The stored result holds the item, not the value.
			if code != 0 {
				t.Errorf("%v: exit %d\n%s\n%s", args, code, out, errOut)
			}
		case code != 1 || !strings.Contains(errOut, "is damaged") || !strings.Contains(out+errOut, names):
			t.Errorf("%v: exit %d, want 1 naming the chargeback:\n%s\n%s", args, code, out, errOut)
		}
	}
	if v := storedValue(t, w.db, "chargebacks", key); !bytes.Equal(v, bad) {
		t.Errorf("the damaged chargeback was overwritten: %x, was %x", v, bad)
	}

	if err := os.WriteFile(w.db, good, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(w.db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		idx := tx.Bucket([]byte("v1")).Bucket([]byte("chargeback_payments"))
		k := binary.BigEndian.AppendUint16(nil, uint16(len(payment)))
		return idx.Delete(binary.BigEndian.AppendUint64(append(k, payment...), id))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errOut := w.run(t, "check")
	if code != 1 || !strings.Contains(out+errOut, "chargeback "+strconv.FormatUint(id, 10)+" has no entry in chargeback_payments") {
		t.Errorf("check of a chargeback without its index entry: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestChargebackSyncKilledAnywhereLosesNothing kills syncs (SIGKILL) at
// random pages of the chargeback stream (two chargebacks a page), while
// chargebacks are new and again once the fake has decided them: after
// every kill the database is consistent (check, the index included); the
// runs after store every chargeback once, as the fake has it; and the
// incremental reconcile after them is the full one (the marks were
// written with the pages they mark).
func TestChargebackSyncKilledAnywhereLosesNothing(t *testing.T) {
	w := newWorld(t, 8000, 2*time.Minute, "page_size = 1000\nlookback = \"1h\"\n")
	end := w.now
	w.now = end.Add(7 * time.Hour) // some opened, none decided
	w.mustRun(t, "sync")
	w.mustRun(t, "import", w.recordsFor(t, "books.csv", nil))
	w.mustRun(t, "reconcile", "--no-recheck") // from now on writers mark
	text, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.config, bytes.Replace(text, []byte("page_size = 1000"), []byte("page_size = 2"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	appendConfig(t, w, "\n[chargebacks]\nsync = true\n")
	w.fake.SetFaults(fakeapi.Faults{Delay: 5 * time.Millisecond})
	rng := rand.New(rand.NewPCG(5, 6))
	killed := 0
	for run := 1; run <= 10; run++ {
		if run == 6 {
			w.setNow(end.Add(72 * time.Hour)) // every one decided: the pages now update
		}
		pages := (len(w.fake.Chargebacks(w.now)) + 1) / 2
		target := w.fake.Requests() + 2 + rng.IntN(pages) // past the operations' one short page each
		cmd, out := w.childAt(t, w.now, "sync")
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
	wait:
		for {
			select {
			case err = <-done:
				break wait
			case <-time.After(time.Millisecond):
				if w.fake.Requests() >= target {
					time.Sleep(time.Duration(rng.IntN(5000)) * time.Microsecond) // a fetch, a decode or a commit
					cmd.Process.Signal(syscall.SIGKILL)
					err = <-done
					break wait
				}
			}
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed++
		} else if err != nil {
			t.Fatalf("run %d failed: %v\n%s", run, err, out)
		}
		l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("after run %d: %v", run, err)
		}
		if err := l.Check(); err != nil {
			t.Fatalf("after run %d the database is inconsistent: %v", run, err)
		}
		l.Close()
	}
	if killed < 6 {
		t.Fatalf("%d of 10 runs were killed: the test did not test", killed)
	}
	cmd, out := w.childAt(t, w.now, "sync")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final sync: %v\n%s", err, out)
	}
	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]domain.Chargeback{}
	for _, cb := range w.fake.Chargebacks(w.now) {
		want[cb.ID] = cb
	}
	n := 0
	if err := l.ForEachChargeback(func(sc *ledger.StoredChargeback) error {
		n++
		if sc.Chargeback != want[sc.ID] {
			t.Errorf("chargeback %d: stored %+v, the API has %+v", sc.ID, sc.Chargeback, want[sc.ID])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if n != len(want) {
		t.Fatalf("%d chargebacks stored, the API has %d", n, len(want))
	}
	cmd, out = w.childAt(t, w.now, "sync")
	if err := cmd.Wait(); err != nil || !strings.Contains(out.String(), "chargebacks: ") || !strings.Contains(out.String(), " 0 new, 0 updated") {
		t.Fatalf("sync after the full one: %v\n%s", err, out)
	}
	w.mustRun(t, "reconcile", "--no-recheck")
	incremental := w.mustRun(t, "export", "--what", "reconciliation", "--format", "csv")
	w.mustRun(t, "reconcile", "--full", "--no-recheck")
	if full := w.mustRun(t, "export", "--what", "reconciliation", "--format", "csv"); full != incremental {
		t.Fatalf("after the killed syncs the incremental reconcile differs from the full one")
	}
}

// Hostile chargeback words: a status and a reason code with escape
// sequences, HTML, a leading formula character and 20,000 bytes, on a
// payment whose id holds the same. status and the report's text hold no
// raw escape and no endless line, its HTML no tag of upstream's, every
// CSV cell that starts with a formula character is defused, and resolve
// and its output stay on the terminal's side.
func TestHostileChargebackWords(t *testing.T) {
	w := damagedWorld(t)
	hostile := "=HYPERLINK(\"http://x\")\x1b[2J\x1b]0;title\x07<script>alert(1)</script>\u202e"
	l, err := ledger.Open(w.db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := start.Add(time.Hour)
	cbs := []domain.Chargeback{
		{ID: 1, ProjectID: 580, PaymentID: "-p" + hostile, Amount: domain.Money{Amount: 100, Currency: "EUR"}, Status: hostile + strings.Repeat("L", 20000),
			ReasonCode: "+" + hostile + strings.Repeat("R", 20000), CreatedAt: at, Deadline: at.Add(240 * time.Hour)},
		{ID: 2, ProjectID: 580, PaymentID: "@p", Amount: domain.Money{Amount: 200, Currency: "EUR"}, Status: "lost", ReasonCode: "-" + hostile, CreatedAt: at, UpdatedAt: at},
	}
	if _, err := l.UpsertChargebacks(cbs, at); err != nil {
		t.Fatal(err)
	}
	l.Close()
	w.mustRun(t, "reconcile", "--no-recheck")
	clean := func(what, s string) {
		t.Helper()
		if strings.ContainsAny(s, "\x1b\x07\u202e") {
			t.Errorf("%s holds a raw escape, bell or bidi override", what)
		}
		for _, line := range strings.Split(s, "\n") {
			if len(line) > 2000 {
				t.Errorf("%s has a line of %d bytes: a word is not shortened", what, len(line))
				break
			}
		}
	}
	clean("status", w.mustRun(t, "status"))
	dir := t.TempDir()
	for _, form := range []string{"txt", "html"} {
		path := filepath.Join(dir, "report."+form)
		w.mustRun(t, "report", "--date", at.Format(time.DateOnly), "-o", path)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if form == "txt" {
			clean("the report's text", string(b))
			if !strings.Contains(string(b), "Chargebacks open") {
				t.Errorf("the report lists no chargeback:\n%s", b)
			}
		} else if strings.Contains(string(b), "<script>") {
			t.Errorf("the report's HTML holds upstream's tag")
		}
	}
	for _, what := range []string{"reconciliation", "operations"} {
		out := w.mustRun(t, "export", "--what", what, "--format", "csv")
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !isNumber(cell) {
					t.Errorf("%s: a cell starts with a formula character: %.60q", what, cell)
				}
			}
		}
	}
	// A workbook's text cells are strings, never formulas: the report's
	// Chargebacks sheet and the register's chargeback column.
	reportBook, opsBook := filepath.Join(dir, "report.xlsx"), filepath.Join(dir, "ops.xlsx")
	w.mustRun(t, "report", "--date", at.Format(time.DateOnly), "-o", reportBook)
	w.mustRun(t, "export", "--what", "operations", "--format", "xlsx", "-o", opsBook)
	for path, sheet := range map[string]string{reportBook: "Chargebacks", opsBook: "Operations"} {
		f, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := f.GetRows(sheet)
		if err != nil || len(rows) < 2 {
			t.Fatalf("%s: %d rows, %v", sheet, len(rows), err)
		}
		for r, row := range rows {
			for c := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
					t.Errorf("%s!%s is a formula: %.60q", sheet, cell, formula)
				}
			}
		}
		f.Close()
	}
	out := w.mustRun(t, "resolve", "chargeback:1", "--reason", "answered")
	clean("resolve", out)
	if !strings.Contains(out, "chargeback:1") {
		t.Errorf("resolve says:\n%s", out)
	}
}

// isNumber says whether a CSV cell is an amount (a minus is its sign).
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
