package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCSVRowsAreEncodingCSVs: appendCSVRow writes what encoding/csv's
// Writer writes, byte for byte, for fields of delimiters, quotes, CR, LF,
// leading spaces of every kind, \., empty ones and non-ASCII text, with
// ASCII and non-ASCII delimiters.
func TestCSVRowsAreEncodingCSVs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"", "a", "12.50", ",", ";", "\t", "|", "¦", "\"", "\"\"", "\r", "\n", "\r\n", " ", "\u00a0", "\u0085", "\u2003", "\v", "\\.", "\\", ".", "Київ", "=1+2", "\xff"}
	for _, comma := range []rune{',', ';', '\t', '|', '¦'} {
		for range 3000 {
			cells := make([]string, r.IntN(5))
			for i := range cells {
				var b strings.Builder
				for range r.IntN(4) {
					b.WriteString(pieces[r.IntN(len(pieces))])
				}
				cells[i] = b.String()
			}
			var want bytes.Buffer
			cw := csv.NewWriter(&want)
			cw.Comma = comma
			if err := cw.Write(cells); err != nil {
				t.Fatal(err)
			}
			cw.Flush()
			if got := appendCSVRow(nil, cells, comma); string(got) != want.String() {
				t.Fatalf("delimiter %q, cells %q:\n got %q\nwant %q", comma, cells, got, want.String())
			}
		}
	}
	for _, d := range []rune{'"', '\r', '\n', 0xFFFD, -1} {
		if validDelim(d) {
			t.Errorf("%q taken as a delimiter", d)
		}
	}
}

// failAfter fails every write after the first n bytes.
type failAfter struct {
	n   int
	buf bytes.Buffer
}

var errFull = errors.New("no space left on device")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.buf.Len()+len(p) > f.n {
		return 0, errFull
	}
	return f.buf.Write(p)
}

// TestACSVWriteErrorStopsTheRows: the writer's error stops the rows
// (emit returns it) and is what writeCSV returns; what was written before
// is whole buffers, in order; a file that takes everything gets every row.
func TestACSVWriteErrorStopsTheRows(t *testing.T) {
	row := []string{"matched", "p-1", strings.Repeat("x", 200)}
	rows := func(n int, emitted *int) func(emit func([]string) error) error {
		return func(emit func([]string) error) error {
			for range n {
				if err := emit(row); err != nil {
					return err
				}
				*emitted++
			}
			return nil
		}
	}
	f := &failAfter{n: 3 * csvBuffer}
	emitted := 0
	err := writeCSV(f, []string{"result"}, CSVOptions{}, rows(100_000, &emitted))
	if !errors.Is(err, errFull) {
		t.Fatalf("writeCSV = %v, want the writer's error", err)
	}
	if emitted >= 100_000 || emitted < 3*csvBuffer/len(appendCSVRow(nil, row, ',')) {
		t.Errorf("%d rows emitted before the error stopped them", emitted)
	}
	ok := &failAfter{n: 1 << 40}
	emitted = 0
	if err := writeCSV(ok, []string{"result"}, CSVOptions{BOM: true, Delimiter: ';'}, rows(10_000, &emitted)); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFFresult\n" + strings.Repeat(string(appendCSVRow(nil, row, ';')), 10_000)
	if ok.buf.String() != want {
		t.Errorf("the file: %d bytes, want %d", ok.buf.Len(), len(want))
	}
	if err := writeCSV(ok, nil, CSVOptions{Delimiter: '"'}, rows(1, &emitted)); err == nil {
		t.Error("a quote taken as the delimiter")
	}
}
