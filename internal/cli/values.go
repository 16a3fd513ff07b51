package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// List collects repeated or comma-separated values, each trimmed; empty
// ones are dropped.
type List []string

func (f *List) String() string { return strings.Join(*f, ",") }

func (f *List) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*f = append(*f, v)
		}
	}
	return nil
}

// Int64s collects positive integers, repeated or comma-separated, into
// List; Noun names one in an error (`"x" is not a project id`).
type Int64s struct {
	Noun string
	List []int64
}

func (f *Int64s) String() string { return fmt.Sprint(f.List) }

func (f *Int64s) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a %s", v, f.Noun)
		}
		f.List = append(f.List, n)
	}
	return nil
}

// Time is a point in time given as 2026-11-20, "2026-11-20 10:00:00" or
// RFC 3339: the first two are read in a zone known only once the flags are
// parsed (Resolve). T is zero until then, and when none was given.
type Time struct {
	T   time.Time
	Raw string // as given
}

func (f *Time) String() string { return f.Raw }

func (f *Time) Set(s string) error {
	f.Raw = s
	return nil
}

// Resolve reads the time given in loc; the flag is called name in the
// error of one it cannot read (bad usage).
func (f *Time) Resolve(name string, loc *time.Location) error {
	if f.Raw == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339, f.Raw); err == nil {
		f.T = t
		return nil
	}
	if t, err := domain.ParseDay(f.Raw, loc); err == nil { // a day: its first instant
		f.T = t
		return nil
	}
	for _, layout := range []string{time.DateTime, "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, f.Raw, loc); err == nil {
			f.T = t
			return nil
		}
	}
	return Usagef("--%s %q: use 2026-11-20, \"2026-11-20 10:00:00\" or RFC 3339", name, f.Raw)
}

// Given stands for the time given before it is read: stand if one was
// given, else zero. A check made while parsing sees that it was given, and
// in the order of the stand-ins; what it is is checked once it is read.
func (f *Time) Given(stand time.Time) time.Time {
	if f.Raw == "" {
		return time.Time{}
	}
	return stand
}
