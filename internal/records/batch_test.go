package records

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// The reader hands lines to the checkers in batches of batchLines; these
// tests put what a split of the work could lose or reorder at the batches'
// edges: problems, the last batch, a file of exactly one batch, duplicates.

// linesFile is a ';' file of n data lines "o-I;purchase;1,00;UAH;paid",
// where bad(i) may give line i's text instead.
func linesFile(n int, bad func(i int) (string, bool)) string {
	var b strings.Builder
	b.WriteString("payment_id;type;amount;currency;status\n")
	for i := range n {
		if s, ok := bad(i); ok {
			b.WriteString(s + "\n")
			continue
		}
		fmt.Fprintf(&b, "o-%d;purchase;1,00;UAH;paid\n", i)
	}
	return b.String()
}

func none(int) (string, bool) { return "", false }

func TestProblemsAtBatchEdgesComeInLineOrder(t *testing.T) {
	// Data line i is file line i+2. Reader problems (a field short) and
	// checker problems (a bad status) on both sides of each edge, and on
	// the very last line.
	n := 3*batchLines + 5
	short := map[int]bool{batchLines - 1: true, 2 * batchLines: true, n - 1: true}
	status := map[int]bool{0: true, batchLines: true, 2*batchLines - 1: true, 2*batchLines + 1: true}
	var want []string
	text := linesFile(n, func(i int) (string, bool) {
		switch {
		case short[i]:
			want = append(want, fmt.Sprintf("edges.csv:%d: 4 fields, the header has 5", i+2))
			return "o;purchase;1,00;UAH", true
		case status[i]:
			want = append(want, fmt.Sprintf("edges.csv:%d column status: \"nope\" is none of paid, failed, pending, refunded (map other words in [records])", i+2))
			return fmt.Sprintf("o-%d;purchase;1,00;UAH;nope", i), true
		}
		return "", false
	})
	_, fe := read(t, "edges.csv", text, Options{})
	if fe == nil {
		t.Fatal("a file with bad lines was read")
	}
	var got []string
	for _, p := range fe.Problems {
		got = append(got, fe.describe(p))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || fe.More != 0 {
		t.Errorf("problems (%d more)\n%s\nwant\n%s", fe.More, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Capped inside the second batch: the first three, and the rest counted.
	_, fe = read(t, "edges.csv", text, Options{MaxErrors: 3})
	if fe == nil || len(fe.Problems) != 3 || fe.More != len(want)-3 {
		t.Fatalf("capped: %v", fe)
	}
	for i, p := range fe.Problems {
		if s := fe.describe(p); s != want[i] {
			t.Errorf("capped problem %d: %q, want %q", i, s, want[i])
		}
	}
}

func TestABadLastLineRejectsTheWholeFile(t *testing.T) {
	for _, n := range []int{1, batchLines, batchLines + 1, 4*batchLines + 3} {
		text := linesFile(n, func(i int) (string, bool) {
			return fmt.Sprintf("o-%d;purchase;1,001;UAH;paid", i), i == n-1
		})
		res, fe := read(t, "last.csv", text, Options{})
		if fe == nil {
			t.Fatalf("%d lines, the last one bad: read %d records", n, len(res.Records))
		}
		if len(fe.Problems) != 1 || fe.Problems[0].Line != n+1 || fe.Problems[0].Column != ColAmount {
			t.Errorf("%d lines: problems %+v, want the amount of line %d", n, fe.Problems, n+1)
		}
	}
}

func TestFilesWithoutDataLines(t *testing.T) {
	for _, tt := range []struct{ name, text, want string }{
		{"empty.csv", "", "empty.csv:1: the header has no ',', ';' or tab between column names"},
		{"header.csv", "payment_id;type;amount;currency;status\n", "header.csv:2: no data lines after the header"},
		{"blank.csv", "payment_id;type;amount;currency;status\n\n\n", "blank.csv:2: no data lines after the header"},
	} {
		res, fe := read(t, tt.name, tt.text, Options{})
		if fe == nil {
			t.Errorf("%s: read %+v", tt.name, res)
			continue
		}
		if len(fe.Problems) != 1 || fe.describe(fe.Problems[0]) != tt.want {
			t.Errorf("%s: %v, want %q", tt.name, fe, tt.want)
		}
	}
}

func TestFilesOfWholeBatchesKeepEveryLineInOrder(t *testing.T) {
	for _, n := range []int{batchLines - 1, batchLines, batchLines + 1, 2 * batchLines} {
		res, fe := read(t, "whole.csv", linesFile(n, none), Options{})
		if fe != nil {
			t.Fatalf("%d lines: %v", n, fe)
		}
		if res.Lines != n || len(res.Records) != n {
			t.Fatalf("%d lines: read %d lines, %d records", n, res.Lines, len(res.Records))
		}
		for i, r := range res.Records {
			if r.PaymentID != fmt.Sprintf("o-%d", i) || r.Origin != fmt.Sprintf("whole.csv:%d", i+2) || r.Amount.Amount != 100 {
				t.Fatalf("%d lines: record %d is %s from %s", n, i, r.PaymentID, r.Origin)
			}
		}
	}
}

func TestDuplicatesInDifferentBatchesStayInFileOrder(t *testing.T) {
	// o-dup at line 3 (10,00), in the third batch (20,00) and last (30,00).
	at := map[int]string{1: "10,00", 2*batchLines + 7: "20,00", 3*batchLines - 1: "30,00"}
	res, fe := read(t, "dup.csv", linesFile(3*batchLines, func(i int) (string, bool) {
		a, ok := at[i]
		return "o-dup;purchase;" + a + ";UAH;paid", ok
	}), Options{})
	if fe != nil {
		t.Fatal(fe)
	}
	var got []string
	for _, r := range res.Records {
		if r.PaymentID == "o-dup" {
			got = append(got, fmt.Sprintf("%s %d", r.Origin, r.Amount.Amount))
		}
	}
	want := fmt.Sprintf("dup.csv:3 1000,dup.csv:%d 2000,dup.csv:%d 3000", 2*batchLines+9, 3*batchLines+1)
	if strings.Join(got, ",") != want {
		t.Errorf("duplicates %v, want %s", got, want)
	}
}

// XLSX rows with a 1 or 0 in a column read are read a second time, after
// the others: their records keep their place, and their problems theirs.
func TestXLSXRowsReadTwiceKeepTheirPlaceAcrossBatches(t *testing.T) {
	rows := [][]any{{"payment_id", "type", "amount", "currency", "status", "project_id"}}
	n := 2*batchLines + 10
	for i := range n {
		project := any(580)
		if i%300 == 7 {
			project = 1 // a number 1: read twice, and fine
		}
		rows = append(rows, []any{fmt.Sprintf("o-%d", i), "purchase", 10, "UAH", "paid", project})
	}
	path := xlsxFile(t, rows)
	res, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Lines != n || len(res.Records) != n {
		t.Fatalf("%d lines, %d records, want %d", res.Lines, len(res.Records), n)
	}
	for i, r := range res.Records {
		if r.PaymentID != fmt.Sprintf("o-%d", i) || r.Origin != fmt.Sprintf("r.xlsx row %d", i+2) {
			t.Fatalf("record %d is %s from %s", i, r.PaymentID, r.Origin)
		}
	}

	// A boolean early and bad rows after it: capped, the list keeps the
	// first rows' problems, the boolean's among them.
	rows[3][5] = true
	for i := 100; i < 110; i++ {
		rows[i][4] = "nope"
	}
	_, err = ReadFile(xlsxFile(t, rows), Options{MaxErrors: 3})
	var fe *FileError
	if !errors.As(err, &fe) || len(fe.Problems) != 3 || fe.More != 8 {
		t.Fatalf("capped: %v", err)
	}
	if got := []int{fe.Problems[0].Line, fe.Problems[1].Line, fe.Problems[2].Line}; !slices.Equal(got, []int{4, 101, 102}) {
		t.Errorf("capped problems on rows %v, want 4, 101, 102:\n%v", got, err)
	}
}

// panicky is a Batch that panics on one line.
type panicky struct{ at int }

func (p *panicky) Add(line int, r *domain.Record) {
	if line == p.at {
		panic("boom")
	}
}

// A panic on a checker (or the reader) is raised on Stream's caller's
// goroutine, where the control socket recovers a command's panic: on its
// own goroutine it would end the daemon.
func TestAPanicWhileCheckingIsTheCallers(t *testing.T) {
	path := write(t, "p.csv", []byte(linesFile(3*batchLines, none)))
	defer func() {
		r := recover()
		if s := fmt.Sprint(r); !strings.Contains(s, "boom") || !strings.Contains(s, "panicky") {
			t.Errorf("recovered %q, want the panic and where it was", s)
		}
	}()
	Stream(context.Background(), path, Options{}, func() *panicky { return &panicky{at: batchLines + 9} }, func(*panicky) {})
	t.Error("Stream returned")
}

// A done context stops the reading with its error.
func TestACancelledReadingSaysSo(t *testing.T) {
	path := write(t, "c.csv", []byte(linesFile(20*batchLines, none)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	taken := 0
	res, err := Stream(ctx, path, Options{}, func() *recordList { return &recordList{} }, func(*recordList) {
		if taken++; taken == 1 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("cancelled: %+v, %v", res, err)
	}
}

// Stream gives every record once, in batches taken in file order.
func TestStreamTakesBatchesInFileOrder(t *testing.T) {
	n := 5*batchLines + 3
	path := write(t, "s.csv", []byte(linesFile(n, none)))
	var lines []int
	res, err := Stream(context.Background(), path, Options{}, func() *recordList { return &recordList{} }, func(b *recordList) {
		for _, r := range b.recs {
			lines = append(lines, r.line)
		}
	})
	if err != nil || res.Lines != n || res.Records != nil {
		t.Fatalf("%+v, %v", res, err)
	}
	if len(lines) != n {
		t.Fatalf("%d records taken, want %d", len(lines), n)
	}
	for i, l := range lines {
		if l != i+2 {
			t.Fatalf("record %d from line %d, want %d", i, l, i+2)
		}
	}
}

// A panic of take's, on the caller's goroutine, is the caller's too, and
// the reading's goroutines end (a daemon would keep them blocked for good).
func TestAPanicWhileTakingEndsTheReading(t *testing.T) {
	path := write(t, "t.csv", []byte(linesFile(30*batchLines, none)))
	before := runtime.NumGoroutine()
	func() {
		defer func() {
			if r := recover(); fmt.Sprint(r) != "taken" {
				t.Errorf("recovered %v", r)
			}
		}()
		Stream(context.Background(), path, Options{}, func() *recordList { return &recordList{} }, func(*recordList) { panic("taken") })
	}()
	// Stream has waited for them: what is left is the runtime's own end of
	// a goroutine that has returned, which a loaded machine may take
	// a while to get to (1,000 yields were not always enough in CI).
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}
