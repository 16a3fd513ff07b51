package records

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"reconciled/internal/domain"
)

func readCSV(ctx context.Context, path string, o Options, s sink) (*Result, error) {
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
		line := 1
		var le *lineError
		if errors.As(err, &le) {
			line = le.line
		}
		return nil, &FileError{Path: path, Problems: []Problem{{Line: line, Msg: err.Error()}}}
	}
	crLines(data)
	sep, err := detectSeparator(data)
	if err != nil {
		return nil, &FileError{Path: path, Problems: []Problem{{Line: 1, Msg: err.Error()}}}
	}
	res.Separator = sep
	ps := &problems{max: o.MaxErrors}
	dec := &lineDecoder{r: csv.NewReader(bytes.NewReader(data)), o: &o, text: data, at: 1}
	dec.r.Comma = sep
	dec.r.FieldsPerRecord = -1
	dec.r.ReuseRecord = true
	if err := dec.readHeader(ps); err != nil {
		return nil, fmt.Errorf("%s: %w", domain.CleanName(path), err)
	}
	if ps.any() {
		return nil, &FileError{Path: path, Problems: ps.list, More: ps.more}
	}
	base := domain.CleanName(filepath.Base(path))
	p := &pipeline{o: &o, sink: s, ps: ps, origin: func(b []byte, line int) []byte {
		return strconv.AppendInt(append(append(b, base...), ':'), int64(line), 10)
	}}
	if err := p.run(ctx, dec.stream); err != nil {
		return nil, fmt.Errorf("%s: %w", domain.CleanName(path), err)
	}
	if res.Lines = p.lines; ps.any() {
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
		line := lineOf(data, i)
		if enc == "" || enc == "utf-8" {
			return nil, enc, &lineError{line, "a NUL byte: the file looks like UTF-16 without a byte order mark; " +
				"save it as \"CSV UTF-8\" or as \"Unicode text\" (UTF-16 with the mark)"}
		}
		return nil, enc, &lineError{line, "a NUL character: not a text file of " + enc}
	}
	if enc != "" {
		return data, enc, nil
	}
	if i, ok := damagedUTF8(data); ok {
		return nil, "utf-8", &lineError{lineOf(data, i), fmt.Sprintf("a byte that is not UTF-8 (0x%02X) in a file of UTF-8 text: "+
			"it is damaged or of two encodings; save it again as \"CSV UTF-8\"", data[i])}
	}
	out, err := charmap.Windows1251.NewDecoder().Bytes(data)
	if err != nil { // every byte is defined in Windows-1251; unreachable
		return data, "unknown", nil
	}
	return out, "windows-1251", nil
}

// lineOf is the line of data's byte i.
func lineOf(data []byte, i int) int {
	if bytes.IndexByte(data, '\n') < 0 { // CR alone ends its lines (crLines)
		return 1 + bytes.Count(data[:i], []byte{'\r'})
	}
	return 1 + bytes.Count(data[:i], []byte{'\n'})
}

// damagedUTF8 says whether data, which is not valid UTF-8, is UTF-8 with
// some bytes that are not (damage, or a line pasted from another file),
// and where the first is: when its UTF-8 letters outnumber those bytes.
// Windows-1251 text is almost all bytes that are not UTF-8 (a capital
// followed by "ё" or a quote mark may make a UTF-8 letter by chance);
// read as Windows-1251, damaged UTF-8 was stored as mojibake.
func damagedUTF8(data []byte) (first int, damaged bool) {
	letters, bad := 0, 0
	first = -1
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			if bad++; first < 0 {
				first = i
			}
		} else {
			letters++
		}
		i += n
	}
	return first, letters > bad
}

// lineError is a problem of a file's text on one line.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

// crLines makes the line ends of a file whose lines end in a carriage
// return alone (old Mac OS; Excel for Mac's "CSV (Macintosh)") line feeds,
// in place: encoding/csv ends lines only at LF and CRLF, and read such a
// file as one line. A file with any LF is left alone (a CR in its fields
// is data). A CR in a quoted field becomes a LF, which is what
// encoding/csv makes of a CRLF there.
func crLines(data []byte) {
	if bytes.IndexByte(data, '\n') >= 0 {
		return
	}
	for rest := data; ; {
		i := bytes.IndexByte(rest, '\r')
		if i < 0 {
			return
		}
		rest[i] = '\n'
		rest = rest[i+1:]
	}
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

// lineDecoder reads rows with encoding/csv, renames the header's columns
// to the canonical names ([records.columns]), and numbers each row by the
// line it starts on, so that every problem names its line even when quoted
// fields span lines.
type lineDecoder struct {
	r      *csv.Reader
	o      *Options
	header header
	width  int

	// The text, and where its line at begins: a syntax problem names the
	// character where encoding/csv stopped, counted on its line.
	text []byte
	at   int
	off  int
}

// syntax is a syntax problem's message: encoding/csv's words, and where
// on which line it stopped (a field that spans lines stops on a later one
// than the line the problem is on), as a character of that line
// (encoding/csv counts bytes of the text, which is UTF-8 by now).
func (d *lineDecoder) syntax(pe *csv.ParseError) string {
	for d.at < pe.Line && d.off < len(d.text) { // problems come in line order
		i := bytes.IndexByte(d.text[d.off:], '\n')
		if i < 0 {
			d.off = len(d.text)
			break
		}
		d.off += i + 1
		d.at++
	}
	where := fmt.Sprintf("character %d", pe.Column)
	if d.at == pe.Line {
		line := d.text[d.off:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		where = fmt.Sprintf("character %d", utf8.RuneCount(line[:min(max(pe.Column-1, 0), len(line))])+1)
	}
	if pe.Line != pe.StartLine {
		where = fmt.Sprintf("line %d, %s", pe.Line, where)
	}
	return fmt.Sprintf("%v (%s)", pe.Err, where)
}

// readHeader reads the header line into d.header; its problems go to ps.
// The error is one of reading, not of the file's text.
func (d *lineDecoder) readHeader(ps *problems) error {
	row, err := d.r.Read()
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		ps.add(pe.StartLine, "", "%s", d.syntax(pe))
		return nil
	case err == io.EOF:
		return nil // no lines: "no data lines after the header"
	case err != nil:
		return err
	}
	d.header = mapHeader(row, d.o, ps)
	d.width = len(row)
	return nil
}

// stream hands the data lines to f, in file order.
func (d *lineDecoder) stream(f *feeder) error {
	for {
		cells, err := d.r.Read()
		var pe *csv.ParseError
		switch {
		case err == nil:
			if len(cells) == 1 && cells[0] == "" { // an empty line
				if !f.skipped() {
					return nil
				}
				continue
			}
			line, _ := d.r.FieldPos(0)
			r := f.row()
			if r == nil {
				return nil
			}
			r.n = line
			if len(cells) != d.width {
				r.msg = fmt.Sprintf("%d fields, the header has %d", len(cells), d.width)
				continue
			}
			r.fill(cells, &d.header)
		case err == io.EOF:
			return nil
		case errors.As(err, &pe):
			r := f.row()
			if r == nil {
				return nil
			}
			r.n, r.msg = pe.StartLine, d.syntax(pe)
		default:
			return err
		}
	}
}
