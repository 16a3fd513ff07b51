// Package records reads the merchant's own books: CSV or XLSX files as real
// finance systems export them, into domain.Record values.
//
// A file is read whole and checked whole: every bad line is reported with
// its line (or row), its column and why, and a file with any bad line gives
// no records at all. What it accepts, beyond the canonical header
// (docs/commands.md, "import"):
//
//   - UTF-8, UTF-8 with a byte order mark, UTF-16 (either byte order) with
//     a byte order mark, which is Excel's "Unicode text" (.txt, tab between
//     fields), or Windows-1251 (any other file that is not valid UTF-8 is
//     read as Windows-1251, the encoding of Russian accounting exports,
//     unless it is UTF-8 with a few bad bytes, which is refused); a file
//     with a NUL byte, likely UTF-16 without its mark, is refused;
//   - lines that end in LF, CRLF or, in a file without a LF, CR alone
//     (Excel for Mac's "CSV (Macintosh)");
//   - ',', ';' or tab between fields, found from the header line;
//   - amounts with '.' or ',' as the decimal mark and spaces or non-breaking
//     spaces between thousands ("1 000,50"); when both '.' and ',' appear
//     ("1,000.50") the last one is the decimal mark; amounts are major units
//     by default, checked against the currency's ISO 4217 decimals
//     ("10.001" UAH is an error, not a rounding), or minor units with
//     amount_unit = "minor"; an amount in parentheses is negative, as
//     accounting writes it ("(10.00)", "(1,234.56)"): like "-10.00" it is
//     a refund's or payout's size, and an error on a purchase;
//   - column names and status and type words remapped in [records].
//
// XLSX cells are read by their raw values (numbers as written, dates as
// serial numbers); a yes/no (boolean) cell in any column read is an error
// on its row, not 1 or 0, and a serial before 1900-03-01 is not a date.
package records

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// Canonical column names (docs/commands.md, "import").
const (
	ColPaymentID         = "payment_id"
	ColType              = "type"
	ColAmount            = "amount"
	ColCurrency          = "currency"
	ColStatus            = "status"
	ColCreatedAt         = "created_at"
	ColProviderPaymentID = "provider_payment_id"
	ColOperationID       = "operation_id"
	ColProjectID         = "project_id"
	ColCustomerID        = "customer_id"
	ColMethod            = "method"
)

// Columns are the canonical columns, in the reference's order.
var Columns = []string{ColPaymentID, ColType, ColAmount, ColCurrency, ColStatus, ColCreatedAt,
	ColProviderPaymentID, ColOperationID, ColProjectID, ColCustomerID, ColMethod}

// MaxIDBytes is the longest payment_id or provider_payment_id a record may
// have: the same as an operation's from the Data API
// (domain.MaxUpstreamIDBytes), so that every id ECommPay can send can be
// matched in the books. They are part of the ledger's record keys, whose
// id length is a 16-bit field and whose whole size bbolt caps at 32 KiB.
const MaxIDBytes = domain.MaxUpstreamIDBytes

// DefaultSource names the merchant's book when import has no --source.
const DefaultSource = "records"

// Options say how to read a file.
type Options struct {
	Source     string            // default DefaultSource
	Columns    map[string]string // canonical column → the file's header
	Statuses   map[string]string // the file's word → paid, failed, pending or refunded
	Types      map[string]string // the file's word → purchase, payout or refund
	AmountUnit string            // "major" (default) or "minor"
	Location   *time.Location    // zone of times written without one; default UTC
	Sheet      string            // XLSX: the sheet; default the first
	MaxErrors  int               // problems listed before "and N more"; default 1000
	// MaxBytes bounds the file's size, MaxUnzippedBytes what an XLSX
	// file's parts hold once unzipped; 0 sets no bound.
	MaxBytes, MaxUnzippedBytes int64
}

// Result is a file read without a problem.
type Result struct {
	Records   []domain.Record // ReadFile's; Stream keeps none
	Format    string          // "csv" or "xlsx"
	Encoding  string          // CSV: "utf-8", "utf-8 with BOM" or "windows-1251"
	Separator rune            // CSV
	Lines     int             // data lines read
}

// Problem is one thing wrong in a file.
type Problem struct {
	Line   int    // CSV line, XLSX row; 1 is the header
	Column string // canonical column name, "" for the whole line
	Msg    string
}

// FileError is a file rejected whole.
type FileError struct {
	Path     string // shown through domain.CleanName
	Sheet    string // XLSX
	Problems []Problem
	More     int // problems not listed
}

func (e *FileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: rejected, nothing imported: %d problem(s)", domain.CleanName(e.Path), len(e.Problems)+e.More)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(e.describe(p))
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", e.More)
	}
	return b.String()
}

func (e *FileError) describe(p Problem) string {
	where := domain.CleanName(filepath.Base(e.Path))
	if e.Sheet != "" {
		where += fmt.Sprintf(" sheet %q row %d", e.Sheet, p.Line)
	} else if p.Line > 0 {
		where += ":" + strconv.Itoa(p.Line)
	}
	if p.Column != "" {
		where += " column " + p.Column
	}
	return where + ": " + p.Msg
}

// problems collects a file's problems up to a limit.
type problems struct {
	list []Problem
	more int
	max  int
}

func (ps *problems) add(line int, column, format string, args ...any) {
	if len(ps.list) >= ps.max {
		ps.more++
		return
	}
	ps.list = append(ps.list, Problem{Line: line, Column: column, Msg: fmt.Sprintf(format, args...)})
}

// put adds a problem already made.
func (ps *problems) put(p Problem) {
	if len(ps.list) >= ps.max {
		ps.more++
		return
	}
	ps.list = append(ps.list, p)
}

// merge adds the problems of another list, keeping this one in line order
// (both are) and the cap on the first.
func (ps *problems) merge(other *problems) {
	all := make([]Problem, 0, len(ps.list)+len(other.list))
	a, b := ps.list, other.list
	for len(a) > 0 && len(b) > 0 {
		if b[0].Line < a[0].Line {
			all, b = append(all, b[0]), b[1:]
		} else {
			all, a = append(all, a[0]), a[1:]
		}
	}
	all = append(append(all, a...), b...)
	ps.more += other.more
	if len(all) > ps.max {
		ps.more += len(all) - ps.max
		all = all[:ps.max]
	}
	ps.list = all
}

func (ps *problems) any() bool { return len(ps.list) > 0 || ps.more > 0 }

// ReadFile reads a CSV or XLSX file, by its extension, into
// Result.Records.
func ReadFile(path string, o Options) (*Result, error) {
	var batches []*recordList
	n := 0
	res, err := Stream(context.Background(), path, o, func() *recordList { return &recordList{recs: make([]lineRecord, 0, batchLines)} },
		func(b *recordList) { batches, n = append(batches, b), n+len(b.recs) })
	if err != nil {
		return nil, err
	}
	res.Records = make([]domain.Record, 0, n)
	last, inOrder := 0, true
	for _, b := range batches {
		for i := range b.recs {
			inOrder = inOrder && b.recs[i].line > last
			last = b.recs[i].line
			res.Records = append(res.Records, b.recs[i].rec)
		}
	}
	if !inOrder { // XLSX rows read a second time come last
		all := make([]lineRecord, 0, n)
		for _, b := range batches {
			all = append(all, b.recs...)
		}
		slices.SortStableFunc(all, func(a, b lineRecord) int { return cmp.Compare(a.line, b.line) })
		for i := range all {
			res.Records[i] = all[i].rec
		}
	}
	return res, nil
}

// recordList is ReadFile's Batch.
type recordList struct{ recs []lineRecord }

type lineRecord struct {
	line int
	rec  domain.Record
}

func (l *recordList) Add(line int, r *domain.Record) { l.recs = append(l.recs, lineRecord{line, *r}) }

// Stream reads a CSV or XLSX file, by its extension, as ReadFile does, but
// keeps no records: each checked record goes to a Batch that newBatch
// returned, filled on one of the checking goroutines (several at once), and
// take is given the filled batches, on Stream's goroutine, while the file has
// had no problem. A file with a problem has had some batches taken: the
// caller drops them. Lines order the records; a batch's come in file order,
// but XLSX rows read a second time (maybeBoolean) come in a last batch.
// Result.Records is nil. A done ctx stops the reading with its error.
func Stream[B Batch](ctx context.Context, path string, o Options, newBatch func() B, take func(B)) (*Result, error) {
	if o.Source = domain.CleanName(o.Source); o.Source == "" {
		o.Source = DefaultSource
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = 1000
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	o.Statuses, o.Types = lowerKeys(o.Statuses), lowerKeys(o.Types)
	s := sink{newBatch: func() Batch { return newBatch() }, take: func(b Batch) { take(b.(B)) }}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".txt":
		return readCSV(ctx, path, o, s)
	case ".xlsx", ".xlsm":
		return readXLSX(ctx, path, o, s)
	default:
		return nil, fmt.Errorf("%s: use a .csv or .xlsx file (an .xls from old Excel must be saved as .xlsx)", domain.CleanName(path))
	}
}

// header maps canonical columns (by their index in Columns) to positions
// in a row; -1 is a column the file does not have.
type header [numColumns]int

const numColumns = 11

func columnIndex(name string) int {
	for i, c := range Columns {
		if c == name {
			return i
		}
	}
	return -1
}

func (h *header) has(canonical string) bool { return h[columnIndex(canonical)] >= 0 }

// mapHeader reads a header row; it reports unknown required columns and
// columns given twice.
func mapHeader(row []string, o *Options, ps *problems) header {
	fileName := map[string]string{} // lower-cased file header → canonical
	for _, c := range Columns {
		fileName[c] = c
	}
	for canonical, name := range o.Columns {
		delete(fileName, canonical)
		fileName[strings.ToLower(strings.TrimSpace(name))] = canonical
	}
	var h header
	for i := range h {
		h[i] = -1
	}
	for i, cell := range row {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(cell, "\uFEFF")))
		canonical, ok := fileName[name]
		if !ok {
			continue // a column we do not use
		}
		ci := columnIndex(canonical)
		if prev := h[ci]; prev >= 0 {
			ps.add(1, canonical, "the header has it twice (columns %d and %d)", prev+1, i+1)
			continue
		}
		h[ci] = i
	}
	for _, c := range []string{ColType, ColAmount, ColCurrency, ColStatus} {
		if !h.has(c) {
			ps.add(1, c, "missing from the header%s", mappedAs(o, c))
		}
	}
	if !h.has(ColPaymentID) && !h.has(ColProviderPaymentID) && !h.has(ColOperationID) {
		ps.add(1, ColPaymentID, "missing from the header, as are provider_payment_id and operation_id: one is needed%s", mappedAs(o, ColPaymentID))
	}
	return h
}

func mappedAs(o *Options, c string) string {
	if name, ok := o.Columns[c]; ok {
		return fmt.Sprintf(" (expected as %q, from [records.columns])", name)
	}
	return ""
}

// Column indexes, for header.cell.
const (
	iPaymentID = iota
	iType
	iAmount
	iCurrency
	iStatus
	iCreatedAt
	iProviderPaymentID
	iOperationID
	iProjectID
	iCustomerID
	iMethod
)

// cell returns a row's value of a canonical column (an index of Columns),
// trimmed.
func (h *header) cell(row []string, col int) string {
	i := h[col]
	if i < 0 || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// parseRow turns one data row into *r and says true, or adds problems.
func parseRow(r *domain.Record, row []string, line int, h *header, o *Options, origin string, numericAmount bool, ps *problems) bool {
	*r = domain.Record{Source: o.Source, Origin: origin}
	ok := true
	bad := func(col, format string, args ...any) {
		ps.add(line, col, format, args...)
		ok = false
	}
	r.PaymentID = h.cell(row, iPaymentID)
	r.ProviderPaymentID = h.cell(row, iProviderPaymentID)
	for _, id := range []struct{ col, v string }{{ColPaymentID, r.PaymentID}, {ColProviderPaymentID, r.ProviderPaymentID}} {
		if len(id.v) > MaxIDBytes {
			bad(id.col, "%d bytes long; at most %d", len(id.v), MaxIDBytes)
		}
	}
	if s := h.cell(row, iOperationID); s != "" {
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil || id == 0 {
			bad(ColOperationID, "%s is not an operation id (digits only)", quoted(s))
		}
		r.OperationID = id
	}
	if r.PaymentID == "" && r.ProviderPaymentID == "" && r.OperationID == 0 {
		bad(ColPaymentID, "empty, as are provider_payment_id and operation_id: the line names no payment")
	}
	if t, err := mapWord(h.cell(row, iType), o.Types, domain.RecordTypes); err != nil {
		bad(ColType, "%v", err)
	} else {
		r.Type = t
	}
	if s, err := mapWord(h.cell(row, iStatus), o.Statuses, domain.RecordStatuses); err != nil {
		bad(ColStatus, "%v", err)
	} else {
		r.Status = s
	}
	cur := strings.ToUpper(h.cell(row, iCurrency))
	if _, err := domain.Exponent(cur); err != nil {
		bad(ColCurrency, "%s is not an ISO 4217 currency code", quoted(h.cell(row, iCurrency)))
	} else {
		r.Amount.Currency = cur
		amount, err := parseAmount(h.cell(row, iAmount), cur, o.AmountUnit, numericAmount)
		if err == nil {
			err = domain.CheckAmount(amount)
		}
		if err != nil {
			bad(ColAmount, "%v", err)
		} else if amount == math.MinInt64 { // its size, -amount, is not an int64 (CheckAmount's bound keeps it out too)
			bad(ColAmount, "%s is out of range", quoted(h.cell(row, iAmount)))
		}
		if amount < 0 {
			// A refund or payout is money going out; books often write it
			// negative. Its size is what is compared.
			if r.Type == domain.RecordPurchase {
				bad(ColAmount, "%s is negative for a purchase", quoted(h.cell(row, iAmount)))
			}
			amount = -amount
		}
		r.Amount.Amount = amount
	}
	if s := h.cell(row, iCreatedAt); s != "" {
		t, err := parseTime(s, o.Location, numericAmount)
		if err == nil {
			err = domain.CheckTime(t)
		}
		if err != nil {
			bad(ColCreatedAt, "%v", err)
		}
		r.CreatedAt = t
	}
	if s := h.cell(row, iProjectID); s != "" {
		p, err := strconv.ParseInt(strings.TrimSuffix(s, ".0"), 10, 64)
		if err != nil || p <= 0 {
			bad(ColProjectID, "%s is not a project id", quoted(s))
		}
		r.ProjectID = p
	}
	// Free text: a card number in it is masked as it is read (stored,
	// exported and shown masked; idempotent, and free below 13 digits).
	// It is bounded as the ids are: every reconcile reads it again, and an
	// XLSX cell holds at most 32,767 characters.
	customer, method := h.cell(row, iCustomerID), h.cell(row, iMethod)
	for _, f := range []struct{ col, v string }{{ColCustomerID, customer}, {ColMethod, method}} {
		if len(f.v) > MaxIDBytes {
			bad(f.col, "%d bytes long; at most %d", len(f.v), MaxIDBytes)
		}
	}
	r.CustomerID = domain.MaskCardNumbers(customer)
	r.Method = domain.MaskCardNumbers(method)
	return ok
}

// lowerKeys returns table with lower-cased keys, for mapWord.
func lowerKeys(table map[string]string) map[string]string {
	out := make(map[string]string, len(table))
	for k, v := range table {
		out[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return out
}

// mapWord maps a file's word to a canonical one: through the config's
// table (lower-cased keys) first, then the canonical words themselves,
// case-insensitively.
func mapWord(s string, table map[string]string, canonical []string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty")
	}
	if to, ok := table[strings.ToLower(s)]; ok {
		return to, nil
	}
	for _, c := range canonical {
		if strings.EqualFold(c, s) {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s is none of %s (map other words in [records])", quoted(s), strings.Join(canonical, ", "))
}

// Time layouts accepted for created_at, after RFC 3339.
var timeLayouts = []string{time.DateTime, "2006-01-02 15:04", time.DateOnly, "02.01.2006 15:04:05", "02.01.2006 15:04", "02.01.2006"}

func parseTime(s string, loc *time.Location, spreadsheet bool) (time.Time, error) {
	if t, err := domain.ParseDateTime(s, loc); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	if spreadsheet {
		if t, ok := excelSerialTime(s, loc); ok {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s is not a time: use RFC 3339 or YYYY-MM-DD hh:mm:ss", quoted(s))
}

// shownRunes is how much of a bad value a problem quotes.
const shownRunes = 60

// quoted is a cell's value as a problem quotes it: Go-quoted (control
// characters escaped), and past shownRunes cut, with its length, so that
// a bad cell of megabytes makes a line, not megabytes of the list.
func quoted(s string) string {
	n := 0
	for i := range s {
		if n == shownRunes {
			return strconv.Quote(s[:i]+"…") + fmt.Sprintf(" (%d bytes)", len(s))
		}
		n++
	}
	return strconv.Quote(s)
}
