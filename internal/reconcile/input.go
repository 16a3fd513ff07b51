package reconcile

import (
	"encoding/binary"
	"math"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// The engine's input, held compactly. A full recompute reads a million
// operations and a million records, and the engine groups them before it
// judges any: held as domain.Operation (296 bytes) and domain.Record (192
// bytes) they were most of its peak. Here an operation is a row of 80
// bytes (what grouping reads) and about 25 bytes of varints for the rest,
// a record a row of 96: times as seconds and nanoseconds, every word
// (types, statuses, methods, currencies, codes, messages, sources) as a
// number into the table's list of words, and the ids that are not words
// as places in blocks of bytes the table keeps. A row holds no
// pointer, so the collector never reads the tables: with strings in the
// rows, marking them was a fifth of a full recompute's CPU.
// Grouping reads the rows; a domain.Operation or domain.Record is made
// only for the payment being judged, and given back (reused) once its
// items have gone to the sink (Stream with a sink). Made from full
// operations or records (NewOpTableOf, Input.Operations), a table points
// at them instead: the items then point into the caller's slices, as
// before the tables.

// OpTable is the operations of an engine input (Input.OpTable).
type OpTable struct {
	rows  []opRow
	str   blocks
	buf   []byte // Add's cold bytes
	words words
	hints [opWords]uint32
	src   []domain.Operation // when made of full operations: rows[i] is src[i]
}

// The words of an operation row, by index: those grouping reads are in
// the row, the others (from wPaymentStatus on) in its cold bytes.
const (
	wOpType = iota
	wOpStatus
	wPaymentType
	wCurFee
	hotWords
	wPaymentStatus = iota - 1
	wMethod
	wCode
	wMessage
	wCurInitial
	wCurConverted
	opWords
)

// opRow is what grouping reads of an operation; the rest (its completion,
// amounts, fee, provider, the other words) is in cold: varints in the
// table's blocks, read back only for an operation being judged. 80 bytes
// and about 25 of cold, against 136 with every field in the row.
type opRow struct {
	id                           uint64
	project                      int64
	createdSec                   int64
	createdNsec                  uint32
	paymentID, providerPaymentID sref
	cold                         sref
	w                            [hotWords]uint32
}

// NewOpTable makes an empty table with room for n operations.
func NewOpTable(n int) *OpTable {
	return &OpTable{rows: make([]opRow, 0, n), words: newWords()}
}

// NewOpTableOf makes a table of ops that points at them: its rows hold
// what grouping compares (ids, times, words), and its strings are read
// from ops, not copied. It takes no Add.
func NewOpTableOf(ops []domain.Operation) *OpTable {
	t := NewOpTable(len(ops))
	t.src = ops
	for i := range ops {
		t.add(&ops[i])
	}
	return t
}

// Len is the number of operations.
func (t *OpTable) Len() int { return len(t.rows) }

// Add appends op, keeping its strings but no account number or customer
// id (the engine reads neither). Times are kept to the nanosecond, in
// UTC: the ledger's times.
func (t *OpTable) Add(op *domain.Operation) {
	if t.src != nil {
		panic("reconcile: Add to a table of operations made by NewOpTableOf")
	}
	t.add(op)
}

func (t *OpTable) add(op *domain.Operation) {
	r := opRow{id: op.OperationID, project: op.ProjectID}
	r.createdSec, r.createdNsec = packTime(op.CreatedAt)
	if t.src != nil { // what grouping reads; the rest is read from src
		for k, s := range [hotWords]string{wOpType: op.OperationType, wOpStatus: op.OperationStatus, wPaymentType: op.PaymentType,
			wCurFee: op.Fee.Currency} {
			r.w[k] = t.words.id(s, &t.hints[k])
		}
		t.rows = append(t.rows, r)
		return
	}
	r.paymentID, r.providerPaymentID = t.str.put(op.PaymentID), t.str.put(op.ProviderPaymentID)
	var w [opWords]uint32
	for k, s := range [opWords]string{wOpType: op.OperationType, wOpStatus: op.OperationStatus, wPaymentType: op.PaymentType,
		wCurFee: op.Fee.Currency, wPaymentStatus: op.PaymentStatus, wMethod: op.PaymentMethod, wCode: op.Code,
		wMessage: op.Message, wCurInitial: op.SumInitial.Currency, wCurConverted: op.SumConverted.Currency} {
		w[k] = t.words.id(s, &t.hints[k])
	}
	copy(r.w[:], w[:hotWords])
	b := t.buf[:0]
	sec, nsec := packTime(op.CompletedAt)
	b = binary.AppendVarint(b, sec)
	b = binary.AppendUvarint(b, uint64(nsec))
	for _, v := range [...]int64{op.SumInitial.Amount, op.SumConverted.Amount, op.Fee.Amount, op.ProviderID} {
		b = binary.AppendVarint(b, v)
	}
	for _, v := range w[hotWords:] {
		b = binary.AppendUvarint(b, uint64(v))
	}
	t.buf = b
	r.cold = t.str.putBytes(b)
	t.rows = append(t.rows, r)
}

// word is row i's word k (of the row's own: k < hotWords).
func (t *OpTable) word(i int32, k int) string { return t.words.list[t.rows[i].w[k]] }

// fill makes row i an operation.
func (t *OpTable) fill(i int32, op *domain.Operation) {
	r := &t.rows[i]
	c := coldReader{s: t.str.get(r.cold)}
	completedSec, completedNsec := c.varint(), uint32(c.uvarint())
	sumInitial, sumConverted, fee, providerID := c.varint(), c.varint(), c.varint(), c.varint()
	var w [opWords]string
	for k := range hotWords {
		w[k] = t.words.list[r.w[k]]
	}
	for k := hotWords; k < opWords; k++ {
		w[k] = t.words.list[c.uvarint()]
	}
	*op = domain.Operation{ProjectID: r.project, OperationID: r.id, PaymentID: t.str.get(r.paymentID),
		PaymentType: w[wPaymentType], PaymentStatus: w[wPaymentStatus], OperationType: w[wOpType],
		OperationStatus: w[wOpStatus], PaymentMethod: w[wMethod],
		CreatedAt: unpackTime(r.createdSec, r.createdNsec), CompletedAt: unpackTime(completedSec, completedNsec),
		SumInitial:   domain.Money{Amount: sumInitial, Currency: w[wCurInitial]},
		SumConverted: domain.Money{Amount: sumConverted, Currency: w[wCurConverted]},
		ProviderID:   providerID, ProviderPaymentID: t.str.get(r.providerPaymentID), Code: w[wCode], Message: w[wMessage],
		Fee: domain.Money{Amount: fee, Currency: w[wCurFee]}}
}

// coldReader reads the varints Add wrote (binary's, read from a string).
type coldReader struct{ s string }

func (c *coldReader) uvarint() uint64 {
	var v uint64
	for shift := uint(0); len(c.s) > 0; shift += 7 {
		b := c.s[0]
		c.s = c.s[1:]
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			break
		}
	}
	return v
}

func (c *coldReader) varint() int64 {
	u := c.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// laterRow orders rows as laterOp orders operations: by creation, then id.
func laterRow(a, b *opRow) bool {
	if a.createdSec != b.createdSec {
		return a.createdSec > b.createdSec
	}
	if a.createdNsec != b.createdNsec {
		return a.createdNsec > b.createdNsec
	}
	return a.id > b.id
}

// RecordTable is the records of an engine input (Input.RecordTable).
type RecordTable struct {
	rows  []recRow
	str   blocks
	words words
	hints [recWords]uint32
	src   []domain.Record
}

const (
	wSource = iota
	wType
	wCurrency
	wStatus
	wRecMethod
	recWords
)

type recRow struct {
	amount                               int64
	createdSec                           int64
	operationID                          uint64
	projectID                            int64
	paymentID, providerPaymentID, origin sref
	createdNsec                          uint32
	w                                    [recWords]uint32
}

// NewRecordTable makes an empty table with room for n records.
func NewRecordTable(n int) *RecordTable {
	return &RecordTable{rows: make([]recRow, 0, n), words: newWords()}
}

// NewRecordTableOf makes a table of recs that points at them, as
// NewOpTableOf does. It takes no Add.
func NewRecordTableOf(recs []domain.Record) *RecordTable {
	t := NewRecordTable(len(recs))
	t.src = recs
	for i := range recs {
		t.add(&recs[i])
	}
	return t
}

// Len is the number of records.
func (t *RecordTable) Len() int { return len(t.rows) }

// Add appends r, keeping its strings but no customer id (the engine reads
// none). A zero CreatedAt stays zero: the caller fills it (Input.Records).
func (t *RecordTable) Add(r *domain.Record) {
	if t.src != nil {
		panic("reconcile: Add to a table of records made by NewRecordTableOf")
	}
	t.add(r)
}

func (t *RecordTable) add(r *domain.Record) {
	row := recRow{amount: r.Amount.Amount, operationID: r.OperationID, projectID: r.ProjectID}
	if t.src == nil {
		row.paymentID, row.providerPaymentID, row.origin = t.str.put(r.PaymentID), t.str.put(r.ProviderPaymentID), t.str.put(r.Origin)
	}
	row.createdSec, row.createdNsec = packTime(r.CreatedAt)
	for k, s := range [recWords]string{r.Source, r.Type, r.Amount.Currency, r.Status, r.Method} {
		row.w[k] = t.words.id(s, &t.hints[k])
	}
	t.rows = append(t.rows, row)
}

func (t *RecordTable) word(i int32, k int) string { return t.words.list[t.rows[i].w[k]] }

// fill makes row i a record.
func (t *RecordTable) fill(i int32, rec *domain.Record) {
	r := &t.rows[i]
	w := func(k int) string { return t.words.list[r.w[k]] }
	*rec = domain.Record{Source: w(wSource), PaymentID: t.str.get(r.paymentID), Type: w(wType),
		Amount: domain.Money{Amount: r.amount, Currency: w(wCurrency)}, Status: w(wStatus),
		CreatedAt: unpackTime(r.createdSec, r.createdNsec), ProviderPaymentID: t.str.get(r.providerPaymentID),
		OperationID: r.operationID, ProjectID: r.projectID, Method: w(wRecMethod), Origin: t.str.get(r.origin)}
}

// ids is row i as a record of only its ids (for Record.ID and Unit).
func (t *RecordTable) ids(i int32) domain.Record {
	if t.src != nil {
		s := &t.src[i]
		return domain.Record{PaymentID: s.PaymentID, ProviderPaymentID: s.ProviderPaymentID, OperationID: s.OperationID, ProjectID: s.ProjectID}
	}
	r := &t.rows[i]
	return domain.Record{PaymentID: t.str.get(r.paymentID), ProviderPaymentID: t.str.get(r.providerPaymentID), OperationID: r.operationID, ProjectID: r.projectID}
}

// paymentID and providerPaymentID are row i's.
func (t *OpTable) paymentID(i int32) string {
	if t.src != nil {
		return t.src[i].PaymentID
	}
	return t.str.get(t.rows[i].paymentID)
}

func (t *OpTable) providerPaymentID(i int32) string {
	if t.src != nil {
		return t.src[i].ProviderPaymentID
	}
	return t.str.get(t.rows[i].providerPaymentID)
}

func (t *RecordTable) paymentID(i int32) string {
	if t.src != nil {
		return t.src[i].PaymentID
	}
	return t.str.get(t.rows[i].paymentID)
}

func (t *RecordTable) providerPaymentID(i int32) string {
	if t.src != nil {
		return t.src[i].ProviderPaymentID
	}
	return t.str.get(t.rows[i].providerPaymentID)
}

// blocks keeps a table's strings, one after another, in blocks of
// blockSize bytes that it only ever appends to: a string handed out
// (a slice of its block) stays as it is.
type blocks struct{ list []*strings.Builder }

// sref is where a string is in its blocks; a zero n is "".
type sref struct{ blk, off, n uint32 }

const blockSize = 1 << 20

func (b *blocks) put(s string) sref {
	if s == "" {
		return sref{}
	}
	if k := len(b.list); k == 0 || b.list[k-1].Cap()-b.list[k-1].Len() < len(s) {
		nb := &strings.Builder{}
		nb.Grow(max(blockSize, len(s)))
		b.list = append(b.list, nb)
	}
	cur := b.list[len(b.list)-1]
	r := sref{blk: uint32(len(b.list) - 1), off: uint32(cur.Len()), n: uint32(len(s))}
	cur.WriteString(s)
	return r
}

// putBytes is put of p's bytes.
func (b *blocks) putBytes(p []byte) sref {
	if len(p) == 0 {
		return sref{}
	}
	if k := len(b.list); k == 0 || b.list[k-1].Cap()-b.list[k-1].Len() < len(p) {
		nb := &strings.Builder{}
		nb.Grow(max(blockSize, len(p)))
		b.list = append(b.list, nb)
	}
	cur := b.list[len(b.list)-1]
	r := sref{blk: uint32(len(b.list) - 1), off: uint32(cur.Len()), n: uint32(len(p))}
	cur.Write(p)
	return r
}

func (b *blocks) get(r sref) string {
	if r.n == 0 {
		return ""
	}
	return b.list[r.blk].String()[r.off : r.off+r.n]
}

// words numbers the words of a table: a few dozen distinct ones across a
// million rows. Each field remembers its last word, which the next row
// most often repeats (comparing two strings of the same data is cheaper
// than hashing one).
type words struct {
	list  []string
	index map[string]uint32
}

func newWords() words { return words{list: []string{""}, index: map[string]uint32{"": 0}} }

func (w *words) id(s string, hint *uint32) uint32 {
	if h := *hint; w.list[h] == s {
		return h
	}
	i, ok := w.index[s]
	if !ok {
		i = uint32(len(w.list))
		w.list = append(w.list, s)
		w.index[s] = i
	}
	*hint = i
	return i
}

// zeroSec marks the zero time in a row.
const zeroSec = math.MinInt64

func packTime(t time.Time) (int64, uint32) {
	if t.IsZero() {
		return zeroSec, 0
	}
	return t.Unix(), uint32(t.Nanosecond())
}

// unpackTime is the time as the ledger reads it: UTC, no monotonic clock.
func unpackTime(sec int64, nsec uint32) time.Time {
	if sec == zeroSec {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// slab hands out operations and records made from rows, from blocks it
// reuses once reset (when nothing points at them any more).
type slab struct {
	ops  blocksOf[domain.Operation]
	recs blocksOf[domain.Record]
}

func (s *slab) op() *domain.Operation { return s.ops.next() }
func (s *slab) rec() *domain.Record   { return s.recs.next() }

// reset takes back everything made: its blocks are filled again.
func (s *slab) reset() { s.ops.reset(); s.recs.reset() }

// blocksOf hands out values from blocks of slabBlock, kept across resets:
// a batch of the parallel pass (pass.go) makes a thousand operations
// between two resets, which would otherwise be new blocks every time
// (600 MB of garbage at a million payments).
type blocksOf[T any] struct {
	blocks [][]T
	at     int // the block being filled
}

const slabBlock = 64

func (b *blocksOf[T]) next() *T {
	if b.at < len(b.blocks) && len(b.blocks[b.at]) == slabBlock {
		b.at++
	}
	if b.at == len(b.blocks) {
		b.blocks = append(b.blocks, make([]T, 0, slabBlock))
	}
	blk := b.blocks[b.at][:len(b.blocks[b.at])+1]
	b.blocks[b.at] = blk
	return &blk[len(blk)-1]
}

func (b *blocksOf[T]) reset() {
	var zero T
	for i := range b.blocks[:min(b.at+1, len(b.blocks))] {
		blk := b.blocks[i]
		for k := range blk {
			blk[k] = zero // what the values pointed at may go
		}
		b.blocks[i] = blk[:0]
	}
	b.at = 0
}
