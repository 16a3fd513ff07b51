package export

import (
	"archive/zip"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
	"reconciled/internal/scratch"
)

// XLSX files are written with excelize's StreamWriter: rows go to a
// temporary file as they come, never all in memory. excelize then builds
// the whole .xlsx archive in a bytes.Buffer (its issue #2357); book.writeTo
// hands it a zip writer on the destination instead, so the archive streams
// too (BENCHMARKS.md has the memory with and without), and that zip writer
// compresses on every core (deflate.go).
//
// Amounts are numeric cells in major units with the currency's decimals as
// their number format. A spreadsheet number is an IEEE double: the amount
// is formatted from its integer minor units into exact decimal text, and
// goes through float64 only to reach excelize's number cell, after a check
// that the double writes back as exactly that text (true up to 15
// significant digits); an amount with more is written as text, so that no
// digit is lost. Operation ids (17 digits) are text for the same reason.
// Times are date cells holding the wall-clock time of the export's zone.
//
// excelize's temporary files (a sheet's rows past 16 MiB) go to the
// process's scratch folder (internal/scratch), which the next reconciled
// process removes if this one is killed; excelize removes them on Close.

// XLSXOptions shape an XLSX file.
type XLSXOptions struct {
	Location *time.Location // zone of the times; default UTC
	// Chargebacks fill the register's chargeback column.
	Chargebacks Chargebacks
	// BufferedZip builds the archive in memory as excelize does by itself;
	// it exists to measure the difference (BENCHMARKS.md).
	BufferedZip bool
}

// book is a workbook being written.
type book struct {
	f                            *excelize.File
	loc                          *time.Location
	header, date, day, text, pct int
	integer, duration            int
	moneyByExp                   [5]int
	sheets                       int
	buffered                     bool
}

func newBook(o XLSXOptions) (*book, error) {
	if o.Location == nil {
		o.Location = time.UTC
	}
	// Without a scratch folder ($TMPDIR not writable), excelize's default
	// is no worse: a small workbook needs no temporary file at all.
	tmp, _ := scratch.Dir()
	b := &book{f: excelize.NewFile(excelize.Options{TmpDir: tmp}), loc: o.Location, buffered: o.BufferedZip}
	style := func(s *excelize.Style) int {
		id, err := b.f.NewStyle(s)
		if err != nil {
			panic(err) // only for a malformed constant style
		}
		return id
	}
	custom := func(f string) *string { return &f }
	b.header = style(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE5F0"}}})
	b.date = style(&excelize.Style{CustomNumFmt: custom("yyyy-mm-dd hh:mm:ss")})
	b.day = style(&excelize.Style{CustomNumFmt: custom("yyyy-mm-dd")})
	b.text = style(&excelize.Style{NumFmt: 49}) // "@": text
	b.pct = style(&excelize.Style{CustomNumFmt: custom("0.0%")})
	b.integer = style(&excelize.Style{CustomNumFmt: custom("#,##0")})
	b.duration = style(&excelize.Style{CustomNumFmt: custom("[h]:mm:ss")})
	for exp := range b.moneyByExp {
		f := "#,##0"
		if exp > 0 {
			f += "." + fmt.Sprintf("%0*d", exp, 0)
		}
		b.moneyByExp[exp] = style(&excelize.Style{CustomNumFmt: custom(f)})
	}
	return b, nil
}

// column is a sheet's column: its header and width in characters.
type column struct {
	name  string
	width float64
}

// sheetWriter streams the rows of one sheet.
type sheetWriter struct {
	b    *book
	name string
	sw   *excelize.StreamWriter
	cols int
	rows int
}

// sheet starts a sheet: widths, a bold header row, frozen.
func (b *book) sheet(name string, cols []column) (*sheetWriter, error) {
	if b.sheets == 0 {
		if err := b.f.SetSheetName("Sheet1", name); err != nil {
			return nil, err
		}
	} else if _, err := b.f.NewSheet(name); err != nil {
		return nil, err
	}
	b.sheets++
	// The stream writer would write the template's dimension "A1": wrong
	// once rows follow, and readers that trust it (openpyxl's read-only
	// mode) then see one cell. Without the element, readers count.
	if err := b.f.SetSheetDimension(name, ""); err != nil {
		return nil, err
	}
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	for i, c := range cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = excelize.Cell{StyleID: b.header, Value: c.name}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return nil, err
	}
	return &sheetWriter{b: b, name: name, sw: sw, cols: len(cols), rows: 1}, nil
}

func (s *sheetWriter) write(values []any) error {
	s.rows++
	cell, err := excelize.CoordinatesToCellName(1, s.rows)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, values)
}

// finish makes the sheet a table (its autofilter buttons) and flushes it.
func (s *sheetWriter) finish() error {
	last, err := excelize.CoordinatesToCellName(s.cols, max(s.rows, 2))
	if err != nil {
		return err
	}
	// Table names may not have spaces.
	name := "T" + strconv.Itoa(s.b.sheets)
	if err := s.sw.AddTable(&excelize.Table{Range: "A1:" + last, Name: name, StyleName: "TableStyleLight1", ShowRowStripes: boolPtr(false)}); err != nil {
		return err
	}
	return s.sw.Flush()
}

func boolPtr(b bool) *bool { return &b }

// money is an amount cell.
func (b *book) money(m domain.Money) any {
	if m.Currency == "" {
		return nil
	}
	exp, err := domain.Exponent(m.Currency)
	if err != nil {
		return strconv.FormatInt(m.Amount, 10)
	}
	style := b.moneyByExp[min(exp, len(b.moneyByExp)-1)]
	if exp < len(pow10) && -1e15 < m.Amount && m.Amount < 1e15 {
		// 15 significant digits at most: the amount and 10^exp are exact
		// doubles, their quotient (correctly rounded) is the double nearest
		// the decimal, the one ParseFloat of its text gives, and a decimal
		// of 15 digits is the shortest text of its double. So the check
		// below would pass; it is skipped, not changed.
		return excelize.Cell{StyleID: style, Value: float64(m.Amount) / pow10[exp]}
	}
	text := string(domain.AppendMajor(nil, m.Amount, exp))
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || strconv.FormatFloat(v, 'f', -1, 64) != trimZeros(text) {
		return text // more digits than a spreadsheet number holds: keep them as text
	}
	return excelize.Cell{StyleID: style, Value: v}
}

// pow10 are the powers of ten that are exact doubles.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
	1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// trimZeros drops a decimal's trailing zeros, as FormatFloat writes it.
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// date is a date cell showing t's wall clock in the book's zone.
func (b *book) dateCell(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	l := t.In(b.loc)
	wall := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
	return excelize.Cell{StyleID: b.date, Value: wall}
}

func (b *book) idText(id uint64) any {
	if id == 0 {
		return nil
	}
	return excelize.Cell{StyleID: b.text, Value: strconv.FormatUint(id, 10)}
}

func optionalNum(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// writeTo writes the workbook: straight to w through its own zip writer
// (or, with BufferedZip, through excelize's in-memory buffer).
func (b *book) writeTo(w io.Writer) error {
	defer b.f.Close()
	if b.buffered {
		return b.f.Write(w)
	}
	var zw *zip.Writer
	b.f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw = zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, deflate) // deflate.go
		return zw
	})
	buf, err := b.f.WriteToBuffer()
	if err != nil {
		return err
	}
	if buf.Len() != 0 {
		return fmt.Errorf("xlsx: excelize wrote %d bytes around the streaming zip writer", buf.Len())
	}
	return nil
}

// OperationsXLSX writes the payment register as one sheet. It returns the
// rows written.
func OperationsXLSX(w io.Writer, src Source, f Filter, o XLSXOptions, progress func(n int)) (int, error) {
	b, err := newBook(o)
	if err != nil {
		return 0, err
	}
	widths := map[string]float64{"payment_id": 22, "operation_id": 20, "account_number": 34, "customer_id": 14, "provider_payment_id": 22,
		"message": 30, "created_at": 20, "completed_at": 20, "payment_method": 14, "amount": 14, "converted_amount": 16}
	cols := make([]column, len(OperationColumns))
	for i, c := range OperationColumns {
		cols[i] = column{c, max(widths[c], float64(len(c))+4)}
	}
	s, err := b.sheet("Operations", cols)
	if err != nil {
		return 0, err
	}
	// Not pipelined as the CSV is: reading the ledger and making the rows'
	// values cost a seventh of what excelize's SetRow does with them, and
	// SetRow on values made on the other core took longer by more than
	// that (BENCHMARKS.md).
	n := 0
	clock := wallClock{loc: b.loc}
	row := make([]any, 0, len(OperationColumns))
	err = src(func(op *domain.Operation) error {
		if !f.Match(op) {
			return nil
		}
		n++
		if progress != nil && n%10000 == 0 {
			progress(n)
		}
		row = b.operationValues(row[:0], op, &clock)
		if cb := o.Chargebacks.of(op); cb != "" {
			row = append(row, cb)
		} else {
			row = append(row, nil)
		}
		return s.write(row)
	})
	if err != nil {
		b.f.Close()
		return n, err
	}
	if err := s.finish(); err != nil {
		b.f.Close()
		return n, err
	}
	return n, b.writeTo(w)
}

// operationValues appends op's cells to row. Account numbers and messages
// are masked again, as in registerRow.format.
func (b *book) operationValues(row []any, op *domain.Operation, clock *wallClock) []any {
	date := func(t time.Time) any { // dateCell, with the zone's offset looked up once per period
		if t.IsZero() {
			return nil
		}
		return excelize.Cell{StyleID: b.date, Value: clock.wall(t)}
	}
	return append(row,
		op.ProjectID, op.PaymentID, op.PaymentType, op.PaymentStatus, b.idText(op.OperationID), op.OperationType,
		op.OperationStatus, op.PaymentMethod, b.money(op.SumInitial), op.SumInitial.Currency, b.money(op.SumConverted),
		op.SumConverted.Currency, domain.MaskAccount(op.AccountNumber), op.CustomerID, optionalNum(op.ProviderID), op.ProviderPaymentID,
		op.Code, domain.MaskCardNumbers(op.Message), date(op.CreatedAt), date(op.CompletedAt), b.money(op.Fee), op.Fee.Currency)
}

// ReconciliationXLSX writes the reconciled items as one sheet.
func ReconciliationXLSX(w io.Writer, items Items, f ItemFilter, o XLSXOptions) (int, error) {
	b, err := newBook(o)
	if err != nil {
		return 0, err
	}
	widths := map[string]float64{"result": 20, "matched_by": 20, "payment_id": 22, "operation_id": 20, "provider_payment_id": 22,
		"created_at": 20, "reason": 80, "merchant_amount": 16, "provider_amount": 16}
	cols := make([]column, len(ReconciliationColumns))
	for i, c := range ReconciliationColumns {
		cols[i] = column{c, max(widths[c], float64(len(c))+4)}
	}
	s, err := b.sheet("Reconciliation", cols)
	if err != nil {
		return 0, err
	}
	n := 0
	err = items(func(it *domain.Item) error {
		if !f.Match(it) {
			return nil
		}
		n++
		var mAmount, pAmount any
		var mCur, mStatus, pCur, pStatus string
		if r := it.Merchant; r != nil {
			mAmount, mCur, mStatus = b.money(r.Amount), r.Amount.Currency, r.Status
		}
		if op := it.Provider; op != nil {
			pAmount, pCur, pStatus = b.money(op.SumInitial), op.SumInitial.Currency, op.OperationStatus
		}
		return s.write([]any{it.Result, it.MatchedBy, it.PaymentID, it.Type, mAmount, mCur, mStatus, pAmount, pCur, pStatus,
			b.idText(it.OperationID), it.ProviderPaymentID, optionalNum(it.ProjectID), domain.MaskCardNumbers(it.Method), b.dateCell(it.CreatedAt), it.Reason})
	})
	if err != nil {
		b.f.Close()
		return n, err
	}
	if err := s.finish(); err != nil {
		b.f.Close()
		return n, err
	}
	return n, b.writeTo(w)
}
