package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Find takes the first of --config, $RECONCILED_CONFIG, ./reconciled.toml
// and /etc/reconciled/reconciled.toml that is given or exists, and says
// where it looked when none is.
func TestFindLooksWhereTheReadmeSays(t *testing.T) {
	t.Chdir(t.TempDir())
	var asked []string
	env := func(k string) string {
		asked = append(asked, k)
		if k == EnvConfig {
			return "from-env.toml"
		}
		return ""
	}
	none := func(string) string { return "" }

	if p, err := Find("given.toml", env); err != nil || p != "given.toml" || len(asked) != 0 {
		t.Errorf("explicit: %q, %v (asked %q); want given.toml without a look at the environment", p, err, asked)
	}
	if p, err := Find("", env); err != nil || p != "from-env.toml" || !slices.Equal(asked, []string{EnvConfig}) {
		t.Errorf("environment: %q, %v (asked %q)", p, err, asked)
	}

	if _, err := os.Stat(filepath.Join("/etc/reconciled", "reconciled.toml")); err == nil {
		t.Fatal("this host has /etc/reconciled/reconciled.toml: the test cannot see Find miss")
	}
	_, err := Find("", none)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !slices.Equal(nf.Tried, []string{"./reconciled.toml", "/etc/reconciled/reconciled.toml"}) {
		t.Fatalf("nothing to find: err %v, want a *NotFoundError that tried both places", err)
	}
	if want := "no config file: looked for $RECONCILED_CONFIG, ./reconciled.toml, /etc/reconciled/reconciled.toml"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}

	if err := os.WriteFile("reconciled.toml", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := Find("", none); err != nil || p != "./reconciled.toml" {
		t.Errorf("./reconciled.toml: %q, %v", p, err)
	}
	if p, err := Find("", env); err != nil || p != "from-env.toml" {
		t.Errorf("the environment before ./reconciled.toml: %q, %v", p, err)
	}
}
