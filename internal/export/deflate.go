package export

import (
	"bytes"
	"io"
	"runtime"

	"github.com/klauspost/compress/flate"
)

// A million-row workbook is a gigabyte of sheet XML, which excelize hands
// its zip writer only after the last row: compressing it was half of the
// export, on one core. parallelDeflate compresses a part of the archive on
// every core, with klauspost/compress's flate at archive/zip's own level
// (5), the way pigz makes a .gz: the input is cut into blocks, each
// compressed by a writer of its own that is given the 32 KiB before the
// block as its dictionary (matches reach back across, as one writer's
// would) and ends with a sync flush (the stream stays open and
// byte-aligned there); the blocks' outputs are written in order and an
// empty final block closes the stream. Any inflater reads it as one
// stream; the parts inside the archive are the same bytes as before, only
// their compressed form differs (BENCHMARKS.md has the sizes).

const (
	deflateLevel  = 5
	deflateBlock  = 1 << 20
	deflateWindow = 32 << 10 // how far back deflate's matches reach
)

// finalBlock is an empty block with BFINAL set (fixed Huffman codes, just
// the end-of-block code), which ends a stream left open by sync flushes.
var finalBlock = []byte{0x03, 0x00}

// deflate is the archive's compressor for zip.Deflate.
func deflate(w io.Writer) (io.WriteCloser, error) { return newParallelDeflate(w), nil }

type parallelDeflate struct {
	out     io.Writer
	cur     []byte // the block being filled
	tail    []byte // the last deflateWindow bytes before cur
	pending []*deflateJob
	spare   [][]byte // blocks written out, to fill again
	writers chan *flate.Writer
	made    int // writers made, at most cap(writers)
	err     error
}

// deflateJob is one block being compressed.
type deflateJob struct {
	in, dict []byte
	out      bytes.Buffer
	err      error
	done     chan struct{}
}

func newParallelDeflate(out io.Writer) *parallelDeflate {
	return &parallelDeflate{out: out, writers: make(chan *flate.Writer, runtime.GOMAXPROCS(0))}
}

func (d *parallelDeflate) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 && d.err == nil {
		if d.cur == nil {
			if k := len(d.spare); k > 0 {
				d.cur, d.spare = d.spare[k-1][:0], d.spare[:k-1]
			} else {
				d.cur = make([]byte, 0, deflateBlock)
			}
		}
		k := copy(d.cur[len(d.cur):cap(d.cur)], p)
		d.cur, p, n = d.cur[:len(d.cur)+k], p[k:], n+k
		if len(d.cur) == cap(d.cur) {
			d.submit()
		}
	}
	return n, d.err
}

// submit starts compressing the current block and writes out the blocks
// done before it, waiting for the oldest when too many are under way.
func (d *parallelDeflate) submit() {
	j := &deflateJob{in: d.cur, dict: d.tail, done: make(chan struct{})}
	d.tail = append([]byte(nil), d.cur[max(0, len(d.cur)-deflateWindow):]...)
	d.cur = nil
	var w *flate.Writer
	if d.made < cap(d.writers) {
		w, _ = flate.NewWriter(nil, deflateLevel) // a constant level cannot be refused
		d.made++
	} else {
		w = <-d.writers
	}
	go func() {
		defer close(j.done)
		defer func() { d.writers <- w }()
		w.ResetDict(&j.out, j.dict)
		if _, j.err = w.Write(j.in); j.err == nil {
			j.err = w.Flush()
		}
	}()
	d.pending = append(d.pending, j)
	for len(d.pending) > 0 {
		select {
		case <-d.pending[0].done:
		default:
			if len(d.pending) <= 2*cap(d.writers) {
				return
			}
			<-d.pending[0].done
		}
		d.writeOldest()
	}
}

// writeOldest writes out the oldest block, which is done.
func (d *parallelDeflate) writeOldest() {
	j := d.pending[0]
	d.pending = d.pending[1:]
	if d.err == nil {
		d.err = j.err
	}
	if d.err == nil {
		_, d.err = d.out.Write(j.out.Bytes())
	}
	d.spare = append(d.spare, j.in)
}

// Close compresses what is left, writes every block out and ends the
// stream. No goroutine of the writer is left running.
func (d *parallelDeflate) Close() error {
	if len(d.cur) > 0 && d.err == nil {
		d.submit()
	}
	for len(d.pending) > 0 {
		<-d.pending[0].done
		d.writeOldest()
	}
	if d.err == nil {
		_, d.err = d.out.Write(finalBlock)
	}
	return d.err
}
