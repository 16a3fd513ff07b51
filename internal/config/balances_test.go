package config

import (
	"strings"
	"testing"
)

// balances.sync is on unless the file turns it off; a value that is no
// boolean is a problem naming the key.
func TestBalancesSync(t *testing.T) {
	c, ps := parse(t, minimal)
	if ps != nil || !c.Balances.Sync {
		t.Fatalf("default: %+v, %v", c.Balances, ps)
	}
	c, ps = parse(t, minimal+"[balances]\nsync = false\n")
	if ps != nil || c.Balances.Sync {
		t.Fatalf("off: %+v, %v", c.Balances, ps)
	}
	_, ps = parse(t, minimal+"[balances]\nsync = \"yes\"\n")
	if ps == nil || !strings.Contains(ps.Error(), "balances.sync") {
		t.Fatalf("a string: %v", ps)
	}
}
