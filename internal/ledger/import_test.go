package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
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
		v = bytes.Clone(root(tx).Bucket(bucketRecords).Get(key))
		return nil
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
