package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/ledger"
	"reconciled/internal/mail"
	"reconciled/internal/mail/mailtest"
)

const (
	smtpUser     = "reporter"
	smtpPassword = "smtp-Pa55word-not-for-logs"
)

// mailSection is a [mail] section for srv: STARTTLS with its self-signed
// certificate trusted through ca_file, AUTH, quick retries.
func mailSection(t *testing.T, srv *mailtest.Server) string {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(ca, srv.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`[mail]
host = %q
port = %d
tls = "starttls"
username = %q
password = %q
from = "reconciled@example.test"
ca_file = %q
retry_min = "1s"
retry_max = "2s"
`, mailtest.Host, srv.Port(), smtpUser, smtpPassword, ca)
}

// part is one leaf of a MIME message.
type part struct {
	contentType string
	filename    string
	body        []byte
}

// parseMail parses a message as received: its header and its leaf parts,
// transfer-decoded.
func parseMail(t *testing.T, data []byte) (netmail.Header, []part) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a message: %v", err)
	}
	var parts []part
	var walk func(ctype string, body io.Reader)
	walk = func(ctype string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			t.Fatalf("content type %q: %v", ctype, err)
		}
		if !strings.HasPrefix(mt, "multipart/") {
			b, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, part{contentType: mt, body: b})
			return
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart() // decodes quoted-printable itself
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var r io.Reader = p
			if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
				r = base64.NewDecoder(base64.StdEncoding, p)
			}
			n := len(parts)
			walk(p.Header.Get("Content-Type"), r)
			if len(parts) > n && p.FileName() != "" {
				parts[len(parts)-1].filename = p.FileName()
			}
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Body)
	return msg.Header, parts
}

// checkReportMail checks a received report: over TLS, authenticated, from
// the config's sender to want, with text and HTML bodies and the XLSX
// attached; it returns the Message-ID.
func checkReportMail(t *testing.T, got mailtest.Message, want string) string {
	t.Helper()
	if !got.TLS || got.User != smtpUser {
		t.Errorf("delivered with TLS %v as %q", got.TLS, got.User)
	}
	if got.From != "reconciled@example.test" || !slices.Equal(got.To, []string{want}) {
		t.Errorf("envelope %s -> %v, want -> %s", got.From, got.To, want)
	}
	if bytes.Contains(got.Data, []byte(smtpPassword)) {
		t.Error("the message carries the SMTP password")
	}
	h, parts := parseMail(t, got.Data)
	subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if !strings.HasPrefix(subject, "reconciled: ") || !strings.Contains(subject, "open exception") {
		t.Errorf("subject %q", subject)
	}
	var text, html bool
	var xlsx []byte
	for _, p := range parts {
		switch {
		case p.contentType == "text/plain" && p.filename == "":
			text = strings.Contains(string(p.body), "Reconciliation report for")
		case p.contentType == "text/html":
			html = strings.Contains(string(p.body), "<table") && !strings.Contains(string(p.body), "src=")
		case strings.HasSuffix(p.filename, ".xlsx"):
			xlsx = p.body
		}
	}
	if !text || !html || xlsx == nil {
		var kinds []string
		for _, p := range parts {
			kinds = append(kinds, p.contentType+" "+p.filename)
		}
		t.Fatalf("text body %v, HTML body with tables %v, XLSX attached %v; parts %q", text, html, xlsx != nil, kinds)
	}
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatalf("the attached workbook does not open: %v", err)
	}
	defer f.Close()
	if !slices.Contains(f.GetSheetList(), "Open exceptions") {
		t.Errorf("the workbook's sheets: %v", f.GetSheetList())
	}
	return h.Get("Message-Id")
}

// TestDaemonMailsTheReport runs the daemon with one-second schedules
// against the fake Data API and an SMTP server with STARTTLS and AUTH: the
// report arrives with its attachment, once; a report made while the server
// is down is delivered when it comes back, also across a restart of the
// daemon, once each.
func TestDaemonMailsTheReport(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: smtpUser, Password: smtpPassword})
	w := newWorld(t, 2000, 30*time.Minute, "")
	w.setNow(time.Now())
	schedules := `
[[schedule]]
job = "sync"
cron = "@every 1s"

[[schedule]]
job = "report"
cron = "@every 1s"
to = ["finance@example.test"]
`
	w.mustRun(t, "sync") // the report's numbers do not race the first sync
	base := mailSection(t, srv) + schedules
	appendConfig(t, w, base)
	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)

	msgs, err := waitMail(t, srv, 1)
	if err != nil {
		t.Fatalf("%v; the daemon said:\n%s", err, out.String())
	}
	first := checkReportMail(t, msgs[0], "finance@example.test")
	// The report schedule runs every second: the day's report is made and
	// sent once.
	runs := strings.Count(out.String(), `job=report`)
	waitFor(t, "more report runs", out, func() bool { return strings.Count(out.String(), `job=report`) >= runs+3 })
	if n := srv.Count(); n != 1 {
		t.Fatalf("%d messages after more report runs, want 1", n)
	}
	reportDir := filepath.Join(w.dir, "reports")
	day := app.PreviousDay(time.Now(), time.UTC).Format(time.DateOnly)
	for _, f := range []string{"report-" + day + ".html", "report-" + day + ".xlsx"} {
		if _, err := os.Stat(filepath.Join(reportDir, f)); err != nil {
			t.Errorf("the report's file: %v", err)
		}
	}

	// The server goes down; a new report schedule makes a report for the
	// audit team: it waits in the outbox, retried, and goes when the
	// server is back.
	srv.Stop()
	appendConfig(t, w, base+"\n[[schedule]]\njob = \"report\"\ncron = \"@every 1s\"\nto = [\"audit@example.test\"]\n")
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "two failed attempts", out, func() bool {
		return strings.Contains(out.String(), `msg="mail not delivered; will retry"`) && strings.Contains(out.String(), "attempts=2")
	})
	status := w.mustRun(t, "status") // through the control socket
	if !strings.Contains(status, "1 sent, 1 pending") || !strings.Contains(status, "connection refused") {
		t.Errorf("status while the server is down:\n%s", status)
	}
	srv.Start()
	msgs, err = waitMail(t, srv, 2)
	if err != nil {
		t.Fatalf("%v; the daemon said:\n%s", err, out.String())
	}
	second := checkReportMail(t, msgs[1], "audit@example.test")

	// Down again, a third report queued, and the daemon restarted before
	// the server is back: the new daemon delivers it.
	srv.Stop()
	appendConfig(t, w, base+"\n[[schedule]]\njob = \"report\"\ncron = \"@every 1s\"\nto = [\"audit@example.test\"]\n"+
		"\n[[schedule]]\njob = \"report\"\ncron = \"@every 1s\"\nto = [\"board@example.test\"]\n")
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "a failed attempt for the board", out, func() bool {
		return strings.Count(out.String(), `msg="mail not delivered; will retry"`) >= 3
	})
	stopDaemon(t, cmd, out)
	srv.Start()
	cmd, out2 := w.daemonChild(t, sd)
	msgs, err = waitMail(t, srv, 3)
	if err != nil {
		t.Fatalf("%v; the restarted daemon said:\n%s", err, out2.String())
	}
	third := checkReportMail(t, msgs[2], "board@example.test")
	runs = strings.Count(out2.String(), `job=report`)
	waitFor(t, "more report runs", out2, func() bool { return strings.Count(out2.String(), `job=report`) >= runs+6 })
	if n := srv.Count(); n != 3 {
		t.Errorf("%d messages in the end, want 3 (each report once)", n)
	}
	if first == second || second == third || first == third || first == "" {
		t.Errorf("Message-IDs %q %q %q", first, second, third)
	}
	status = w.mustRun(t, "status")
	if !strings.Contains(status, "3 sent, 0 pending, 0 given up") {
		t.Errorf("status at the end:\n%s", status)
	}
	stopDaemon(t, cmd, out2)
	for _, log := range []string{out.String(), out2.String()} {
		if strings.Contains(log, smtpPassword) || strings.Contains(log, "panic") {
			t.Errorf("the log shows the password or a panic:\n%s", log)
		}
	}
}

// waitMail waits up to 30 s for srv to hold n messages.
func waitMail(t *testing.T, srv *mailtest.Server, n int) ([]mailtest.Message, error) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return srv.Wait(ctx, n)
}

// inProcessApp is the App of a scheduled job on w's config and database,
// on w's clock, with an outbox and the files it protects, whose jobs the
// test calls itself.
func inProcessApp(t *testing.T, w *world) (*app.App, *ledger.Ledger) {
	t.Helper()
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Now: func() time.Time { return w.now }, configPath: w.config}
	cfg, err := m.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	h := m.here()
	a, err := h.Open(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return a, a.Ledger
}

// appendConfig writes the world's config with extra after its own text.
func appendConfig(t testing.TB, w *world, extra string) {
	t.Helper()
	data, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	own, _, _ := strings.Cut(string(data), "\n[mail]\n")
	if err := os.WriteFile(w.config, []byte(own+"\n"+extra), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestReportCommand runs report by hand: to files of each form, and by
// mail through an SMTP server that refuses for a while, refuses for good,
// and is away longer than mail.max_age.
func TestReportCommand(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: smtpUser, Password: smtpPassword})
	w := newWorld(t, 2000, 30*time.Minute, "")
	w.now = start.Add(30 * 24 * time.Hour)
	appendConfig(t, w, mailSection(t, srv)+"max_age = \"1h\"\n")
	w.mustRun(t, "sync")
	day := "2026-11-20"

	dir := t.TempDir()
	for _, ext := range []string{".html", ".xlsx", ".txt", ".csv"} {
		path := filepath.Join(dir, "report"+ext)
		if code, _, errOut := w.run(t, "report", "--date", day, "-o", path); code != 0 || !strings.Contains(errOut, "written to "+path) {
			t.Fatalf("report -o %s: exit %d: %s", path, code, errOut)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	text, _ := os.ReadFile(filepath.Join(dir, "report.txt"))
	csvData, _ := os.ReadFile(filepath.Join(dir, "report.csv"))
	if !strings.Contains(string(html), "Reconciliation report for "+day) || strings.Contains(string(html), "http") {
		t.Errorf("report.html is not the day's report, or links out:\n%.400s", html)
	}
	if stdout := w.mustRun(t, "report", "--date", day); stdout != string(text) {
		t.Errorf("report to the terminal differs from report.txt")
	}
	if !strings.HasPrefix(string(csvData), "result,matched_by,payment_id,") || strings.Contains(string(csvData), "\nmatched,") {
		t.Errorf("report.csv is not the open exceptions:\n%.300s", csvData)
	}
	if f, err := excelize.OpenFile(filepath.Join(dir, "report.xlsx")); err != nil {
		t.Errorf("report.xlsx: %v", err)
	} else {
		f.Close()
	}

	for _, args := range [][]string{
		{"report", "--date", "20.11.2026"},
		{"report", "-o", filepath.Join(dir, "report.pdf")},
		{"report", "--to", "a@example.test"},
		{"report", "--send"}, // no recipients: no report schedule
		{"report", "--send", "--to", "not an address"},
	} {
		if code, _, _ := w.run(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}

	send := func(to string) (int, string) {
		code, _, errOut := w.run(t, "report", "--date", day, "--send", "--to", to)
		return code, errOut
	}
	if code, errOut := send("finance@example.test"); code != 0 || !strings.Contains(errOut, "sent to finance@example.test") {
		t.Fatalf("report --send: exit %d: %s", code, errOut)
	}
	checkReportMail(t, srv.Messages()[0], "finance@example.test")

	// A 4xx: kept, retried by the next delivery once due.
	srv.Reject(mailtest.StageData, 451)
	if code, errOut := send("audit@example.test"); code != exitFailed || !strings.Contains(errOut, "not delivered yet") {
		t.Fatalf("report --send with a 451: exit %d: %s", code, errOut)
	}
	if status := w.mustRun(t, "status"); !strings.Contains(status, "1 sent, 1 pending") || !strings.Contains(status, "451") {
		t.Errorf("status after a 451:\n%s", status)
	}
	srv.Reject(mailtest.StageData, 0)
	w.now = w.now.Add(2 * time.Second) // past retry_min
	if code, errOut := send("board@example.test"); code != 0 || !strings.Contains(errOut, "1 earlier messages of the outbox went too") {
		t.Fatalf("report --send after the 451: exit %d: %s", code, errOut)
	}
	if msgs := srv.Messages(); len(msgs) != 3 || msgs[1].To[0] != "audit@example.test" || msgs[2].To[0] != "board@example.test" {
		t.Fatalf("after the retry the server has %d messages", len(msgs))
	}

	// A 5xx: given up at once.
	srv.Reject(mailtest.StageRcpt, 550)
	if code, errOut := send("nobody@example.test"); code != exitFailed || !strings.Contains(errOut, "refused") {
		t.Fatalf("report --send with a 550: exit %d: %s", code, errOut)
	}
	srv.Reject(mailtest.StageRcpt, 0)

	// The server away longer than max_age: given up, and status says so.
	srv.Stop()
	if code, _ := send("late@example.test"); code != exitFailed {
		t.Fatalf("report --send to a stopped server: exit %d", code)
	}
	w.now = w.now.Add(2 * time.Hour)
	srv.Start()
	if code, errOut := send("finance@example.test"); code != 0 {
		t.Fatalf("report --send: exit %d: %s", code, errOut)
	}
	status := w.mustRun(t, "status")
	if !strings.Contains(status, "4 sent, 0 pending, 2 given up") || strings.Count(status, "GAVE UP") != 2 ||
		!strings.Contains(status, "550") || strings.Contains(status, smtpPassword) {
		t.Errorf("status at the end:\n%s", status)
	}
	if n := srv.Count(); n != 4 {
		t.Errorf("the server has %d messages, want 4", n)
	}
}

// TestReportJobCatchesUpMissedDays runs the scheduled report job in-process
// at chosen times: a new schedule makes yesterday's report; after days
// down it makes each missed day, at most a week back; a moved cron makes
// nothing twice.
func TestReportJobCatchesUpMissedDays(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: smtpUser, Password: smtpPassword})
	w := newWorld(t, 2000, 30*time.Minute, "")
	w.now = start.Add(10 * 24 * time.Hour)
	appendConfig(t, w, mailSection(t, srv))
	w.mustRun(t, "sync")
	a, l := inProcessApp(t, w)
	s := config.Schedule{Job: "report", Cron: "0 7 * * *", To: []string{"finance@example.test"}, Dir: t.TempDir()}

	days := func() []string {
		mails, err := l.Outbox(false)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ml := range mails {
			out = append(out, strings.Fields(ml.Subject)[1])
		}
		slices.Sort(out)
		return out
	}
	run := func(now time.Time, s config.Schedule) {
		t.Helper()
		w.now = now
		if err := a.ReportJob(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	run(start.Add(10*24*time.Hour+7*time.Hour), s) // 2026-11-11 07:00
	if got := days(); !slices.Equal(got, []string{"2026-11-10"}) {
		t.Fatalf("a new schedule made %v, want yesterday only", got)
	}
	run(start.Add(13*24*time.Hour+7*time.Hour), s) // down two days
	if got := days(); !slices.Equal(got, []string{"2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13"}) {
		t.Fatalf("after two days down: %v", got)
	}
	moved := s
	moved.Cron = "30 9 * * *"
	run(start.Add(13*24*time.Hour+10*time.Hour), moved)
	if n := len(days()); n != 4 {
		t.Fatalf("a moved cron made the day again: %d reports", n)
	}
	run(start.Add(25*24*time.Hour+7*time.Hour), s) // down eleven days: the last week
	got := days()
	if len(got) != 4+7 || got[4] != "2026-11-19" || got[10] != "2026-11-25" {
		t.Fatalf("after eleven days down: %v", got)
	}
	for _, day := range got {
		if _, err := os.Stat(filepath.Join(s.Dir, "report-"+day+".xlsx")); err != nil {
			t.Errorf("no workbook for %s: %v", day, err)
		}
	}
}

// TestExportJobMailsItsFileOnce: an export schedule with recipients queues
// its file once per day, however often it runs.
func TestExportJobMailsItsFileOnce(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: smtpUser, Password: smtpPassword})
	w := newWorld(t, 2000, 30*time.Minute, "")
	w.now = start.Add(10*24*time.Hour + 7*time.Hour)
	appendConfig(t, w, mailSection(t, srv))
	w.mustRun(t, "sync")
	a, l := inProcessApp(t, w)
	s := config.Schedule{Job: "export", Cron: "@every 1h", What: "operations", Format: "csv", To: []string{"accounting@example.test"}, Dir: t.TempDir()}
	for range 3 {
		if err := a.ExportJob(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	file, err := os.ReadFile(filepath.Join(s.Dir, "operations-2026-11-10.csv"))
	if err != nil {
		t.Fatal(err)
	}
	mails, err := l.Outbox(false)
	if err != nil || len(mails) != 1 {
		t.Fatalf("%d messages queued (%v), want 1", len(mails), err)
	}
	var msg mail.Message
	if err := json.Unmarshal(mails[0].Message, &msg); err != nil {
		t.Fatal(err)
	}
	if len(msg.Attachments) != 1 || msg.Attachments[0].Name != "operations-2026-11-10.csv" || !bytes.Equal(msg.Attachments[0].Data, file) {
		t.Errorf("the attachment is not the day's file: %d attachments", len(msg.Attachments))
	}
	if strings.Count(string(file), "\n") < 2 {
		t.Errorf("the day's export is empty:\n%s", file)
	}
}
