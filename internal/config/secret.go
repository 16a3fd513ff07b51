package config

import "reconciled/internal/redact"

// Secret is a credential read from the config, a file or the environment
// (redact.Secret: it never shows its value).
type Secret = redact.Secret

// NewSecret wraps a value.
func NewSecret(v string) Secret { return redact.NewSecret(v) }
