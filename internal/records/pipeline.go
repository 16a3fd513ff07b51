package records

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"reconciled/internal/domain"
)

// A file is read on three goroutines besides the caller's. A reader
// (encoding/csv, or excelize's rows) hands the data lines, each cell under
// its canonical column, in batches of batchLines to two checkers, which
// turn each line into a record (parseRow) and put it into the caller's
// Batch (the import encodes it there, on the checker's goroutine, as the
// ledger stores it). The caller's goroutine takes the batches back in file
// order: it adds their problems to the file's list, so that the list is in
// line order and the cap keeps the file's first problems whichever checker
// was faster, and it gives the caller each Batch while the file has had no
// problem. After the first problem the checkers still check (every bad line
// is listed) but make no more records. At most inFlight batches are on their
// way, so the memory the reading needs does not grow with the file.

// Batch is where a checker puts the records of one batch of lines: one
// goroutine fills it, then the caller's is given it. r is not kept.
type Batch interface {
	Add(line int, r *domain.Record)
}

// sink is a Stream's caller: its batches, and what it is given.
type sink struct {
	newBatch func() Batch
	take     func(Batch)
}

const (
	checkers = 2
	inFlight = 4 * checkers // batches between the reader and the caller
)

// batchLines is how many lines go from the reader to a checker at once.
const batchLines = 512

// row is one data line as the reader hands it to the checkers: the cells of
// the canonical columns (untrimmed; parseRow trims), and its line; or, with
// msg set, a problem the reader found on that line (its syntax, its field
// count).
type row struct {
	cells [numColumns]string
	n     int
	msg   string
}

// canonicalHeader maps Columns to their positions in row.cells.
var canonicalHeader = func() header {
	var h header
	for i := range h {
		h[i] = i
	}
	return h
}()

// fill puts a file's row into cells, by the file's header.
func (r *row) fill(cells []string, h *header) {
	for c, i := range h {
		if i >= 0 && i < len(cells) {
			r.cells[c] = cells[i]
		}
	}
}

// chunk is a batch of rows on its way, and what a checker made of it.
type chunk struct {
	seq      int // in file order
	rows     []row
	problems problems
	lines    int   // data lines: rows without a reader's problem
	out      Batch // the records, unless there were none or the file failed
	later    []row // rows to read again (XLSX, maybeBoolean)
}

// pipeline reads one file's data lines.
type pipeline struct {
	o         *Options
	origin    func(b []byte, line int) []byte // appends a line's origin ("orders.csv:12")
	numeric   bool                            // XLSX: amounts and dates as raw cell values
	readLater bool                            // XLSX: keep rows that may hold a boolean for a second pass
	sink

	// What it found, valid after run.
	ps    *problems
	lines int
	later []row

	failed  atomic.Bool // a problem was found: no more records are made
	stop    chan struct{}
	halt    sync.Once
	mu      sync.Mutex
	crash   any // the first panic of a goroutine, raised again on the caller's
	readErr error
}

// checker is one checking goroutine's own record, reused line after line.
type checker struct {
	rec    domain.Record
	origin []byte
}

// feeder is the reader's side: rows go into chunks, full chunks to the
// checkers.
type feeder struct {
	cur  *chunk
	seq  int
	free <-chan *chunk
	work chan<- *chunk
	stop <-chan struct{}
}

// row is the next row to fill, or nil once the reading is to stop.
func (f *feeder) row() *row {
	if f.cur != nil && len(f.cur.rows) == batchLines && !f.flush() {
		return nil
	}
	if f.cur == nil {
		select {
		case f.cur = <-f.free:
		case <-f.stop:
			return nil
		}
		f.cur.seq, f.cur.rows = f.seq, f.cur.rows[:0]
		f.seq++
	}
	f.cur.rows = append(f.cur.rows, row{})
	return &f.cur.rows[len(f.cur.rows)-1]
}

// skipped is told of a row the reader leaves out (an empty one) and says
// whether to go on: a reader that skips rows learns of the stop only here
// until its next row to fill, and a sheet of empty cells (a few hundred KB
// zipped) is minutes of them.
func (f *feeder) skipped() bool {
	select {
	case <-f.stop:
		return false
	default:
		return true
	}
}

// flush sends the rows filled so far.
func (f *feeder) flush() bool {
	if f.cur == nil {
		return true
	}
	select {
	case f.work <- f.cur:
		f.cur = nil
		return true
	case <-f.stop:
		return false
	}
}

// run reads the data lines with read, on a goroutine of its own, and checks
// them; it returns when all are checked, read failed, or ctx is done. A
// panic on any of its goroutines is raised again on the caller's (the
// control socket recovers a command's panic on the command's goroutine).
func (p *pipeline) run(ctx context.Context, read func(*feeder) error) error {
	work := make(chan *chunk, inFlight)
	done := make(chan *chunk, inFlight)
	free := make(chan *chunk, inFlight)
	for range inFlight {
		free <- &chunk{rows: make([]row, 0, batchLines)}
	}
	p.stop = make(chan struct{})
	go func() {
		defer close(work)
		defer p.recover()
		f := &feeder{free: free, work: work, stop: p.stop}
		if p.readErr = read(f); p.readErr == nil {
			f.flush()
		}
	}()
	var wg sync.WaitGroup
	for range checkers {
		wg.Go(func() {
			defer p.recover()
			w := &checker{}
			for c := range work {
				select {
				case <-p.stop:
				default:
					p.check(w, c)
				}
				done <- c
			}
		})
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	defer func() { // a panic of take's: the other goroutines end first
		if r := recover(); r != nil {
			p.stopAll()
			for range done {
			}
			panic(r)
		}
	}()
	cancelled := p.collect(ctx, done, free)
	if p.crash != nil {
		panic(p.crash)
	}
	if cancelled {
		return ctx.Err()
	}
	return p.readErr
}

// collect takes the checked chunks in file order until the checkers end,
// and says whether ctx stopped it.
func (p *pipeline) collect(ctx context.Context, done <-chan *chunk, free chan<- *chunk) (cancelled bool) {
	var waiting [inFlight]*chunk // by seq: at most inFlight are on their way
	next := 0
	cancel := ctx.Done()
	for {
		select {
		case <-cancel:
			cancelled, cancel = true, nil
			p.stopAll()
		case c, ok := <-done:
			if !ok {
				return cancelled
			}
			if cancelled || p.crashed() {
				continue
			}
			waiting[c.seq%inFlight] = c
			for c := waiting[next%inFlight]; c != nil && c.seq == next; c = waiting[next%inFlight] {
				waiting[next%inFlight] = nil
				p.takeChunk(c)
				free <- c
				next++
			}
		}
	}
}

// takeChunk adds a chunk's problems, rows and records to the file's.
func (p *pipeline) takeChunk(c *chunk) {
	p.lines += c.lines
	for _, pr := range c.problems.list {
		p.ps.put(pr)
	}
	p.ps.more += c.problems.more
	p.later = append(p.later, c.later...)
	if p.ps.any() {
		p.failed.Store(true)
	} else if c.out != nil {
		p.take(c.out)
	}
	c.out = nil
}

// check turns a chunk's rows into records, on a checker.
func (p *pipeline) check(w *checker, c *chunk) {
	c.problems = problems{list: c.problems.list[:0], max: p.o.MaxErrors}
	c.lines, c.out, c.later = 0, nil, c.later[:0]
	for i := range c.rows {
		r := &c.rows[i]
		if r.msg != "" {
			c.problems.add(r.n, "", "%s", r.msg)
			continue
		}
		c.lines++
		if p.readLater && maybeBoolean(r.cells[:], &canonicalHeader) {
			c.later = append(c.later, *r)
			continue
		}
		w.origin = p.origin(w.origin[:0], r.n)
		if !parseRow(&w.rec, r.cells[:], r.n, &canonicalHeader, p.o, string(w.origin), p.numeric, &c.problems) || c.problems.any() || p.failed.Load() {
			continue
		}
		if c.out == nil {
			c.out = p.newBatch()
		}
		c.out.Add(r.n, &w.rec)
	}
}

func (p *pipeline) stopAll() { p.halt.Do(func() { close(p.stop) }) }

// recover keeps a goroutine's panic for the caller's and stops the rest.
func (p *pipeline) recover() {
	r := recover()
	if r == nil {
		return
	}
	p.mu.Lock()
	if p.crash == nil {
		p.crash = fmt.Sprintf("%v (in %s, reading a file)", r, panicSite())
	}
	p.mu.Unlock()
	p.stopAll()
}

func (p *pipeline) crashed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.crash != nil
}

// panicSite is the function that panicked, from inside the deferred call
// that recovered it: the innermost frame outside the runtime.
func panicSite() string {
	pc := make([]uintptr, 32)
	frames := runtime.CallersFrames(pc[:runtime.Callers(3, pc)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf("%s at %s:%d", f.Function, filepath.Base(f.File), f.Line)
		}
		if !more {
			return "?"
		}
	}
}
