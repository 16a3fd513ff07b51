package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/config"
)

// requestUsage is err as bad usage if it is a request a use case refused
// (an *app.RequestError), in the command line's words: each field named
// as its flag, and the value as it was typed where the command line read
// it into something else (typed, by field: a time as given).
func requestUsage(err error, typed map[string]string) error {
	var re *app.RequestError
	if !errors.As(err, &re) {
		return err
	}
	e := *re
	if v, ok := typed[e.Field]; ok {
		e.Value = v
	}
	return &usageError{e.Text(flagOf)}
}

// flagOf is the flag a request's field is typed as: the one place the
// command line's names meet the use cases'.
func flagOf(field string) string {
	switch field {
	case "projects", "methods", "types", "results":
		field = strings.TrimSuffix(field, "s")
	case "statuses":
		field = "status"
	case "currencies":
		field = "currency"
	}
	return "--" + field
}

// refusedField says whether err is a request's refusal of field.
func refusedField(err error, field string) bool {
	var re *app.RequestError
	return errors.As(err, &re) && re.Field == field
}

// timeFlag is a point in time given as 2026-11-20, "2026-11-20 10:00:00" or
// RFC 3339; the first two are read in the zone loc points at when parsed.
type timeFlag struct {
	t   time.Time
	raw string
}

func (f *timeFlag) String() string { return f.raw }
func (f *timeFlag) Set(s string) error {
	f.raw = s
	return nil
}

// resolve parses the flag in loc (the config's data_api.tz).
func (f *timeFlag) resolve(name string, loc *time.Location) error {
	if f.raw == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339, f.raw); err == nil {
		f.t = t
		return nil
	}
	for _, layout := range []string{time.DateTime, "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, f.raw, loc); err == nil {
			f.t = t
			return nil
		}
	}
	return usagef("--%s %q: use 2026-11-20, \"2026-11-20 10:00:00\" or RFC 3339", name, f.raw)
}

// given stands for a time the command line gave and the config has not
// read yet (t is a nonzero instant, from before to): a check made while
// parsing sees that it was given, and the window itself is checked once
// the times are read.
func (f *timeFlag) given(t time.Time) time.Time {
	if f.raw == "" {
		return time.Time{}
	}
	return t
}

// resolveWindow reads --from and --to in the config's data_api.tz.
func resolveWindow(cfg *config.Config, from, to *timeFlag) error {
	loc := cfg.Zone()
	if err := from.resolve("from", loc); err != nil {
		return err
	}
	return to.resolve("to", loc)
}

// listFlag collects repeated or comma-separated values.
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }
func (f *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*f = append(*f, v)
		}
	}
	return nil
}

// int64ListFlag collects project ids.
type int64ListFlag []int64

func (f *int64ListFlag) String() string { return fmt.Sprint([]int64(*f)) }
func (f *int64ListFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a project id", v)
		}
		*f = append(*f, n)
	}
	return nil
}
