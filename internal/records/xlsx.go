package records

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"path/filepath"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
	"reconciled/internal/scratch"
)

func readXLSX(ctx context.Context, path string, o Options, s sink) (*Result, error) {
	shown := domain.CleanName(path)
	if _, err := Check(path, o.MaxBytes); err != nil {
		return nil, err
	}
	// A large sheet is unzipped to a temporary file: into the process's
	// scratch folder, which the next process removes if this one is killed
	// (excelize's default folder if there is none).
	tmp, _ := scratch.Dir()
	opts := excelize.Options{TmpDir: tmp}
	if err := checkZip(path, o.MaxUnzippedBytes); err != nil {
		return nil, err
	}
	if o.MaxUnzippedBytes > 0 {
		// excelize's own check, as it reads each part (a zip's directory
		// is what it reads too).
		opts.UnzipSizeLimit = o.MaxUnzippedBytes
		opts.UnzipXMLSizeLimit = min(o.MaxUnzippedBytes, excelize.StreamChunkSize)
	}
	f, err := excelize.OpenFile(path, opts)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("%s: %w", shown, pe.Err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable XLSX file: %w", shown, err)
	}
	defer f.Close()
	sheet := o.Sheet
	if sheet == "" {
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, fmt.Errorf("%s: the workbook has no sheet", shown)
		}
		sheet = sheets[0]
	} else if idx, _ := f.GetSheetIndex(sheet); idx < 0 {
		return nil, fmt.Errorf("%s: no sheet %q (it has %q)", shown, sheet, f.GetSheetList())
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("%s: sheet %q: %w", shown, sheet, err)
	}
	defer rows.Close()
	res := &Result{Format: "xlsx"}
	ps := &problems{max: o.MaxErrors}
	fail := func() error { return &FileError{Path: path, Sheet: sheet, Problems: ps.list, More: ps.more} }
	base := domain.CleanName(filepath.Base(path))
	// Raw values: numbers as written, dates as serial numbers, not as the
	// sheet happens to format them.
	raw := excelize.Options{RawCellValue: true}
	var h header
	n, started := 0, false
	for !started && rows.Next() {
		n++
		row, err := rows.Columns(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: sheet %q row %d: %w", shown, sheet, n, err)
		}
		if isEmpty(row) {
			if n%batchLines == 0 && ctx.Err() != nil { // empty rows before the header
				return nil, fmt.Errorf("%s: sheet %q: %w", shown, sheet, ctx.Err())
			}
			continue
		}
		started = true
		if h = mapHeader(row, &o, ps); ps.any() {
			return nil, fail()
		}
	}
	p := &pipeline{o: &o, sink: s, ps: ps, numeric: true, readLater: true, origin: func(b []byte, line int) []byte {
		return strconv.AppendInt(append(append(b, base...), " row "...), int64(line), 10)
	}}
	err = p.run(ctx, func(fd *feeder) error {
		for started && rows.Next() {
			n++
			row, err := rows.Columns(raw)
			if err != nil {
				return fmt.Errorf("row %d: %w", n, err)
			}
			if isEmpty(row) {
				if !fd.skipped() {
					return nil
				}
				continue
			}
			r := fd.row()
			if r == nil {
				return nil
			}
			r.n = n
			r.fill(row, &h)
		}
		return rows.Error()
	})
	if err != nil {
		return nil, fmt.Errorf("%s: sheet %q: %w", shown, sheet, err)
	}
	res.Lines = p.lines
	if len(p.later) > 0 {
		more := &problems{max: o.MaxErrors}
		b := s.newBatch()
		if err := readMaybeBoolean(ctx, f, sheet, p.later, &h, &o, base, b, more); err != nil {
			return nil, fmt.Errorf("%s: sheet %q: %w", shown, sheet, err)
		}
		if ps.merge(more); !ps.any() {
			s.take(b)
		}
	}
	if !started {
		ps.add(1, "", "the sheet is empty")
	} else if res.Lines == 0 {
		ps.add(2, "", "no data rows after the header")
	}
	if ps.any() {
		return nil, fail()
	}
	return res, nil
}

// A boolean cell's raw value is "1" or "0", which would pass for an amount,
// an id or a date (serial 1 is 1899-12-31), and raw values are all a
// streamed row gives. Rows with a "1" or "0" in a column we read are read
// a second time, formatted, where a boolean shows as TRUE or FALSE: a
// second pass over the sheet for the few files that need one, instead of
// loading the whole sheet to ask each cell's type. Their problems are
// merged into the first pass's by row.
func maybeBoolean(row []string, h *header) bool {
	for c := range Columns {
		if v := h.cell(row, c); v == "1" || v == "0" {
			return true
		}
	}
	return false
}

// nouns name what each canonical column holds, for "not a date".
var nouns = [numColumns]string{"a payment id", "a type", "an amount", "a currency", "a status", "a date",
	"a provider payment id", "an operation id", "a project id", "a customer id", "a method"}

// readMaybeBoolean reads the rows of later (in row order, cells by the
// canonical columns) again, formatted: a boolean is a problem, the others
// are records, put into b. A done ctx stops it with its error.
func readMaybeBoolean(ctx context.Context, f *excelize.File, sheet string, later []row, h *header, o *Options, base string, b Batch, ps *problems) error {
	rows, err := f.Rows(sheet)
	if err != nil {
		return err
	}
	defer rows.Close()
	next := 0
	var rec domain.Record
	for n := 1; next < len(later) && rows.Next(); n++ {
		p := &later[next]
		if n != p.n {
			continue
		}
		if next++; next%batchLines == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		shown, err := rows.Columns()
		if err != nil {
			return fmt.Errorf("row %d: %w", n, err)
		}
		boolean := false
		for c := range Columns {
			if raw, text := canonicalHeader.cell(p.cells[:], c), h.cell(shown, c); (raw == "1" || raw == "0") && (text == "TRUE" || text == "FALSE") {
				ps.add(n, Columns[c], "%s is a boolean (yes/no) cell, not %s", text, nouns[c])
				boolean = true
			}
		}
		if boolean {
			continue
		}
		if parseRow(&rec, p.cells[:], n, &canonicalHeader, o, fmt.Sprintf("%s row %d", base, n), true, ps) {
			b.Add(n, &rec)
		}
	}
	if err := rows.Error(); err != nil {
		return err
	}
	if next < len(later) { // the sheet changed under us: unreachable
		return fmt.Errorf("row %d not found again", later[next].n)
	}
	return nil
}

func isEmpty(row []string) bool {
	for _, c := range row {
		if c != "" {
			return false
		}
	}
	return true
}

// excelSerialTime reads a date cell's raw value: days since 1899-12-30,
// the fraction being the time of day, in loc. The fraction is turned into
// whole seconds with exact arithmetic.
func excelSerialTime(s string, loc *time.Location) (time.Time, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Cmp(big.NewRat(61, 1)) < 0 {
		// Before 1900-03-01 serials are off by a day (Excel's 1900 leap
		// year), and no merchant's book is that old: 1 (1899-12-31) is a
		// number or a yes/no cell, not a date.
		return time.Time{}, false
	}
	secs := new(big.Rat).Mul(r, big.NewRat(86400, 1))
	whole, _ := strconv.ParseInt(secs.FloatString(0), 10, 64)
	if whole > 2958465*86400 { // after 9999-12-31: not a date
		return time.Time{}, false
	}
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	t := epoch.Add(time.Duration(whole) * time.Second)
	// The serial number is a wall-clock time: read it in loc.
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc).UTC(), true
}
