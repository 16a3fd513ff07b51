package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/config"
)

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
