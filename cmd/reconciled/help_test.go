package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestHelpGoesToStdout: asked for (-h, --help, help) the usage is the
// output, on standard output with exit 0 (so that `reconciled export -h |
// less` works); a usage error goes to standard error with exit 2, with
// the usage.
func TestHelpGoesToStdout(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: time.Now}
		return m.Run(context.Background(), args), out.String(), errb.String()
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"--config", w.config, "-h"}} {
		code, out, errOut := run(args...)
		if code != exitOK || !strings.HasPrefix(out, "Usage: reconciled ") || !strings.Contains(out, "Commands:") || errOut != "" {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
	}
	for _, c := range commandList() {
		for _, h := range []string{"-h", "--help"} {
			code, out, errOut := run("--config", w.config, c.name, h)
			if code != exitOK || !strings.HasPrefix(out, "Usage: reconciled "+c.name) || !strings.Contains(out, "Examples:") || errOut != "" {
				t.Errorf("%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", c.name, h, code, out, errOut)
			}
		}
	}
	for _, args := range [][]string{{}, {"--bogus"}, {"nope"}, {"--config", w.config, "sync", "--bogus"}, {"--config", w.config, "export", "--what"}} {
		code, out, errOut := run(args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "Usage: reconciled") || len(args) > 0 && !strings.Contains(errOut, "reconciled: ") {
			t.Errorf("%v: exit %d, want %d; stdout %q\nstderr:\n%s", args, code, exitUsage, out, errOut)
		}
	}
}
