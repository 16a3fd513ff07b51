package config

import (
	"net"
	"net/netip"
	"strings"
)

// Web is [web]: the read-only web view (internal/web), served by `run`
// and by `reconciled web`. Off while Listen is empty.
type Web struct {
	// Listen is host:port to serve on. An address other hosts can reach
	// needs TokenFile or BasicAuthFile.
	Listen string `toml:"listen"`
	// TokenFile holds a bearer token (one line); a request must send
	// "Authorization: Bearer TOKEN".
	TokenFile string `toml:"token_file"`
	// BasicAuthFile holds "user:password" (one line) for HTTP basic
	// authentication.
	BasicAuthFile string `toml:"basic_auth_file"`
	// DashboardURL is a URL with {payment_id}, where the payment page
	// links to ECommPay's Dashboard; "" is no link.
	DashboardURL string `toml:"dashboard_url"`
}

// Enabled reports whether the web view is served by `run`.
func (w *Web) Enabled() bool { return w.Listen != "" }

// WebPaymentPlaceholder is what dashboard_url's payment id stands for.
const WebPaymentPlaceholder = "{payment_id}"

// Loopback reports whether host (of host:port) is only reachable from
// this machine: a loopback IP or "localhost". An empty host is every
// interface.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// validateWeb checks [web].
func (c *Config) validateWeb(bad func(key, format string, args ...any)) {
	w := &c.Web
	if u := w.DashboardURL; u != "" && (!strings.Contains(u, WebPaymentPlaceholder) || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://"))) {
		bad("web.dashboard_url", "%q: give an http(s) URL with %s where the payment id goes", u, WebPaymentPlaceholder)
	}
	if w.Listen == "" {
		return
	}
	host, port, err := net.SplitHostPort(w.Listen)
	if err != nil || !validPort(port) || strings.ContainsAny(host, " /") {
		bad("web.listen", "%q: give host:port, e.g. \"127.0.0.1:8088\"", w.Listen)
		return
	}
	if !Loopback(host) && w.TokenFile == "" && w.BasicAuthFile == "" {
		bad("web.listen", "%q is reachable from other hosts: set web.token_file or web.basic_auth_file, or listen on 127.0.0.1", w.Listen)
	}
}
