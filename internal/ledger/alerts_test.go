package ledger

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// alertItem is an item of payment p with result code (the code it had
// for a resolved one), ECommPay's side and the merchant's.
func alertItem(p, result, code string) domain.Item {
	if code == "" {
		code = result
	}
	it := domain.Item{Result: result, Code: code, PaymentID: p, Type: domain.RecordPurchase, ProjectID: 7, OperationID: 1,
		Method: "card", CreatedAt: t0, Reason: "because " + result,
		Merchant: &domain.Record{Amount: domain.Money{Amount: 1000, Currency: "EUR"}, Status: domain.RecordPaid},
		Provider: &domain.Operation{OperationID: 1, OperationType: "sale", OperationStatus: "decline", SumInitial: domain.Money{Amount: 1000, Currency: "EUR"}}}
	if domain.IsException(result) {
		it.Fingerprint = "fp-" + result
	}
	return it
}

// alertWorld is a ledger whose stored result the test writes by hand,
// item by item, as a reconcile would.
type alertWorld struct {
	t    *testing.T
	l    *Ledger
	path string
	now  time.Time
}

func newAlertWorld(t *testing.T) *alertWorld {
	t.Helper()
	path := filepath.Join(t.TempDir(), "alerts.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := &alertWorld{t: t, l: l, path: path, now: t0}
	t.Cleanup(func() { w.l.Close() })
	return w
}

// reopen closes the database and opens it again: a restart.
func (w *alertWorld) reopen() {
	w.t.Helper()
	w.l.Close()
	l, err := Open(w.path, Options{})
	if err != nil {
		w.t.Fatal(err)
	}
	w.l = l
}

// write stores items as one reconcile's result: full (every unit), or
// the units of the payments named (those without an item lose theirs).
func (w *alertWorld) write(full bool, units []string, items ...domain.Item) {
	w.t.Helper()
	seq, gen, err := w.l.MarkAll()
	if err != nil {
		w.t.Fatal(err)
	}
	rw := ResultWrite{Full: full, Seq: seq, Gen: gen, At: w.now, Config: "test", Items: items}
	for _, u := range units {
		rw.Units = append(rw.Units, domain.PaymentUnit(u))
	}
	for _, it := range items {
		rw.Places = append(rw.Places, domain.Place{Key: "k" + it.PaymentID + it.Part, Owner: domain.PaymentUnit(it.PaymentID)})
		if !full && !slices.Contains(units, it.PaymentID) {
			rw.Units = append(rw.Units, domain.PaymentUnit(it.PaymentID))
		}
	}
	if _, err := w.l.WriteResult(rw); err != nil {
		w.t.Fatal(err)
	}
}

// check is one alert check of the codes given (all exceptions: none)
// at most max listed, its mail made as the app would.
func (w *alertWorld) check(max int, codes ...string) AlertChecked {
	w.t.Helper()
	res, err := w.l.CheckAlerts(w.checkOf(max, codes...))
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

func (w *alertWorld) checkOf(max int, codes ...string) AlertCheck {
	return AlertCheck{At: w.now, Max: max, Alert: func(r string) bool {
		if len(codes) == 0 {
			return domain.IsException(r)
		}
		return slices.Contains(codes, r)
	}, Mail: testAlertMail}
}

// testAlertMail is the message of news: its payments in the subject.
func testAlertMail(n AlertNews) (*Mail, error) {
	var ps []string
	for _, it := range n.Items {
		ps = append(ps, it.Result+" "+it.PaymentID)
	}
	return &Mail{ID: fmt.Sprintf("alert-%d@example.test", n.State.Mails+1), Queued: n.At, To: []string{"f@example.test"},
		Subject: fmt.Sprintf("%d new: %s", n.Total, strings.Join(ps, ", ")), Message: json.RawMessage(`{}`)}, nil
}

// news says what a check mailed: "" for no mail, else its subject.
func news(t *testing.T, l *Ledger, res AlertChecked) string {
	t.Helper()
	if res.Mail == nil {
		return ""
	}
	m, ok, err := l.MailByID(res.Mail.ID)
	if err != nil || !ok {
		t.Fatalf("the alert mail %s is not in the outbox: %v", res.Mail.ID, err)
	}
	return m.Subject
}

// TestAlertsMailEachNewExceptionOnce follows one database through a
// day: the exceptions open when alerts start are known, not mailed; a
// new one is mailed once, and not again after a restart, a full
// recompute or a spell of pending; it is again when it changes to
// another alerted code or opens again after it was resolved; a code not
// chosen is followed unmailed.
func TestAlertsMailEachNewExceptionOnce(t *testing.T) {
	w := newAlertWorld(t)
	if _, err := w.l.StartAlerts(w.now); err != nil {
		t.Fatal(err)
	}
	w.write(true, nil, alertItem("old", domain.ResultAmountMismatch, ""), alertItem("ok", domain.ResultMatched, ""))
	res := w.check(10)
	if !res.Baseline || res.Mail != nil {
		t.Fatalf("the first check after alerts started: %+v, want the open exceptions known and nothing mailed", res)
	}

	step := func(what, want string, units []string, items ...domain.Item) {
		t.Helper()
		w.now = w.now.Add(time.Minute)
		w.write(false, units, items...)
		if got := news(t, w.l, w.check(10, domain.ResultAmountMismatch, domain.ResultStatusMismatch)); got != want {
			t.Errorf("%s: mailed %q, want %q", what, got, want)
		}
	}
	step("a new exception beside a known one", "1 new: status_mismatch p1",
		nil, alertItem("p1", domain.ResultStatusMismatch, ""), alertItem("old", domain.ResultAmountMismatch, ""))
	if got := news(t, w.l, w.check(10)); got != "" {
		t.Errorf("a check with nothing recomputed since mailed %q", got)
	}
	w.reopen()
	step("p1 recomputed after a restart", "", nil, alertItem("p1", domain.ResultStatusMismatch, ""))

	w.write(true, nil, alertItem("old", domain.ResultAmountMismatch, ""), alertItem("ok", domain.ResultMatched, ""),
		alertItem("p1", domain.ResultStatusMismatch, ""))
	if res := w.check(10); res.Mail != nil || res.Baseline {
		t.Errorf("after a full recompute of the same verdicts: %+v", res)
	}

	step("p1 pending", "", nil, alertItem("p1", domain.ResultPending, ""))
	step("p1 a mismatch again after pending", "", nil, alertItem("p1", domain.ResultStatusMismatch, ""))
	step("p1 resolved", "", nil, alertItem("p1", domain.ResultResolved, domain.ResultStatusMismatch))
	step("p1 re-opened", "1 new: status_mismatch p1", nil, alertItem("p1", domain.ResultStatusMismatch, ""))
	step("old changes code", "1 new: status_mismatch old", nil, alertItem("old", domain.ResultStatusMismatch, ""))
	step("p2 overdue, not chosen", "", nil, alertItem("p2", domain.ResultOverdue, ""))
	step("p2 overdue to status_mismatch", "1 new: status_mismatch p2", nil, alertItem("p2", domain.ResultStatusMismatch, ""))
	step("p2's item gone", "", []string{"p2"})
	step("p2 back", "1 new: status_mismatch p2", nil, alertItem("p2", domain.ResultStatusMismatch, ""))
	step("p3 matched", "", nil, alertItem("p3", domain.ResultMatched, ""))

	st, err := w.l.Alerts()
	if err != nil {
		t.Fatal(err)
	}
	if !st.On || st.Waiting || st.State.Mails != 5 || st.State.Alerted != 5 || !st.State.LastMail.Equal(w.now.Add(-time.Minute)) {
		t.Errorf("the alerts' state: %+v", st)
	}
	rep, err := w.l.Verify(t.Context(), false)
	if err != nil || !rep.OK() || !slices.Contains(rep.Checked, "alerts: 3 exceptions known, 0 units to look at") {
		t.Errorf("check: %v, %+v", err, rep)
	}
	w.l.update(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketAlerts).Bucket(alertsKnown).Put([]byte{0, 9, 'P'}, []byte("x"))
	})
	if rep, err := w.l.Verify(t.Context(), false); err != nil || rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "alerts/known: 1 entries do not decode") {
		t.Errorf("check of a damaged entry: %v, %+v", err, rep)
	}
}

// TestAnAlertCheckReadsOnlyWhatWasRecomputed: a check after a reconcile
// of two payments looks at those two units, however many are stored;
// only after a full recompute does it look at them all.
func TestAnAlertCheckReadsOnlyWhatWasRecomputed(t *testing.T) {
	w := newAlertWorld(t)
	if _, err := w.l.StartAlerts(w.now); err != nil {
		t.Fatal(err)
	}
	var all []domain.Item
	for i := range 3000 {
		r := domain.ResultMatched
		if i%10 == 0 {
			r = domain.ResultAmountMismatch
		}
		all = append(all, alertItem(fmt.Sprintf("p%05d", i), r, ""))
	}
	w.write(true, nil, all...)
	if res := w.check(10); !res.Baseline || res.Units != 3000 {
		t.Fatalf("the baseline: %+v", res)
	}
	w.write(false, nil, alertItem("p00001", domain.ResultStatusMismatch, ""), alertItem("p00010", domain.ResultAmountMismatch, ""))
	res := w.check(10)
	if res.Units != 2 || res.New != 1 || news(t, w.l, res) != "1 new: status_mismatch p00001" {
		t.Errorf("after a reconcile of two payments: %+v, mailed %q", res, news(t, w.l, res))
	}
	all[1] = alertItem("p00001", domain.ResultStatusMismatch, "")
	all[2] = alertItem("p00002", domain.ResultDuplicate, "")
	w.write(true, nil, all...)
	res = w.check(10)
	if res.Units != 3000 || res.New != 1 || news(t, w.l, res) != "1 new: duplicate p00002" {
		t.Errorf("after a full recompute: %+v, mailed %q", res, news(t, w.l, res))
	}
}

// TestAnAlertMailListsAtMostMaxAndCountsTheRest.
func TestAnAlertMailListsAtMostMaxAndCountsTheRest(t *testing.T) {
	w := newAlertWorld(t)
	if _, err := w.l.StartAlerts(w.now); err != nil {
		t.Fatal(err)
	}
	w.write(true, nil, alertItem("ok", domain.ResultMatched, ""))
	w.check(2)
	w.write(false, nil, alertItem("a", domain.ResultStatusMismatch, ""), alertItem("b", domain.ResultAmountMismatch, ""),
		alertItem("c", domain.ResultStatusMismatch, ""), alertItem("d", domain.ResultMissingInRecords, ""))
	var got AlertNews
	c := w.checkOf(2)
	c.Mail = func(n AlertNews) (*Mail, error) { got = n; return testAlertMail(n) }
	if _, err := w.l.CheckAlerts(c); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{domain.ResultStatusMismatch: 2, domain.ResultAmountMismatch: 1, domain.ResultMissingInRecords: 1}
	if len(got.Items) != 2 || got.Total != 4 || fmt.Sprint(got.Counts) != fmt.Sprint(want) {
		t.Errorf("news: %d items, %d in all, counts %v; want 2, 4, %v", len(got.Items), got.Total, got.Counts, want)
	}
}

// TestAlertsOffNoteNothing: without StartAlerts no result write notes
// anything for alerts, and StopAlerts forgets them.
func TestAlertsOffNoteNothing(t *testing.T) {
	w := newAlertWorld(t)
	w.write(true, nil, alertItem("p1", domain.ResultStatusMismatch, ""))
	w.write(false, nil, alertItem("p1", domain.ResultAmountMismatch, ""))
	w.l.view(func(tx *bolt.Tx) error {
		if root(tx).Bucket(bucketAlerts) != nil {
			t.Error("the alerts bucket exists though alerts never started")
		}
		return nil
	})
	if res := w.check(10); res.Mail != nil || res.Units != 0 {
		t.Errorf("a check with alerts off: %+v", res)
	}
	if _, err := w.l.StartAlerts(w.now); err != nil {
		t.Fatal(err)
	}
	if st, _ := w.l.Alerts(); !st.On || !st.Waiting {
		t.Errorf("just started on a stored result: %+v, want the baseline waiting", st)
	}
	w.check(10)
	if on, err := w.l.StopAlerts(); !on || err != nil {
		t.Fatalf("StopAlerts: %v %v", on, err)
	}
	if st, _ := w.l.Alerts(); st.On {
		t.Errorf("stopped: %+v", st)
	}
	if on, _ := w.l.StopAlerts(); on {
		t.Error("stopped twice")
	}
}

// TestAKillBetweenQueuedAndMarkedSendsOnce kills a real process after
// the alert mail was put in the outbox and before the exceptions were
// marked mailed: one transaction, so neither is stored; the next check
// queues the mail once, and the one after nothing.
func TestAKillBetweenQueuedAndMarkedSendsOnce(t *testing.T) {
	w := newAlertWorld(t)
	if _, err := w.l.StartAlerts(w.now); err != nil {
		t.Fatal(err)
	}
	w.write(true, nil, alertItem("ok", domain.ResultMatched, ""))
	w.check(10)
	w.write(false, nil, alertItem("p1", domain.ResultStatusMismatch, ""))
	w.l.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LEDGER_TEST_ALERT_KILL="+w.path)
	out, err := cmd.CombinedOutput()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "mail put") {
		t.Fatalf("the child died before it put the mail:\n%s", out)
	}

	w.reopen()
	if mails, err := w.l.Outbox(false); err != nil || len(mails) != 0 {
		t.Fatalf("after the kill the outbox holds %v (%v)", mails, err)
	}
	if st, _ := w.l.Alerts(); !st.Waiting || st.State.Mails != 0 {
		t.Fatalf("after the kill: %+v, want p1 still waiting, nothing mailed", st)
	}
	if got := news(t, w.l, w.check(10)); got != "1 new: status_mismatch p1" {
		t.Errorf("the check after the kill mailed %q", got)
	}
	if got := news(t, w.l, w.check(10)); got != "" {
		t.Errorf("a second check mailed %q", got)
	}
	if mails, _ := w.l.Outbox(false); len(mails) != 1 {
		t.Errorf("%d mails in the outbox, want 1", len(mails))
	}
}

// alertKillChild is the child of TestAKillBetweenQueuedAndMarkedSendsOnce:
// it checks the alerts of path and kills itself once the mail is put.
func alertKillChild(path string) {
	l, err := Open(path, Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	afterAlertMailPut = func() {
		fmt.Println("mail put")
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	_, err = l.CheckAlerts(AlertCheck{At: t0, Max: 10, Alert: domain.IsException, Mail: testAlertMail})
	fmt.Println("not killed:", err)
	os.Exit(1)
}

// BenchmarkAlertCheck is what an alert check costs after an incremental
// reconcile of two payments, with a million items stored (a tenth of them
// exceptions, known): one iteration is the result write of the two
// payments (which notes them) and the check (which reads their two units,
// compares, and mails one new exception). The million are written once,
// by a full write, and taken as the baseline before the timer starts.
//
//	go test ./internal/ledger -run '^$' -bench BenchmarkAlertCheck -benchtime 200x
func BenchmarkAlertCheck(b *testing.B) { alertCheckRuns(b, 1_000_000, b.N, b.ResetTimer) }

// TestAlertCheckRuns is BenchmarkAlertCheck's work, small: what the
// benchmark measures holds (each check reads two units, finds one new).
func TestAlertCheckRuns(t *testing.T) { alertCheckRuns(t, 5000, 20, func() {}) }

// alertCheckRuns stores n items by a full write, takes the baseline, calls
// start, and makes runs incremental writes of two payments, each followed
// by a check that must read those two units and find one new exception.
func alertCheckRuns(tb testing.TB, n, runs int, start func()) {
	l, err := Open(filepath.Join(tb.TempDir(), "alerts.db"), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	if _, err := l.StartAlerts(t0); err != nil {
		tb.Fatal(err)
	}
	fw, err := l.BeginFull()
	if err != nil {
		tb.Fatal(err)
	}
	name := func(i int) string { return fmt.Sprintf("p%07d", i) }
	for i := range n {
		r := domain.ResultMatched
		if i%10 == 0 {
			r = domain.ResultAmountMismatch
		}
		it := alertItem(name(i), r, "")
		if err := fw.Add(domain.PaymentUnit(it.PaymentID), []domain.Item{it}, []domain.Place{{Key: "k" + it.PaymentID, Owner: domain.PaymentUnit(it.PaymentID)}}, []uint64{uint64(i + 1)}); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := fw.Finish(ResultWrite{At: t0, Config: "bench"}); err != nil {
		tb.Fatal(err)
	}
	check := AlertCheck{At: t0, Max: 50, Alert: domain.IsException, Mail: testAlertMail}
	if res, err := l.CheckAlerts(check); err != nil || !res.Baseline || res.Units != n {
		tb.Fatalf("the baseline: %+v %v", res, err)
	}
	start()
	for i := range runs {
		// Two payments recomputed: one turns status_mismatch (new), one
		// is matched.
		_, gen, err := l.MarkAll()
		if err != nil {
			tb.Fatal(err)
		}
		a, c := name(2*i+1), name(2*i+2)
		items := []domain.Item{alertItem(a, domain.ResultStatusMismatch, ""), alertItem(c, domain.ResultMatched, "")}
		w := ResultWrite{Gen: gen, At: t0, Config: "bench", Items: items, Units: []domain.Unit{domain.PaymentUnit(a), domain.PaymentUnit(c)}}
		for _, it := range items {
			w.Places = append(w.Places, domain.Place{Key: "k" + it.PaymentID, Owner: domain.PaymentUnit(it.PaymentID)})
		}
		if _, err := l.WriteResult(w); err != nil {
			tb.Fatal(err)
		}
		check.At = t0.Add(time.Duration(i+1) * time.Second)
		res, err := l.CheckAlerts(check)
		if err != nil || res.Units != 2 || res.New != 1 || res.Mail == nil {
			tb.Fatalf("check %d: %+v %v", i, res, err)
		}
	}
}
