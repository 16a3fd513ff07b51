package config

// Balances is [balances]: the account's balances, from /balance/get.
type Balances struct {
	// Sync: a sync then reads each project's balances and stores the
	// latest reading (on by default: one small request a project, and a
	// read that fails only says so in status and the report, it fails no
	// sync).
	Sync bool `toml:"sync"`
}
