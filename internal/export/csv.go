package export

import (
	"errors"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

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

// writeCSV writes a header and the rows rows emits, RFC 4180 as
// encoding/csv writes it (appendCSVRow), with o's delimiter and byte order
// mark. Rows are encoded into a buffer that a goroutine of its own writes
// to w while the next one fills: a million rows are 200 MB, and writing
// them was 0.7 s of the export's one writing core (BENCHMARKS.md, issue 13).
func writeCSV(w io.Writer, header []string, o CSVOptions, rows func(emit func([]string) error) error) error {
	comma := ','
	if o.Delimiter != 0 {
		comma = o.Delimiter
	}
	if !validDelim(comma) {
		return errInvalidDelim
	}
	aw := newAsyncWriter(w)
	buf := aw.spare()
	if o.BOM {
		buf = append(buf, "\uFEFF"...)
	}
	buf = appendCSVRow(buf, header, comma)
	err := rows(func(cells []string) error {
		buf = appendCSVRow(buf, cells, comma)
		if len(buf) < csvBuffer {
			return nil
		}
		var err error
		buf, err = aw.send(buf)
		return err
	})
	if err == nil {
		_, err = aw.send(buf)
	}
	if err2 := aw.close(); err == nil {
		err = err2
	}
	return err
}

// csvBuffer is how many bytes of rows are handed to the writing goroutine
// at a time.
const csvBuffer = 256 << 10

// errInvalidDelim is encoding/csv's error for a delimiter it refuses.
var errInvalidDelim = errors.New("csv: invalid field or comment delimiter")

// validDelim is encoding/csv's test of a delimiter.
func validDelim(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}

// appendCSVRow appends one record as encoding/csv's Writer.Write writes
// it (UseCRLF off), byte for byte: a field is quoted when it holds the
// delimiter, a quote, CR or LF, begins with a space, or is \. (the
// TestCSVRowsAreEncodingCSVs compares them).
func appendCSVRow(b []byte, cells []string, comma rune) []byte {
	for n, field := range cells {
		if n > 0 {
			b = utf8.AppendRune(b, comma)
		}
		if !fieldNeedsQuotes(field, comma) {
			b = append(b, field...)
			continue
		}
		b = append(b, '"')
		for len(field) > 0 {
			i := strings.IndexByte(field, '"')
			if i < 0 {
				i = len(field)
			}
			b = append(b, field[:i]...)
			field = field[i:]
			if len(field) > 0 {
				b = append(b, '"', '"')
				field = field[1:]
			}
		}
		b = append(b, '"')
	}
	return append(b, '\n')
}

// quoted are the bytes that quote a field whatever the delimiter: one
// table load a byte instead of three comparisons (a million rows' fields
// are 200 MB).
var quoted = [256]bool{'\n': true, '\r': true, '"': true}

// fieldNeedsQuotes is encoding/csv's.
func fieldNeedsQuotes(field string, comma rune) bool {
	if field == "" {
		return false
	}
	if field == `\.` {
		return true
	}
	if comma < utf8.RuneSelf {
		d := byte(comma)
		for i := 0; i < len(field); i++ {
			if c := field[i]; quoted[c] || c == d {
				return true
			}
		}
	} else if strings.ContainsRune(field, comma) || strings.ContainsAny(field, "\"\r\n") {
		return true
	}
	if c := field[0]; c < utf8.RuneSelf {
		return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
	}
	r1, _ := utf8.DecodeRuneInString(field)
	return unicode.IsSpace(r1)
}

// asyncWriter writes the buffers it is sent to w in a goroutine of its
// own, in order; after a write fails it writes no more and send and close
// return that error.
type asyncWriter struct {
	full, free chan []byte
	done       chan struct{}
	mu         sync.Mutex
	err        error
}

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{full: make(chan []byte, 1), free: make(chan []byte, 2), done: make(chan struct{})}
	a.free <- make([]byte, 0, csvBuffer+csvBuffer/4)
	a.free <- make([]byte, 0, csvBuffer+csvBuffer/4)
	go func() {
		defer close(a.done)
		for b := range a.full {
			if a.failed() == nil {
				if _, err := w.Write(b); err != nil {
					a.mu.Lock()
					a.err = err
					a.mu.Unlock()
				}
			}
			a.free <- b[:0]
		}
	}()
	return a
}

func (a *asyncWriter) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// spare is an empty buffer to fill.
func (a *asyncWriter) spare() []byte { return <-a.free }

// send hands b over to be written and returns an empty buffer to fill.
func (a *asyncWriter) send(b []byte) ([]byte, error) {
	if err := a.failed(); err != nil {
		return b[:0], err
	}
	if len(b) > 0 {
		a.full <- b
		b = <-a.free
	}
	return b, a.failed()
}

// close waits for every buffer sent to be written.
func (a *asyncWriter) close() error {
	close(a.full)
	<-a.done
	return a.failed()
}
