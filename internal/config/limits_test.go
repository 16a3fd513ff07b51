package config

import (
	"strings"
	"testing"
)

// TestLimits: [limits] has defaults that let an honest million-line file
// (about 200 MB) through, and every bad value is named by its key.
func TestLimits(t *testing.T) {
	c, ps := parse(t, minimal)
	if ps != nil {
		t.Fatal(ps)
	}
	if l := c.Limits; l.MaxImportBytes < 200<<20 || l.MaxUnzippedBytes < l.MaxImportBytes || l.MaxCommands < 1 || l.MaxQueued < 1 {
		t.Errorf("defaults %+v", l)
	}
	c, ps = parse(t, minimal+"[limits]\nmax_import_bytes = 1000\nmax_unzipped_bytes = 5000\nmax_commands = 1\nmax_queued = 0\n")
	if ps != nil {
		t.Fatal(ps)
	}
	if l := c.Limits; l.MaxImportBytes != 1000 || l.MaxUnzippedBytes != 5000 || l.MaxCommands != 1 || l.MaxQueued != 0 {
		t.Errorf("read %+v", l)
	}
	for _, tt := range []struct{ text, want string }{
		{"max_import_bytes = 0\n", "test.toml:9: limits.max_import_bytes: 0"},
		{"max_unzipped_bytes = -1\n", "test.toml:9: limits.max_unzipped_bytes: -1"},
		{"max_commands = 0\n", "test.toml:9: limits.max_commands: 0"},
		{"max_queued = -1\n", "test.toml:9: limits.max_queued: -1"},
		{"max_import_bytes = \"1GB\"\n", "test.toml:9: limits.max_import_bytes:"},
	} {
		_, ps := parse(t, minimal+"[limits]\n"+tt.text)
		if ps == nil || !strings.Contains(ps.Error(), tt.want) {
			t.Errorf("%q: got %v, want a line containing %q", tt.text, ps, tt.want)
		}
	}
}
