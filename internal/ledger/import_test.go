package ledger

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// TestMoreOccurrencesThanTheKeyCountsAreRefused: the occurrence is two
// bytes of the key. A file repeating one line 65,536 times numbered the
// last one 0 and the next 1 again, which overwrote the first: the import
// said 65,537 new and stored 65,536.
func TestMoreOccurrencesThanTheKeyCountsAreRefused(t *testing.T) {
	l := openTemp(t)
	recs := make([]domain.Record, 1<<16+1)
	for i := range recs {
		recs[i] = rec("o1", "purchase", "paid", 100, "a.csv")
	}
	recs = append(recs, rec("o2", "purchase", "paid", 100, "a.csv"))
	st, err := l.ImportRecords(recs, Import{File: "a.csv"}, t0)
	if err == nil || !strings.Contains(err.Error(), "65535") {
		t.Errorf("65,537 lines of one record: %+v, %v; want a refusal naming the limit", st, err)
	}
	if n, _ := l.RecordCount(); n != 0 {
		t.Errorf("%d records stored, want none", n)
	}
	if imports, _ := l.Imports(); len(imports) != 0 {
		t.Errorf("imports logged: %+v", imports)
	}
	// 65,535 are stored, each under its own occurrence.
	st, err = l.ImportRecords(recs[:1<<16-1], Import{File: "a.csv"}, t0)
	if n, _ := l.RecordCount(); err != nil || st.New != 1<<16-1 || n != st.New {
		t.Errorf("65,535 lines of one record: %+v, %v, %d stored", st, err, n)
	}
}

// storedValue is the value the records bucket holds under key.
func storedValue(t *testing.T, l *Ledger, key []byte) []byte {
	t.Helper()
	var v []byte
	if err := l.view(func(tx *bolt.Tx) error {
		got, err := recordsIn(tx).Get(key)
		v = bytes.Clone(got)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// A set's values are written in place, their tails in the room the set
// left: what is stored must be appendStoredRecord's bytes, for a new
// record, an updated one whose tail fits, one with an earlier status
// (built apart), and times whose tails need more than the room.
func TestASetStoresTheRecordFormat(t *testing.T) {
	l := openTemp(t)
	r := rec("o1", "purchase", "pending", 100, "a.csv:2")
	key := binary.BigEndian.AppendUint16(recordGroupKey(nil, &r), 1)
	want := func(r domain.Record, firstSeen, since time.Time, earlier []RecordStatus) []byte {
		return appendStoredRecord(nil, appendRecordFields(nil, &r), r.Origin, firstSeen.UTC(), since.UTC(), earlier)
	}
	steps := []struct {
		what    string
		r       domain.Record
		seen    time.Time
		stored  []byte
		outcome ImportStats
	}{
		{"new", r, t0, want(r, t0, t0, nil), ImportStats{New: 1}},
		{"amount changed", rec("o1", "purchase", "pending", 150, "b.csv:9"), t0.Add(time.Hour),
			want(rec("o1", "purchase", "pending", 150, "b.csv:9"), t0, t0, nil), ImportStats{Updated: 1}},
		{"status changed", rec("o1", "purchase", "paid", 150, "c.csv:3"), t0.Add(2 * time.Hour),
			want(rec("o1", "purchase", "paid", 150, "c.csv:3"), t0, t0.Add(2*time.Hour), []RecordStatus{{SeenAt: t0, Status: "pending"}}), ImportStats{Updated: 1}},
	}
	for _, s := range steps {
		st, err := l.ImportRecords([]domain.Record{s.r}, Import{}, s.seen)
		if err != nil || st != s.outcome {
			t.Fatalf("%s: %+v %v", s.what, st, err)
		}
		if got := storedValue(t, l, key); !bytes.Equal(got, s.stored) {
			t.Errorf("%s: stored\n%x\nwant\n%x", s.what, got, s.stored)
		}
	}
	// A clock far ahead: seen times of 8 bytes, tails longer than the room.
	far := time.UnixMilli(1 << 50)
	r2 := rec("o2", "refund", "paid", 7, "d.csv:2")
	if _, err := l.ImportRecords([]domain.Record{r2}, Import{}, far); err != nil {
		t.Fatal(err)
	}
	key2 := binary.BigEndian.AppendUint16(recordGroupKey(nil, &r2), 1)
	if got, w := storedValue(t, l, key2), want(r2, far, far, nil); !bytes.Equal(got, w) {
		t.Errorf("far ahead: stored\n%x\nwant\n%x", got, w)
	}
}

// Lines, not the order batches come in, number the occurrences.
func TestBatchesInAnyOrderNumberByLine(t *testing.T) {
	l := openTemp(t)
	set := NewRecordSet()
	late, early := set.NewBatch(), set.NewBatch()
	first, second := rec("o1", "purchase", "paid", 100, "a.csv:2"), rec("o1", "purchase", "paid", 200, "a.csv:900")
	early.Add(2, &first)
	late.Add(900, &second)
	set.Append(late)
	set.Append(early)
	if _, err := l.ImportRecordSet(context.Background(), set, Import{}, t0); err != nil {
		t.Fatal(err)
	}
	got, err := l.RecordsOf("o1", "", 0)
	if err != nil || len(got) != 2 || got[0].Amount.Amount != 100 || got[1].Amount.Amount != 200 {
		t.Fatalf("occurrences %+v %v, want line 2's first", got, err)
	}
}

// cancelledAfter is a context whose Err is nil n times, then Canceled.
type cancelledAfter struct {
	context.Context
	n int
}

func (c *cancelledAfter) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// An import cancelled while it writes stores nothing, not even its part.
func TestACancelledImportStoresNothing(t *testing.T) {
	l := openTemp(t)
	recs := make([]domain.Record, 10_000)
	for i := range recs {
		recs[i] = rec(fmt.Sprintf("o%d", i), "purchase", "paid", 100, "a.csv")
	}
	ctx := &cancelledAfter{Context: context.Background(), n: 1} // after the first 4,096 groups
	st, err := l.ImportRecordSet(ctx, RecordSetOf(recs), Import{File: "a.csv"}, t0)
	if !errors.Is(err, context.Canceled) || st != (ImportStats{}) {
		t.Fatalf("cancelled: %+v %v", st, err)
	}
	if n, _ := l.RecordCount(); n != 0 {
		t.Errorf("%d records stored", n)
	}
	if imports, _ := l.Imports(); len(imports) != 0 {
		t.Errorf("imports logged: %+v", imports)
	}
	if ctx.n >= 0 {
		t.Errorf("the import asked its context %d times too few", ctx.n+1)
	}
}

// The set's sort against a plain sort of the keys, on keys that share long
// prefixes and hold zero bytes, in batches appended out of line order, on
// both sides of the size it sorts on two goroutines at.
func TestTheSetSortsByKeyThenLine(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	ids := []string{"", "a", "a\x00", "a\x00\x00", "order-", "order-1", "order-12", "order-123456789", "order-1234567890123456",
		"\x00\x00\x00\x00\x00\x00\x00\x00", "\x00\x00\x00\x00\x00\x00\x00\x00\x00", "zz"}
	for _, n := range []int{0, 1, 7, 1000, 1<<14 + 3, 40_000} {
		recs := make([]domain.Record, n)
		for i := range recs {
			r := domain.Record{Source: []string{"s", "s\x00", "books"}[rnd.IntN(3)], Type: domain.RecordTypes[rnd.IntN(3)], Origin: fmt.Sprint(i)}
			switch id := ids[rnd.IntN(len(ids))] + strings.Repeat("7", rnd.IntN(3)); rnd.IntN(3) {
			case 0:
				r.PaymentID = "p" + id
			case 1:
				r.ProviderPaymentID = "v" + id
			default:
				r.OperationID = rnd.Uint64N(1 << uint(rnd.IntN(64)))
			}
			recs[i] = r
		}
		set := RecordSetOf(recs)
		if n%2 == 1 && len(set.batches) > 1 { // the last batch first
			set.batches = append(set.batches[len(set.batches)-1:], set.batches[:len(set.batches)-1]...)
		}
		got := set.sorted()
		want := slices.Clone(got)
		slices.SortFunc(want, func(a, b encRecord) int {
			if c := bytes.Compare(set.group(&a), set.group(&b)); c != 0 {
				return c
			}
			return cmp.Compare(a.line, b.line)
		})
		if len(got) != n {
			t.Fatalf("%d records: sorted %d", n, len(got))
		}
		for i := range got {
			if got[i].line != want[i].line {
				t.Fatalf("%d records: at %d line %d (%q), want line %d (%q)", n, i, got[i].line, set.group(&got[i]), want[i].line, set.group(&want[i]))
			}
		}
	}
}

// A model of the records bucket: per group, its records' fields in
// occurrence order.
type recordModel map[string][]string

func (m recordModel) importFile(recs []domain.Record) (st ImportStats) {
	file := map[string][]string{}
	for i := range recs {
		g := string(recordGroupKey(nil, &recs[i]))
		file[g] = append(file[g], string(appendRecordFields(nil, &recs[i])))
	}
	for g, lines := range file {
		old := m[g]
		for i, f := range lines {
			switch {
			case i >= len(old):
				st.New++
			case old[i] == f:
				st.Unchanged++
			default:
				st.Updated++
			}
		}
		if len(old) > len(lines) {
			st.Removed += len(old) - len(lines)
		}
		m[g] = lines
	}
	return st
}

// Random files imported one after another, of records of a few payments
// repeated and dropped, into a bucket holding groups before, between and
// after each file's: the stats and what is stored follow the model. In
// blocks of a page, of about 100 bytes (a block or two a record) and of
// one record each, so that a group's occurrences lie across blocks; the
// blocks stay sound, and the readers by prefix and the count agree.
func TestImportsFollowTheModel(t *testing.T) {
	for _, size := range []int{recordBlockBytes, 100, 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			defer func(n int) { recordBlockBytes = n }(recordBlockBytes)
			recordBlockBytes = size
			importsFollowTheModel(t)
		})
	}
}

func importsFollowTheModel(t *testing.T) {
	l := openTemp(t)
	m := recordModel{}
	rnd := rand.New(rand.NewPCG(3, 4))
	for step := range 60 {
		n := rnd.IntN(40)
		if step%20 == 19 {
			n = 5000
		}
		recs := make([]domain.Record, n)
		for i := range recs {
			recs[i] = rec(fmt.Sprintf("p%d", rnd.IntN(25)), domain.RecordTypes[rnd.IntN(2)], domain.RecordStatuses[rnd.IntN(2)],
				int64(100*rnd.IntN(3)), fmt.Sprintf("f%d.csv:%d", step, i+2))
			if rnd.IntN(4) == 0 {
				recs[i].Source = "other"
			}
		}
		want := m.importFile(recs)
		st, err := l.ImportRecords(recs, Import{}, t0.Add(time.Duration(step)*time.Minute))
		if err != nil || st != want {
			t.Fatalf("step %d: %+v %v, want %+v", step, st, err, want)
		}
		l.view(func(tx *bolt.Tx) error { checkRecordBlocks(t, root(tx).Bucket(bucketRecords)); return nil })
	}
	got := recordModel{}
	if err := l.ForEachRecord(func(r *StoredRecord) error {
		g := string(recordGroupKey(nil, &r.Record))
		got[g] = append(got[g], string(appendRecordFields(nil, &r.Record)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	stored := 0
	for g := range m {
		if len(m[g]) == 0 {
			delete(m, g)
		}
		stored += len(m[g])
	}
	if !maps.EqualFunc(got, m, slices.Equal) {
		t.Errorf("stored %d groups, the model %d", len(got), len(m))
	}
	if n, err := l.RecordCount(); err != nil || n != stored {
		t.Errorf("RecordCount %d, %v; the model holds %d", n, err, stored)
	}
	for p := range 26 {
		recs, err := l.RecordsOf(fmt.Sprintf("p%d", p), "", 0)
		n := 0
		for g, lines := range m {
			if strings.HasPrefix(g, string(recordIDKey(nil, &domain.Record{PaymentID: fmt.Sprintf("p%d", p)}))) {
				n += len(lines)
			}
		}
		if err != nil || len(recs) != n {
			t.Errorf("RecordsOf(p%d): %d records, %v; the model %d", p, len(recs), err, n)
		}
	}
}

// checkRecordBlocks fails t unless every block of records/ is sound.
func checkRecordBlocks(t *testing.T, b *bolt.Bucket) {
	t.Helper()
	checkBlocksOf(t, b, recordBlockBytes, describeRecordKey)
}
