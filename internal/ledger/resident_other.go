//go:build !linux

package ledger

// dropMapped is a no-op where MADV_DONTNEED may discard data.
func dropMapped(addr, n uintptr) {}
