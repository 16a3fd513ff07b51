package records

import (
	"fmt"
	"math/big"
	"path/filepath"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

func readXLSX(path string, o Options) (*Result, error) {
	if _, err := Check(path, o.MaxBytes); err != nil {
		return nil, err
	}
	var opts []excelize.Options
	if o.MaxUnzippedBytes > 0 {
		if err := checkUnzipped(path, o.MaxUnzippedBytes); err != nil {
			return nil, err
		}
		// excelize's own check, as it reads each part (a zip's directory
		// is what it reads too).
		opts = append(opts, excelize.Options{UnzipSizeLimit: o.MaxUnzippedBytes, UnzipXMLSizeLimit: min(o.MaxUnzippedBytes, excelize.StreamChunkSize)})
	}
	f, err := excelize.OpenFile(path, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable XLSX file: %w", path, err)
	}
	defer f.Close()
	sheet := o.Sheet
	if sheet == "" {
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, fmt.Errorf("%s: the workbook has no sheet", path)
		}
		sheet = sheets[0]
	} else if idx, _ := f.GetSheetIndex(sheet); idx < 0 {
		return nil, fmt.Errorf("%s: no sheet %q (it has %v)", path, sheet, f.GetSheetList())
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("%s: sheet %q: %w", path, sheet, err)
	}
	defer rows.Close()
	res := &Result{Format: "xlsx"}
	ps := &problems{max: o.MaxErrors}
	fail := func() error { return &FileError{Path: path, Sheet: sheet, Problems: ps.list, More: ps.more} }
	base := filepath.Base(path)
	var h header
	started := false
	for n := 1; rows.Next(); n++ {
		// Raw values: numbers as written, dates as serial numbers, not as
		// the sheet happens to format them.
		row, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fmt.Errorf("%s: sheet %q row %d: %w", path, sheet, n, err)
		}
		if isEmpty(row) {
			continue
		}
		if !started {
			started = true
			h = mapHeader(row, &o, ps)
			if ps.any() {
				return nil, fail()
			}
			continue
		}
		res.Lines++
		rec, ok := parseRow(row, n, &h, &o, fmt.Sprintf("%s row %d", base, n), true, ps)
		if ok {
			res.Records = append(res.Records, rec)
		}
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("%s: sheet %q: %w", path, sheet, err)
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
	if !ok || r.Sign() <= 0 {
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
