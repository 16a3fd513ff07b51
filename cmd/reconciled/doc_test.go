package main

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"reconciled/internal/doccheck"
)

// cmdHelp is what `reconciled NAME -h` says: its usage line and its flags
// with their defaults ("" for none).
type cmdHelp struct {
	usage string
	flags map[string]string
}

var (
	reFlagLine = regexp.MustCompile(`^  -(\S+)`)
	reDefault  = regexp.MustCompile(`\(default (.*)\)$`)
)

// help runs `reconciled NAME -h` in-process and reads its output, the one
// a user sees.
func help(t *testing.T, name string) cmdHelp {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }, Now: time.Now}
	if code := m.Run(context.Background(), []string{name, "-h"}); code != exitOK {
		t.Fatalf("reconciled %s -h: exit %d\n%s", name, code, errOut.String())
	}
	h := cmdHelp{flags: map[string]string{}}
	var flag string
	for _, line := range strings.Split(out.String(), "\n") { // -h prints to standard output
		if u, ok := strings.CutPrefix(line, "Usage: "); ok {
			h.usage = strings.TrimSpace(u)
		}
		if line == "" || line == "Examples:" {
			flag = ""
		}
		if m := reFlagLine.FindStringSubmatch(line); m != nil {
			flag = m[1]
			h.flags[flag] = ""
			continue
		}
		if flag == "" {
			continue
		}
		if m := reDefault.FindStringSubmatch(line); m != nil {
			def := m[1]
			if u, err := strconv.Unquote(def); err == nil {
				def = u
			}
			h.flags[flag] = def
		}
	}
	if h.usage == "" {
		t.Fatalf("reconciled %s -h printed no usage line:\n%s", name, out.String())
	}
	return h
}

// docs/commands.md documents every command: its usage line exactly as -h
// prints it, and every flag -h lists, with the same default; no flag and
// no command that does not exist. A command or flag added to the code and
// not to the reference fails here.
func TestReferenceDocumentsEveryCommandAndFlag(t *testing.T) {
	doc := doccheck.Read(t, "commands.md")
	var names []string
	for _, c := range commandList() {
		names = append(names, c.name)
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(doc, "\n## `"+c.name+"`\n") {
				t.Errorf("docs/commands.md has no section ## `%s`", c.name)
			}
			h := help(t, c.name)
			if !strings.Contains(doc, "`"+h.usage+"`") {
				t.Errorf("docs/commands.md does not show the usage line `%s`", h.usage)
			}
			marker := "flags: " + c.name
			if len(h.flags) == 0 {
				if doccheck.Has(doc, marker) {
					t.Errorf("docs/commands.md lists flags of %s, which has none", c.name)
				}
				return
			}
			rows := doccheck.Table(t, doc, marker)
			documented := map[string]bool{}
			for _, r := range rows {
				spec, ok := doccheck.Code(r[0])
				if !ok || !strings.HasPrefix(spec, "-") || len(r) < 3 {
					t.Errorf("%s: row %q: want | `--flag VALUE` | default | meaning |", c.name, r)
					continue
				}
				name := strings.TrimLeft(strings.Fields(spec)[0], "-")
				documented[name] = true
				def, known := h.flags[name]
				switch {
				case !known:
					t.Errorf("docs/commands.md lists %s --%s, which -h does not have", c.name, name)
				case def == "" && r[1] != "—":
					t.Errorf("%s --%s has no default; the doc says %q (want —)", c.name, name, r[1])
				case def != "":
					if got, _ := doccheck.Code(r[1]); got != def {
						t.Errorf("%s --%s defaults to %q; the doc says %s", c.name, name, def, r[1])
					}
				}
			}
			for name := range h.flags {
				if !documented[name] {
					t.Errorf("docs/commands.md does not list %s --%s", c.name, name)
				}
			}
		})
	}
	for _, m := range regexp.MustCompile("(?m)^## `([^`]+)`$").FindAllStringSubmatch(doc, -1) {
		if !slices.Contains(names, m[1]) {
			t.Errorf("docs/commands.md has a section for %q, which is no command", m[1])
		}
	}
	for _, name := range doccheck.Markers(doc, "flags") {
		if !slices.Contains(names, name) {
			t.Errorf("docs/commands.md lists flags of %q, which is no command", name)
		}
	}
}

// The exit statuses the reference gives are the ones Run returns.
func TestReferenceExitStatuses(t *testing.T) {
	doc := doccheck.Read(t, "commands.md")
	got := doccheck.Column(doccheck.Table(t, doc, "exit"), 0)
	want := []string{strconv.Itoa(exitOK), strconv.Itoa(exitFailed), strconv.Itoa(exitUsage)}
	if !slices.Equal(got, want) {
		t.Errorf("docs/commands.md exit statuses %v, want %v", got, want)
	}
}

// README's command table names every command.
func TestReadmeTableNamesEveryCommand(t *testing.T) {
	readme := doccheck.Read(t, "../README.md")
	_, table, ok := strings.Cut(readme, "\n## Commands\n")
	if !ok {
		t.Fatal("README.md has no ## Commands section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	for _, c := range commandList() {
		if !regexp.MustCompile("`" + regexp.QuoteMeta(c.name) + "[` ]").MatchString(table) {
			t.Errorf("README.md's command table does not name %s", c.name)
		}
	}
}
