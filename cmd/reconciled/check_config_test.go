package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeConfig replaces the world's config with text.
func writeConfig(t *testing.T, w *world, text string) {
	t.Helper()
	if err := os.WriteFile(w.config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// check-config never prints base_url's password, and warns (exit 0) when
// the token would travel unencrypted to another host.
func TestCheckConfigBaseURL(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	original, _ := os.ReadFile(w.config)
	setBase := func(url string) {
		var lines []string
		for _, l := range strings.Split(string(original), "\n") {
			if strings.HasPrefix(l, "base_url") {
				l = "base_url = \"" + url + "\""
			}
			lines = append(lines, l)
		}
		writeConfig(t, w, strings.Join(lines, "\n"))
	}
	tests := []struct {
		url      string
		show     string // in the output
		hide     string // nowhere
		warnings bool
	}{
		{"https://proxy:hunter2pass@data.example.com/v1", "https://proxy:xxxxx@data.example.com/v1", "hunter2pass", false},
		{"http://data.example.com/v1", "http://data.example.com/v1", "", true},
		{"http://10.1.2.3:8080/v1", "http://10.1.2.3:8080/v1", "", true},
		{"http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1", "", false},
		{"http://localhost:8080/v1", "http://localhost:8080/v1", "", false},
		{"http://[::1]:8080/v1", "http://[::1]:8080/v1", "", false},
	}
	for _, tt := range tests {
		setBase(tt.url)
		code, out, errOut := w.run(t, "check-config")
		if code != 0 || !strings.Contains(out, tt.show) {
			t.Errorf("%s: exit %d, want 0 and %q in\n%s\n%s", tt.url, code, tt.show, out, errOut)
		}
		if tt.hide != "" && strings.Contains(out+errOut, tt.hide) {
			t.Errorf("%s: the password shows:\n%s\n%s", tt.url, out, errOut)
		}
		warned := strings.Contains(errOut, "warning: ") && strings.Contains(errOut, "data_api.base_url: plain http")
		if warned != tt.warnings {
			t.Errorf("%s: warned %v, want %v:\n%s", tt.url, warned, tt.warnings, errOut)
		}
	}
}

// `cp config.example.toml reconciled.toml`, then the README's edits (for
// use by hand, and for the service), passes check-config.
func TestExampleConfigWithTheREADMEEditsPasses(t *testing.T) {
	example, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// What the README says to do, checked to be still what it says.
	for _, s := range []string{
		"cp config.example.toml reconciled.toml        # then edit: projects, token, secret",
		"export RECONCILED_DATA_API_SECRET=",
		`storage.path = "/var/lib/reconciled/reconciled.db"`,
		`[daemon] socket = "/run/reconciled/reconciled.sock"`,
		"data_api_token data_api_secret mail_password /etc/reconciled/credentials/",
		"`token_file = \"${CREDENTIALS_DIRECTORY}/data_api_token\"`, likewise `secret_file` and\n`password_file`",
	} {
		if !strings.Contains(string(readme), s) {
			t.Fatalf("README.md no longer says %q: update this test with it", s)
		}
	}
	edit := func(text string, pairs ...string) string {
		t.Helper()
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(text, pairs[i]) {
				t.Fatalf("config.example.toml lacks %q", pairs[i])
			}
			text = strings.Replace(text, pairs[i], pairs[i+1], 1)
		}
		return text
	}
	byHand := edit(string(example),
		"projects = [580, 579]", "projects = [1234]",
		`token = "PASTE-THE-30-CHARACTER-TOKEN00"`, `token = "`+testToken+`"`)
	creds := t.TempDir()
	for _, name := range []string{"data_api_token", "data_api_secret", "mail_password"} {
		value := "a-credential"
		if name == "data_api_token" {
			value = testToken
		}
		os.WriteFile(filepath.Join(creds, name), []byte(value+"\n"), 0o600)
	}
	service := edit(byHand,
		`token = "`+testToken+`"`, `token_file = "${CREDENTIALS_DIRECTORY}/data_api_token"`,
		`# secret_file = "/etc/reconciled/data_api.secret"`, `secret_file = "${CREDENTIALS_DIRECTORY}/data_api_secret"`,
		`# socket = "/run/reconciled/reconciled.sock"`, `socket = "/run/reconciled/reconciled.sock"`,
		`# username = "reconciled"`, `username = "reconciled"`,
		`# password_file = "/etc/reconciled/mail.password"`, `password_file = "${CREDENTIALS_DIRECTORY}/mail_password"`)
	for _, tt := range []struct {
		name, text string
		env        map[string]string
	}{
		{"by hand", byHand, map[string]string{"RECONCILED_DATA_API_SECRET": "the-secret"}},
		{"as the service", service, map[string]string{"CREDENTIALS_DIRECTORY": creds}},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "reconciled.toml")
		os.WriteFile(path, []byte(tt.text), 0o600)
		var out, errb strings.Builder
		m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return tt.env[k] }, Now: time.Now}
		if code := m.Run(t.Context(), []string{"--config", path, "check-config"}); code != 0 || errb.Len() > 0 {
			t.Errorf("%s: check-config exit %d\n%s%s", tt.name, code, out.String(), errb.String())
		}
	}
}
