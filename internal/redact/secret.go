package redact

import (
	"fmt"
	"io"
	"log/slog"
)

// Secret is a credential: the config's token, secret and mail password,
// the mail sender's password.
// It never shows its value: not with any fmt verb, not in JSON or TOML, not
// in slog. Use Value where the credential is actually needed.
//
// The value sits behind a pointer: fmt cannot call Format on a Secret held
// in an unexported field, and then prints its fields; a pointer prints as
// an address.
type Secret struct {
	value *string
}

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{value: &v} }

// Value returns the credential.
func (s Secret) Value() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// IsSet reports whether there is a value.
func (s Secret) IsSet() bool { return s.Value() != "" }

// String shows "<redacted>", or nothing for an empty secret.
func (s Secret) String() string {
	if !s.IsSet() {
		return ""
	}
	return Mark
}

// GoString is used by %#v.
func (s Secret) GoString() string { return "Secret(" + s.String() + ")" }

// Format makes every fmt verb (%v, %s, %q, %x, %#v, …) show String.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	io.WriteString(f, s.String())
}

// MarshalText keeps the value out of JSON, TOML and text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the value (from the config file).
func (s *Secret) UnmarshalText(b []byte) error {
	*s = NewSecret(string(b))
	return nil
}

// LogValue keeps the value out of slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
