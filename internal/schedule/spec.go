// Package schedule parses and runs the daemon's [[schedule]] jobs with
// github.com/robfig/cron/v3.
//
// robfig/cron is unmaintained, so this package keeps to the part of it that
// is safe: every spec is parsed here at config load (Parse), with the
// library's known panics turned into errors, and the runner uses
// WithLocation and Recover (a run still going is skipped by the runner's
// own lock, which names the job).
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser accepts five fields (minute hour day month weekday), an optional
// leading seconds field, and descriptors such as @daily or @every 10m.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse checks a cron spec and returns its schedule. A leading
// "CRON_TZ=Zone " (or "TZ=Zone ") sets the zone the spec is read in;
// without it the daemon's zone applies.
func Parse(spec string) (s cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("empty cron spec")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		zone, rest, ok := strings.Cut(spec, " ")
		if !ok || strings.TrimSpace(rest) == "" {
			return nil, fmt.Errorf("%q: the zone must be followed by a space and the schedule, e.g. \"CRON_TZ=Europe/Moscow 0 7 * * *\"", spec)
		}
		name := zone[strings.IndexByte(zone, '=')+1:]
		if _, err := time.LoadLocation(name); err != nil || name == "" {
			return nil, fmt.Errorf("%q: unknown time zone %q", spec, name)
		}
	}
	// The parser panics on some malformed input; a config error must not
	// take the daemon down.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%q: invalid cron spec", spec)
		}
	}()
	s, err = parser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%q: %v", spec, err)
	}
	// A spec such as "0 0 30 2 *" (30 February) parses but never fires.
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("%q never fires", spec)
	}
	return s, nil
}
