package main

import (
	"errors"
	"strings"

	"reconciled/internal/app"
	"reconciled/internal/cli"
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
	return &cli.UsageError{Msg: e.Text(flagOf)}
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

// resolveWindow reads --from and --to in the config's data_api.tz.
func resolveWindow(cfg *config.Config, from, to *cli.Time) error {
	loc := cfg.Zone()
	if err := from.Resolve("from", loc); err != nil {
		return err
	}
	return to.Resolve("to", loc)
}
