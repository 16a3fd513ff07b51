package config

import (
	"strings"
	"testing"
)

// The review of [web] (issue 16, "Safe"): every address other hosts may
// reach, however written, is refused without credentials, naming the
// key; a dashboard_url that is no http(s) URL is refused, whatever its
// case or quoting. (These held already; they stay held.)
func TestWebConfigReview(t *testing.T) {
	for _, c := range []struct{ listen, dashboard, want string }{
		{listen: "0.0.0.0:8088", want: "web.listen"},
		{listen: "[::]:8088", want: "web.listen"},
		{listen: "[::ffff:0.0.0.0]:8088", want: "web.listen"},
		{listen: "finance-host:8088", want: "web.listen"},
		{listen: "finance-host.example.com:8088", want: "web.listen"},
		{listen: "localhost.example.com:8088", want: "web.listen"},
		{listen: "127.0.0.1.nip.io:8088", want: "web.listen"},
		{listen: "LOCALHOST:8088", want: "web.listen"}, // not the name the check trusts: refused, the safe side
		{listen: "[::ffff:127.0.0.1]:8088"},
		{listen: "127.0.0.2:8088"},
		{dashboard: "JavaScript:alert(1)//{payment_id}", want: "web.dashboard_url"},
		{dashboard: " javascript:alert(1)//{payment_id}", want: "web.dashboard_url"},
		{dashboard: "data:text/html,{payment_id}", want: "web.dashboard_url"},
		{dashboard: "//evil.example.com/{payment_id}", want: "web.dashboard_url"},
		{dashboard: `https://dashboard.example.com/?q={payment_id}" onclick="x`}, // a URL; the template escapes the attribute
	} {
		text := minimal + "\n[web]\n"
		if c.listen != "" {
			text += "listen = " + quote(c.listen) + "\n"
		}
		if c.dashboard != "" {
			text += "dashboard_url = " + quote(c.dashboard) + "\n"
		}
		_, ps := parse(t, text)
		switch {
		case c.want == "" && len(ps) > 0:
			t.Errorf("%q %q: %v", c.listen, c.dashboard, ps)
		case c.want != "" && (len(ps) == 0 || !strings.Contains(ps.Error(), c.want)):
			t.Errorf("%q %q: %v, want a refusal naming %s", c.listen, c.dashboard, ps, c.want)
		}
	}
}

func quote(s string) string { return "'" + s + "'" }
