package config

import (
	"strings"
	"testing"
)

// check-config names the key and the line of every problem of the new
// keys, however the TOML spells the word: bare, "basic" or 'literal'.
func TestNewKeysNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name, text string
		key        string
		line       int
	}{
		{"literal-quoted word", minimal + `
[reconcile.operation_statuses]
'awaiting foo' = "bogus"
`, `reconcile.operation_statuses."awaiting foo"`, 10},
		{"dotted key under [reconcile]", minimal + `
[reconcile]
operation_types."gift card" = "money"
`, `reconcile.operation_types."gift card"`, 10},
		{"fields over several lines", minimal + `fields = [
  "operation_type", "operation_status", "payment_type",
  "payment_status", "payment_method",
]
`, "data_api.fields", 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parse(t, tt.text)
			if len(ps) != 1 {
				t.Fatalf("problems = %v, want one at %s line %d", ps, tt.key, tt.line)
			}
			if ps[0].Key != tt.key || ps[0].Line != tt.line {
				t.Errorf("problem %q at %s line %d (%s), want %s line %d", ps[0].Key, ps[0].Key, ps[0].Line, ps[0].Error(), tt.key, tt.line)
			}
		})
	}
}

// A data_api.fields of the wrong TOML type is named by its key.
func TestFieldsOfTheWrongType(t *testing.T) {
	_, ps := parse(t, minimal+`fields = "sum_initial"
`)
	if len(ps) == 0 || !strings.Contains(ps.Error(), "data_api.fields") {
		t.Errorf("problems = %v, want data_api.fields named", ps)
	}
}
