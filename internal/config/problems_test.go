package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every problem of a config comes at once, type errors included, each at
// its line and in our words: the TOML decoder's own stop at the first one.
func TestEveryProblemAtOnceInOurWords(t *testing.T) {
	text := `[storage]
path = 5
[data_api]
token = "` + token + `"
secret = "` + secret + `"
projects = "123"
page_size = "big"
lookback = "3 days"
fields = ["sum_initial", 5]
tz = "Mars/Base"
tokn = 1
max_attempts = 2.5
[mail]
port = "587"
password = 12345
[[schedule]]
job = "sync"
cron = 5
to = "a@example.com"
[records.columns]
amount = 7
[reconcile]
recheck = "yes"
default_base = 30
[reconcile.status_map]
paid = "success"
[daemon]
metrics = ["127.0.0.1:9464"]
[log]
level = { a = 1 }
`
	want := []struct {
		line      int
		key, text string
	}{
		{2, "storage.path", "want a string in double quotes, got the number 5"},
		{6, "data_api.projects", `want a list of numbers such as [580, 579], got a string "123"`},
		{7, "data_api.page_size", `want a whole number, got a string "big"`},
		{8, "data_api.lookback", `"3 days" is not a duration`},
		{9, "data_api.fields", "want a list of strings, got the number 5 in it"},
		{10, "data_api.tz", `"Mars/Base" is not an IANA time zone`},
		{11, "data_api.tokn", "unknown key"},
		{12, "data_api.max_attempts", "want a whole number, got the number 2.5"},
		{14, "mail.port", `want a whole number, got a string "587"`},
		{15, "mail.password", "want a string in double quotes, got a number"},
		{18, "schedule[1].cron", "want a string in double quotes, got the number 5"},
		{19, "schedule[1].to", `want a list of strings, got a string "a@example.com"`},
		{21, "records.columns.amount", "want a string in double quotes, got the number 7"},
		{23, "reconcile.recheck", `want true or false, got a string "yes"`},
		{24, "reconcile.default_base", `want a duration in double quotes such as "6m" or "72h", got the number 30`},
		{26, "reconcile.status_map.paid", `want a list of strings, got a string "success"`},
		{28, "daemon.metrics", "want a string in double quotes, got a list"},
		{30, "log.level", "want a string in double quotes, got a table"},
	}
	_, err := ParseAll("t.toml", []byte(text), env(nil))
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v, want Problems", err)
	}
	all := ps.Error()
	for _, w := range want {
		line := "t.toml:" + strconv.Itoa(w.line) + ": " + w.key + ": " + w.text
		if !strings.Contains(all, line) {
			t.Errorf("no problem %q in\n%s", line, all)
		}
	}
	if len(ps) != len(want) {
		t.Errorf("%d problems, want %d (one per key):\n%s", len(ps), len(want), all)
	}
	for _, words := range []string{"incompatible types", "toml: ", "destination", "12345"} {
		if strings.Contains(all, words) {
			t.Errorf("the problems say %q:\n%s", words, all)
		}
	}
}

// Parse and Load read no credential; WithSecrets reads those asked for,
// and names each source that fails, with its line.
func TestSecretsAreReadWhenNeeded(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte(secret+"\n"), 0o600)
	text := `[storage]
path = "reconciled.db"
[data_api]
token_file = "${CREDENTIALS_DIRECTORY}/token"
secret_file = "` + filepath.Join(dir, "secret") + `"
projects = [580]
[mail]
host = "127.0.0.1"
from = "r@example.com"
username = "u"
password_file = "$CREDENTIALS_DIRECTORY/mail"
`
	var asked []string
	getenv := func(k string) string { asked = append(asked, k); return "" }
	c, err := Parse("t.toml", []byte(text), getenv)
	if err != nil {
		t.Fatalf("Parse reads credentials: %v", err)
	}
	if len(asked) > 0 || c.DataAPI.Token.IsSet() || c.DataAPI.Secret.IsSet() {
		t.Errorf("Parse looked up %v, token set %v", asked, c.DataAPI.Token.IsSet())
	}
	_, err = c.WithSecrets(NeedDataAPI)
	if err == nil || !strings.Contains(err.Error(), "t.toml:4: data_api.token_file: ") || !strings.Contains(err.Error(), "$CREDENTIALS_DIRECTORY is not set") {
		t.Errorf("token_file without $CREDENTIALS_DIRECTORY: %v", err)
	}
	if strings.Contains(err.Error(), "mail") {
		t.Errorf("the data API's secrets name mail: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "token"), []byte(token), 0o600)
	getenv = env(map[string]string{"CREDENTIALS_DIRECTORY": dir})
	c, err = Parse("t.toml", []byte(text), getenv)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.WithSecrets(NeedDataAPI)
	if err != nil || d.DataAPI.Token.Value() != token || d.DataAPI.Secret.Value() != secret || d.Mail.Password.IsSet() {
		t.Fatalf("WithSecrets(NeedDataAPI): %v", err)
	}
	if c.DataAPI.Token.IsSet() {
		t.Error("WithSecrets changed the config it was called on")
	}
	if again, err := d.WithSecrets(NeedDataAPI); err != nil || again != d {
		t.Errorf("resolving again: %v", err)
	}
	if _, err := d.WithSecrets(NeedAll); err == nil || !strings.Contains(err.Error(), "t.toml:11: mail.password_file: ") {
		t.Errorf("mail password file missing: %v", err)
	}
	// ParseAll is check-config's: everything, every problem.
	_, err = ParseAll("t.toml", []byte(strings.Replace(text, `projects = [580]`, `projects = []`, 1)), getenv)
	if err == nil || !strings.Contains(err.Error(), "data_api.projects") || !strings.Contains(err.Error(), "mail.password_file") {
		t.Errorf("ParseAll: %v", err)
	}
}

// A credential of the wrong type is one problem, not two (the type, then
// "missing" for the default that stood in); a whole number written as a
// decimal says why it is not one.
func TestOneProblemPerKeyWithCredentialsAndDecimals(t *testing.T) {
	text := `[storage]
path = "r.db"
[data_api]
token = ["a"]
secret = 12
projects = [580]
[limits]
max_queued = 1e3
max_commands = 2.0
`
	_, err := ParseAll("t.toml", []byte(text), env(nil))
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v, want Problems", err)
	}
	want := []string{
		"t.toml:4: data_api.token: want a string in double quotes, got a list",
		"t.toml:5: data_api.secret: want a string in double quotes, got a number",
		"t.toml:8: limits.max_queued: want a whole number, got 1000 written as a decimal (write 1000, without a point or an exponent)",
		"t.toml:9: limits.max_commands: want a whole number, got 2 written as a decimal (write 2, without a point or an exponent)",
	}
	all := ps.Error()
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("no problem %q in\n%s", w, all)
		}
	}
	if len(ps) != len(want) {
		t.Errorf("%d problems, want %d (one per key):\n%s", len(ps), len(want), all)
	}
}
