package export

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// sheetLike is text that compresses as a sheet does: rows alike, values
// not.
func sheetLike(n int, rng *rand.Rand) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d" t="inlineStr"><is><t>order-%x</t></is></c></row>`, i, i, rng.IntN(1000), i, rng.Uint32())
	}
	return b.Bytes()[:n]
}

func compressParallel(t *testing.T, data []byte, rng *rand.Rand) []byte {
	t.Helper()
	var out bytes.Buffer
	w, _ := deflate(&out)
	for p := data; len(p) > 0; { // in writes of any size, as io.Copy and excelize make them
		k := min(len(p), 1+rng.IntN(3*deflateBlock/2))
		if n, err := w.Write(p[:k]); err != nil || n != k {
			t.Fatalf("write: %d of %d, %v", n, k, err)
		}
		p = p[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// The blocks make one deflate stream that any inflater reads back as the
// input, of every size around the blocks' edges; matches reach across the
// edges, so the stream is as small as one writer's (within a few percent).
func TestParallelDeflateIsOneStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 55))
	random := make([]byte, 3*deflateBlock+5)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	for _, n := range []int{0, 1, deflateWindow, deflateBlock - 1, deflateBlock, deflateBlock + 1, 4*deflateBlock + 12345} {
		for _, kind := range []string{"sheet", "random"} {
			data := sheetLike(n, rng)
			if kind == "random" {
				data = random[:min(n, len(random))]
			}
			z := compressParallel(t, data, rng)
			back, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
			if err != nil || !bytes.Equal(back, data) {
				t.Fatalf("%s of %d bytes: read back %d bytes, %v", kind, len(data), len(back), err)
			}
			var one bytes.Buffer
			w, _ := kflate.NewWriter(&one, deflateLevel)
			w.Write(data)
			w.Close()
			if kind == "sheet" && n > deflateWindow && float64(len(z)) > 1.03*float64(one.Len()) {
				t.Errorf("%d bytes of sheet: %d compressed, one writer makes %d", n, len(z), one.Len())
			}
		}
	}
}

// A block sharing nothing with its neighbour but what lies within the
// window before it is still found there: the dictionary is the previous
// block's end.
func TestParallelDeflateMatchesAcrossBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	unit := make([]byte, 16<<10) // incompressible, repeated: only matches 16 KiB back compress it
	for i := range unit {
		unit[i] = byte(rng.Uint32())
	}
	data := bytes.Repeat(unit, 4*deflateBlock/len(unit))
	z := compressParallel(t, data, rng)
	var one bytes.Buffer
	w, _ := kflate.NewWriter(&one, deflateLevel)
	w.Write(data)
	w.Close()
	// Blocks blind to each other would make twice what one writer makes.
	if float64(len(z)) > 1.05*float64(one.Len()) {
		t.Errorf("%d bytes of a repeated 16 KiB compressed to %d, one writer makes %d: the blocks did not see each other", len(data), len(z), one.Len())
	}
}

type failingWriter struct{ left int }

var errDiskFull = errors.New("no space left on device")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n := f.left
		f.left = 0
		return n, errDiskFull
	}
	f.left -= len(p)
	return len(p), nil
}

// The destination's error is the writer's, from the write after it or
// from Close, and stays.
func TestParallelDeflateReportsTheDestinationsError(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := sheetLike(10*deflateBlock, rng)
	w, _ := deflate(&failingWriter{left: 100_000})
	var err error
	for p := data; len(p) > 0 && err == nil; p = p[min(len(p), 64<<10):] {
		_, err = w.Write(p[:min(len(p), 64<<10)])
	}
	if cerr := w.Close(); !errors.Is(cerr, errDiskFull) || err != nil && !errors.Is(err, errDiskFull) {
		t.Fatalf("write: %v, close: %v", err, cerr)
	}
	if _, err := w.Write([]byte("more")); !errors.Is(err, errDiskFull) {
		t.Fatalf("a write after the error: %v", err)
	}
}

// A workbook whose sheet is many blocks holds the same parts as one
// excelize compresses by itself.
func TestOperationsXLSXOfManyBlocks(t *testing.T) {
	parts := func(buffered bool) map[string][]byte {
		var b bytes.Buffer
		if n, err := OperationsXLSX(&b, manyOps(10_000), Filter{}, XLSXOptions{BufferedZip: buffered}, nil); err != nil || n != 10_000 {
			t.Fatal(n, err)
		}
		zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		for _, e := range zr.File {
			rc, err := e.Open()
			if err != nil {
				t.Fatal(err)
			}
			if out[e.Name], err = io.ReadAll(rc); err != nil { // checks the CRC too
				t.Fatal(err)
			}
			rc.Close()
		}
		return out
	}
	ours, excelizes := parts(false), parts(true)
	if sheet := ours["xl/worksheets/sheet1.xml"]; len(sheet) < 4*deflateBlock {
		t.Fatalf("the sheet is %d bytes, not several blocks", len(sheet))
	}
	if len(ours) != len(excelizes) {
		t.Fatalf("%d parts, excelize wrote %d", len(ours), len(excelizes))
	}
	for name, p := range excelizes {
		if !bytes.Equal(ours[name], p) {
			t.Errorf("part %s differs from excelize's", name)
		}
	}
}
