package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Need is a set of credentials that some work uses. A command resolves
// exactly those of its work (WithSecrets): a status or an export reads no
// secret at all, so it works where the secrets are not readable (by hand,
// beside a service whose credentials only systemd hands out), and a
// command that goes through the daemon's socket reads none either.
type Need uint8

const (
	// NeedDataAPI is data_api.token and data_api.secret: calls to the Data
	// API (sync, the re-checks of reconcile).
	NeedDataAPI Need = 1 << iota
	// NeedMail is mail.password, when mail.username is set: sending mail.
	NeedMail
	// NeedCallbacks is each [[callbacks.project]]'s secret and the TLS
	// pair of [callbacks], when callbacks.listen is set: receiving
	// callbacks (the daemon).
	NeedCallbacks
	// NeedAll is every credential: check-config, and the daemon, which
	// runs every command.
	NeedAll = NeedDataAPI | NeedMail | NeedCallbacks
)

// WithSecrets returns the config with the credentials of need resolved,
// each from its value, its *_file, or its environment variable, in that
// order, and checked; or Problems naming each source that is missing or
// unreadable, and its line. The config it is called on is not changed; one
// that has them already is returned as it is.
func (c *Config) WithSecrets(need Need) (*Config, error) {
	r, ps := c.withSecrets(need)
	if len(ps) > 0 {
		return nil, ps
	}
	return r, nil
}

func (c *Config) withSecrets(need Need) (*Config, Problems) {
	if c.resolved&need == need {
		return c, nil
	}
	r := *c
	var ps Problems
	bad := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if need&NeedDataAPI != 0 {
		d := &r.DataAPI
		tokenOK := r.resolve(&d.Token, "data_api.token", d.TokenFile, EnvDataAPIToken, bad)
		switch n := len([]rune(d.Token.Value())); {
		case !tokenOK:
		case n == 0:
			bad("data_api.token", "missing: set token, token_file or %s", EnvDataAPIToken)
		case n != 30:
			bad("data_api.token", "has %d characters; a Data API token has 30", n)
		}
		if r.resolve(&d.Secret, "data_api.secret", d.SecretFile, EnvDataAPISecret, bad) && !d.Secret.IsSet() {
			bad("data_api.secret", "missing: set secret, secret_file or %s", EnvDataAPISecret)
		}
	}
	if m := &r.Mail; need&NeedMail != 0 && m.Host != "" && m.Username != "" {
		if r.resolve(&m.Password, "mail.password", m.PasswordFile, EnvMailPassword, bad) && !m.Password.IsSet() {
			bad("mail.password", "missing for mail.username: set password, password_file or %s", EnvMailPassword)
		}
	}
	if need&NeedCallbacks != 0 {
		r.resolveCallbacks(bad)
	}
	for i := range ps {
		ps[i].File, ps[i].Line = c.File, c.lines.find(ps[i].Key)
		if ps[i].Line == 0 && ps[i].Key == "mail.password" {
			ps[i].Line = c.lines.find("mail.username") // "missing for mail.username"
		}
		if ps[i].Line == 0 {
			ps[i].Line = c.lines.find(tableOf(ps[i].Key)) // a secret not written: its [[callbacks.project]]
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	r.resolved |= need
	return &r, nil
}

// resolve fills s from its value, its file, or its environment variable;
// a value and a file together are a problem. A file's path may use
// $CREDENTIALS_DIRECTORY (systemd's LoadCredential). It reports whether
// the source was usable (a missing value is for the caller to judge).
func (c *Config) resolve(s *Secret, key, file, envName string, bad func(key, format string, args ...any)) bool {
	env := c.env
	if env == nil {
		env = func(string) string { return "" }
	}
	switch {
	case s.IsSet() && file != "":
		bad(key+"_file", "set either %s or %s_file, not both", key, key)
		return false
	case file != "":
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
			bad(key+"_file", "$CREDENTIALS_DIRECTORY is not set, so %q cannot be read: systemd sets it for the service only. "+
				"While the daemon runs, commands go through its socket and need no secret; to check the files by hand, "+
				"set it to the folder the unit's LoadCredential= reads (sudo CREDENTIALS_DIRECTORY=/etc/reconciled/credentials reconciled check-config)", file)
			return false
		}
		data, err := os.ReadFile(path)
		if err != nil {
			bad(key+"_file", "cannot read %s: %v", path, errors.Unwrap(err))
			return false
		}
		v := strings.TrimRight(string(data), "\r\n")
		if v == "" {
			bad(key+"_file", "%s is empty", path)
			return false
		}
		*s = NewSecret(v)
	case !s.IsSet():
		*s = NewSecret(env(envName))
	}
	return true
}
