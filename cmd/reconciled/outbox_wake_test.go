package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"reconciled/internal/mail/mailtest"
)

// TestForwardedReportSendIsRetriedAfterRetryMin: a `report --send` that
// comes through the control socket while the SMTP server is down stays in
// the outbox; the daemon's delivery loop must hear of it and retry it
// retry_min after the failure, not at its idle pass minutes later. Once
// the server is back the message arrives within retry_min and a second,
// and once.
func TestForwardedReportSendIsRetriedAfterRetryMin(t *testing.T) {
	const retryMin = 2 * time.Second
	srv := mailtest.NewServer(t, mailtest.Options{Username: smtpUser, Password: smtpPassword})
	srv.Stop()
	w := newWorld(t, 200, 30*time.Minute, "")
	w.setNow(time.Now())
	section := strings.NewReplacer(`retry_min = "1s"`, `retry_min = "2s"`, `retry_max = "2s"`, `retry_max = "2s"`).Replace(mailSection(t, srv))
	appendConfig(t, w, section)
	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })

	code, _, errOut := w.run(t, "report", "--send", "--to", "finance@example.test")
	if code != exitFailed || !strings.Contains(errOut, "not delivered yet") {
		t.Fatalf("report --send with the server down: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out.String(), "control socket: command") {
		t.Fatalf("the command did not go through the daemon:\n%s", out.String())
	}
	srv.Start()
	ctx, cancel := context.WithTimeout(t.Context(), retryMin+time.Second)
	defer cancel()
	if _, err := srv.Wait(ctx, 1); err != nil {
		t.Fatalf("not delivered within retry_min + 1 s of the server coming back (%v); the daemon said:\n%s", err, out.String())
	}
	waitFor(t, "the daemon to record it sent", out, func() bool { return strings.Contains(out.String(), `msg="mail sent"`) })
	if status := w.mustRun(t, "status"); !strings.Contains(status, "1 sent, 0 pending, 0 given up") {
		t.Errorf("status after the delivery:\n%s", status)
	}
	stopDaemon(t, cmd, out)
	if n := srv.Count(); n != 1 {
		t.Errorf("the server received %d messages, want 1", n)
	}
}
