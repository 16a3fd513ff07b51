package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/ledger"
	"reconciled/internal/mail/mailtest"
	"reconciled/internal/outbox"
)

const (
	smtpUser     = "reporter"
	smtpPassword = "smtp-Pa55word-not-for-logs"
)

var t0 = time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)

// clock is a settable clock, read by the delivery loop's goroutine too.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// mailConfig is a [mail] section for srv: STARTTLS with its certificate
// trusted through ca_file, AUTH, retries from a minute to three.
func mailConfig(t *testing.T, srv *mailtest.Server) config.Mail {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(ca, srv.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return config.Mail{Host: mailtest.Host, Port: srv.Port(), TLS: "starttls", Username: smtpUser,
		Password: config.NewSecret(smtpPassword), From: "reconciled@example.test", CAFile: ca,
		MaxAge: config.Duration{Duration: time.Hour}, RetryMin: config.Duration{Duration: time.Minute}, RetryMax: config.Duration{Duration: 3 * time.Minute}}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newLedger is a fresh database.
func newLedger(t *testing.T) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(filepath.Join(t.TempDir(), "reconciled.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// setup is an SMTP server and an outbox on a fresh database, on a clock at
// t0, delivering to the server.
func setup(t *testing.T, store func(*ledger.Ledger) outbox.Store) (*mailtest.Server, *outbox.Outbox, *ledger.Ledger, *clock) {
	t.Helper()
	srv := mailtest.NewServer(t, mailtest.Options{Username: smtpUser, Password: smtpPassword})
	l := newLedger(t)
	c := mailConfig(t, srv)
	clk := &clock{now: t0}
	var s outbox.Store = l
	if store != nil {
		s = store(l)
	}
	return srv, outbox.New(s, outbox.Options{Mail: func() config.Mail { return c }, Now: clk.Now, Log: quiet}), l, clk
}

// letter composes a message to finance, named by key, at the clock's time.
func letter(t *testing.T, ob *outbox.Outbox, clk *clock, key string) *ledger.Mail {
	t.Helper()
	ml, err := ob.Compose(outbox.Letter{Key: key, To: []string{"finance@example.test"}, Subject: "reconciled: " + key,
		Text: "the report\n", File: "exceptions-2026-11-20.csv", Data: []byte("result,payment_id\n")}, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ml
}

// stored is the outbox's record of ml.
func stored(t *testing.T, l *ledger.Ledger, ml *ledger.Mail) ledger.Mail {
	t.Helper()
	got, ok, err := l.MailByID(ml.ID)
	if err != nil || !ok {
		t.Fatalf("message %s: found %v, %v", ml.ID, ok, err)
	}
	return got
}

// deliver runs one delivery pass and checks what it says.
func deliver(t *testing.T, ob *outbox.Outbox, wantSent, wantPending int) {
	t.Helper()
	sent, pending, err := ob.DeliverDue(t.Context())
	if err != nil || sent != wantSent || pending != wantPending {
		t.Fatalf("DeliverDue: %d sent, %d pending, %v; want %d sent, %d pending", sent, pending, err, wantSent, wantPending)
	}
}

// TestQueueWakesTheLoop: the loop, idle after a pass that found nothing
// left to send (it would sleep 5 minutes), delivers a message as soon as
// it is queued, because queueing wakes it: no caller has to remember to.
func TestQueueWakesTheLoop(t *testing.T) {
	srv, ob, l, clk := setup(t, nil)
	// Put in the database behind the outbox's back: no wake waits.
	if err := l.QueueMail(letter(t, ob, clk, "first")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wait, stop := context.WithTimeout(t.Context(), 30*time.Second)
	defer stop()
	if _, err := srv.Wait(wait, 1); err != nil {
		t.Fatalf("the loop did not deliver what was queued before it started: %v", err)
	}
	// The server has the first message: the pass that sent it read the
	// outbox before the second is queued, and nothing else waits.
	second := letter(t, ob, clk, "second")
	if err := ob.Queue(second); err != nil {
		t.Fatal(err)
	}
	msgs, err := srv.Wait(wait, 2)
	if err != nil {
		t.Fatalf("a queued message waited for the loop's idle pass: %v", err)
	}
	if !strings.Contains(string(msgs[1].Data), "reconciled: second") {
		t.Errorf("the second message delivered is not the one queued second:\n%.300s", msgs[1].Data)
	}
	cancel()
	<-done
	if got := stored(t, l, second); got.State() != ledger.MailSent || got.Attempts != 1 {
		t.Errorf("the second message: %s after %d attempts", got.State(), got.Attempts)
	}
	if n := srv.Count(); n != 2 {
		t.Errorf("the server has %d messages, want 2", n)
	}
}

// TestQueueProducedWakesTheLoop: a report recorded as produced with its
// mail wakes the loop like Queue; a second record of the same key queues
// nothing.
func TestQueueProducedWakesTheLoop(t *testing.T) {
	srv, ob, l, clk := setup(t, nil)
	if err := l.QueueMail(letter(t, ob, clk, "first")); err != nil { // no wake waits
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wait, stop := context.WithTimeout(t.Context(), 30*time.Second)
	defer stop()
	if _, err := srv.Wait(wait, 1); err != nil {
		t.Fatalf("the loop did not deliver what was queued before it started: %v", err)
	}
	key := "report|what=|format=csv|to=finance@example.test|2026-11-20"
	ml := letter(t, ob, clk, key)
	p := ledger.Produced{Key: key, At: clk.Now(), MessageID: ml.ID}
	if err := ob.QueueProduced(p, ml); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Wait(wait, 2); err != nil {
		t.Fatalf("the produced report's mail waited for the loop's idle pass: %v", err)
	}
	again := letter(t, ob, clk, key+" again")
	if err := ob.QueueProduced(p, again); !errors.Is(err, ledger.ErrProduced) {
		t.Fatalf("the same key again: %v, want ErrProduced", err)
	}
	if _, ok, err := l.MailByID(again.ID); ok || err != nil {
		t.Errorf("a key produced before queued its mail (%v)", err)
	}
	cancel()
	<-done
	if n := srv.Count(); n != 2 {
		t.Errorf("the server has %d messages, want 2", n)
	}
}

// TestDueAndBackoff: a refused attempt (451) is retried after retry_min,
// then after twice that, then after retry_max at most; before it is due,
// a pass does not even connect.
func TestDueAndBackoff(t *testing.T) {
	srv, ob, l, clk := setup(t, nil)
	ml := letter(t, ob, clk, "backoff")
	if err := ob.Queue(ml); err != nil {
		t.Fatal(err)
	}
	srv.Reject(mailtest.StageData, 451)
	var last time.Time // the last attempt
	for i, wait := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute} {
		attempts := i + 1
		deliver(t, ob, 0, 1)
		got := stored(t, l, ml)
		if got.Attempts != attempts || !got.LastAttempt.Equal(clk.Now()) || !got.NextAttempt.Equal(clk.Now().Add(wait)) || !strings.Contains(got.LastError, "451") {
			t.Fatalf("after attempt %d: %d attempts, last %v, next %v (want %v after), error %q", attempts, got.Attempts, got.LastAttempt, got.NextAttempt, wait, got.LastError)
		}
		last = clk.Now()
		conns := srv.Connections()
		clk.Add(wait - time.Second) // not due yet
		deliver(t, ob, 0, 1)
		if srv.Connections() != conns || stored(t, l, ml).Attempts != attempts {
			t.Fatalf("a message not due was tried: %d connections, were %d", srv.Connections(), conns)
		}
		clk.Add(time.Second)
	}
	srv.Reject(mailtest.StageData, 0)
	deliver(t, ob, 1, 0)
	got := stored(t, l, ml)
	if got.State() != ledger.MailSent || got.Attempts != 5 || got.LastError != "" || !got.NextAttempt.IsZero() || got.Message != nil {
		t.Errorf("after the server took it: %s, %d attempts, error %q, next %v, message kept %v", got.State(), got.Attempts, got.LastError, got.NextAttempt, got.Message != nil)
	}
	if !last.Before(got.Sent) || srv.Count() != 1 {
		t.Errorf("sent at %v, the last refusal at %v; the server has %d", got.Sent, last, srv.Count())
	}
}

// TestMaxAgeGivesUp: a message not delivered within max_age is given up
// without another attempt; a 5xx to RCPT gives one up at once.
func TestMaxAgeGivesUp(t *testing.T) {
	srv, ob, l, clk := setup(t, nil)
	old := letter(t, ob, clk, "old")
	if err := ob.Queue(old); err != nil {
		t.Fatal(err)
	}
	srv.Reject(mailtest.StageData, 421)
	deliver(t, ob, 0, 1)
	srv.Reject(mailtest.StageData, 0)
	clk.Add(time.Hour) // exactly max_age: still tried
	deliver(t, ob, 1, 0)
	if got := stored(t, l, old); got.State() != ledger.MailSent {
		t.Fatalf("a message max_age old: %s", got.State())
	}

	late := letter(t, ob, clk, "late")
	if err := ob.Queue(late); err != nil {
		t.Fatal(err)
	}
	srv.Reject(mailtest.StageData, 451)
	deliver(t, ob, 0, 1)
	srv.Reject(mailtest.StageData, 0)
	conns := srv.Connections()
	clk.Add(time.Hour + time.Second)
	deliver(t, ob, 0, 0)
	got := stored(t, l, late)
	if got.State() != ledger.MailGivenUp || !got.GaveUp.Equal(clk.Now()) || got.Attempts != 1 || !strings.Contains(got.LastError, "451") {
		t.Errorf("past max_age: %s at %v after %d attempts, error %q", got.State(), got.GaveUp, got.Attempts, got.LastError)
	}
	if srv.Connections() != conns || srv.Count() != 1 {
		t.Errorf("a message past max_age was tried: %d connections, were %d; %d messages", srv.Connections(), conns, srv.Count())
	}

	refused := letter(t, ob, clk, "refused")
	if err := ob.Queue(refused); err != nil {
		t.Fatal(err)
	}
	srv.Reject(mailtest.StageRcpt, 550)
	deliver(t, ob, 0, 0)
	if got := stored(t, l, refused); got.State() != ledger.MailGivenUp || !strings.Contains(got.LastError, "550") {
		t.Errorf("refused with a 550: %s, %q", got.State(), got.LastError)
	}
}

// failingUpdates is the real database whose UpdateMail fails while fail is
// set: the disk error after the server took a message.
type failingUpdates struct {
	*ledger.Ledger
	fail atomic.Bool
}

var errDisk = errors.New("write reconciled.db: input/output error")

func (f *failingUpdates) UpdateMail(m *ledger.Mail) error {
	if f.fail.Load() {
		return errDisk
	}
	return f.Ledger.UpdateMail(m)
}

// TestSentButUnrecordedIsNotSentAgain: the server took a message and its
// Sent could not be stored; the next passes do not send it again, and the
// first that can store it stores the Sent of the delivery.
func TestSentButUnrecordedIsNotSentAgain(t *testing.T) {
	var store *failingUpdates
	srv, ob, l, clk := setup(t, func(l *ledger.Ledger) outbox.Store { store = &failingUpdates{Ledger: l}; return store })
	ml := letter(t, ob, clk, "unrecorded")
	if err := ob.Queue(ml); err != nil {
		t.Fatal(err)
	}
	store.fail.Store(true)
	if _, _, err := ob.DeliverDue(t.Context()); !errors.Is(err, errDisk) {
		t.Fatalf("DeliverDue with the disk failing: %v", err)
	}
	if srv.Count() != 1 {
		t.Fatalf("the server has %d messages, want 1", srv.Count())
	}
	sentAt := clk.Now()
	clk.Add(10 * time.Minute)
	if _, _, err := ob.DeliverDue(t.Context()); !errors.Is(err, errDisk) {
		t.Fatalf("DeliverDue with the disk still failing: %v", err)
	}
	store.fail.Store(false)
	clk.Add(10 * time.Minute)
	deliver(t, ob, 0, 0)
	deliver(t, ob, 0, 0)
	if n := srv.Count(); n != 1 {
		t.Errorf("the server has %d messages: a message it took was sent again", n)
	}
	got := stored(t, l, ml)
	if got.State() != ledger.MailSent || !got.Sent.Equal(sentAt) || got.Message != nil {
		t.Errorf("recorded as %s at %v (sent at %v), message kept %v", got.State(), got.Sent, sentAt, got.Message != nil)
	}
}

// TestComposeNamesTheMessageByKey: the Message-ID follows the key (a resend
// is the same message) in mail.from's domain; the attachment is typed by
// its extension and zipped above zip_above.
func TestComposeNamesTheMessageByKey(t *testing.T) {
	c := config.Mail{From: "Reconciled <reports@shop.example>", ZipAbove: 10}
	ob := outbox.New(newLedger(t), outbox.Options{Mail: func() config.Mail { return c }})
	make := func(key, file string) *ledger.Mail {
		t.Helper()
		ml, err := ob.Compose(outbox.Letter{Key: key, To: []string{"a@example.test"}, Subject: "s", Text: "t", File: file, Data: []byte("0123456789abcdef")}, t0.Add(1500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return ml
	}
	a, again, b := make("k1", "x.csv"), make("k1", "x.xlsx"), make("k2", "x.csv")
	if a.ID != again.ID || a.ID == b.ID || !strings.HasPrefix(a.ID, "reconciled.") || !strings.HasSuffix(a.ID, "@shop.example") {
		t.Errorf("Message-IDs %q %q %q", a.ID, again.ID, b.ID)
	}
	if !a.Queued.Equal(t0.Add(1500*time.Millisecond)) || !strings.Contains(string(a.Message), `"Name":"x.csv.zip"`) {
		t.Errorf("queued %v; message %.400s", a.Queued, a.Message)
	}
}

// TestComposeWithoutAFileAttachesNothing: a letter without a file (an
// alert) is a message with its bodies alone, not one with an unnamed
// attachment.
func TestComposeWithoutAFileAttachesNothing(t *testing.T) {
	c := config.Mail{From: "reports@shop.example"}
	ob := outbox.New(newLedger(t), outbox.Options{Mail: func() config.Mail { return c }})
	ml, err := ob.Compose(outbox.Letter{Key: "alert 1", To: []string{"a@example.test"}, Subject: "s", Text: "t", HTML: "<p>t</p>"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ml.Message), `"Name"`) {
		t.Errorf("the message has an attachment: %.400s", ml.Message)
	}
}

// checkAtLog is a slog handler that runs at on every record logged (and
// keeps nothing).
type checkAtLog struct {
	slog.Handler
	at func(slog.Record)
}

func (h checkAtLog) Enabled(context.Context, slog.Level) bool { return true }
func (h checkAtLog) Handle(_ context.Context, r slog.Record) error {
	h.at(r)
	return nil
}
func (h checkAtLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h checkAtLog) WithGroup(string) slog.Handler      { return h }

// TestMailSentIsLoggedOnceRecorded: "mail sent" is logged once the sent
// state is committed, so whoever reads the log and then the outbox
// (status, a test, a person) finds it sent.
func TestMailSentIsLoggedOnceRecorded(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: smtpUser, Password: smtpPassword})
	l := newLedger(t)
	c := mailConfig(t, srv)
	clk := &clock{now: t0}
	var ml *ledger.Mail
	var logged atomic.Int32
	var problem atomic.Value
	log := slog.New(checkAtLog{at: func(r slog.Record) {
		if r.Message != "mail sent" {
			return
		}
		logged.Add(1)
		if got, ok, err := l.MailByID(ml.ID); err != nil || !ok || got.State() != ledger.MailSent {
			problem.Store(fmt.Sprintf("when it was logged, the outbox held it as %s (found %v, %v)", got.State(), ok, err))
		}
	}})
	ob := outbox.New(l, outbox.Options{Mail: func() config.Mail { return c }, Now: clk.Now, Log: func() *slog.Logger { return log }})
	ml = letter(t, ob, clk, "logged")
	if err := ob.Queue(ml); err != nil {
		t.Fatal(err)
	}
	deliver(t, ob, 1, 0)
	if logged.Load() != 1 {
		t.Fatalf("logged %d times", logged.Load())
	}
	if p := problem.Load(); p != nil {
		t.Error(p)
	}
}
