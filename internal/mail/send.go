package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"os"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"reconciled/internal/redact"
)

// DefaultTimeout bounds connecting and each step of the SMTP conversation
// (go-mail renews the deadline between steps).
const DefaultTimeout = 30 * time.Second

// Options are the SMTP server a Sender sends through and how it logs in:
// the connection settings of the config's [mail] section, which the caller
// converts (this package does not read the config). Errors about them name
// the [mail] key, as that is where a person fixes them.
type Options struct {
	Host     string
	Port     int
	TLS      string        // "starttls", "tls" or "none"
	Username string        // "": no AUTH
	Password Password      // needed with Username
	From     string        // the envelope and header sender for a message without one
	CAFile   string        // PEM certificates trusted besides the system's roots
	Timeout  time.Duration // connecting and each step of the conversation; <= 0: DefaultTimeout
}

// Password is the SMTP password (redact.Secret): it never shows its
// value, with any fmt verb, in JSON or text encodings, or in slog; Value
// gives it where it is sent.
type Password = redact.Secret

// NewPassword wraps a password.
func NewPassword(v string) Password { return redact.NewSecret(v) }

// Option changes how a Sender connects.
type Option func(*Sender)

// WithTLSConfig sets the TLS configuration for STARTTLS and implicit TLS;
// tests use it to trust a self-signed certificate. It is cloned; an empty
// ServerName becomes the config's host. Without it, the system's roots
// verify the server, named by the config's host.
func WithTLSConfig(c *tls.Config) Option {
	return func(s *Sender) {
		if c != nil {
			s.tlsConfig = c.Clone()
		}
	}
}

// WithCancelGrace lets a session under way go on for d after the context
// of Send is done, before its connection is closed. Closing at once can
// lose the server's reply to a message it has already taken, and the
// message is then sent again; d gives that reply time to come. d <= 0
// closes at once (the default).
func WithCancelGrace(d time.Duration) Option {
	return func(s *Sender) { s.grace = d }
}

// Sender sends messages through one SMTP server. It holds no connection:
// each Send dials, delivers and quits, so a Sender is safe for concurrent
// use. Printing it does not show the password.
type Sender struct {
	host      string
	port      int
	mode      string // "starttls", "tls" or "none"
	username  string
	password  Password
	from      string
	tlsConfig *tls.Config
	timeout   time.Duration
	grace     time.Duration
}

// NewSender checks c's settings and returns a Sender for them.
//
// With tls = "none", a user name is refused unless the host is localhost,
// 127.0.0.1 or ::1: the password would cross the network in clear (and
// go-mail would refuse to send it at every attempt anyway).
func NewSender(c Options, opts ...Option) (*Sender, error) {
	s := &Sender{
		host:     c.Host,
		port:     c.Port,
		mode:     c.TLS,
		username: c.Username,
		password: c.Password,
		from:     c.From,
		timeout:  DefaultTimeout,
	}
	if c.Timeout > 0 {
		s.timeout = c.Timeout
	}
	for _, o := range opts {
		o(s)
	}
	switch {
	case c.Host == "":
		return nil, errors.New("mail: no SMTP host (mail.host)")
	case c.Port < 1 || c.Port > 65535:
		return nil, fmt.Errorf("mail: mail.port %d is not a TCP port", c.Port)
	case c.TLS != "starttls" && c.TLS != "tls" && c.TLS != "none":
		return nil, fmt.Errorf("mail: mail.tls %q: use \"starttls\", \"tls\" or \"none\"", c.TLS)
	case c.Username != "" && !c.Password.IsSet():
		return nil, fmt.Errorf("mail: mail.username %q has no password", c.Username)
	case c.Username != "" && c.TLS == "none" && !isLocalhost(c.Host):
		return nil, fmt.Errorf("mail: mail.tls = \"none\" would send the password for %q to %s in clear: use \"starttls\" or \"tls\"", c.Username, c.Host)
	}
	if c.From != "" {
		if _, err := netmail.ParseAddress(c.From); err != nil {
			return nil, fmt.Errorf("mail: mail.from %q is not an e-mail address (%v)", c.From, err)
		}
	}
	if s.tlsConfig == nil {
		s.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if c.CAFile != "" {
			pool, err := caPool(c.CAFile)
			if err != nil {
				return nil, err
			}
			s.tlsConfig.RootCAs = pool
		}
	}
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = c.Host
	}
	return s, nil
}

// caPool is the system's roots and the certificates of file.
func caPool(file string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("mail: mail.ca_file: %w", err)
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("mail: mail.ca_file: %s holds no PEM certificate", file)
	}
	return pool, nil
}

// isLocalhost is go-mail's test for where PLAIN and LOGIN may go unencrypted.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Addr is the server's host:port.
func (s *Sender) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// From is the config's sender address, which Send uses for a message
// without one.
func (s *Sender) From() string { return s.from }

// Send delivers m in one SMTP session; when m.From is empty, the config's
// From is used (m itself is not changed). Cancelling ctx aborts the
// session at once. On failure, Permanent(err) tells whether trying again
// is pointless.
func (s *Sender) Send(ctx context.Context, m *Message) error {
	return redact.Err(s.send(ctx, m), s.credentials()...)
}

// credentials are what a server's reply could echo of the password: as it
// is, in LOGIN's base64 and in PLAIN's (with and without an identity). The
// error goes into the outbox, the log and status, so it is redacted here,
// where the server's text enters.
func (s *Sender) credentials() []string {
	pw := s.password.Value()
	if pw == "" {
		return nil
	}
	b64 := base64.StdEncoding.EncodeToString
	return []string{pw, b64([]byte(pw)), b64([]byte("\x00" + s.username + "\x00" + pw)), b64([]byte(s.username + "\x00" + s.username + "\x00" + pw))}
}

func (s *Sender) send(ctx context.Context, m *Message) error {
	if m.From == "" {
		c := *m
		c.From = s.from
		m = &c
	}
	msg, err := m.build()
	if err != nil {
		return err
	}

	// go-mail bounds the dial with its own context but not the SMTP
	// conversation: close the connection when ctx ends.
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	dialer := &net.Dialer{}
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		var err error
		if s.mode == "tls" {
			conn, err = (&tls.Dialer{NetDialer: dialer, Config: s.tlsConfig}).DialContext(dctx, network, addr)
		} else {
			conn, err = dialer.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		stop = context.AfterFunc(ctx, func() {
			if s.grace <= 0 {
				conn.Close()
				return
			}
			time.AfterFunc(s.grace, func() { conn.Close() }) // closed already if the session ended
		})
		return conn, nil
	}

	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(s.tlsConfig),
		gomail.WithDialContextFunc(dial),
	}
	switch s.mode {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.username != "" {
		// PLAIN when offered, else LOGIN, else go-mail's pick of the
		// challenge-response ones (SCRAM, CRAM-MD5...). Not offering AUTH
		// at all is an error, not a reason to send unauthenticated.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.username),
			gomail.WithPassword(s.password.Value()))
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("mail: SMTP client for %s: %w", s.Addr(), err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if msg.IsDelivered() {
			// The server took the message; only RSET or QUIT failed.
			// Sending it again would deliver it twice.
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("mail: sending %s via %s: %w (%v)", m.ID, s.Addr(), ctx.Err(), err)
		}
		return fmt.Errorf("mail: sending %s via %s: %w", m.ID, s.Addr(), err)
	}
	return nil
}

// Permanent reports whether err means that sending the same message again
// will fail the same way: the server refused a recipient or the message
// itself with a 5xx reply (to RCPT TO or to DATA), or the message is
// invalid (ErrInvalid).
//
// A 5xx reply before that (the greeting, EHLO, STARTTLS, AUTH, MAIL FROM)
// is about the session, not the message: a wrong password or a relay that
// does not take our sender fails every message alike until the config or
// the server is fixed, so it is not permanent; the outbox retries until
// mail.max_age. Connection and TLS failures, timeouts, cancellation and 4xx
// replies are not permanent either.
//
// When several recipients are refused, go-mail keeps the last one's code.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrInvalid) {
		return true
	}
	// go-mail's SendError does not unwrap to the reply, but keeps its code.
	var se *gomail.SendError
	if errors.As(err, &se) {
		switch se.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
			return se.ErrorCode() >= 500 && se.ErrorCode() <= 599
		}
	}
	return false
}
