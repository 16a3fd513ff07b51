package cli

import (
	"bytes"
	"errors"
	"flag"
	"testing"
)

// program is a Program whose usage goes to two buffers.
func program() (*Program, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return &Program{Name: "prog", Own: []string{"--config", "-v"}, Before: "--config FILE", Stdout: &stdout, Stderr: &stderr}, &stdout, &stderr
}

func usageText(t *testing.T, err error) string {
	t.Helper()
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want a *UsageError", err)
	}
	return ue.Error()
}

// -h shows the usage line, the flags and the examples on standard output
// (what was asked for) and is flag.ErrHelp; a flag error shows them on
// standard error and is bad usage, its text said once, by the caller.
func TestFlagSetUsageGoesWhereItWasAskedFor(t *testing.T) {
	p, stdout, stderr := program()
	fs := p.FlagSet("sync", "[--from T]", "  prog sync --from 2026-11-01\n")
	fs.String("from", "", "start of the window")
	want := "Usage: prog sync [--from T]\n\nFlags:\n  -from string\n    \tstart of the window\n\nExamples:\n  prog sync --from 2026-11-01\n"
	if err := p.Parse(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) || stdout.String() != want || stderr.Len() != 0 {
		t.Fatalf("-h: %v\nstdout %q\nstderr %q\nwant stdout %q", err, stdout, stderr, want)
	}
	stdout.Reset()
	p, stdout, stderr = program()
	fs = p.FlagSet("sync", "[--from T]", "  prog sync --from 2026-11-01\n")
	fs.String("from", "", "start of the window")
	err := p.Parse(fs, []string{"--bogus"})
	if got := usageText(t, err); got != "flag provided but not defined: -bogus" || stderr.String() != want || stdout.Len() != 0 {
		t.Fatalf("--bogus: %q\nstdout %q\nstderr %q", got, stdout, stderr)
	}

	p, stdout, _ = program()
	fs = p.FlagSet("status", "", "  prog status\n")
	if err := p.Parse(fs, []string{"-help"}); !errors.Is(err, flag.ErrHelp) || stdout.String() != "Usage: prog status\n\nExamples:\n  prog status\n" {
		t.Fatalf("a command without flags: %v %q", err, stdout)
	}
}

func TestParseRefusesWhatIsLeftAndTellsWhereTheProgramsFlagsGo(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"extra"}, `status: unexpected argument "extra"`},
		{[]string{"--quick", "extra"}, `status: unexpected argument "extra"`},
		{[]string{"--config", "x.toml"}, "flag provided but not defined: -config: --config and -v go before the command: prog --config FILE status …"},
		{[]string{"-config=x.toml"}, "flag provided but not defined: -config: --config and -v go before the command: prog --config FILE status …"},
		{[]string{"-v"}, "flag provided but not defined: -v: --config and -v go before the command: prog --config FILE status …"},
		{[]string{"-verbose"}, "flag provided but not defined: -verbose"},
		{[]string{"--quick=maybe"}, `invalid boolean value "maybe" for -quick: parse error`},
	} {
		p, _, _ := program()
		fs := p.FlagSet("status", "", "")
		fs.Bool("quick", false, "quick")
		if got := usageText(t, p.Parse(fs, c.args)); got != c.want {
			t.Errorf("%q: %q, want %q", c.args, got, c.want)
		}
	}
	p, _, _ := program()
	fs := p.FlagSet("status", "", "")
	fs.Bool("quick", false, "quick")
	if err := p.Parse(fs, []string{"--quick"}); err != nil {
		t.Fatalf("a good line: %v", err)
	}
}

func TestUsagef(t *testing.T) {
	err := Usagef("--what %q: use %s", "x", "operations")
	if got := usageText(t, err); got != `--what "x": use operations` {
		t.Fatalf("%q", got)
	}
}

// ParseArg takes one argument of the command's own before the flags, after
// them, or after a "--" in either place (one that starts with '-').
func TestParseArgTakesOneArgumentAroundTheFlags(t *testing.T) {
	for _, c := range []struct {
		args      []string
		arg, note string
	}{
		{[]string{"order-1", "--note", "x"}, "order-1", "x"},
		{[]string{"--note", "x", "order-1"}, "order-1", "x"},
		{[]string{"--", "-2+32", "--note", "x"}, "-2+32", "x"},
		{[]string{"--note", "x", "--", "-2+32"}, "-2+32", "x"},
		{[]string{"--note", "x"}, "", "x"},
		{nil, "", ""},
	} {
		p, _, _ := program()
		fs := p.FlagSet("resolve", "ID", "")
		note := fs.String("note", "", "")
		arg, err := p.ParseArg(fs, c.args, "an id")
		if err != nil || arg != c.arg || *note != c.note {
			t.Errorf("%q: %q, note %q, %v; want %q, note %q", c.args, arg, *note, err, c.arg, c.note)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-2+32", "--note", "x"}, `resolve: "-2+32" is no flag; an id that starts with '-' goes after --: prog resolve -- -2+32 …`},
		{[]string{"order-1", "order-2"}, `resolve: unexpected argument "order-2"`},
		{[]string{"--note", "x", "order-1", "order-2"}, `resolve: unexpected argument "order-2"`},
		{[]string{"--", "-2+32", "-7"}, "flag provided but not defined: -7"},
		{[]string{"order-1", "-v"}, "flag provided but not defined: -v: --config and -v go before the command: prog --config FILE resolve …"},
	} {
		p, _, _ := program()
		fs := p.FlagSet("resolve", "ID", "")
		fs.String("note", "", "")
		_, err := p.ParseArg(fs, c.args, "an id")
		if got := usageText(t, err); got != c.want {
			t.Errorf("%q: %q, want %q", c.args, got, c.want)
		}
	}
	p, _, _ := program()
	fs := p.FlagSet("resolve", "ID", "")
	if _, err := p.ParseArg(fs, []string{"-h"}, "an id"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}
