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
}

// Source calls its argument once per operation, in order, and returns the
// first error.
type Source func(fn func(op *domain.Operation) error) error

// OperationsCSV writes the payment register: a header, then one row per
// operation of src that passes f. It returns the number of rows written.
func OperationsCSV(w io.Writer, src Source, f Filter, o CSVOptions) (int, error) {
	if o.Location == nil {
		o.Location = time.UTC
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if o.BOM {
		bw.WriteString("\uFEFF")
	}
	cw := csv.NewWriter(bw)
	if o.Delimiter != 0 {
		cw.Comma = o.Delimiter
	}
	if err := cw.Write(OperationColumns); err != nil {
		return 0, err
	}
	n := 0
	row := make([]string, 0, len(OperationColumns))
	err := src(func(op *domain.Operation) error {
		if !f.Match(op) {
			return nil
		}
		n++
		return cw.Write(appendOperationRow(row[:0], op, o.Location))
	})
	if err != nil {
		return n, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}
