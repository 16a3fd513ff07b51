package export

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// An export reads the ledger and writes a file; on two cores the two
// overlap. pipelined runs the reading side (the Source, with whatever the
// caller makes of each operation) in a goroutine of its own and hands its
// results over in batches to the writing side, in the caller's goroutine,
// in order. The goroutine has always ended when pipelined returns, so the
// ledger's read transaction is closed then, whether the file was written,
// the writer failed or either side panicked.

// batchRows is how many items go over at once: enough that the hand-over
// is rare, few enough that the writer starts at once and little is held.
const batchRows = 256

// errStopped is what the reading side is told when the writing side gave
// up: the Source stops and its error is not the export's.
var errStopped = errors.New("export: the writer stopped")

// pipelined calls produce in a goroutine of its own, which fills one item
// at a time (slot returns the item to fill, reused from earlier batches:
// overwrite all of it), and consume in the caller's goroutine on each item
// in order. It returns consume's first error, else produce's. A panic on
// either side is raised again in the caller's goroutine once both sides
// have stopped.
func pipelined[T any](produce func(slot func() (*T, error)) error, consume func(*T) error) error {
	const depth = 2 // batches filled ahead of the writer
	full := make(chan []T, depth)
	free := make(chan []T, depth+2) // every batch there is fits: none is ever blocked on
	stop := make(chan struct{})
	done := make(chan struct{})
	var produced error
	var panicked *goroutinePanic
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				panicked = &goroutinePanic{value: r, stack: debug.Stack()}
			}
		}()
		defer close(full)
		made := 0
		var b []T
		send := func() error {
			select {
			case full <- b:
				b = nil
				return nil
			case <-stop:
				return errStopped
			}
		}
		slot := func() (*T, error) {
			if len(b) == batchRows {
				if err := send(); err != nil {
					return nil, err
				}
			}
			if b == nil {
				if made < depth+2 && len(free) == 0 {
					b, made = make([]T, 0, batchRows), made+1
				} else {
					select {
					case b = <-free:
						b = b[:0]
					case <-stop:
						return nil, errStopped
					}
				}
			}
			b = b[:len(b)+1]
			return &b[len(b)-1], nil
		}
		produced = produce(slot)
		if len(b) > 0 {
			if err := send(); produced == nil {
				produced = err
			}
		}
	}()
	var consumed error
	func() {
		defer func() {
			close(stop)
			<-done
		}()
		for b := range full {
			for i := range b {
				if consumed = consume(&b[i]); consumed != nil {
					return
				}
			}
			free <- b
		}
	}()
	if panicked != nil {
		panic(panicked)
	}
	if consumed != nil {
		return consumed
	}
	return produced
}

// goroutinePanic is a panic of the reading side, raised again in the
// caller's goroutine with the stack where it happened.
type goroutinePanic struct {
	value any
	stack []byte
}

func (p *goroutinePanic) Error() string {
	return fmt.Sprintf("%v\n\nin the export's reading goroutine:\n%s", p.value, p.stack)
}

// Unwrap is the panic's value when it was an error.
func (p *goroutinePanic) Unwrap() error {
	err, _ := p.value.(error)
	return err
}
