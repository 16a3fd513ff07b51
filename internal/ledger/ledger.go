// Package ledger stores ECommPay operations and the sync's progress in one
// bbolt file.
//
// Bucket tree (keys → values; integers are big-endian so that keys sort):
//
//	v1/                          root, one per schema generation
//	├── meta/
//	│   ├── "schema"             → uint32 schema version (SchemaVersion)
//	│   └── "scrub free pages"   → 1 while free pages may hold what a migration replaced (scrub.go)
//	├── ops/                     operation_id (8) → record (codec.go): the
//	│                              operation, first seen, status history
//	├── idx_payment/             hour (4) | project_id (8) | len (2) | payment_id | operation_id (8) → ∅
//	├── idx_provider/            hour (4) | len (2) | provider_payment_id | operation_id (8) → ∅
//	├── counts/                  project_id (8) → uvarint operations, uvarint not final
//	├── words/                   field (1) | word → uvarint operations with it (words.go)
//	├── sync/                    project_id (8) → SyncState as JSON (watermark, last success, last error)
//	├── records/                 kind (1) | len (2) | id | type (1) | len (1) | source | occurrence (2)
//	│                              → merchant record, origin, first seen, status history (records.go),
//	│                              in blocks of about a page from schema 6 (blocks.go)
//	├── imports/                 sequence (8) → Import as JSON: file, hash, who, when, counts
//	├── resolutions/             project (8) | len (2) | id | type (1) [| part] → domain.Resolution as JSON
//	├── audit/                   sequence (8) → domain.AuditEvent as JSON
//	├── runs/                    "last" → Run as JSON: the last reconciliation's summary
//	├── rechecks/                project (8) | len (2) | payment id → when it was last re-checked
//	├── jobs/                    schedule key → JobRun as JSON: the daemon's last run of it
//	├── reports/                 day | schedule key → Produced as JSON: a report made and queued
//	├── outbox/                  Message-ID → Mail as JSON: a message, its attempts, sent or not
//	├── fees/                    operation id (8) → the fee charged on it: amount, currency, when stored (fees.go)
//	├── balances/                project id (8) → its latest balances (/balance/get) with the time read, and the last error (balances.go)
//	├── report_seen/             per report schedule: the open exceptions its last report saw (reportseen.go)
//	├── alerts/                  while [alerts] are on: the units result writes recomputed since the last alert check,
//	│                              and the open exceptions it saw (alerts.go)
//	├── dirty/                   sequence (8) → the units a transaction changed since the stored result, their operation ids
//	└── result/                  the last reconciliation's items and their indexes (result.go)
//
// Writes come one page of operations per transaction (UpsertPage), never one
// per row: a page is stored whole or not at all. Upserting is idempotent —
// the same page twice changes nothing — and a status change is appended to
// the operation's history instead of overwriting it.
//
// ECommPay's callbacks are stored the same way (UpsertCallbacks: a group of
// them per transaction), each status in the history with who reported it
// (Sources: the sync, a callback, or both; schema 4). The sync is the source
// of truth: it replaces what a callback said, the history keeping both, and
// a callback never changes a final status the sync stored, nor takes any
// final status back, nor touches an operation stored under another
// project.
//
// The payment and provider indexes start with the creation hour (hours since
// 1970) so that ingest touches few of their pages (see paymentKey); the
// payment index is therefore also the time index (see ForEach).
//
// Schema versions move forward by the migrations of migrate.go, run when a
// database is opened for writing: in the opening transaction, or (schema 3)
// batch by batch, restartable, with the free pages overwritten after.
// Schema 4 rewrites nothing: a record without sources is the sync's.
//
// No card number is stored in full (schema 3). The client masks account
// numbers and messages as records arrive (domain.MaskAccount,
// domain.MaskCardNumbers) and UpsertPage masks again, whoever calls it.
// Earlier releases stored "4111111111111111*" and messages as they came:
// migration 3 rewrites every operation whose account number, message or
// status history changes under masking, and the reasons that resolutions
// and audit events quote (maskReason), in transactions of at most 4 MiB of
// new values or 65,536 values read, so that memory stays bounded (35 MB of
// heap for a million rewritten operations, BENCHMARKS.md). A process
// killed midway leaves schema 2, partly masked and sound; the next
// writable open masks the rest (masking is idempotent). After its last
// batch, the free pages, which still hold the old values, are overwritten
// with zeros in place (scrub.go, which also says what that cannot reach).
// Verify counts operations that still hold a card number: a warning before
// schema 3, a problem from schema 3 on; it never quotes the number.
//
// bbolt locks the file: one process at a time. Open waits a few seconds for
// the lock and then fails with ErrLocked rather than hang.
//
// A damaged file gives a DamagedError (errors.Is ErrDamaged), never a crash
// (damage.go): Open checks the file before bbolt maps it (file.go), every
// transaction turns a panic or fault inside bbolt into the error and closes
// the database, and a stored value that does not decode names its
// operation or record. Verify (check.go) looks at all of it.
package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout this code writes; migrate.go brings older
// databases to it.
const SchemaVersion = 6

var (
	bucketRoot        = []byte("v1")
	bucketMeta        = []byte("meta")
	bucketOps         = []byte("ops")
	bucketIdxPayment  = []byte("idx_payment")
	bucketIdxProvider = []byte("idx_provider")
	bucketCounts      = []byte("counts")
	bucketWords       = []byte("words")
	bucketSync        = []byte("sync")
	bucketRecords     = []byte("records")
	bucketImports     = []byte("imports")
	bucketResolutions = []byte("resolutions")
	bucketAudit       = []byte("audit")
	bucketRuns        = []byte("runs")
	bucketRechecks    = []byte("rechecks")
	bucketJobs        = []byte("jobs")
	bucketReports     = []byte("reports")
	bucketOutbox      = []byte("outbox")
	bucketFees        = []byte("fees")
	keySchema         = []byte("schema")
)

var allBuckets = [][]byte{bucketMeta, bucketOps, bucketIdxPayment, bucketIdxProvider, bucketCounts, bucketWords, bucketSync,
	bucketRecords, bucketImports, bucketResolutions, bucketAudit, bucketRuns, bucketRechecks,
	bucketJobs, bucketReports, bucketOutbox, bucketDirty, bucketFees, bucketChargebacks, bucketCBByPayment, bucketBalances}

// ErrLocked means another process has the database open.
var ErrLocked = errors.New("the database is held by another reconciled process")

// ErrNotExist means a read-only open found no database file.
var ErrNotExist = errors.New("no database yet")

// DefaultLockTimeout is how long Open waits for another process to let go.
const DefaultLockTimeout = 3 * time.Second

// Options configure Open.
type Options struct {
	ReadOnly    bool
	LockTimeout time.Duration // default DefaultLockTimeout
	Logger      *slog.Logger
}

// Ledger is an open database.
type Ledger struct {
	db *bolt.DB
	// file is bbolt's own descriptor of the database (closed by its
	// Close): the page checks read it, not path, which may name another
	// file by now (bbolt's rollback walk and tx.WriteTo read this one).
	file     *os.File
	path     string
	log      *slog.Logger
	shared   bool // a handle of Shared: Close leaves the database open
	readOnly bool
	g        *guard // shared by the handles: set when the file turned out damaged
}

// Open opens or creates the database at path (read-only opens never create;
// an empty file is refused, not made anew). A damaged file gives a
// *DamagedError.
func Open(path string, o Options) (*Ledger, error) {
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s: run reconciled sync first", ErrNotExist, path)
		}
	} else if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create database folder: %w", err)
	}
	warn := func(w string) { o.Logger.Warn("the database's header is half damaged", "database", path, "what", w) }
	var file *os.File // the descriptor bbolt maps, set by openChecked
	db, err := openBolt(path, &bolt.Options{
		Timeout:  o.LockTimeout,
		ReadOnly: o.ReadOnly,
		// The free list is written at each commit (NoFreelistSync off): a
		// writable open reads it instead of every page of the file (which
		// made the file's size the RSS of every command; BENCHMARKS.md).
		NoFreelistSync: false,
		FreelistType:   bolt.FreelistMapType,
		PageSize:       16 << 10, // fewer, larger writes per commit: see BENCHMARKS.md
		OpenFile:       openChecked(path, o.ReadOnly, o.LockTimeout, warn, &file),
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w (waited %s: let the other command finish, or stop it)", path, ErrLocked, o.LockTimeout)
	}
	var damaged *DamagedError
	if errors.As(err, &damaged) {
		return nil, damaged
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	l := &Ledger{db: db, file: file, path: path, log: o.Logger, readOnly: o.ReadOnly, g: newGuard()}
	if err := l.init(o.ReadOnly); err != nil {
		if errors.As(err, &damaged) {
			l.fail(damaged) // closes it
			return nil, damaged
		}
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// A database written with NoFreelistSync (before 2026-12-02) has its
	// free list rebuilt by reading every page at its first writable open:
	// the file would stay in our resident set until something released it.
	l.ReleaseMemory()
	return l, nil
}

// openBolt is bolt.Open with a panic inside it (its rebuild of the free
// list meeting a damaged page) turned into a DamagedError.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			what, ok := damageOf(r)
			if !ok {
				panic(r)
			}
			db, err = nil, &DamagedError{Path: path, What: what}
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return bolt.Open(path, 0o600, o)
}

// init creates the buckets of a new database, checks the schema version of
// an existing one, and migrates an older one (not when read-only: an older
// database is read as it is, and migrated by the next command that writes).
// The migrations that fit one transaction run in the opening one; those
// that rewrite in batches run after it (migrate.go).
func (l *Ledger) init(readOnly bool) error {
	version := func(tx *bolt.Tx) (uint32, error) {
		root := tx.Bucket(bucketRoot)
		if root == nil {
			return 0, errors.New("not a reconciled database (no v1 bucket)")
		}
		var v []byte
		if meta := root.Bucket(bucketMeta); meta != nil {
			v = meta.Get(keySchema)
		}
		if len(v) != 4 {
			return 0, errors.New("schema version missing")
		}
		got := binary.BigEndian.Uint32(v)
		if got > SchemaVersion || got < 1 {
			return 0, fmt.Errorf("schema version %d, this reconciled reads 1 to %d: use the matching release", got, SchemaVersion)
		}
		return got, nil
	}
	if readOnly {
		return l.view(func(tx *bolt.Tx) error {
			v, err := version(tx)
			if err == nil && v < SchemaVersion {
				l.log.Warn("the database has an older schema; it is brought up to date by the next command that writes to it",
					"schema", v, "current", SchemaVersion)
			}
			return err
		})
	}
	var from uint32
	err := l.update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketRoot)
		if err != nil {
			return err
		}
		fresh := root.Bucket(bucketMeta) == nil
		for _, name := range allBuckets {
			if _, err := root.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := root.Bucket(bucketMeta)
		if fresh || meta.Get(keySchema) == nil && root.Bucket(bucketOps).Stats().KeyN == 0 {
			if err := meta.Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion)); err != nil {
				return err
			}
		}
		v, err := version(tx)
		if err != nil {
			return err
		}
		from = v
		return l.migrateInTx(tx, &from)
	})
	if err != nil {
		return err
	}
	return l.migrateRest(from)
}

// Close closes the database (a Shared handle: does nothing; a database
// closed for damage is closing already).
func (l *Ledger) Close() error {
	if l.shared || l.g.failed() != nil {
		return nil
	}
	return l.db.Close()
}

// Shared returns a handle on the same open database whose Close does not
// close it: the daemon holds the file and lends it to the commands it runs.
func (l *Ledger) Shared() *Ledger {
	return &Ledger{db: l.db, file: l.file, path: l.path, log: l.log, shared: true, readOnly: l.readOnly, g: l.g}
}

// Path is the database file.
func (l *Ledger) Path() string { return l.path }

// Size is the database file's size in bytes.
func (l *Ledger) Size() int64 {
	var n int64
	l.view(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

func root(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketRoot) }

// schemaOf is the schema version the root r says (0: none).
func schemaOf(r *bolt.Bucket) uint32 {
	if meta := r.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(keySchema); len(v) == 4 {
			return binary.BigEndian.Uint32(v)
		}
	}
	return 0
}

func be64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// Generation is the id of the database's last committed write
// transaction: any write moves it on. The web view keys its caches by it.
func (l *Ledger) Generation() (uint64, error) {
	var g uint64
	err := l.view(func(tx *bolt.Tx) error { g = uint64(tx.ID()); return nil })
	return g, err
}
