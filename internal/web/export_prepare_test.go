package web

import "time"

// IdleNow runs the idle drop as if nobody had asked for a page for
// longer than IdleDrop.
func IdleNow(s *Server) {
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.used = time.Now().Add(-2 * s.o.IdleDrop)
	s.timer = time.AfterFunc(time.Hour, func() {})
	s.mu.Unlock()
	s.idle()
}
