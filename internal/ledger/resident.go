package ledger

import bolt "go.etcd.io/bbolt"

// Resident memory. bbolt reads the database through a shared, read-only
// memory map of the file. Every page a scan touches stays in this
// process's resident set (RSS) until the kernel wants the memory back: an
// export of a million operations would end holding the whole 300 MB file,
// and a daemon would idle at the size of its database. The pages are the
// file's and live on in the page cache; dropping them from our mapping
// (madvise MADV_DONTNEED, which for a shared file mapping only unmaps them)
// costs a minor fault when one is read again and changes no byte that a
// transaction sees. Long scans drop them every releaseEvery rows, and
// ReleaseMemory drops them on demand (after a job, in the daemon).

// releaseEvery is how many rows a long scan reads between releases: a few
// tens of megabytes of pages.
const releaseEvery = 1 << 16

// ReleaseMemory drops the database's pages from the process's resident set.
func (l *Ledger) ReleaseMemory() {
	l.view(func(tx *bolt.Tx) error { release(tx); return nil })
}

// release drops the mapped pages of tx's database. It is called inside a
// transaction, where bbolt cannot remap the file under it.
func release(tx *bolt.Tx) {
	info := tx.DB().Info()
	dropMapped(info.Data, uintptr(tx.Size()))
}
