// Package cli is the command line's plumbing, which knows nothing of the
// commands it parses: a program of commands (Program) whose commands each
// have a flag set that shows a usage line, its flags and examples (-h on
// standard output, what was asked for; after a flag error on standard
// error, where the caller then says the error once), flag errors and
// arguments left over as bad usage (*UsageError), and flag values of lists
// and of times read in a zone known only later (values.go).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// UsageError is bad usage: the command line cannot mean anything. The
// front door says so and exits with its usage status.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef is a *UsageError with fmt.Sprintf's text.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Program is a program of commands as one invocation sees it: its name,
// its own flags and where a command's usage goes.
type Program struct {
	Name string // as usage shows it
	// Own are the program's own flags as usage writes them ("--config",
	// "-v"). They go before the command; one given after it is told so,
	// with Before, how they are written there ("--config FILE").
	Own    []string
	Before string
	// Stdout gets a command's usage when it was asked for (-h), Stderr
	// after a flag error.
	Stdout, Stderr io.Writer
}

// FlagSet returns the flag set of the command name, whose usage shows
// "Usage: Name name synopsis", its flags if it has any, and examples.
func (p *Program) FlagSet(name, synopsis, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package writes a flag error's text to the output and then
	// calls Usage; for -h it calls Usage alone. What was written tells the
	// two apart (the text itself is dropped: the caller prints it once).
	failed := &wroteWriter{}
	fs.SetOutput(failed)
	fs.Usage = func() {
		w := p.Stdout
		if failed.wrote {
			w = p.Stderr
		}
		fmt.Fprintf(w, "Usage: %s\n", strings.TrimSpace(p.Name+" "+name+" "+synopsis))
		flags := 0
		fs.VisitAll(func(*flag.Flag) { flags++ })
		if flags > 0 {
			fmt.Fprint(w, "\nFlags:\n")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(failed)
		}
		if examples != "" {
			fmt.Fprintf(w, "\nExamples:\n%s", examples)
		}
	}
	return fs
}

// wroteWriter discards what it is given and remembers that it was.
type wroteWriter struct{ wrote bool }

func (w *wroteWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return len(b), nil
}

// Parse parses args into fs and refuses an argument left after the flags;
// a flag error is bad usage (FlagError), -h is flag.ErrHelp.
func (p *Program) Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return p.FlagError(fs, err)
	}
	if fs.NArg() > 0 {
		return Usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// FlagError is err, the error of fs.Parse, as bad usage (flag.ErrHelp
// stays itself). A flag of the program's own given after the command is
// told where it goes: a flag of one letter if the error ends with it, a
// longer one wherever the error names it.
func (p *Program) FlagError(fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	msg := err.Error()
	for _, own := range p.Own {
		name := "-" + strings.TrimLeft(own, "-")
		if len(name) > 2 && strings.Contains(msg, name) || strings.HasSuffix(msg, name) {
			return Usagef("%v: %s go before the command: %s %s %s …", err, strings.Join(p.Own, " and "), p.Name, p.Before, fs.Name())
		}
	}
	return &UsageError{Msg: msg}
}

// ParseArg parses args into fs around one argument of the command's own
// (an id), which comes before the flags or after them, and after a "--" if
// it starts with '-': "" if there is none. One that starts with '-' given
// first without "--" is told how, what naming it ("an id").
func (p *Program) ParseArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	var arg string
	if len(args) > 1 && args[0] == "--" {
		arg, args = args[1], args[2:]
	} else if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		arg, args = args[0], args[1:]
	}
	if arg == "" && len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && args[0] != "--" {
		name, _, _ := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		if fs.Lookup(name) == nil && name != "h" && name != "help" {
			return "", Usagef("%s: %q is no flag; %s that starts with '-' goes after --: %s %s -- %s …",
				fs.Name(), args[0], what, p.Name, fs.Name(), args[0])
		}
	}
	if err := fs.Parse(args); err != nil {
		return "", p.FlagError(fs, err)
	}
	rest := fs.Args()
	if arg == "" && len(rest) > 0 {
		arg, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return "", Usagef("%s: unexpected argument %q", fs.Name(), rest[0])
	}
	return arg, nil
}
