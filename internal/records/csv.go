package records

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"unicode/utf8"

	"github.com/gocarina/gocsv"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"reconciled/internal/domain"
)

// csvRow is one data line as gocsv fills it: every canonical column as
// text, and the line number our decoder adds.
type csvRow struct {
	PaymentID         string `csv:"payment_id"`
	Type              string `csv:"type"`
	Amount            string `csv:"amount"`
	Currency          string `csv:"currency"`
	Status            string `csv:"status"`
	CreatedAt         string `csv:"created_at"`
	ProviderPaymentID string `csv:"provider_payment_id"`
	OperationID       string `csv:"operation_id"`
	ProjectID         string `csv:"project_id"`
	CustomerID        string `csv:"customer_id"`
	Method            string `csv:"method"`
	Line              int    `csv:"__line"`
}

func (r *csvRow) cells() []string {
	return []string{r.PaymentID, r.Type, r.Amount, r.Currency, r.Status, r.CreatedAt,
		r.ProviderPaymentID, r.OperationID, r.ProjectID, r.CustomerID, r.Method}
}

// canonicalHeader maps Columns to their positions in csvRow.cells.
var canonicalHeader = func() header {
	var h header
	for i := range h {
		h[i] = i
	}
	return h
}()

func readCSV(path string, o Options) (*Result, error) {
	data, err := readAll(path, o.MaxBytes)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("%s: %w", domain.CleanName(path), pe.Err)
	}
	if err != nil {
		return nil, err
	}
	res := &Result{Format: "csv"}
	data, res.Encoding, err = decodeText(data)
	if err != nil {
		return nil, &FileError{Path: path, Problems: []Problem{{Line: 1, Msg: err.Error()}}}
	}
	sep, err := detectSeparator(data)
	if err != nil {
		return nil, &FileError{Path: path, Problems: []Problem{{Line: 1, Msg: err.Error()}}}
	}
	res.Separator = sep
	// The decoder runs in gocsv's goroutine: it keeps its own problems
	// (the file's syntax), merged with the rows' after it is done.
	ps := &problems{max: o.MaxErrors}
	dec := &lineDecoder{r: csv.NewReader(bytes.NewReader(data)), o: &o, ps: &problems{max: o.MaxErrors}}
	dec.r.Comma = sep
	dec.r.FieldsPerRecord = -1
	dec.r.ReuseRecord = true
	base := domain.CleanName(filepath.Base(path))
	res.Records = make([]domain.Record, 0, bytes.Count(data, []byte{'\n'}))
	// gocsv fills rows in its goroutine while this one checks them.
	rows := make(chan csvRow, 1024)
	done := make(chan error, 1)
	go func() { done <- gocsv.UnmarshalDecoderToChan(dec, rows) }()
	header := canonicalHeader
	for row := range rows {
		res.Lines++
		rec, ok := parseRow(row.cells(), row.Line, &header, &o, base+":"+strconv.Itoa(row.Line), false, ps)
		if ok {
			res.Records = append(res.Records, rec)
		}
	}
	err = <-done
	ps.merge(dec.ps)
	if err != nil && !errors.Is(err, errHeader) {
		return nil, fmt.Errorf("%s: %w", domain.CleanName(path), err)
	}
	if ps.any() {
		return nil, &FileError{Path: path, Problems: ps.list, More: ps.more}
	}
	if res.Lines == 0 {
		return nil, &FileError{Path: path, Problems: []Problem{{Line: 2, Msg: "no data lines after the header"}}}
	}
	return res, nil
}

// decodeText strips a UTF-8 byte order mark, converts UTF-16 with a byte
// order mark (Excel's "Unicode text") to UTF-8, or Windows-1251 when the
// bytes are not UTF-8. A NUL is in no text file of books: the likeliest
// is UTF-16 without its mark, which is refused rather than guessed at.
func decodeText(data []byte) ([]byte, string, error) {
	var enc string
	switch {
	case bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")):
		data, enc = data[3:], "utf-8 with BOM"
	case bytes.HasPrefix(data, []byte("\xFF\xFE")), bytes.HasPrefix(data, []byte("\xFE\xFF")):
		enc = "utf-16le with BOM"
		if data[0] == 0xFE {
			enc = "utf-16be with BOM"
		}
		// ExpectBOM: the mark says the byte order and is dropped.
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil { // invalid sequences become U+FFFD; unreachable
			return nil, enc, fmt.Errorf("not readable as %s: %v", enc, err)
		}
		data = out
	case utf8.Valid(data):
		enc = "utf-8"
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line := 1 + bytes.Count(data[:i], []byte{'\n'})
		if enc == "" || enc == "utf-8" {
			return nil, enc, fmt.Errorf("a NUL byte on line %d: the file looks like UTF-16 without a byte order mark; "+
				"save it as \"CSV UTF-8\" or as \"Unicode text\" (UTF-16 with the mark)", line)
		}
		return nil, enc, fmt.Errorf("a NUL character on line %d: not a text file of %s", line, enc)
	}
	if enc != "" {
		return data, enc, nil
	}
	out, err := charmap.Windows1251.NewDecoder().Bytes(data)
	if err != nil { // every byte is defined in Windows-1251; unreachable
		return data, "unknown", nil
	}
	return out, "windows-1251", nil
}

// detectSeparator picks ',', ';' or tab: whichever the header line has
// most of, outside quotes.
func detectSeparator(data []byte) (rune, error) {
	line := data
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		line = data[:i]
	}
	counts := map[rune]int{}
	quoted := false
	for _, r := range string(line) {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ',' || r == ';' || r == '\t'):
			counts[r]++
		}
	}
	best, n := rune(0), 0
	for _, r := range []rune{';', '\t', ','} { // on a tie, ';' then tab then ','
		if counts[r] > n {
			best, n = r, counts[r]
		}
	}
	if n == 0 {
		return 0, errors.New("the header has no ',', ';' or tab between column names")
	}
	return best, nil
}

var errHeader = errors.New("bad header")

// lineDecoder feeds gocsv: it reads rows with encoding/csv, renames the
// header's columns to the canonical names ([records.columns]), and adds
// each row's line number as the column __line.
type lineDecoder struct {
	r       *csv.Reader
	o       *Options
	ps      *problems
	started bool
	header  header
	width   int
	out     []string
}

func (d *lineDecoder) GetCSVRow() ([]string, error) {
	for {
		row, err := d.r.Read()
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return nil, io.EOF
		case errors.As(err, &pe):
			d.ps.add(pe.StartLine, "", "%v", pe.Err)
			if !d.started {
				return nil, errHeader
			}
			continue
		case err != nil:
			return nil, err
		}
		line, _ := d.r.FieldPos(0)
		if !d.started {
			d.started = true
			d.header = mapHeader(row, d.o, d.ps)
			d.width = len(row)
			if d.ps.any() {
				return nil, errHeader
			}
			return append(slicesClone(Columns), "__line"), nil
		}
		if len(row) == 1 && row[0] == "" {
			continue // an empty line
		}
		if len(row) != d.width {
			d.ps.add(line, "", "%d fields, the header has %d", len(row), d.width)
			continue
		}
		d.out = d.out[:0]
		for c := range Columns {
			d.out = append(d.out, d.header.cell(row, c))
		}
		return append(d.out, strconv.Itoa(line)), nil
	}
}

// GetCSVRows is required by gocsv's interface; the callback API does not
// use it.
func (d *lineDecoder) GetCSVRows() ([][]string, error) {
	var rows [][]string
	for {
		row, err := d.GetCSVRow()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, slicesClone(row))
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
