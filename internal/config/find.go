package config

import (
	"os"
	"strings"
)

// EnvConfig names the config file when no path is given.
const EnvConfig = "RECONCILED_CONFIG"

// searched are the places a config file is looked for when none is named,
// in order.
func searched() []string { return []string{"./reconciled.toml", "/etc/reconciled/reconciled.toml"} }

// Find is the config file to read: explicit (the command line's --config)
// if given, else $RECONCILED_CONFIG (getenv is the environment), else the
// first of ./reconciled.toml and /etc/reconciled/reconciled.toml that
// exists; none is a *NotFoundError.
func Find(explicit string, getenv func(string) string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if p := getenv(EnvConfig); p != "" {
		return p, nil
	}
	tried := searched()
	for _, p := range tried {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", &NotFoundError{Tried: tried}
}

// NotFoundError is no config file: none named, none where Find looked.
type NotFoundError struct {
	Tried []string // the places looked at after the environment
}

func (e *NotFoundError) Error() string {
	return "no config file: looked for $" + EnvConfig + ", " + strings.Join(e.Tried, ", ")
}
