package ledger

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Free pages keep their old bytes. bbolt writes a changed page elsewhere and
// frees the old copy, which stays in the file as it was until bbolt happens
// to reuse it; `reconciled backup` (tx.WriteTo) copies free pages too. A
// value that must be gone once replaced (a card number an earlier release
// stored) is therefore not gone when the transaction that replaced it
// commits. scrubFreePages overwrites the free pages with zeros, in place:
//
//   - in a write transaction, so no other writer runs, and only at a
//     writable open, so no read transaction of this process is open: every
//     page bbolt holds free is one no meta page's tree needs but the older
//     meta page's, which bbolt itself writes over at its next commit;
//   - a page is overwritten only if the walk of the tree (file.go) did not
//     reach it and bbolt's free list holds it: both must agree;
//   - the zeros are synced before the transaction commits and takes the
//     mark (keyScrub) away; a process killed before that leaves the mark,
//     and the next writable open scrubs again.
//
// The file keeps its size and its inode: a copy into a fresh file and a
// rename (bbolt's compact) would also drop the free pages, but a process
// that opened the old inode while it waited for the lock would then write
// to a file no longer named, and the daemon's protection of its database
// by inode (DEVELOPERS.md, "Output files") would protect the wrong one.
//
// What this cannot reach: copies made before (backups, snapshots of the
// file system or the disk), and blocks a copy-on-write file system (btrfs,
// ZFS) or an SSD's wear levelling moved rather than overwrote.

// scrubIfMarked overwrites the free pages if a migration asked for it.
func (l *Ledger) scrubIfMarked() error {
	var marked bool
	if err := l.view(func(tx *bolt.Tx) error {
		marked = root(tx).Bucket(bucketMeta).Get(keyScrub) != nil
		return nil
	}); err != nil {
		return err
	}
	if !marked {
		return nil
	}
	begin := time.Now()
	pages, err := l.scrubFreePages()
	if err != nil {
		return fmt.Errorf("overwrite the free pages of the database: %w", err)
	}
	l.log.Info("free pages overwritten with zeros", "pages", pages, "elapsed", time.Since(begin))
	return nil
}

// scrubBatch is how many bytes of zeros one write puts.
const scrubBatch = 1 << 20

// scrubFreePages overwrites every free page with zeros and takes the mark
// away. It returns how many pages it overwrote.
func (l *Ledger) scrubFreePages() (int, error) {
	pages := 0
	err := l.update(func(tx *bolt.Tx) error {
		ps := int64(tx.DB().Info().PageSize)
		runs, err := l.freeRuns(tx)
		if err != nil {
			return err
		}
		f := l.file // the open database's, not whatever the path names now
		zeros := make([]byte, scrubBatch)
		for _, r := range runs {
			for at, end := int64(r[0])*ps, int64(r[1])*ps; at < end; {
				n := min(end-at, scrubBatch)
				if _, err := f.WriteAt(zeros[:n], at); err != nil {
					return err
				}
				at += n
			}
			pages += int(r[1] - r[0])
		}
		if err := f.Sync(); err != nil {
			return err
		}
		return root(tx).Bucket(bucketMeta).Delete(keyScrub)
	})
	return pages, err
}

// freeRuns returns the free pages of tx as runs [first, end) of page ids:
// those the walk of the tree does not reach and bbolt's free list holds.
func (l *Ledger) freeRuns(tx *bolt.Tx) ([][2]uint64, error) {
	h := txHeader(tx)
	w, problem := walkTree(l.file, h)
	if problem != "" {
		return nil, l.damaged("%s", problem)
	}
	var runs [][2]uint64
	for id := uint64(2); id < h.pgid; id++ {
		if w.reached(id) {
			continue
		}
		info, err := tx.Page(int(id))
		if err != nil {
			return nil, err
		}
		if info == nil || info.Type != "free" {
			continue // unreached but not free: leaked, left as it is
		}
		if n := len(runs); n > 0 && runs[n-1][1] == id {
			runs[n-1][1]++
		} else {
			runs = append(runs, [2]uint64{id, id + 1})
		}
	}
	return runs, nil
}
