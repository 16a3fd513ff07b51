package export

import (
	"errors"
	"strings"
	"testing"

	"reconciled/internal/domain"
)

// count produces 0..n-1 through the slots, overwriting each.
func count(n int) func(slot func() (*int, error)) error {
	return func(slot func() (*int, error)) error {
		for i := range n {
			s, err := slot()
			if err != nil {
				return err
			}
			*s = i
		}
		return nil
	}
}

func TestPipelinedHandsEverythingOverInOrder(t *testing.T) {
	for _, n := range []int{0, 1, batchRows - 1, batchRows, batchRows + 1, 10*batchRows + 7} {
		var got []int
		if err := pipelined(count(n), func(v *int) error { got = append(got, *v); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d items handed over of %d", len(got), n)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("item %d is %d", i, v)
			}
		}
	}
}

// A writer that fails stops the reading: the Source is told and has
// returned before pipelined does (its read transaction closed).
func TestPipelinedWriterErrorStopsTheReader(t *testing.T) {
	full := errors.New("no space left on device")
	var told error
	returned := false
	produce := func(slot func() (*int, error)) error {
		defer func() { returned = true }()
		for i := 0; ; i++ {
			s, err := slot()
			if err != nil {
				told = err
				return err
			}
			*s = i
		}
	}
	n := 0
	err := pipelined(produce, func(*int) error {
		if n++; n == 1000 {
			return full
		}
		return nil
	})
	if err != full {
		t.Fatalf("err = %v, want the writer's", err)
	}
	if !returned || !errors.Is(told, errStopped) {
		t.Fatalf("the reader had returned: %v, was told %v", returned, told)
	}
}

// A reader's error comes after everything it read before it is written.
func TestPipelinedReaderErrorAfterWhatItRead(t *testing.T) {
	damaged := errors.New("damaged")
	n := 0
	err := pipelined(func(slot func() (*int, error)) error {
		if err := count(3*batchRows + 5)(slot); err != nil {
			return err
		}
		return damaged
	}, func(*int) error { n++; return nil })
	if err != damaged || n != 3*batchRows+5 {
		t.Fatalf("err = %v after %d items", err, n)
	}
}

// A panic on the reading side is raised in the caller's goroutine, with
// its value and where it happened; one on the writing side stops the
// reader first.
func TestPipelinedPanics(t *testing.T) {
	bug := errors.New("the reader's bug")
	r := func() (r any) {
		defer func() { r = recover() }()
		pipelined(func(slot func() (*int, error)) error {
			count(batchRows * 3)(slot)
			panic(bug)
		}, func(*int) error { return nil })
		return nil
	}()
	p, ok := r.(*goroutinePanic)
	if !ok || !errors.Is(p, bug) || !strings.Contains(p.Error(), "TestPipelinedPanics") {
		t.Fatalf("recovered %v", r)
	}
	returned := false
	r = func() (r any) {
		defer func() { r = recover() }()
		pipelined(func(slot func() (*int, error)) error {
			defer func() { returned = true }()
			for {
				if _, err := slot(); err != nil {
					return err
				}
			}
		}, func(v *int) error { panic("the writer's bug") })
		return nil
	}()
	if r != "the writer's bug" || !returned {
		t.Fatalf("recovered %v; the reader had returned: %v", r, returned)
	}
}

// A file that cannot be written stops the register's reading: the Source
// (the ledger's read transaction) has returned when the writer does.
func TestOperationsCSVStopsReadingWhenTheFileFails(t *testing.T) {
	returned, read := false, 0
	endless := func(fn func(*domain.Operation) error) error {
		defer func() { returned = true }()
		op := ops()[0]
		for {
			read++
			if err := fn(&op); err != nil {
				return err
			}
		}
	}
	n, err := OperationsCSV(&failingWriter{left: 1 << 20}, endless, Filter{}, CSVOptions{})
	if !errors.Is(err, errDiskFull) || !returned {
		t.Fatalf("err = %v after %d rows (%d read); the source had returned: %v", err, n, read, returned)
	}
}
