package export

import (
	"bufio"
	"encoding/csv"
	"io"
	"time"

	"reconciled/internal/domain"
)

// CSVOptions shape a CSV file.
type CSVOptions struct {
	Delimiter rune           // default ','
	BOM       bool           // start with a UTF-8 byte order mark, for Excel
	Location  *time.Location // zone of the times; default UTC
	// Chargebacks fill the register's chargeback column.
	Chargebacks Chargebacks
}

func (o *CSVOptions) defaults() {
	if o.Location == nil {
		o.Location = time.UTC
	}
}

// Source calls its argument once per operation, in order, and returns the
// first error. OperationsCSV calls it in a goroutine of its own
// (pipelined), which has ended when it returns; a Source returns the error
// its argument returned when the writer gives up.
type Source func(fn func(op *domain.Operation) error) error

// OperationsCSV writes the payment register: a header, then one row per
// operation of src that passes f. It returns the number of rows written.
// src runs in a goroutine of its own, which also formats the rows, while
// this one writes them (pipelined): it has returned when OperationsCSV
// does.
func OperationsCSV(w io.Writer, src Source, f Filter, o CSVOptions) (int, error) {
	o.defaults()
	row := newRegisterRow(o.Location)
	row.chargebacks = o.Chargebacks
	return pipelinedCSV(w, OperationColumns, o, src, func(cells []string, op *domain.Operation) ([]string, bool) {
		if !f.Match(op) {
			return cells, false
		}
		return append(cells, row.format(op)...), true
	})
}

// pipelinedCSV writes header and a row for each value each yields that
// row accepts (row appends its cells to the slice it is given). each, and
// row, run in a goroutine of their own while this one writes (pipelined).
// It returns the rows written.
func pipelinedCSV[T any](w io.Writer, header []string, o CSVOptions, each func(fn func(*T) error) error, row func(cells []string, v *T) ([]string, bool)) (int, error) {
	n := 0
	err := writeCSV(w, header, o, func(emit func([]string) error) error {
		return pipelined(func(slot func() (*[]string, error)) error {
			var spare []string
			return each(func(v *T) error {
				cells, ok := row(spare[:0], v)
				if !ok {
					spare = cells
					return nil
				}
				dst, err := slot()
				if err != nil {
					return err
				}
				*dst, spare = cells, *dst
				return nil
			})
		}, func(cells *[]string) error {
			n++
			return emit(*cells)
		})
	})
	return n, err
}

// writeCSV writes a header and the rows rows emits, RFC 4180, with o's
// delimiter and byte order mark.
func writeCSV(w io.Writer, header []string, o CSVOptions, rows func(emit func([]string) error) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if o.BOM {
		bw.WriteString("\uFEFF")
	}
	cw := csv.NewWriter(bw)
	if o.Delimiter != 0 {
		cw.Comma = o.Delimiter
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := rows(cw.Write); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
