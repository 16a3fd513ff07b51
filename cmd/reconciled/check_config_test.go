package main

import (
	"os"
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
