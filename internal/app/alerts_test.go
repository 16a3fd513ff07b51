package app

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/mail/mailtest"
	"reconciled/internal/outbox"
)

// alertWorld is an App with [alerts] and an outbox that delivers to an
// SMTP server on loopback, on a clock the test moves.
type alertWorld struct {
	t   *testing.T
	a   *App
	srv *mailtest.Server
	cfg *config.Config
	now time.Time
}

func newAlertWorld(t *testing.T, results ...string) *alertWorld {
	t.Helper()
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	base := testApp(t, []domain.Operation{sale(1, "p-ok", at, 1000), sale(2, "p-short", at, 1000)},
		[]domain.Record{paid("p-ok", at, 1000), paid("p-short", at, 900)})
	w := &alertWorld{t: t, srv: mailtest.NewServer(t, mailtest.Options{}), now: now}
	ca := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(ca, w.srv.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := *base.Config
	cfg.Mail = config.Mail{Host: mailtest.Host, Port: w.srv.Port(), TLS: "starttls", From: "reconciled@example.test", CAFile: ca,
		MaxAge: config.Duration{Duration: time.Hour}, RetryMin: config.Duration{Duration: time.Minute}, RetryMax: config.Duration{Duration: time.Hour}}
	cfg.Alerts = config.Alerts{To: []string{"finance@example.test"}, Results: results, Interval: config.Duration{Duration: time.Hour}, MaxItems: 50}
	w.cfg = &cfg
	w.open(base.Ledger)
	return w
}

// open builds the App on l, with its own outbox: a process.
func (w *alertWorld) open(l *ledger.Ledger) {
	clock := func() time.Time { return w.now }
	ob := outbox.New(l, outbox.Options{Mail: func() config.Mail { return w.cfg.Mail }, Now: clock})
	w.a = New(App{Config: w.cfg, Ledger: l, Now: clock, Outbox: ob})
}

// restart closes the database and opens it again, as a new daemon.
func (w *alertWorld) restart() {
	w.t.Helper()
	w.a.Ledger.Close()
	l, err := ledger.Open(w.cfg.Storage.Path, ledger.Options{})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { l.Close() })
	w.open(l)
}

// store adds a sale and the merchant's record of it.
func (w *alertWorld) store(ops []domain.Operation, recs ...domain.Record) {
	w.t.Helper()
	if _, err := w.a.Ledger.UpsertPage(ops, w.now); err != nil {
		w.t.Fatal(err)
	}
	if len(recs) > 0 {
		if _, err := w.a.Ledger.ImportRecords(recs, ledger.Import{At: w.now, User: "tester", File: "more.csv", Format: "csv", Lines: len(recs)}, w.now); err != nil {
			w.t.Fatal(err)
		}
	}
}

// reconcile is a reconcile (as the daemon's job makes it), then the
// alerts' pass, then a delivery; it returns the pass.
func (w *alertWorld) reconcile(full bool) AlertsResult {
	w.t.Helper()
	if _, err := w.a.RunReconcile(w.t.Context(), RunRequest{Full: full, User: "tester"}); err != nil {
		w.t.Fatal(err)
	}
	return w.alerts()
}

func (w *alertWorld) alerts() AlertsResult {
	w.t.Helper()
	res, err := w.a.Alerts(w.t.Context())
	if err != nil {
		w.t.Fatal(err)
	}
	if _, _, err := w.a.Outbox.DeliverDue(w.t.Context()); err != nil {
		w.t.Fatal(err)
	}
	return res
}

// received is the i-th message the server got: subject, text and HTML.
func (w *alertWorld) received(i int) (subject, text, html string) {
	w.t.Helper()
	msgs := w.srv.Messages()
	if len(msgs) <= i {
		w.t.Fatalf("%d messages arrived, want message %d", len(msgs), i+1)
	}
	m, err := netmail.ReadMessage(bytes.NewReader(msgs[i].Data))
	if err != nil {
		w.t.Fatal(err)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		w.t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			w.t.Fatal(err)
		}
		if p.FileName() != "" {
			w.t.Errorf("the alert has an attachment %q", p.FileName())
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			w.t.Fatal(err)
		}
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
	return subject, text, html
}

// declined is a payment ECommPay declined (with a hostile message) that
// the books call paid: a status_mismatch.
func declined(id uint64, payment string, at time.Time) (domain.Operation, domain.Record) {
	op := sale(id, payment, at, 5000)
	op.OperationStatus, op.PaymentStatus, op.Code, op.Message = "decline", "decline", "20", "<script>alert(1)</script>"
	return op, paid(payment, at, 5000)
}

// TestAlertsMailNewExceptionsOnceEachAtMostOncePerInterval: alerts
// started on a database take its open exceptions as known; a payment
// declined at ECommPay that the books call paid is mailed at once,
// through the outbox, its hostile message escaped; two more reconciles
// inside the interval give no second mail until the interval is over,
// and then one with both of their exceptions and not the first; a code
// not chosen is never mailed; a restart and a full recompute mail
// nothing again.
func TestAlertsMailNewExceptionsOnceEachAtMostOncePerInterval(t *testing.T) {
	w := newAlertWorld(t, domain.ResultStatusMismatch, domain.ResultAmountMismatch)
	at := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)
	if res := w.reconcile(false); !res.Started || !res.Checked.Baseline || res.Checked.Mail != nil {
		t.Fatalf("the first pass: %+v, want alerts started and the open exceptions known", res)
	}

	w.now = w.now.Add(time.Minute)
	first := w.now
	op, rec := declined(10, "p-declined", at)
	cur := sale(11, "p-currency", at, 700) // a currency_mismatch: not chosen
	curRec := paid("p-currency", at, 700)
	curRec.Amount.Currency = "USD"
	w.store([]domain.Operation{op, cur}, rec, curRec)
	res := w.reconcile(false)
	if res.Checked.Mail == nil || res.Checked.New != 1 {
		t.Fatalf("after the decline: %+v, want one new exception mailed", res)
	}
	subject, text, html := w.received(0)
	if subject != "reconciled: 1 new exception (status_mismatch)" {
		t.Errorf("subject %q", subject)
	}
	if !strings.Contains(text, "p-declined") || !strings.Contains(text, "50.00 EUR paid") || !strings.Contains(text, "50.00 EUR decline") ||
		strings.Contains(text, "p-currency") || strings.Contains(text, "p-short") {
		t.Errorf("the text:\n%s", text)
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(html, "<script>") {
		t.Errorf("the HTML does not escape the message:\n%s", html)
	}
	if !strings.Contains(text, "--result status_mismatch") {
		t.Errorf("the text lacks the export's hint:\n%s", text)
	}

	w.now = w.now.Add(time.Minute)
	short := sale(12, "p-short2", at, 2000)
	w.store([]domain.Operation{short}, paid("p-short2", at, 1999))
	if res := w.reconcile(false); res.Checked.Mail != nil || !res.Next.Equal(first.Add(time.Hour)) {
		t.Errorf("a second reconcile inside the interval: %+v, want nothing mailed before %v", res, first.Add(time.Hour))
	}
	w.now = w.now.Add(10 * time.Minute)
	op2, rec2 := declined(13, "p-declined2", at)
	w.store([]domain.Operation{op2}, rec2)
	w.reconcile(false)
	if n := w.srv.Count(); n != 1 {
		t.Fatalf("%d mails after three reconciles inside one interval, want 1", n)
	}
	w.now = first.Add(time.Hour)
	if res := w.alerts(); res.Checked.New != 2 {
		t.Errorf("at the interval's end: %+v, want the two waiting", res)
	}
	subject, text, _ = w.received(1)
	if subject != "reconciled: 2 new exceptions (1 amount_mismatch, 1 status_mismatch)" || !strings.Contains(text, "p-short2") ||
		!strings.Contains(text, "p-declined2") || strings.Contains(text, "p-declined ") {
		t.Errorf("the second mail: %q\n%s", subject, text)
	}

	w.restart()
	w.now = w.now.Add(2 * time.Hour)
	w.reconcile(false)
	w.reconcile(true)
	if n := w.srv.Count(); n != 2 {
		t.Errorf("%d mails after a restart and a full recompute, want still 2", n)
	}
	if mails, _ := w.a.Ledger.Outbox(false); len(mails) != 2 {
		t.Errorf("%d messages in the outbox, want 2", len(mails))
	}
}

// TestAlertsOfCodesNotChosenMailNothing, and a config without [alerts]
// turns them off.
func TestAlertsOfCodesNotChosenMailNothing(t *testing.T) {
	w := newAlertWorld(t, domain.ResultOverdue)
	at := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)
	w.reconcile(false)
	op, rec := declined(10, "p-declined", at)
	w.store([]domain.Operation{op}, rec)
	w.now = w.now.Add(time.Minute)
	if res := w.reconcile(false); res.Checked.Mail != nil || res.Checked.Units == 0 {
		t.Errorf("a status_mismatch with only overdue alerted: %+v", res)
	}
	if n := w.srv.Count(); n != 0 {
		t.Errorf("%d mails", n)
	}
	w.cfg.Alerts = config.Alerts{}
	w.open(w.a.Ledger)
	if res := w.alerts(); !res.Off || !res.Stopped {
		t.Errorf("without [alerts]: %+v, want them stopped", res)
	}
	if st, _ := w.a.Ledger.Alerts(); st.On {
		t.Errorf("still on: %+v", st)
	}
}

// Callbacks feed the alerts as any reconcile does: a burst of 1,000
// callbacks declining payments the books call paid, reconciled as the
// daemon reconciles callbacks, is one mail that lists alerts.max_items
// of them and counts the rest; a code added to alerts.results by a
// reload mails only exceptions new from then on, not one seen before it.
func TestCallbacksFeedTheAlertsOneMailForABurst(t *testing.T) {
	w := newAlertWorld(t, domain.ResultOverdue)
	at := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)
	w.reconcile(false) // the baseline
	op, rec := declined(10, "p-declined", at)
	w.store([]domain.Operation{op}, rec)
	w.now = w.now.Add(time.Minute)
	if res := w.reconcile(false); res.Checked.Mail != nil {
		t.Fatalf("a status_mismatch with only overdue alerted: %+v", res)
	}

	cfg := *w.cfg // a reload: status_mismatch alerted too
	cfg.Alerts.Results = []string{domain.ResultOverdue, domain.ResultStatusMismatch}
	w.cfg = &cfg
	w.open(w.a.Ledger)
	var ops []domain.Operation
	var recs []domain.Record
	for i := range 1000 {
		op, rec := declined(uint64(1000+i), fmt.Sprintf("p-burst-%04d", i), at)
		ops, recs = append(ops, op), append(recs, rec)
	}
	w.store(nil, recs...)
	w.now = w.now.Add(time.Minute)
	if res := w.reconcile(false); res.Checked.Mail != nil {
		t.Fatalf("the books' records alone (pending): %+v", res)
	}
	out, changes, err := w.a.Ledger.UpsertCallbacks(ops, w.now)
	if err != nil || out[0] != ledger.OutcomeNew {
		t.Fatalf("callbacks: %v %v", out[:1], err)
	}
	w.now = w.now.Add(time.Second)
	if _, ok, err := w.a.ReconcileUnits(w.t.Context(), changes, "callbacks"); err != nil || !ok {
		t.Fatalf("the callbacks' reconcile: %v %v", ok, err)
	}
	res := w.alerts()
	if res.Checked.New != 1000 || res.Checked.Mail == nil {
		t.Fatalf("the alerts after the burst: %+v", res.Checked)
	}
	if n := w.srv.Count(); n != 1 {
		t.Fatalf("%d mails, want one", n)
	}
	subject, text, _ := w.received(0)
	if subject != "reconciled: 1000 new exceptions (1000 status_mismatch)" {
		t.Errorf("subject %q", subject)
	}
	if strings.Contains(text, "p-declined") || strings.Count(text, "p-burst-") != 50 || !strings.Contains(text, "and 950 more new exceptions") {
		t.Errorf("the mail lists %d, mentions p-declined %v:\n%s", strings.Count(text, "p-burst-"), strings.Contains(text, "p-declined"), text)
	}
	w.now = w.now.Add(2 * time.Hour)
	if res := w.alerts(); res.Checked.Mail != nil || w.srv.Count() != 1 {
		t.Errorf("a second pass: %+v, %d mails", res.Checked, w.srv.Count())
	}
}
