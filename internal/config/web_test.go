package config

import (
	"strings"
	"testing"
)

// [web]: loopback needs nothing more; an address other hosts reach is
// refused without a token or basic-auth file, naming the key.
func TestWebConfig(t *testing.T) {
	for _, c := range []struct{ name, web, want string }{
		{"off", "", ""},
		{"loopback", `listen = "127.0.0.1:8088"`, ""},
		{"localhost", `listen = "localhost:8088"`, ""},
		{"ipv6 loopback", `listen = "[::1]:8088"`, ""},
		{"every interface", `listen = ":8088"`, `web.listen: ":8088" is reachable from other hosts: set web.token_file or web.basic_auth_file`},
		{"another address", `listen = "10.0.0.5:8088"`, `web.listen: "10.0.0.5:8088" is reachable from other hosts`},
		{"with a token", "listen = \"0.0.0.0:8088\"\ntoken_file = \"/etc/reconciled/web_token\"", ""},
		{"with basic auth", "listen = \"0.0.0.0:8088\"\nbasic_auth_file = \"/etc/reconciled/web_auth\"", ""},
		{"not host:port", `listen = "8088"`, `web.listen: "8088": give host:port`},
		{"dashboard without the placeholder", `dashboard_url = "https://dashboard.example.com/"`, "web.dashboard_url: \"https://dashboard.example.com/\": give an http(s) URL with {payment_id}"},
		{"dashboard not http", `dashboard_url = "javascript:alert({payment_id})"`, "web.dashboard_url"},
		{"dashboard", `dashboard_url = "https://dashboard.example.com/p?q={payment_id}"`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := minimal
			if c.web != "" {
				text += "\n[web]\n" + c.web + "\n"
			}
			_, ps := parse(t, text)
			if c.want == "" {
				if len(ps) > 0 {
					t.Fatal(ps)
				}
				return
			}
			if !strings.Contains(ps.Error(), c.want) {
				t.Errorf("problems:\n%v\nwant %q", ps, c.want)
			}
		})
	}
}
