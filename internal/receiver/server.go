package receiver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServerOptions are how a Receiver is served.
type ServerOptions struct {
	Listen string // host:port; port 0 picks one (Addr says which)
	Path   string // the one path served; any other is 404
	// Certificate, if set, serves TLS (1.2 or later) with what it returns
	// at each handshake: the daemon's is the config in force, so that a
	// reload takes a renewed certificate.
	Certificate func() *tls.Certificate
	// MaxConnections are served at once; more wait in the kernel's
	// accept queue, and one that waits makes the connection that has
	// waited longest for a request give its slot up (slots.go).
	MaxConnections int
	Log            *slog.Logger
	// The time limits of a connection; zero: the defaults below.
	HeaderTimeout, BodyTimeout, AnswerTimeout, IdleTimeout time.Duration
	// SlotGrace is how long a connection may wait for a request before
	// a new one waiting for a slot takes its slot; zero: the default.
	SlotGrace time.Duration
}

// The default time limits. A callback is a few kilobytes sent at once:
// a client that takes seconds over its headers or body is not ECommPay
// (or its connection is half open), and its slot is given back. The
// answer waits for the commit, which a long import can hold up: 30 s,
// past which ECommPay's retry finds the callback stored.
const (
	DefaultHeaderTimeout = 5 * time.Second
	DefaultBodyTimeout   = 10 * time.Second
	DefaultAnswerTimeout = 30 * time.Second
	DefaultIdleTimeout   = 60 * time.Second
	// DefaultSlotGrace: a connection idle (or silent) this long gives its
	// slot to a new one when every slot is taken.
	DefaultSlotGrace = time.Second
	maxHeaderBytes   = 16 << 10
)

// Server is a Receiver served on an address.
type Server struct {
	ln  net.Listener
	srv *http.Server
	tls bool
}

// Listen binds o.Listen for r; Serve serves it.
func Listen(r *Receiver, o ServerOptions) (*Server, error) {
	if o.MaxConnections <= 0 {
		return nil, errors.New("callbacks: max_connections must be positive")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.HeaderTimeout, DefaultHeaderTimeout)
	def(&o.BodyTimeout, DefaultBodyTimeout)
	def(&o.AnswerTimeout, DefaultAnswerTimeout)
	def(&o.IdleTimeout, DefaultIdleTimeout)
	def(&o.SlotGrace, DefaultSlotGrace)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("callbacks: listen on %s: %w", o.Listen, err)
	}
	// The one path, compared as written: not a ServeMux pattern, whose
	// braces are wildcards (an unclosed one panics) and whose trailing
	// slash takes a whole subtree.
	path := o.Path
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path != path {
				http.NotFound(w, req)
				return
			}
			r.ServeHTTP(w, req)
		}),
		ReadHeaderTimeout: o.HeaderTimeout,
		ReadTimeout:       o.HeaderTimeout + o.BodyTimeout,
		WriteTimeout:      o.HeaderTimeout + o.BodyTimeout + o.AnswerTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// The server's own complaints (a TLS handshake that failed, a
		// client that spoke no HTTP) say nothing of a callback.
		ErrorLog: slog.NewLogLogger(o.Log.Handler(), slog.LevelDebug),
	}
	// HTTP/1.1 only, over TLS too: an HTTP/2 connection carries up to
	// 250 requests at once, each a body read into memory, which
	// max_connections would not bound; callbacks need none of it.
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	slots := newSlots(o.MaxConnections, o.SlotGrace)
	srv.ConnState = slots.state
	s := &Server{ln: &slotListener{Listener: ln, s: slots}, srv: srv}
	if o.Certificate != nil {
		get := o.Certificate
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12,
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
				if c := get(); c != nil {
					return c, nil
				}
				return nil, errors.New("no certificate")
			}}
		s.tls = true
	}
	return s, nil
}

// Addr is the address listened on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves until Shutdown; its error is the listener's (nil after a
// shutdown).
func (s *Server) Serve() error {
	var err error
	if s.tls {
		err = s.srv.ServeTLS(s.ln, "", "")
	} else {
		err = s.srv.Serve(s.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops listening and waits, up to ctx, for the callbacks under
// way to be answered; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}
