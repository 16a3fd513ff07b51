package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// A damaged database. bbolt trusts its file: it maps it and follows page
// numbers and offsets without bounds, so a file cut short faults (SIGSEGV,
// SIGBUS) and a damaged page header panics ("invalid page type"), both
// fatal to the process. The ledger answers instead with a DamagedError:
//
//   - Open checks the file before bbolt maps it (file.go): its two header
//     (meta) pages, its length against what the header says, and every page
//     header, element offset and the order of keys reachable from the root
//     (bbolt's free-list rebuild crashes on keys out of order: file.go). Nothing bbolt then
//     reads at open can fault or panic in a goroutine of its own, where no
//     recover reaches.
//   - Every transaction runs through view or update, which turn a fault in
//     the mapping (debug.SetPanicOnFault) and a panic raised inside bbolt
//     into a DamagedError. bbolt may have panicked in the middle of a
//     write, so the database is then closed: the ledger and every handle
//     sharing it answer with the same error from then on. A write that
//     fails is rolled back only once its pages check out (update).
//   - A stored value that does not decode names its operation or record.
//
// A panic that did not start in bbolt (a bug of ours, a callback's) goes on
// as it was: it is not damage.

// ErrDamaged is matched (errors.Is) by every DamagedError.
var ErrDamaged = errors.New("the database file is damaged")

// DamagedError says which database file is damaged and what is wrong in it.
type DamagedError struct {
	Path string // the database file
	What string // what is wrong, naming the page, the operation or the record
	// Rebuild says that the damage is in the stored reconciliation only
	// (result/, dirty/), which reconcile --full rebuilds from the data:
	// no backup needs restoring.
	Rebuild bool
}

func (e *DamagedError) Error() string {
	if e.Rebuild {
		return fmt.Sprintf("the database file %s is damaged: %s; only in the stored reconciliation: run reconcile --full to rebuild it from the data", e.Path, e.What)
	}
	return fmt.Sprintf("the database file %s is damaged: %s", e.Path, e.What)
}

// Is makes errors.Is(err, ErrDamaged) true.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

// damaged is a DamagedError of l's file.
func (l *Ledger) damaged(format string, args ...any) *DamagedError {
	return &DamagedError{Path: l.path, What: fmt.Sprintf(format, args...)}
}

// corrupt is the DamagedError of a stored value that does not decode;
// view and update name the file.
func corrupt(format string, args ...any) *DamagedError {
	return &DamagedError{What: fmt.Sprintf(format, args...)}
}

// corruptResult is the DamagedError of a value of the stored
// reconciliation (result.go) that does not decode: reconcile --full
// rebuilds it.
func corruptResult(format string, args ...any) *DamagedError {
	return &DamagedError{What: fmt.Sprintf(format, args...), Rebuild: true}
}

// wholeResult refuses a stored result that lacks one of its buckets (the
// element's bucket flag damaged: bbolt's check does not see it), which
// bbolt would otherwise be handed as nil, and trip over.
func wholeResult(res *bolt.Bucket) error {
	for _, name := range [][]byte{resultItems, resultUnits, resultDue, resultAsk, resultFallback} {
		if res.Bucket(name) == nil {
			return corruptResult("%s/%s is missing", bucketResult, name)
		}
	}
	return nil
}

// decodeState decodes the stored result's state.
func decodeState(v []byte, st *ResultState) error {
	if err := json.Unmarshal(v, st); err != nil {
		return corruptResult("%s: the entry %s does not decode (%v)", bucketResult, describeKey(keyState), err)
	}
	return nil
}

// corruptOp names an operation whose stored record does not decode.
func corruptOp(id uint64) *DamagedError {
	return corrupt("operation %d: its stored record does not decode", id)
}

// corruptRecord names a merchant record whose stored value or key does not
// decode.
func corruptRecord(key []byte) *DamagedError {
	return corrupt("merchant record %s: its stored value does not decode", describeRecordKey(key))
}

// decodeEntry decodes the JSON entry key of bucket into dst. One that does
// not decode is damage, named as Verify names it (a bare JSON error said
// nothing of damage or of the backup to restore).
func decodeEntry(bucket, key, v []byte, dst any) error {
	if err := json.Unmarshal(v, dst); err != nil {
		return corrupt("%s: the entry %s does not decode (%v)", bucket, describeKey(key), err)
	}
	return nil
}

// guard is shared by every handle on one open database (Shared): once
// bbolt failed inside it, none may use it.
type guard struct {
	// result lets one reconcile at a time compute and store the result
	// (LockResult), whichever handle it came through.
	result sync.Mutex
	// callbacks counts the callbacks received and not committed yet
	// (CallbacksWaiting), whichever handle they came through.
	callbacks atomic.Int64
	mu        sync.Mutex
	err       *DamagedError
	done      chan struct{} // closed with err set
	// alerts is signalled when a result write noted units for the
	// alerts (AlertsNoted), whichever handle wrote it.
	alerts chan struct{}
}

func newGuard() *guard { return &guard{done: make(chan struct{}), alerts: make(chan struct{}, 1)} }

// alertsNoted signals AlertsNoted without blocking.
func (g *guard) alertsNoted() {
	select {
	case g.alerts <- struct{}{}:
	default:
	}
}

func (g *guard) failed() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return g.err
	}
	return nil
}

// Damaged is closed when the database turned out damaged while open; Err
// then says how. The daemon watches it to stop.
func (l *Ledger) Damaged() <-chan struct{} { return l.g.done }

// Err is the damage that closed the database, or nil.
func (l *Ledger) Err() error { return l.g.failed() }

// fail records d as the reason the database is closed and closes it in the
// background: bbolt's Close waits for every transaction, and one that
// panicked in the middle of a write may never give its lock back.
func (l *Ledger) fail(d *DamagedError) {
	l.g.mu.Lock()
	defer l.g.mu.Unlock()
	if l.g.err != nil {
		return
	}
	l.g.err = d
	close(l.g.done)
	l.log.Error("the database is damaged: closed", "database", l.path, "err", d.What)
	go l.db.Close()
}

// view is db.View with damage turned into a DamagedError.
func (l *Ledger) view(fn func(*bolt.Tx) error) (err error) {
	if err := l.g.failed(); err != nil {
		return err
	}
	defer l.recoverDamage(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return l.named(l.db.View(fn))
}

// update is db.Update with damage turned into a DamagedError. It is not
// db.Update because of how bbolt rolls back: a rollback reloads the free
// list (from its page; for a database still without one, by walking every
// page in a goroutine of its own, where a damaged page is fatal). So a write that bbolt panicked
// in is not rolled back at all (the transaction stays open, its lock held,
// and the database is closed for good), and before any other rollback the
// pages are checked the way Open checks them.
func (l *Ledger) update(fn func(*bolt.Tx) error) (err error) {
	if err := l.g.failed(); err != nil {
		return err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	tx, err := l.db.Begin(true)
	if err != nil {
		return l.named(err)
	}
	returned := false
	defer func() {
		r := recover()
		if r == nil {
			if !returned { // fn ended its goroutine (a test's t.Fatal): the writer's lock would be held for good
				tx.Rollback()
			}
			return
		}
		what, ok := damageOf(r)
		if !ok {
			tx.Rollback() // as db.Update does for a panic of fn
			panic(r)
		}
		d := l.damaged("%s", what)
		l.fail(d)
		err = d
	}()
	err = fn(tx)
	returned = true
	if err != nil {
		if problem := l.walkFile(); problem != "" {
			d := l.damaged("%s", problem)
			l.fail(d)
			return d
		}
		tx.Rollback()
		return l.named(err)
	}
	return l.named(tx.Commit())
}

// named gives a DamagedError of a transaction the file's name; and a
// transaction that began as the database was being closed for damage
// fails with that damage, not with "database not open".
func (l *Ledger) named(err error) error {
	var d *DamagedError
	if errors.As(err, &d) && d.Path == "" {
		d.Path = l.path
	}
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		if d := l.g.failed(); d != nil {
			return d
		}
	}
	return err
}

// recoverDamage, deferred, turns a panic of bbolt (or a fault reading the
// mapped file) into a DamagedError in *err and closes the database. Any
// other panic goes on.
func (l *Ledger) recoverDamage(err *error) {
	r := recover()
	if r == nil {
		return
	}
	what, ok := damageOf(r)
	if !ok {
		panic(r)
	}
	d := l.damaged("%s", what)
	l.fail(d)
	*err = d
}

// damageOf says whether the recovered value r is damage and describes it:
// a fault at an address in a mapping (the file is shorter than bbolt
// thought), or a panic whose innermost frame outside the runtime is
// bbolt's. Called from the deferred function, while the panicking frames
// are still on the stack.
func damageOf(r any) (string, bool) {
	if f, ok := r.(interface{ Addr() uintptr }); ok && f.Addr() >= 1<<16 {
		return fmt.Sprintf("reading it faulted at %#x (%v): it is shorter than its pages say", f.Addr(), r), true
	}
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			if strings.HasPrefix(f.Function, "go.etcd.io/bbolt") {
				return fmt.Sprintf("bbolt could not read it: %v", r), true
			}
			return "", false
		}
		if !more {
			return "", false
		}
	}
}
