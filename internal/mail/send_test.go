package mail_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"reconciled/internal/mail"
	"reconciled/internal/mail/mailtest"
)

const (
	user     = "reporter"
	password = "s3cret-Pa55word"
)

// newSender is a Sender for srv's config, trusting srv's certificate.
func newSender(t *testing.T, c mail.Options, srv *mailtest.Server) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender(withTimeout(c, 5*time.Second), mail.WithTLSConfig(srv.ClientTLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withTimeout is c with Timeout d.
func withTimeout(c mail.Options, d time.Duration) mail.Options {
	c.Timeout = d
	return c
}

// send sends testMessage and returns it with Send's error.
func send(t *testing.T, s *mail.Sender) (*mail.Message, error) {
	t.Helper()
	m := testMessage()
	return m, s.Send(t.Context(), m)
}

// received is the one message srv has, checked against m.
func received(t *testing.T, srv *mailtest.Server, m *mail.Message) mailtest.Message {
	t.Helper()
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the server has %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "reconciled@example.test" {
		t.Errorf("MAIL FROM %q", got.From)
	}
	if strings.Join(got.To, " ") != "finance@example.test audit@example.test" {
		t.Errorf("RCPT TO %q", got.To)
	}
	checkDelivered(t, parse(t, got.Data), m)
	return got
}

func TestSendStartTLSWithAuth(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: user, Password: password})
	m, err := send(t, newSender(t, srv.SenderOptions(), srv))
	if err != nil {
		t.Fatal(err)
	}
	got := received(t, srv, m)
	if !got.TLS || got.User != user || got.Mech != "PLAIN" {
		t.Errorf("received with TLS %v, user %q, mechanism %q; want TLS, %q, PLAIN", got.TLS, got.User, got.Mech, user)
	}
}

func TestSendAuthMechanism(t *testing.T) {
	for _, tc := range []struct {
		offered []string
		want    string
	}{
		{[]string{"LOGIN"}, "LOGIN"},
		{[]string{"LOGIN", "PLAIN"}, "PLAIN"},
	} {
		t.Run(strings.Join(tc.offered, ","), func(t *testing.T) {
			srv := mailtest.NewServer(t, mailtest.Options{Username: user, Password: password, AuthMechanisms: tc.offered})
			m, err := send(t, newSender(t, srv.SenderOptions(), srv))
			if err != nil {
				t.Fatal(err)
			}
			if got := received(t, srv, m); got.Mech != tc.want || got.User != user {
				t.Errorf("authenticated %q with %q, want %q with %s", got.User, got.Mech, user, tc.want)
			}
		})
	}
}

func TestSendWrongPassword(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: user, Password: password})
	c := srv.SenderOptions()
	c.Password = mail.NewPassword("not-the-" + password)
	_, err := send(t, newSender(t, c, srv))
	if err == nil {
		t.Fatal("sent with a wrong password")
	}
	if mail.Permanent(err) {
		t.Errorf("Permanent(%v) = true for a failed AUTH: every message would be given up for one wrong password", err)
	}
	if !strings.Contains(err.Error(), "535") {
		t.Errorf("the error does not give the reply: %v", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("the error shows the password: %v", err)
	}
	if srv.Count() != 0 {
		t.Errorf("the server has %d messages", srv.Count())
	}
}

// TestSendRedactsAnEchoedPassword: a server whose refusal quotes the
// password it was sent (plain, in the PLAIN blob's base64) does not get it
// into the error, which the outbox stores and status and the log show.
func TestSendRedactsAnEchoedPassword(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			srv := mailtest.NewServer(t, mailtest.Options{Username: user, Password: password, EchoAuth: true, AuthMechanisms: []string{mech}})
			c := srv.SenderOptions()
			ours := "our-" + password + "/x"
			c.Password = mail.NewPassword(ours)
			_, err := send(t, newSender(t, c, srv))
			if err == nil {
				t.Fatal("sent with a wrong password")
			}
			text := err.Error()
			if !strings.Contains(text, "535") || !strings.Contains(text, "<redacted>") {
				t.Errorf("want the reply with the password redacted: %v", text)
			}
			for _, form := range []string{ours, base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + ours)), strconv.Quote(ours)} {
				if strings.Contains(text, strings.Trim(form, `"`)) {
					t.Errorf("the error shows the password as %q: %v", form, text)
				}
			}
			if mail.Permanent(err) {
				t.Errorf("Permanent after redaction: %v", err)
			}
		})
	}
}

func TestSendRejected(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: user, Password: password})
	s := newSender(t, srv.SenderOptions(), srv)
	for _, tc := range []struct {
		stage     mailtest.Stage
		code      int
		permanent bool
	}{
		{mailtest.StageMail, 451, false},
		{mailtest.StageRcpt, 451, false},
		{mailtest.StageData, 451, false},
		{mailtest.StageRcpt, 452, false},
		{mailtest.StageMail, 550, false}, // the sender refused: the session's, not the message's
		{mailtest.StageRcpt, 550, true},
		{mailtest.StageData, 554, true},
	} {
		t.Run(fmt.Sprintf("%d-%d", tc.stage, tc.code), func(t *testing.T) {
			srv.Reject(tc.stage, tc.code)
			defer srv.Reject(tc.stage, 0)
			_, err := send(t, s)
			if err == nil {
				t.Fatal("no error")
			}
			if mail.Permanent(err) != tc.permanent {
				t.Errorf("Permanent(%v) = %v, want %v", err, !tc.permanent, tc.permanent)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(tc.code)) {
				t.Errorf("the error does not give the reply code %d: %v", tc.code, err)
			}
		})
	}
	if srv.Count() != 0 {
		t.Fatalf("the server accepted %d refused messages", srv.Count())
	}
	// Accepting again, the server gets the message.
	m, err := send(t, s)
	if err != nil {
		t.Fatal(err)
	}
	received(t, srv, m)
}

func TestSendImplicitTLS(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{TLS: mailtest.ImplicitTLS, Username: user, Password: password})
	c := srv.SenderOptions()
	if c.TLS != "tls" {
		t.Fatalf("SenderOptions().TLS = %q", c.TLS)
	}
	// A message without From gets the config's.
	m := testMessage()
	m.From = ""
	if err := newSender(t, c, srv).Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	m.From = c.From
	if got := received(t, srv, m); !got.TLS || got.User != user {
		t.Errorf("received with TLS %v, user %q", got.TLS, got.User)
	}
}

func TestSendUntrustedCertificate(t *testing.T) {
	for _, mode := range []mailtest.TLSMode{mailtest.StartTLS, mailtest.ImplicitTLS} {
		t.Run(mode.String(), func(t *testing.T) {
			srv := mailtest.NewServer(t, mailtest.Options{TLS: mode})
			s, err := mail.NewSender(withTimeout(srv.SenderOptions(), 5*time.Second)) // system roots
			if err != nil {
				t.Fatal(err)
			}
			_, err = send(t, s)
			if err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("error %v, want one about the certificate", err)
			}
			if mail.Permanent(err) {
				t.Errorf("Permanent(%v) = true", err)
			}
			if srv.Count() != 0 {
				t.Errorf("the server has %d messages", srv.Count())
			}
		})
	}
}

func TestSendTrustsCAFile(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: user, Password: password})
	c := srv.SenderOptions()
	c.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(c.CAFile, srv.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := mail.NewSender(withTimeout(c, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m, err := send(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if got := received(t, srv, m); !got.TLS || got.User != user {
		t.Errorf("TLS %v, user %q", got.TLS, got.User)
	}

	c.CAFile = filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(c.CAFile, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mail.NewSender(c); err == nil || !strings.Contains(err.Error(), "mail.ca_file") {
		t.Errorf("a CA file without a certificate: %v", err)
	}
}

func TestSendNoTLS(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{TLS: mailtest.NoTLS})
	m, err := send(t, newSender(t, srv.SenderOptions(), srv))
	if err != nil {
		t.Fatal(err)
	}
	if got := received(t, srv, m); got.TLS {
		t.Error("received over TLS from a server without it")
	}
}

func TestSendNoTLSAuthOnLoopback(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{TLS: mailtest.NoTLS, Username: user, Password: password})
	m, err := send(t, newSender(t, srv.SenderOptions(), srv))
	if err != nil {
		t.Fatal(err)
	}
	if got := received(t, srv, m); got.User != user {
		t.Errorf("authenticated as %q", got.User)
	}
}

func TestSendStartTLSRequired(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{TLS: mailtest.NoTLS, Username: user, Password: password})
	c := srv.SenderOptions()
	c.TLS = "starttls"
	_, err := send(t, newSender(t, c, srv))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("error %v, want one about STARTTLS", err)
	}
	if srv.Connections() != 1 {
		t.Errorf("%d connections, want 1: the test did not reach the server", srv.Connections())
	}
	if srv.Count() != 0 {
		t.Errorf("sent in clear: the server has %d messages", srv.Count())
	}
}

func TestSendServerDownAndBack(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{Username: user, Password: password})
	s := newSender(t, srv.SenderOptions(), srv)
	srv.Stop()
	_, err := send(t, s)
	if err == nil {
		t.Fatal("sent to a stopped server")
	}
	if mail.Permanent(err) {
		t.Errorf("Permanent(%v) = true for a refused connection", err)
	}
	srv.Start()
	m, err := send(t, s)
	if err != nil {
		t.Fatal(err)
	}
	received(t, srv, m)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := srv.Wait(ctx, 1); err != nil {
		t.Error(err)
	}
}

// silent listens on 127.0.0.1 and accepts connections, but never answers.
func silent(t *testing.T) mail.Options {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return mail.Options{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, TLS: "starttls", From: "reconciled@example.test"}
}

func TestSendTimeout(t *testing.T) {
	s, err := mail.NewSender(withTimeout(silent(t), 300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = send(t, s)
	if err == nil {
		t.Fatal("sent to a server that never answered")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("gave up after %v with a 300ms timeout", d)
	}
	if mail.Permanent(err) {
		t.Errorf("Permanent(%v) = true for a timeout", err)
	}
}

func TestSendCancel(t *testing.T) {
	s, err := mail.NewSender(withTimeout(silent(t), time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err = s.Send(ctx, testMessage())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("returned %v after the cancel", d)
	}
	if mail.Permanent(err) {
		t.Errorf("Permanent(%v) = true", err)
	}
}

func TestSendCancelGrace(t *testing.T) {
	s, err := mail.NewSender(withTimeout(silent(t), time.Minute), mail.WithCancelGrace(700*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err = s.Send(ctx, testMessage())
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if took < 700*time.Millisecond || took > 3*time.Second {
		t.Errorf("returned %v after the start: the session should have had 700ms of grace after the cancel at 100ms", took)
	}
}

func TestNewSender(t *testing.T) {
	ok := mail.Options{Host: "smtp.example.com", Port: 587, TLS: "starttls", Username: user, Password: mail.NewPassword(password), From: "r@example.com"}
	s, err := mail.NewSender(ok)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if out := fmt.Sprintf(verb, s); strings.Contains(out, password) {
			t.Errorf("%s of a Sender shows the password: %s", verb, out)
		}
		if out := fmt.Sprintf(verb, ok); strings.Contains(out, password) || strings.Contains(out, fmt.Sprintf(verb, password)) {
			t.Errorf("%s of the Options shows the password: %s", verb, out)
		}
	}
	js, err := json.Marshal(ok)
	if err != nil || strings.Contains(string(js), password) {
		t.Errorf("the Options in JSON: %s (%v)", js, err)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("mail", "options", ok, "password", ok.Password)
	if strings.Contains(logged.String(), password) || !strings.Contains(logged.String(), "<redacted>") {
		t.Errorf("the Options in a log line: %s", logged.String())
	}
	if ok.Password.Value() != password {
		t.Errorf("Value() = %q", ok.Password.Value())
	}
	if s.Addr() != "smtp.example.com:587" || s.From() != "r@example.com" {
		t.Errorf("Addr %q, From %q", s.Addr(), s.From())
	}
	for name, tc := range map[string]struct {
		change func(*mail.Options)
		want   string
	}{
		"no host":     {func(c *mail.Options) { c.Host = "" }, "host"},
		"bad port":    {func(c *mail.Options) { c.Port = 0 }, "port"},
		"bad tls":     {func(c *mail.Options) { c.TLS = "ssl" }, `"ssl"`},
		"no password": {func(c *mail.Options) { c.Password = mail.Password{} }, "no password"},
		"clear auth":  {func(c *mail.Options) { c.TLS = "none" }, "in clear"},
		"bad from":    {func(c *mail.Options) { c.From = "reconciled" }, "mail.from"},
	} {
		t.Run(name, func(t *testing.T) {
			c := ok
			tc.change(&c)
			_, err := mail.NewSender(c)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), password) {
				t.Errorf("error %q: want it to say %q and not show the password", err, tc.want)
			}
		})
	}
}
