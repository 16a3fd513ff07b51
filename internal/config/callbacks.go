package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Callbacks is [callbacks]: ECommPay's callbacks, received by `run`
// (internal/receiver). Off while Listen is empty.
type Callbacks struct {
	// Listen is host:port to serve on: usually a loopback address behind
	// the company's reverse proxy, which terminates TLS.
	Listen string `toml:"listen"`
	// Path is the URL path ECommPay posts to; any other is 404.
	Path string `toml:"path"`
	// TLSCertFile and TLSKeyFile, both or neither: serve TLS directly
	// (PEM files; either may be under $CREDENTIALS_DIRECTORY).
	TLSCertFile string `toml:"tls_cert_file"`
	TLSKeyFile  string `toml:"tls_key_file"`
	// MaxBodyBytes: a larger body is refused (413) unread.
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// MaxConnections: connections served at once; more wait in the
	// kernel's queue.
	MaxConnections int `toml:"max_connections"`
	// Projects are [[callbacks.project]]: whose callbacks are taken, each
	// with the project's own secret key.
	Projects []CallbackProject `toml:"project"`

	cert *tls.Certificate // the TLS pair, read with the credentials (NeedCallbacks)
}

// CallbackProject is one [[callbacks.project]].
type CallbackProject struct {
	ID int64 `toml:"id"`
	// Secret is the project's secret key, with which ECommPay signs its
	// callbacks: the project's own, not the Data API user's.
	Secret     Secret `toml:"secret"`
	SecretFile string `toml:"secret_file"`
}

// EnvCallbackSecret is the environment variable of a project's callback
// secret: RECONCILED_CALLBACK_SECRET_580.
func EnvCallbackSecret(project int64) string {
	return "RECONCILED_CALLBACK_SECRET_" + strconv.FormatInt(project, 10)
}

// Callback defaults.
const (
	DefaultCallbackPath           = "/ecommpay/callback"
	DefaultCallbackMaxBodyBytes   = 64 << 10
	DefaultCallbackMaxConnections = 128
)

// Enabled reports whether callbacks are received.
func (c *Callbacks) Enabled() bool { return c.Listen != "" }

// SecretOf is a project's callback secret, once resolved (NeedCallbacks);
// false for a project not listed or a secret not resolved.
func (c *Callbacks) SecretOf(project int64) ([]byte, bool) {
	for i := range c.Projects {
		if p := &c.Projects[i]; p.ID == project && p.Secret.IsSet() {
			return []byte(p.Secret.Value()), true
		}
	}
	return nil, false
}

// Certificate is the TLS pair to serve with, once resolved
// (NeedCallbacks); nil: plain HTTP.
func (c *Callbacks) Certificate() *tls.Certificate { return c.cert }

// SameListener reports whether o would be served by the same listener:
// what a reload cannot change (the address, the path, the limits, TLS on
// or off; the TLS pair itself, the projects and their secrets may).
func (c *Callbacks) SameListener(o *Callbacks) bool {
	return c.Listen == o.Listen && c.Path == o.Path && (c.TLSCertFile == "") == (o.TLSCertFile == "") &&
		c.MaxBodyBytes == o.MaxBodyBytes && c.MaxConnections == o.MaxConnections
}

// validateCallbacks checks [callbacks] but its credentials.
func (c *Config) validateCallbacks(bad func(key, format string, args ...any)) {
	cb := &c.Callbacks
	if cb.Listen == "" {
		if len(cb.Projects) > 0 {
			bad("callbacks.listen", "is empty, but [[callbacks.project]] lists projects: give the address to receive callbacks on, e.g. \"127.0.0.1:8089\"")
		}
		return
	}
	if host, port, err := net.SplitHostPort(cb.Listen); err != nil || !validPort(port) || strings.ContainsAny(host, " /") {
		bad("callbacks.listen", "%q: give host:port, e.g. \"127.0.0.1:8089\" (behind a reverse proxy) or \":8443\" (with TLS)", cb.Listen)
	}
	if !strings.HasPrefix(cb.Path, "/") || strings.ContainsAny(cb.Path, "?# \t") {
		bad("callbacks.path", "%q: a path starts with / and has no query, e.g. %q", cb.Path, DefaultCallbackPath)
	}
	if (cb.TLSCertFile == "") != (cb.TLSKeyFile == "") {
		key := "callbacks.tls_key_file"
		if cb.TLSCertFile == "" {
			key = "callbacks.tls_cert_file"
		}
		bad(key, "set both tls_cert_file and tls_key_file, or neither (plain HTTP, behind a reverse proxy)")
	}
	if n := cb.MaxBodyBytes; n < 1<<10 || n > 16<<20 {
		bad("callbacks.max_body_bytes", "%d is not in 1024..%d: a callback is a few kilobytes (default %d)", n, 16<<20, DefaultCallbackMaxBodyBytes)
	}
	if n := cb.MaxConnections; n < 1 || n > 10000 {
		bad("callbacks.max_connections", "%d is not in 1..10000 (default %d)", n, DefaultCallbackMaxConnections)
	}
	if len(cb.Projects) == 0 {
		bad("callbacks.project", "list at least one [[callbacks.project]] with its id and secret: a callback is checked with its project's own key")
	}
	seen := map[int64]bool{}
	for i, p := range cb.Projects {
		key := fmt.Sprintf("callbacks.project[%d].id", i+1)
		switch {
		case p.ID <= 0:
			bad(key, "%d: give the project's id, a positive number", p.ID)
		case seen[p.ID]:
			bad(key, "project %d is listed twice", p.ID)
		case !slices.Contains(c.DataAPI.Projects, p.ID):
			bad(key, "project %d is not in data_api.projects: the sync, which is the source of truth, would never check what its callbacks say", p.ID)
		}
		seen[p.ID] = true
	}
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// resolveCallbacks fills r's callback secrets and TLS pair (r is a copy
// of the config: the project list is copied before it is written).
func (r *Config) resolveCallbacks(bad func(key, format string, args ...any)) {
	cb := &r.Callbacks
	if !cb.Enabled() {
		return
	}
	cb.Projects = slices.Clone(cb.Projects)
	for i := range cb.Projects {
		p := &cb.Projects[i]
		key := fmt.Sprintf("callbacks.project[%d].secret", i+1)
		if r.resolve(&p.Secret, key, p.SecretFile, EnvCallbackSecret(p.ID), bad) && !p.Secret.IsSet() {
			bad(key, "missing: set secret, secret_file or %s", EnvCallbackSecret(p.ID))
		}
	}
	if cb.TLSCertFile == "" || cb.TLSKeyFile == "" {
		return
	}
	certPath, ok := r.credentialPath(cb.TLSCertFile, "callbacks.tls_cert_file", bad)
	keyPath, ok2 := r.credentialPath(cb.TLSKeyFile, "callbacks.tls_key_file", bad)
	if !ok || !ok2 {
		return
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		// The error names the files' problem (PEM, type, mismatch),
		// never a key's bytes.
		bad("callbacks.tls_key_file", "cannot use %s with its key %s: %v", certPath, keyPath, err)
		return
	}
	cb.cert = &pair
}

// credentialPath is a file's path with $CREDENTIALS_DIRECTORY expanded,
// if the file can be read.
func (r *Config) credentialPath(file, key string, bad func(key, format string, args ...any)) (string, bool) {
	env := r.env
	if env == nil {
		env = func(string) string { return "" }
	}
	unset := false
	path := os.Expand(file, func(name string) string {
		if name == "CREDENTIALS_DIRECTORY" {
			v := env(name)
			unset = unset || v == ""
			return v
		}
		return "$" + name
	})
	if unset {
		bad(key, "$CREDENTIALS_DIRECTORY is not set, so %q cannot be read: systemd sets it for the service only", file)
		return "", false
	}
	if _, err := os.Stat(path); err != nil {
		bad(key, "cannot read %s: %v", path, err)
		return "", false
	}
	return path, true
}

// callbackWarnings: plain HTTP on an address other hosts can reach.
func (c *Config) callbackWarnings() Problems {
	cb := &c.Callbacks
	if !cb.Enabled() || cb.TLSCertFile != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(cb.Listen)
	if err != nil || isLoopback(host) {
		return nil
	}
	shown := host
	if shown == "" {
		shown = "every address"
	}
	return Problems{{Key: "callbacks.listen", Msg: fmt.Sprintf("plain HTTP on %s, which other hosts can reach (%s): callbacks travel unencrypted; "+
		"serve TLS (tls_cert_file, tls_key_file) or listen on 127.0.0.1 behind a reverse proxy", cb.Listen, shown)}}
}
