package ledger

import "golang.org/x/sys/unix"

// dropMapped unmaps the pages of [addr, addr+n) from the process; a shared
// file mapping reads them again from the page cache.
func dropMapped(addr, n uintptr) {
	if n == 0 {
		return
	}
	unix.Syscall(unix.SYS_MADVISE, addr, n, unix.MADV_DONTNEED)
}
