// Package mailtest runs a real SMTP server in-process for tests: it speaks
// the protocol with github.com/emersion/go-smtp on 127.0.0.1, offers
// STARTTLS (or implicit TLS) with a self-signed certificate made for the
// test, checks AUTH PLAIN or LOGIN against a given user and password, and
// records every message it accepts. It can be told to refuse commands with a
// chosen reply code, and be stopped and started again on the same port to
// play an SMTP server that goes down and comes back.
package mailtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"reconciled/internal/mail"
)

// Host is the address every Server listens on.
const Host = "127.0.0.1"

// TLSMode is how a Server offers TLS. Its String is the value of the
// config's mail.tls that fits it.
type TLSMode int

const (
	StartTLS    TLSMode = iota // plain connection, STARTTLS offered (the default)
	ImplicitTLS                // TLS from the first byte, as on port 465
	NoTLS                      // plain connection, no STARTTLS offered
)

func (m TLSMode) String() string {
	switch m {
	case ImplicitTLS:
		return "tls"
	case NoTLS:
		return "none"
	}
	return "starttls"
}

// Options configure a Server; the zero value is a STARTTLS server that
// accepts mail without AUTH.
type Options struct {
	TLS TLSMode
	// Username and Password: when Username is set, the server offers AUTH
	// (only after STARTTLS in StartTLS mode), accepts only these
	// credentials, and refuses MAIL FROM before a successful AUTH.
	Username, Password string
	// AuthMechanisms the server offers: "PLAIN" and/or "LOGIN", in that
	// order of listing; default just PLAIN.
	AuthMechanisms []string
	// EchoAuth makes a failed AUTH's reply quote what the client sent: the
	// user name, the password and the PLAIN blob in base64, as a careless
	// or hostile server might.
	EchoAuth bool
}

// Stage is a point of the SMTP transaction Reject can refuse.
type Stage int

const (
	StageMail Stage = iota // MAIL FROM
	StageRcpt              // RCPT TO
	StageData              // the reply after the message content (DATA's end)
	numStages
)

// Message is one message the server accepted.
type Message struct {
	From string   // MAIL FROM
	To   []string // RCPT TO, in order
	Data []byte   // the message as received after DATA, CRLF line ends
	TLS  bool     // it came over a TLS connection (STARTTLS or implicit)
	User string   // the user that authenticated, "" without AUTH
	Mech string   // the SASL mechanism used, "" without AUTH
}

// Server is a running (or stopped) test SMTP server. Its methods are safe
// for concurrent use.
type Server struct {
	opts    Options
	t       testing.TB
	port    int
	pool    *x509.CertPool
	tlsConf *tls.Config // the server's

	mu        sync.Mutex
	msgs      []Message
	conns     int
	rejects   [numStages]int
	changed   chan struct{} // closed and replaced when a message arrives
	srv       *smtp.Server
	ln        net.Listener  // srv's: closed by Stop even if Serve has not begun
	served    chan struct{} // closed when srv's Serve returns
	open      map[*trackedConn]struct{}
	connsOpen sync.WaitGroup
}

// NewServer starts a server on 127.0.0.1 at a free port; it is closed when
// the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	for _, m := range opts.AuthMechanisms {
		if m != sasl.Plain && m != sasl.Login {
			t.Fatalf("mailtest: AUTH mechanism %q: only PLAIN and LOGIN are supported", m)
		}
	}
	if len(opts.AuthMechanisms) == 0 {
		opts.AuthMechanisms = []string{sasl.Plain}
	}
	cert, pool, err := selfSigned()
	if err != nil {
		t.Fatalf("mailtest: certificate: %v", err)
	}
	s := &Server{
		opts:    opts,
		t:       t,
		pool:    pool,
		tlsConf: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		changed: make(chan struct{}),
		open:    make(map[*trackedConn]struct{}),
	}
	l, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	s.serve(l)
	t.Cleanup(s.Stop)
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(Host, strconv.Itoa(s.port)) }

// Port is the TCP port, the same across Stop and Start.
func (s *Server) Port() int { return s.port }

// CertPool holds the server's self-signed certificate (valid for
// 127.0.0.1, ::1 and localhost): trust it as RootCAs.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// CertPEM is the server's self-signed certificate in PEM, for a
// config's mail.ca_file.
func (s *Server) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.tlsConf.Certificates[0].Certificate[0]})
}

// ClientTLSConfig is a client configuration that trusts the server.
func (s *Server) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.pool, ServerName: Host, MinVersion: tls.VersionTLS12}
}

// SenderOptions are a Sender's options for the server: its TLS mode and
// credentials, and From set to reconciled@example.test. They do not trust
// its certificate: add mail.WithTLSConfig(ClientTLSConfig()), or write
// CertPEM to a file for CAFile.
func (s *Server) SenderOptions() mail.Options {
	o := mail.Options{
		Host:     Host,
		Port:     s.port,
		TLS:      s.opts.TLS.String(),
		Username: s.opts.Username,
		From:     "reconciled@example.test",
	}
	if s.opts.Password != "" {
		o.Password = mail.NewPassword(s.opts.Password)
	}
	return o
}

// Messages returns a copy of the messages accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Count is how many messages were accepted so far.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// Connections is how many TCP connections the server accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Wait waits until at least n messages were accepted and returns them, or
// returns ctx's error with the messages so far.
func (s *Server) Wait(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		msgs, changed := slices.Clone(s.msgs), s.changed
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return msgs, fmt.Errorf("mailtest: %d of %d messages: %w", len(msgs), n, ctx.Err())
		}
	}
}

// Reject makes the server answer stage with code (a 4xx or 5xx) from now
// on; code 0 makes it accept again.
func (s *Server) Reject(stage Stage, code int) {
	if stage < 0 || stage >= numStages || code != 0 && (code < 400 || code > 599) {
		s.t.Fatalf("mailtest: Reject(%d, %d): give a stage and a 4xx or 5xx code", stage, code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects[stage] = code
}

// Running reports whether the server is listening.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv != nil
}

// Stop closes the listener and every open connection, as a server going
// down would; clients then get "connection refused". Stop on a stopped
// server does nothing. It returns once no connection is left open.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln, served := s.srv, s.ln, s.served
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close()
	// go-smtp closes only the listeners its Serve has registered: Serve's
	// goroutine may not have begun yet.
	_ = ln.Close()
	<-served
	// go-smtp closes the connections it has registered; one accepted an
	// instant before may not be yet.
	s.mu.Lock()
	open := make([]*trackedConn, 0, len(s.open))
	for c := range s.open {
		open = append(open, c)
	}
	s.mu.Unlock()
	for _, c := range open {
		_ = c.Close()
	}
	s.connsOpen.Wait()
}

// Start listens again on the same port after Stop; Start on a running
// server does nothing. Call it from the test's goroutine: it fails the test
// if the port cannot be had.
func (s *Server) Start() {
	s.t.Helper()
	if s.Running() {
		return
	}
	l, err := net.Listen("tcp", s.Addr())
	if err != nil {
		s.t.Fatalf("mailtest: listening again on %s: %v", s.Addr(), err)
	}
	s.serve(l)
}

func (s *Server) serve(l net.Listener) {
	var ln net.Listener = &countingListener{Listener: l, s: s}
	srv := smtp.NewServer(&backend{s: s})
	srv.Domain = "mailtest.example.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 64 << 20
	switch s.opts.TLS {
	case StartTLS:
		srv.TLSConfig = s.tlsConf
	case ImplicitTLS:
		ln = tls.NewListener(ln, s.tlsConf)
	case NoTLS:
		// Without TLS there is nothing to wait for before AUTH.
		srv.AllowInsecureAuth = true
	}
	served := make(chan struct{})
	s.mu.Lock()
	s.srv, s.ln, s.served = srv, l, served
	s.mu.Unlock()
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
}

// countingListener counts accepted connections and tracks the open ones,
// so that Stop can wait for them to be closed.
type countingListener struct {
	net.Listener
	s *Server
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, s: l.s}
	l.s.connsOpen.Add(1)
	l.s.mu.Lock()
	l.s.conns++
	l.s.open[tc] = struct{}{}
	l.s.mu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.open, c)
		c.s.mu.Unlock()
		c.s.connsOpen.Done()
	})
	return err
}

type backend struct{ s *Server }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

// session is one SMTP session; go-smtp calls it from one goroutine.
type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	mech string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return ss.s.opts.AuthMechanisms
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if !slices.Contains(ss.AuthMechanisms(), mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	check := func(user, pass string) error {
		if user != ss.s.opts.Username || pass != ss.s.opts.Password {
			if ss.s.opts.EchoAuth {
				return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8},
					Message: fmt.Sprintf("no user %s with password %s (AUTH PLAIN %s)", user, pass,
						base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass)))}
			}
			return smtp.ErrAuthFailed
		}
		ss.user, ss.mech = user, mech
		return nil
	}
	if mech == sasl.Login {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if identity != "" && identity != user {
			return smtp.ErrAuthFailed
		}
		return check(user, pass)
	}), nil
}

func (ss *session) rejected(stage Stage) error {
	ss.s.mu.Lock()
	code := ss.s.rejects[stage]
	ss.s.mu.Unlock()
	if code == 0 {
		return nil
	}
	return &smtp.SMTPError{
		Code:         code,
		EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0},
		Message:      fmt.Sprintf("mailtest rejects this with %d", code),
	}
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && ss.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	if err := ss.rejected(StageMail); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.rejected(StageRcpt); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ss.rejected(StageData); err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	m := Message{From: ss.from, To: slices.Clone(ss.to), Data: data, TLS: isTLS, User: ss.user, Mech: ss.mech}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, m)
	close(ss.s.changed)
	ss.s.changed = make(chan struct{})
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks: ask
// for the user name, then the password.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if response != nil { // an initial response is the user name
			l.user = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.step++
		l.user = string(response)
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.check(l.user, string(response))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

// selfSigned makes an ECDSA certificate for 127.0.0.1, ::1 and localhost,
// valid from an hour ago for a day, and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP(Host), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
