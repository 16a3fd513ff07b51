package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// The lean reads give what the full ones give, less what the
// reconciliation never reads; strings kept after the read stay whole
// (they live in shared blocks, not in the reused value).
func TestLeanReadsKeepWhatTheEngineReads(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var page []domain.Operation
	for i := range 3000 {
		op := sale(20000000000000000+uint64(i), fmt.Sprintf("pay-%d", i), "success")
		op.AccountNumber, op.CustomerID = "4111 11** **** 1111", fmt.Sprintf("cust-%d", i)
		op.ProviderPaymentID, op.Code, op.Message = fmt.Sprintf("prov-%d", i), "3", fmt.Sprintf("a message of its own %d", i%7)
		op.CompletedAt = t0
		page = append(page, op)
	}
	if _, err := l.UpsertPage(page, t0); err != nil {
		t.Fatal(err)
	}
	var recs []domain.Record
	for i := range 2000 {
		r := rec(fmt.Sprintf("pay-%d", i), "purchase", "paid", int64(100+i), fmt.Sprintf("a.csv:%d", i+2))
		r.CustomerID, r.ProviderPaymentID, r.Method = "cust", fmt.Sprintf("prov-%d", i), "card"
		if i%3 == 0 {
			r.Source = "second"
		}
		recs = append(recs, r)
	}
	if _, err := l.ImportRecords(recs, Import{File: "a.csv"}, t0); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var full, lean []domain.Operation
	if err := l.ForEachByID(ctx, func(op *domain.Operation) error { full = append(full, *op); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := l.ForEachByIDLean(ctx, func(op *domain.Operation) error { lean = append(lean, *op); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(full) != 3000 || len(lean) != len(full) {
		t.Fatalf("%d operations, %d lean", len(full), len(lean))
	}
	for i := range full {
		want := full[i]
		want.AccountNumber, want.CustomerID = "", ""
		if lean[i] != want {
			t.Fatalf("operation %d:\n lean %+v\nwant %+v", i, lean[i], want)
		}
	}
	var fullR, leanR []StoredRecord
	if err := l.ForEachRecord(func(r *StoredRecord) error { fullR = append(fullR, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := l.ForEachRecordLean(func(r *StoredRecord) error { leanR = append(leanR, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(fullR) != 2000 || len(leanR) != len(fullR) {
		t.Fatalf("%d records, %d lean", len(fullR), len(leanR))
	}
	for i := range fullR {
		want := fullR[i].Record
		want.CustomerID = ""
		if leanR[i].Record != want || !leanR[i].FirstSeen.Equal(fullR[i].FirstSeen) || leanR[i].FirstSeen.IsZero() {
			t.Fatalf("record %d:\n lean %+v\nwant %+v (first seen %v, %v)", i, leanR[i].Record, want, leanR[i].FirstSeen, fullR[i].FirstSeen)
		}
	}
}

// A database whose free list bbolt wrote out (bbolt's default; this
// ledger rebuilds it at open instead) is not damaged when that list
// spans overflow pages: its elements are page ids of 8 bytes, and past
// 0xFFFF of them the count is in the first. The check called such a file
// damaged.
func TestASyncedFreeListOnOverflowPagesIsNotDamage(t *testing.T) {
	for _, frees := range []int{12_000} { // its ids on a few pages
		path, _ := filled(t)
		db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: 16 << 10, FreelistType: bolt.FreelistArrayType})
		if err != nil {
			t.Fatal(err)
		}
		// Fill a bucket of one value a page, then delete it: its pages go
		// free one by one, not in runs.
		big := make([]byte, 9000)
		for from := 0; from < frees; from += 5000 {
			if err := db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucketIfNotExists([]byte("scratch"))
				if err != nil {
					return err
				}
				for i := from; i < from+5000 && i < frees; i++ {
					if err := b.Put(binary.BigEndian.AppendUint64(nil, uint64(i*2)), big); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			c := tx.Bucket([]byte("scratch")).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if binary.BigEndian.Uint64(k)%4 == 0 {
					if err := c.Delete(); err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		db.Update(func(*bolt.Tx) error { return nil }) // the deleted pages, pending until now, go free
		free := db.Stats().FreePageN
		db.Close()
		if free < 3000 {
			t.Fatalf("only %d free pages: the free list fits one page", free)
		}
		l, err := Open(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("%d free pages written out: %v", free, err)
		}
		if err := l.Check(); err != nil {
			t.Fatalf("%d free pages written out, check: %v", free, err)
		}
		l.Close()
	}
}

// A record whose stored value is damaged past its first sighting (its
// status time, its earlier statuses, bytes after them) is damage to the
// lean read as to the full one: the full recompute reads only the lean
// one, and would reconcile the books of a damaged file without a word.
func TestALeanReadReportsDamageInARecordsTail(t *testing.T) {
	for name, damage := range map[string]func(v []byte) []byte{
		"a byte after it":               func(v []byte) []byte { return append(v, 1) },
		"earlier statuses that are cut": func(v []byte) []byte { return append(v[:len(v)-1], 3) },
		"its status time cut":           func(v []byte) []byte { return v[:len(v)-2] },
	} {
		t.Run(name, func(t *testing.T) {
			l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			var recs []domain.Record
			for i := range 5 {
				recs = append(recs, rec(fmt.Sprintf("pay-%d", i), "purchase", "paid", int64(100+i), fmt.Sprintf("a.csv:%d", i+2)))
			}
			if _, err := l.ImportRecords(recs, Import{File: "a.csv"}, t0); err != nil {
				t.Fatal(err)
			}
			if err := l.update(func(tx *bolt.Tx) error {
				k, v := recordsIn(tx).Cursor().Seek(nil)
				return putRecordEntry(tx, bytes.Clone(k), damage(bytes.Clone(v)))
			}); err != nil {
				t.Fatal(err)
			}
			var d *DamagedError
			if err := l.ForEachRecord(func(*StoredRecord) error { return nil }); !errors.As(err, &d) {
				t.Fatalf("the full read: %v, want damage", err)
			}
			if err := l.ForEachRecordLean(func(*StoredRecord) error { return nil }); !errors.As(err, &d) || !strings.Contains(d.What, "merchant record") {
				t.Fatalf("the lean read: %v, want damage named as the full read names it", err)
			}
		})
	}
}

// Whatever damage a stored operation or record takes (a byte changed,
// the value cut or grown), the lean read calls it damage exactly when the
// full one does, and never panics.
func TestLeanAndFullReadsCallTheSameValuesDamaged(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	op := sale(20000000000000001, "pay-1", "success")
	op.AccountNumber, op.CustomerID, op.ProviderPaymentID, op.Message = "4111 11** **** 1111", "cust-1", "prov-1", "a message of its own"
	if _, err := l.UpsertPage([]domain.Operation{op}, t0); err != nil {
		t.Fatal(err)
	}
	op.OperationStatus = "decline" // an earlier status in its tail
	if _, err := l.UpsertPage([]domain.Operation{op}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r := rec("pay-1", "purchase", "paid", 100, "a.csv:2")
	r.CustomerID, r.ProviderPaymentID, r.Method = "cust", "prov-1", "card"
	if _, err := l.ImportRecords([]domain.Record{r}, Import{File: "a.csv"}, t0); err != nil {
		t.Fatal(err)
	}
	r.Status = "failed" // an earlier status in its tail
	if _, err := l.ImportRecords([]domain.Record{r}, Import{File: "a.csv"}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	reads := map[string][2]func() error{
		string(bucketOps): {
			func() error { return l.ForEachByID(ctx, func(*domain.Operation) error { return nil }) },
			func() error { return l.ForEachByIDLean(ctx, func(*domain.Operation) error { return nil }) }},
		string(bucketRecords): {
			func() error { return l.ForEachRecord(func(*StoredRecord) error { return nil }) },
			func() error { return l.ForEachRecordLean(func(*StoredRecord) error { return nil }) }},
	}
	rnd := rand.New(rand.NewPCG(7, 13))
	for bucket, read := range reads {
		var key, orig []byte
		l.view(func(tx *bolt.Tx) error {
			k, v := root(tx).Bucket([]byte(bucket)).Cursor().First()
			if bucket == string(bucketRecords) { // the record, not its block
				k, v = recordsIn(tx).Cursor().Seek(nil)
			}
			key, orig = append([]byte(nil), k...), append([]byte(nil), v...)
			return nil
		})
		damaged := 0
		for i := range 600 {
			v := append([]byte(nil), orig...)
			switch i % 3 {
			case 0:
				v[rnd.IntN(len(v))] ^= byte(1 + rnd.IntN(255))
			case 1:
				v = v[:rnd.IntN(len(v))]
			default:
				v = append(v, byte(rnd.IntN(256)))
			}
			if err := l.update(func(tx *bolt.Tx) error { return putEntry(tx, bucket, key, v) }); err != nil {
				t.Fatal(err)
			}
			full, lean := read[0](), read[1]()
			if (full == nil) != (lean == nil) {
				t.Fatalf("%s, value %x: the full read says %v, the lean one %v", bucket, v, full, lean)
			}
			if full != nil {
				damaged++
			}
		}
		if damaged < 300 {
			t.Fatalf("%s: only %d of 600 damaged values called damage", bucket, damaged)
		}
		if err := l.update(func(tx *bolt.Tx) error { return putEntry(tx, bucket, key, orig) }); err != nil {
			t.Fatal(err)
		}
	}
}

// syncedFreeList is a closed database whose free list bbolt wrote out,
// of at least frees pages, and its header.
func syncedFreeList(t *testing.T, frees int) (string, header) {
	t.Helper()
	path, _ := filled(t)
	db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: 16 << 10, FreelistType: bolt.FreelistArrayType})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 9000) // a page each
	for from := 0; from < 2*frees; from += 5000 {
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("scratch"))
			if err != nil {
				return err
			}
			for i := from; i < from+5000 && i < 2*frees; i++ {
				if err := b.Put(binary.BigEndian.AppendUint64(nil, uint64(i)), big); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("scratch")).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if binary.BigEndian.Uint64(k)%2 == 0 { // one page in two: not one run
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Update(func(*bolt.Tx) error { return nil })
	db.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	h, problem := readHeader(f, fi.Size())
	if problem != "" || h.freelist == noFreelist {
		t.Fatalf("header: %s, free list at %d", problem, h.freelist)
	}
	return path, h
}

// A free list bbolt wrote out that is damaged is damage, whichever way:
// bbolt reads its count and its page ids as they are (past the pages, a
// count that overflows int panics) and hands the ids out for new pages
// (page 1 panics; a page past the end, one in use or one named twice is
// written over: the header, live data).
func TestADamagedFreeListIsDamage(t *testing.T) {
	for _, frees := range []int{300, 3000} { // on one page; over overflow pages (past 0xFFFF ids not reached)
		made, h := syncedFreeList(t, frees)
		file, err := os.ReadFile(made)
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name   string
			damage func(p []byte, h header, count int)
		}{
			{"a count past its pages", func(p []byte, h header, count int) {
				native.PutUint16(p[10:], uint16(min(0xFFFE, (len(p)-pageHeaderSize)/8+1)))
			}},
			{"0xFFFF ids and a first element that overflows int", func(p []byte, h header, count int) {
				native.PutUint16(p[10:], 0xFFFF)
				native.PutUint64(p[pageHeaderSize:], 1<<63+5)
			}},
			{"0xFFFF ids and a first element past its pages", func(p []byte, h header, count int) {
				native.PutUint16(p[10:], 0xFFFF)
				native.PutUint64(p[pageHeaderSize:], uint64(len(p)-pageHeaderSize)/8)
			}},
			{"page 1", func(p []byte, h header, count int) { native.PutUint64(p[pageHeaderSize+8*(count/2):], 1) }},
			{"page 0", func(p []byte, h header, count int) { native.PutUint64(p[pageHeaderSize:], 0) }},
			{"a page past the end", func(p []byte, h header, count int) {
				native.PutUint64(p[pageHeaderSize+8*(count-1):], h.pgid+3)
			}},
			{"a page in use", func(p []byte, h header, count int) { native.PutUint64(p[pageHeaderSize+8*(count/3):], h.root) }},
			{"its own page", func(p []byte, h header, count int) { native.PutUint64(p[pageHeaderSize+8*(count/3):], h.freelist) }},
			{"a page twice", func(p []byte, h header, count int) {
				native.PutUint64(p[pageHeaderSize+8*(count/2):], native.Uint64(p[pageHeaderSize+8*(count/2-1):]))
			}},
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%d %s", frees, c.name), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "r.db")
				if err := os.WriteFile(path, file, 0o600); err != nil {
					t.Fatal(err)
				}
				f, err := os.OpenFile(path, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				head := make([]byte, pageHeaderSize)
				f.ReadAt(head, int64(h.freelist)*h.pageSize)
				count, overflow := int(native.Uint16(head[10:])), native.Uint32(head[12:])
				if count == 0xFFFF || count < frees || frees > 1000 && overflow == 0 {
					t.Fatalf("the free list counts %d ids over %d pages", count, overflow+1)
				}
				p := make([]byte, int64(overflow+1)*h.pageSize)
				f.ReadAt(p, int64(h.freelist)*h.pageSize)
				c.damage(p, h, count)
				if _, err := f.WriteAt(p, int64(h.freelist)*h.pageSize); err != nil {
					t.Fatal(err)
				}
				f.Close()
				for _, ro := range []bool{true, false} {
					l, err := Open(path, Options{ReadOnly: ro})
					var d *DamagedError
					if !errors.As(err, &d) {
						if err == nil {
							l.Close()
						}
						t.Fatalf("open (read-only %v): %v, want damage", ro, err)
					}
				}
			})
		}
	}
}
