package main

import (
	"bytes"
	"mime"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/mail/mailtest"
)

// TestDaemonMailsANewExceptionOnce runs the daemon with [alerts] and a
// reconcile every second against the fake Data API and an SMTP server:
// the exceptions of the first reconcile are taken as known and mailed to
// no one; a book imported through the socket that calls a successful
// payment failed makes a status_mismatch, mailed once, as it appears,
// without an attachment; a restart and a full recompute past the
// interval mail nothing more.
func TestDaemonMailsANewExceptionOnce(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: smtpUser, Password: smtpPassword})
	w := newWorld(t, 400, 5*time.Minute, "")
	w.setNow(time.Now())
	w.mustRun(t, "sync")
	w.mustRun(t, "import", w.recordsFor(t, "books.csv", nil))
	appendConfig(t, w, mailSection(t, srv)+`
[alerts]
to = ["finance@example.test"]
results = ["status_mismatch"]
interval = "1h"

[[schedule]]
job = "reconcile"
cron = "@every 1s"
`)
	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)
	waitFor(t, "the alerts' baseline", out, func() bool { return strings.Contains(out.String(), "alerts: the open exceptions are known") })

	var payment string
	changed := w.recordsFor(t, "correction.csv", func(i int, op domain.Operation, f []string) []string {
		if payment != "" || f[1] != domain.RecordPurchase || f[4] != domain.RecordPaid {
			return nil
		}
		payment = f[0]
		f[4] = domain.RecordFailed
		return f
	})
	if payment == "" {
		t.Fatal("the fake has no paid purchase")
	}
	w.mustRun(t, "import", changed) // through the daemon's socket
	msgs, err := waitMail(t, srv, 1)
	if err != nil {
		t.Fatalf("%v; the daemon said:\n%s", err, out.String())
	}
	got := msgs[0]
	if !got.TLS || got.User != smtpUser || !slices.Equal(got.To, []string{"finance@example.test"}) {
		t.Errorf("delivered with TLS %v as %q to %v", got.TLS, got.User, got.To)
	}
	h, parts := parseMail(t, got.Data)
	subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if subject != "reconciled: 1 new exception (status_mismatch)" {
		t.Errorf("subject %q", subject)
	}
	var text, html bool
	for _, p := range parts {
		switch {
		case p.filename != "":
			t.Errorf("the alert has an attachment %q", p.filename)
		case p.contentType == "text/plain":
			text = bytes.Contains(p.body, []byte(payment)) && bytes.Contains(p.body, []byte("status_mismatch"))
		case p.contentType == "text/html":
			html = bytes.Contains(p.body, []byte(payment)) && bytes.Contains(p.body, []byte("<table"))
		}
	}
	if !text || !html {
		t.Errorf("text naming %s: %v, HTML: %v", payment, text, html)
	}

	// Restarted with its clock two hours on, past the interval since the
	// mail: a pass looks at what the full recompute noted at once.
	stopDaemon(t, cmd, out)
	cmd, out2 := w.daemonChild(t, sd, "RECONCILED_TEST_NOW="+time.Now().Add(2*time.Hour).Format(time.RFC3339Nano))
	waitFor(t, "the restarted daemon", out2, func() bool { return strings.Contains(out2.String(), "reconciled is running") })
	w.mustRun(t, "reconcile", "--full", "--no-recheck") // through the socket: every unit noted for the alerts
	waitFor(t, "the alerts' pass after the full recompute", out2, func() bool { return strings.Contains(out2.String(), `msg="alerts: nothing new"`) })
	if strings.Contains(out2.String(), "alert mail queued") || srv.Count() != 1 {
		t.Errorf("%d mails after a restart and a full recompute, want 1; the daemon said:\n%s", srv.Count(), out2.String())
	}
	if status := w.mustRun(t, "status"); !strings.Contains(status, "1 sent, 0 pending") {
		t.Errorf("status:\n%s", status)
	}
	stopDaemon(t, cmd, out2)
	for _, log := range []string{out.String(), out2.String()} {
		if strings.Contains(log, smtpPassword) || strings.Contains(log, "panic") {
			t.Errorf("the log shows the password or a panic:\n%s", log)
		}
	}
}

// check-config says where alerts go and of what, and refuses an alert of
// a code that needs no person, naming the key (exit 2).
func TestCheckConfigShowsTheAlerts(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	srv := mailtest.NewServer(t, mailtest.Options{})
	appendConfig(t, w, mailSection(t, srv)+"[alerts]\nto = [\"finance@example.test\"]\nresults = [\"status_mismatch\", \"overdue\"]\n")
	code, out, errOut := w.run(t, "check-config")
	want := "  alerts     to finance@example.test of status_mismatch, overdue: at most one mail every 15m, 50 listed\n"
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d, want 0 and %q in\n%s\n%s", code, want, out, errOut)
	}
	appendConfig(t, w, mailSection(t, srv)+"[alerts]\nto = [\"finance@example.test\"]\nresults = [\"matched\"]\n")
	code, out, errOut = w.run(t, "check-config")
	if code != 2 || !strings.Contains(errOut, `alerts.results: "matched" is no exception`) {
		t.Errorf("an alert of matched: exit %d\n%s\n%s", code, out, errOut)
	}
}
