package receiver

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// slots is the receiver's connection limit. Like netutil.LimitListener
// it holds at most n connections open and leaves the rest in the
// kernel's accept queue; unlike it, when every slot is taken it closes
// the connection that has waited longest for a request — idle between
// requests (keep-alive) or connected and silent, its headers not read
// yet — once it has waited grace, so that such clients cannot keep a
// callback out for the idle or header time limit (60 s, 5 s). A client
// sends its request at once, so grace spares the connections of a burst
// whose headers are on their way; a connection whose headers were read
// (a callback being read, stored or answered) is never closed for room:
// when all are such, a new one waits for a slot.
type slots struct {
	mu      sync.Mutex
	n, open int
	grace   time.Duration
	waiting map[net.Conn]time.Time // connections waiting for a request, since when
	changed chan struct{}          // a slot was given back, or a connection began to wait (one signal waits)
	closed  chan struct{}          // the listener closed
}

func newSlots(n int, grace time.Duration) *slots {
	return &slots{n: n, grace: grace, waiting: map[net.Conn]time.Time{}, changed: make(chan struct{}, 1), closed: make(chan struct{})}
}

// acquire takes a slot, closing the connection that has waited longest
// for a request (at least grace) while none is free; false once the
// listener closed.
func (s *slots) acquire() bool {
	for {
		s.mu.Lock()
		if s.open < s.n {
			s.open++
			s.mu.Unlock()
			return true
		}
		var victim net.Conn
		var since time.Time
		for c, t := range s.waiting {
			if victim == nil || t.Before(since) {
				victim, since = c, t
			}
		}
		var wait <-chan time.Time
		if victim != nil {
			if left := s.grace - time.Since(since); left > 0 {
				wait, victim = time.After(left), nil
			} else {
				delete(s.waiting, victim)
			}
		}
		s.mu.Unlock()
		if victim != nil {
			if tc, ok := victim.(*tls.Conn); ok {
				// The socket itself: tls.Conn.Close first writes a
				// close_notify, for up to 5 s to a peer that reads nothing.
				victim = tc.NetConn()
			}
			victim.Close() // its slot comes back through slotConn.Close
		}
		select {
		case <-s.changed:
		case <-wait:
		case <-s.closed:
			return false
		}
	}
}

func (s *slots) release() {
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
	s.wake()
}

// state is the server's ConnState hook: it keeps the connections that
// wait for a request.
func (s *slots) state(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateNew, http.StateIdle:
		s.waiting[c] = time.Now()
		s.wake() // one may now give its slot up
	default:
		delete(s.waiting, c)
	}
}

// wake tells acquire to look again; never blocking.
func (s *slots) wake() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// slotListener accepts connections into slots.
type slotListener struct {
	net.Listener
	s    *slots
	once sync.Once
}

func (l *slotListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if !l.s.acquire() {
		c.Close()
		return nil, net.ErrClosed
	}
	return &slotConn{Conn: c, s: l.s}, nil
}

func (l *slotListener) Close() error {
	l.once.Do(func() { close(l.s.closed) })
	return l.Listener.Close()
}

// slotConn gives its slot back when closed, once.
type slotConn struct {
	net.Conn
	s    *slots
	once sync.Once
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.s.release)
	return err
}
