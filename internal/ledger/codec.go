package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// The stored record of an operation:
//
//	version byte (recordVersion, or recordVersionSources)
//	uvarint length, then the operation (appendOp)
//	first seen, milliseconds
//	status since: when the current statuses were first seen, milliseconds
//	version 2 only: one byte, the current statuses' Sources
//	uvarint count, then that many earlier statuses (appendChange), oldest first;
//	  in version 2 each followed by its Sources byte
//
// Version 1 is every record whose statuses all came from the Data API
// (schema 3 and before knew no other source): a sync-only database keeps
// the bytes it had, and bytes per operation stay what ingest speed was
// measured with. A record a callback touched is version 2 (schema 4).
//
// The operation comes first and whole, so that an unchanged operation is
// found by comparing bytes, without decoding. The current statuses are not
// repeated in the history: Record.History adds them back.
//
// Size matters: bbolt rewrites every page a transaction touches, so ingest
// speed follows bytes per operation (bbolt's own sequential benchmark drops
// from 735,000 to 198,000 writes/s between 32- and 300-byte values here).
// Hence times as seconds + nanoseconds varints and the dictionary below for
// the few dozen strings that fill most fields.

const (
	recordVersion        = 1
	recordVersionSources = 2
)

// Sources says who reported a status: the Data API (a sync or a
// re-check), a callback, or both. A status brought by a callback and then
// confirmed by the sync is both; the order is not kept.
type Sources uint8

const (
	// SourceSync is the Data API: a sync or a re-check.
	SourceSync Sources = 1 << iota
	// SourceCallback is one of ECommPay's callbacks.
	SourceCallback

	allSources = SourceSync | SourceCallback
)

// orSync is s, or SourceSync for none: a status recorded without a source
// is the sync's.
func (s Sources) orSync() Sources {
	if s == 0 {
		return SourceSync
	}
	return s
}

// String is "sync", "callback" or "sync, callback".
func (s Sources) String() string {
	var parts []string
	if s&SourceSync != 0 {
		parts = append(parts, "sync")
	}
	if s&SourceCallback != 0 {
		parts = append(parts, "callback")
	}
	if s&^allSources != 0 || s == 0 {
		parts = append(parts, fmt.Sprintf("unknown %#x", uint8(s)))
	}
	return strings.Join(parts, ", ")
}

var errCorrupt = errors.New("ledger: corrupt record")

// dictionary holds strings that are stored as one byte. It is part of the
// file format: append only, never reorder or remove. Index 0 is "".
var dictionary = [...]string{
	"",
	// operation types
	"sale", "refund", "reversal", "payout", "auth", "capture", "cancel", "recurring", "account verification",
	// payment types not above
	"purchase", "invoice",
	// statuses
	"success", "decline", "error", "processing", "awaiting 3ds result", "awaiting redirect result",
	"awaiting clarification", "awaiting customer", "awaiting capture", "canceled", "cancelled",
	"refunded", "partially refunded", "reversed", "partially reversed",
	// payment methods
	"advcash", "advcash_direct", "Card partner", "card",
	// currencies of the seeds and the most common others
	"EUR", "BRL", "GBP", "KZT", "RUB", "UAH", "USD", "UZS", "JPY", "KWD", "CNY", "TRY", "PLN", "CZK", "CHF",
	// result codes and messages of the seeds
	"0", "Success", "100", "General decline", "20105", "Insufficient funds on customer account",
}

// dictTag is the first tag of an inline string: a tag below it is a
// dictionary index, a tag at or above it an inline string of tag-dictTag
// bytes.
const dictTag = 64

var dictIndex = func() map[string]uint64 {
	if len(dictionary) > dictTag {
		panic("ledger: dictionary larger than its tag space")
	}
	m := make(map[string]uint64, len(dictionary))
	for i, s := range dictionary {
		m[s] = uint64(i)
	}
	return m
}()

// StatusChange is one entry of an operation's status history: what
// ECommPay said, when reconciled first saw it, and who said it.
type StatusChange struct {
	SeenAt          time.Time
	OperationStatus string
	PaymentStatus   string
	Code            string
	Message         string
	CompletedAt     time.Time
	Sources         Sources
}

// changeOf is op's statuses as an entry of the history: from the sync
// (a caller that knows better sets Sources).
func changeOf(op *domain.Operation, seen time.Time) StatusChange {
	return StatusChange{
		SeenAt:          seen,
		OperationStatus: op.OperationStatus,
		PaymentStatus:   op.PaymentStatus,
		Code:            op.Code,
		Message:         op.Message,
		CompletedAt:     op.CompletedAt,
		Sources:         SourceSync,
	}
}

func sameStatus(a, b *domain.Operation) bool {
	return a.OperationStatus == b.OperationStatus && a.PaymentStatus == b.PaymentStatus && a.Code == b.Code
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendWord stores s as a dictionary index when it has one.
func appendWord(b []byte, s string) []byte {
	if i, ok := dictIndex[s]; ok {
		return binary.AppendUvarint(b, i)
	}
	b = binary.AppendUvarint(b, dictTag+uint64(len(s)))
	return append(b, s...)
}

// appendTime stores seconds and nanoseconds since 1970 as two varints; the
// zero time is (0, 0).
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0, 0)
	}
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// appendSeen stores a time reconciled noted itself (first seen, status
// since) in milliseconds: finer is noise.
func appendSeen(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendVarint(b, t.UnixMilli())
}

func appendOp(b []byte, op *domain.Operation) []byte {
	// The operation id is the record's key; it is not repeated here.
	b = binary.AppendVarint(b, op.ProjectID)
	b = appendString(b, op.PaymentID)
	b = appendWord(b, op.PaymentType)
	b = appendWord(b, op.PaymentStatus)
	b = appendWord(b, op.OperationType)
	b = appendWord(b, op.OperationStatus)
	b = appendWord(b, op.PaymentMethod)
	b = appendString(b, op.AccountNumber)
	b = appendString(b, op.CustomerID)
	b = appendTime(b, op.CreatedAt)
	b = appendTime(b, op.CompletedAt)
	b = binary.AppendVarint(b, op.SumInitial.Amount)
	b = appendWord(b, op.SumInitial.Currency)
	if op.SumConverted == op.SumInitial { // no conversion: the usual case
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.AppendVarint(b, op.SumConverted.Amount)
		b = appendWord(b, op.SumConverted.Currency)
	}
	b = binary.AppendVarint(b, op.ProviderID)
	b = appendString(b, op.ProviderPaymentID)
	b = appendWord(b, op.Code)
	b = appendWord(b, op.Message)
	return b
}

func appendChange(b []byte, c *StatusChange, sources bool) []byte {
	b = appendSeen(b, c.SeenAt)
	b = appendWord(b, c.OperationStatus)
	b = appendWord(b, c.PaymentStatus)
	b = appendWord(b, c.Code)
	b = appendWord(b, c.Message)
	b = appendTime(b, c.CompletedAt)
	if sources {
		b = append(b, byte(c.Sources.orSync()))
	}
	return b
}

// appendRecord appends a whole record whose operation is already encoded
// and whose statuses all came from the sync.
func appendRecord(b, opBytes []byte, firstSeen, statusSince time.Time, earlier []StatusChange) []byte {
	return appendRecordFrom(b, opBytes, firstSeen, statusSince, SourceSync, earlier)
}

// appendRecordFrom appends a whole record whose operation is already
// encoded, its current statuses reported by current: version 1 when every
// status came from the sync alone, else version 2. No source (0) is the
// sync's, as every status was before callbacks.
func appendRecordFrom(b, opBytes []byte, firstSeen, statusSince time.Time, current Sources, earlier []StatusChange) []byte {
	current = current.orSync()
	sources := current != SourceSync
	for i := range earlier {
		sources = sources || earlier[i].Sources.orSync() != SourceSync
	}
	if sources {
		b = append(b, recordVersionSources)
	} else {
		b = append(b, recordVersion)
	}
	b = binary.AppendUvarint(b, uint64(len(opBytes)))
	b = append(b, opBytes...)
	b = appendSeen(b, firstSeen)
	b = appendSeen(b, statusSince)
	if sources {
		b = append(b, byte(current))
	}
	b = binary.AppendUvarint(b, uint64(len(earlier)))
	for i := range earlier {
		b = appendChange(b, &earlier[i], sources)
	}
	return b
}

// opSection returns the encoded fields inside a merchant record (the
// framing of an operation's record of version 1), and the rest.
func opSection(rec []byte) (op, rest []byte, err error) {
	if len(rec) == 0 || rec[0] != recordVersion {
		return nil, nil, errCorrupt
	}
	return frame(rec)
}

// opRecord returns the encoded operation inside an operation's record,
// the rest, and the record's version (1 or 2).
func opRecord(rec []byte) (op, rest []byte, version byte, err error) {
	if len(rec) == 0 || rec[0] != recordVersion && rec[0] != recordVersionSources {
		return nil, nil, 0, errCorrupt
	}
	op, rest, err = frame(rec)
	return op, rest, rec[0], err
}

// frame splits a record after its version byte: the length-prefixed
// section, and what follows it.
func frame(rec []byte) (section, rest []byte, err error) {
	n, k := binary.Uvarint(rec[1:])
	if k <= 0 || uint64(len(rec)-1-k) < n {
		return nil, nil, errCorrupt
	}
	return rec[1+k : 1+k+int(n)], rec[1+k+int(n):], nil
}

// sources reads a Sources byte: at least one known source, no other bit.
func (r *reader) sources() Sources {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errCorrupt
		return 0
	}
	s := Sources(r.b[0])
	r.b = r.b[1:]
	if s == 0 || s&^allSources != 0 {
		r.err = errCorrupt
	}
	return s
}

// reader decodes what the append functions wrote. The first error sticks;
// strings are copied out of the (mmapped) input. With s set (a copy of the
// whole input as one string), strings are slices of s: one allocation per
// record instead of one per field.
type reader struct {
	b   []byte
	err error
	s   string
	n   int // len of the input, to find b's offset in s
	// a, when set, is where strings are copied to, each on its own (no
	// copy of the whole input kept); lean skips what the reconciliation
	// never reads (an operation's account number and customer id, a
	// record's customer id).
	a    *arena
	lean bool
}

// sharedReader reads b with every string sliced from one copy.
func sharedReader(b []byte) reader { return reader{b: b, s: string(b), n: len(b)} }

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) bytes(n uint64) string {
	if r.err != nil {
		return ""
	}
	if uint64(len(r.b)) < n {
		r.err = errCorrupt
		return ""
	}
	var s string
	switch {
	case n == 0:
	case r.a != nil:
		s = r.a.copy(r.b[:n])
	case r.s != "":
		off := r.n - len(r.b)
		s = r.s[off : off+int(n)]
	default:
		s = string(r.b[:n])
	}
	r.b = r.b[n:]
	return s
}

func (r *reader) string() string { return r.bytes(r.uvarint()) }

// skip reads past a string without making one.
func (r *reader) skip() {
	n := r.uvarint()
	if r.err == nil && uint64(len(r.b)) < n {
		r.err = errCorrupt
		return
	}
	if r.err == nil {
		r.b = r.b[n:]
	}
}

func (r *reader) word() string {
	tag := r.uvarint()
	switch {
	case tag >= dictTag:
		return r.bytes(tag - dictTag)
	case tag < uint64(len(dictionary)):
		return dictionary[tag]
	default:
		r.err = errCorrupt
		return ""
	}
}

func (r *reader) time() time.Time {
	sec := r.varint()
	nsec := r.uvarint()
	if nsec >= 1e9 {
		r.err = errCorrupt
	}
	if sec == 0 && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (r *reader) seen() time.Time {
	ms := r.varint()
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// decodeOp reads an operation stored under the key id.
func decodeOp(b []byte, id uint64, op *domain.Operation) error {
	r := sharedReader(b)
	return r.op(id, op)
}

// arena copies bytes out of the mapped file into blocks shared by many
// strings: one allocation per arenaBlock bytes instead of one per record.
// A string kept by a caller keeps its block alive, which is the price.
type arena struct{ b strings.Builder }

const arenaBlock = 64 << 10

// copy returns p as a string of the arena's current block. A
// strings.Builder never changes bytes it has written, so the strings it has
// handed out stay as they were while it grows.
func (a *arena) copy(p []byte) string {
	if a.b.Cap()-a.b.Len() < len(p) {
		a.b = strings.Builder{}
		a.b.Grow(max(arenaBlock, len(p)))
	}
	start := a.b.Len()
	a.b.Write(p)
	return a.b.String()[start:]
}

// op reads an operation stored under the key id.
func (r *reader) op(id uint64, op *domain.Operation) error {
	op.OperationID = id
	op.ProjectID = r.varint()
	op.PaymentID = r.string()
	op.PaymentType = r.word()
	op.PaymentStatus = r.word()
	op.OperationType = r.word()
	op.OperationStatus = r.word()
	op.PaymentMethod = r.word()
	if r.lean {
		r.skip()
		r.skip()
		op.AccountNumber, op.CustomerID = "", ""
	} else {
		op.AccountNumber = r.string()
		op.CustomerID = r.string()
	}
	op.CreatedAt = r.time()
	op.CompletedAt = r.time()
	op.SumInitial.Amount = r.varint()
	op.SumInitial.Currency = r.word()
	switch r.uvarint() {
	case 0:
		op.SumConverted = op.SumInitial
	case 1:
		op.SumConverted.Amount = r.varint()
		op.SumConverted.Currency = r.word()
	default:
		r.err = errCorrupt
	}
	op.ProviderID = r.varint()
	op.ProviderPaymentID = r.string()
	op.Code = r.word()
	op.Message = r.word()
	if r.err == nil && len(r.b) != 0 {
		return errCorrupt
	}
	return r.err
}

// checkTail checks what follows the operation in a stored record of
// version v (first seen, status since, the earlier statuses) without
// keeping it: an unchanged operation skips decoding, not checking.
func checkTail(rest []byte, v byte) error {
	r := reader{b: rest}
	r.seen()
	r.seen()
	if v == recordVersionSources {
		r.sources()
	}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return errCorrupt
	}
	for range n {
		r.seen()
		r.skipWord()
		r.skipWord()
		r.skipWord()
		r.skipWord()
		r.varint()
		if r.uvarint() >= 1e9 {
			return errCorrupt
		}
		if v == recordVersionSources {
			r.sources()
		}
	}
	if r.err == nil && len(r.b) != 0 {
		return errCorrupt
	}
	return r.err
}

// skipWord reads past a word without making its string.
func (r *reader) skipWord() {
	tag := r.uvarint()
	switch {
	case r.err != nil:
	case tag >= dictTag:
		if uint64(len(r.b)) < tag-dictTag {
			r.err = errCorrupt
			return
		}
		r.b = r.b[tag-dictTag:]
	case tag >= uint64(len(dictionary)):
		r.err = errCorrupt
	}
}

// Record is a stored operation with what the ledger knows about it.
type Record struct {
	domain.Operation
	FirstSeen     time.Time
	StatusSince   time.Time      // when the current statuses were first seen
	StatusSources Sources        // who reported the current statuses
	Earlier       []StatusChange // statuses before the current ones, oldest first
}

// History is every status the operation has been seen in, oldest first,
// ending with the current one.
func (r *Record) History() []StatusChange {
	h := append([]StatusChange(nil), r.Earlier...)
	c := changeOf(&r.Operation, r.StatusSince)
	c.Sources = r.StatusSources
	return append(h, c)
}

// decodeRecord reads the record stored under the key id.
func decodeRecord(rec []byte, id uint64, out *Record) error {
	opb, rest, v, err := opRecord(rec)
	if err != nil {
		return err
	}
	if err := decodeOp(opb, id, &out.Operation); err != nil {
		return err
	}
	r := reader{b: rest}
	out.FirstSeen = r.seen()
	out.StatusSince = r.seen()
	out.StatusSources = SourceSync
	if v == recordVersionSources {
		out.StatusSources = r.sources()
	}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return errCorrupt
	}
	out.Earlier = nil
	if n > 0 {
		out.Earlier = make([]StatusChange, n)
	}
	for i := range out.Earlier {
		c := &out.Earlier[i]
		c.SeenAt = r.seen()
		c.OperationStatus = r.word()
		c.PaymentStatus = r.word()
		c.Code = r.word()
		c.Message = r.word()
		c.CompletedAt = r.time()
		c.Sources = SourceSync
		if v == recordVersionSources {
			c.Sources = r.sources()
		}
	}
	if r.err == nil && len(r.b) != 0 {
		return errCorrupt
	}
	return r.err
}
