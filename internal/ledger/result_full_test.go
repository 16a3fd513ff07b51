package ledger

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// writeFull writes n items of one unit each through a FullWriter.
func writeFull(t *testing.T, l *Ledger, n int, reason string) (ResultState, error) {
	t.Helper()
	fw, err := l.BeginFull()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		u := domain.PaymentUnit(fmt.Sprintf("p-%06d", i))
		it := domain.Item{Result: domain.ResultMatched, Code: domain.ResultMatched, PaymentID: string(u[1:]), Type: domain.RecordPurchase,
			Merchant: &domain.Record{Amount: domain.Money{Amount: int64(i), Currency: "EUR"}, Status: domain.RecordPaid}, Reason: reason,
			CreatedAt: time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC)}
		p := domain.Place{Key: fmt.Sprintf("g%08d", i), Owner: u}
		if err := fw.Add(u, []domain.Item{it}, []domain.Place{p}, []uint64{uint64(i + 1)}); err != nil {
			fw.Abort()
			return ResultState{}, err
		}
	}
	return fw.Finish(ResultWrite{At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Config: "c"})
}

// A full write of many chunks, each committed by the writer's goroutine
// while the next is filled, stores every item once, in order.
func TestFullWriteInManyChunks(t *testing.T) {
	defer func(n int) { fullChunk = n }(fullChunk)
	fullChunk = 512
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, err := writeFull(t, l, 3000, "first")
	if err != nil || st.Items != 3000 || st.Counts[domain.ResultMatched] != 3000 || st.Recomputed != 3000 {
		t.Fatalf("state %+v, %v", st, err)
	}
	n := 0
	err = l.ForEachItem(func(it *domain.Item) error {
		if want := fmt.Sprintf("p-%06d", n); it.PaymentID != want || it.Reason != "first" || it.Merchant.Amount.Amount != int64(n) {
			return fmt.Errorf("item %d is %s %q %d", n, it.PaymentID, it.Reason, it.Merchant.Amount.Amount)
		}
		n++
		return nil
	})
	if err != nil || n != 3000 {
		t.Fatalf("%d items read back: %v", n, err)
	}
	// A second full write replaces the first whole.
	if _, err := writeFull(t, l, 10, "second"); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = l.ForEachItem(func(it *domain.Item) error { got = append(got, it.PaymentID+" "+it.Reason); return nil })
	if err != nil || len(got) != 10 || got[9] != "p-000009 second" {
		t.Fatalf("after the second write: %v, %v", got, err)
	}
}

// A full write whose staging another one took away fails, and leaves the
// stored result as it was.
func TestFullWriteThatFailsKeepsTheOldResult(t *testing.T) {
	defer func(n int) { fullChunk = n }(fullChunk)
	fullChunk = 512
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := writeFull(t, l, 50, "kept"); err != nil {
		t.Fatal(err)
	}
	fw, err := l.BeginFull()
	if err != nil {
		t.Fatal(err)
	}
	other, err := l.BeginFull() // deletes fw's staging
	if err != nil {
		t.Fatal(err)
	}
	other.Abort()
	var failed error
	for i := 0; i < 200 && failed == nil; i++ {
		u := domain.PaymentUnit(fmt.Sprintf("q-%06d", i))
		it := domain.Item{Result: domain.ResultMatched, PaymentID: string(u[1:]), Reason: strings.Repeat("x", 40)}
		failed = fw.Add(u, []domain.Item{it}, []domain.Place{{Key: fmt.Sprintf("g%08d", i), Owner: u}}, nil)
	}
	if failed == nil {
		_, failed = fw.Finish(ResultWrite{At: time.Now()})
	} else {
		fw.Abort()
	}
	if failed == nil || !strings.Contains(failed.Error(), "gone") {
		t.Fatalf("the write whose staging went: %v", failed)
	}
	st, ok, err := l.Result()
	if err != nil || !ok || st.Items != 50 {
		t.Fatalf("the stored result after it: %+v %v %v", st, ok, err)
	}
}

// A full write that stops after some chunks (a kill: nothing is rolled
// back by hand) leaves the stored result as it was and a database check
// passes; the next full write starts over.
func TestFullWriteStoppedMidwayLeavesTheOldResult(t *testing.T) {
	defer func(n int) { fullChunk = n }(fullChunk)
	fullChunk = 512
	path := filepath.Join(t.TempDir(), "r.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeFull(t, l, 40, "kept"); err != nil {
		t.Fatal(err)
	}
	fw, err := l.BeginFull()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		u := domain.PaymentUnit(fmt.Sprintf("q-%06d", i))
		it := domain.Item{Result: domain.ResultMatched, PaymentID: string(u[1:]), Reason: "lost"}
		if err := fw.Add(u, []domain.Item{it}, []domain.Place{{Key: fmt.Sprintf("g%08d", i), Owner: u}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	fw.Abort() // as far as the database is concerned, a kill after some chunks' commits
	l.Close()
	l, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rep, err := l.Verify(context.Background(), false)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("check after a stopped full write: %v %v", rep.Problems, err)
	}
	st, ok, err := l.Result()
	if err != nil || !ok || st.Items != 40 {
		t.Fatalf("stored result %+v %v %v", st, ok, err)
	}
	if st, err := writeFull(t, l, 7, "next"); err != nil || st.Items != 7 {
		t.Fatalf("the next full write: %+v %v", st, err)
	}
}

// Past its limit, Gather stops reading the marks and says so: the caller
// recomputes everything instead.
func TestGatherPastItsLimitSaysTooMany(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := writeFull(t, l, 3, "x"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var page []domain.Operation
	for i := range 50 {
		page = append(page, domain.Operation{OperationID: uint64(100 + i), ProjectID: 1, PaymentID: fmt.Sprintf("n-%d", i),
			OperationType: "sale", OperationStatus: "success", CreatedAt: at, SumInitial: domain.Money{Amount: 1, Currency: "EUR"}})
	}
	if _, err := l.UpsertPage(page, at); err != nil {
		t.Fatal(err)
	}
	all := func(*domain.Operation) bool { return true }
	if g, err := l.Gather(at, nil, all, 10); err != nil || !g.TooMany {
		t.Fatalf("50 changed payments, limit 10: TooMany %v, %v", g.TooMany, err)
	}
	if g, err := l.Gather(at, nil, all, 1000); err != nil || g.TooMany || g.Changed != 50 {
		t.Fatalf("limit 1000: TooMany %v, %d changed, %v", g.TooMany, g.Changed, err)
	}
}

// A transaction that changes more units than an incremental run takes (a
// new book of a million lines) writes one bulk mark instead of listing
// them: Gather says TooMany without reading a list, Behind says more than
// the limit changed, Check accepts it and a full recompute consumes it.
func TestABulkChangeIsMarkedAsOne(t *testing.T) {
	defer func(n int) { bulkMark = n }(bulkMark)
	bulkMark = 10
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := writeFull(t, l, 3, "x"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	page := func(from, n int) []domain.Operation {
		var p []domain.Operation
		for i := from; i < from+n; i++ {
			p = append(p, domain.Operation{OperationID: uint64(100 + i), ProjectID: 1, PaymentID: fmt.Sprintf("n-%d", i),
				OperationType: "sale", OperationStatus: "success", CreatedAt: at, SumInitial: domain.Money{Amount: 1, Currency: "EUR"}})
		}
		return p
	}
	if _, err := l.UpsertPage(page(0, 5), at); err != nil { // listed: under the limit
		t.Fatal(err)
	}
	all := func(*domain.Operation) bool { return true }
	if g, err := l.Gather(at, nil, all, 1000); err != nil || g.TooMany || g.Changed != 5 {
		t.Fatalf("5 changed: TooMany %v, %d changed, %v", g.TooMany, g.Changed, err)
	}
	if _, err := l.UpsertPage(page(5, 50), at); err != nil { // past it: one bulk mark
		t.Fatal(err)
	}
	var marks [][]byte
	l.view(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketDirty).ForEach(func(k, v []byte) error { marks = append(marks, append([]byte(nil), v...)); return nil })
	})
	if len(marks) != 2 || len(marks[1]) > 8 {
		t.Fatalf("marks: %d, the second %d bytes; want 2, the second a bulk mark of a few bytes", len(marks), len(marks[1]))
	}
	if g, err := l.Gather(at, nil, all, 1000); err != nil || !g.TooMany {
		t.Fatalf("after a bulk change, even under Gather's own limit: TooMany %v, %v", g.TooMany, err)
	}
	b, err := l.Behind(at)
	if err != nil || !b.Bulk || b.Changed != 5 {
		t.Fatalf("Behind: %+v, %v; want Bulk and the 5 listed", b, err)
	}
	if err := l.Check(); err != nil {
		t.Fatalf("check with a bulk mark: %v", err)
	}
	if _, err := writeFull(t, l, 3, "y"); err != nil {
		t.Fatal(err)
	}
	if b, err := l.Behind(at); err != nil || b.Bulk || b.Changed != 0 {
		t.Fatalf("after a full recompute, Behind: %+v, %v", b, err)
	}
}

// A full write's unit entries: a unit's parts merged wherever they came
// (another project's payment of the same id, its records without an
// operation), its item keys in the order they were added, its operation
// ids sorted once each, its links and vias sorted once each, and units
// with links or vias but no item of their own in their places among the
// others.
func TestFullWriteUnitEntries(t *testing.T) {
	defer func(n int) { fullChunk = n }(fullChunk)
	for _, chunk := range []int{16 << 20, 200} { // one chunk; many, the units' too
		fullChunk = chunk
		l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		fw, err := l.BeginFull()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		keys := map[domain.Unit][]string{}
		add := func(u domain.Unit, items int, ops ...uint64) {
			var its []domain.Item
			var ps []domain.Place
			for range items {
				n++
				its = append(its, domain.Item{Result: domain.ResultMatched, Code: domain.ResultMatched, PaymentID: "x", Type: domain.RecordPurchase})
				ps = append(ps, domain.Place{Key: fmt.Sprintf("g%06d", n), Owner: u})
				keys[u] = append(keys[u], ps[len(ps)-1].Key)
			}
			if err := fw.Add(u, its, ps, ops); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string]string{}
		for i := range 60 {
			u := domain.PaymentUnit(fmt.Sprintf("p-%03d", 59-i))
			add(u, 1+i%3, uint64(900-i), uint64(900-i))
			want[string(u)] = fmt.Sprintf("items %v ops [%d] links [] vias []", keys[u], 900-i)
		}
		add(domain.PaymentUnit("p-010"), 2, 5, 1, 851) // a second part of p-010, far from its first
		add(domain.PaymentUnit("p-020"), 0, 7)         // operations only
		add(domain.ProviderUnit("prov-1"), 1)          // a record without an operation
		links := [][2]domain.Unit{{domain.ProviderUnit("prov-1"), domain.PaymentUnit("p-030")}, {domain.OperationUnit(77), domain.PaymentUnit("p-030")},
			{domain.OperationUnit(77), domain.PaymentUnit("p-030")}}
		fbs := []domain.Fallback{{Via: domain.ProviderUnit("zz"), Owner: domain.ProviderUnit("prov-1")}, {Via: domain.ProviderUnit("aa"), Owner: domain.ProviderUnit("prov-1")},
			{Via: domain.ProviderUnit("aa"), Owner: domain.ProviderUnit("prov-1")}, {Via: domain.OperationUnit(5), Owner: domain.PaymentUnit("p-000x")}}
		if _, err := fw.Finish(ResultWrite{At: t0, Config: "c", Links: links, Fallbacks: fbs}); err != nil {
			t.Fatal(err)
		}
		want["Pp-010"] = fmt.Sprintf("items %v ops [1 5 851] links [] vias []", keys["Pp-010"])
		want["Pp-020"] = fmt.Sprintf("items %v ops [7 861] links [] vias []", keys["Pp-020"])
		want["Pp-030"] = fmt.Sprintf("items %v ops [871] links [O77 Vprov-1] vias []", keys["Pp-030"])
		want["Vprov-1"] = fmt.Sprintf("items %v ops [] links [Pp-030] vias [Vaa Vzz]", keys["Vprov-1"])
		want["O77"] = "items [] ops [] links [Pp-030] vias []"
		want["Pp-000x"] = "items [] ops [] links [] vias [O5]"
		var got []string
		l.view(func(tx *bolt.Tx) error {
			return unitsOf(root(tx).Bucket(bucketResult)).ForEach(func(k, v []byte) error {
				e, err := decodeUnit(v)
				if err != nil {
					return err
				}
				u := string(k)
				got = append(got, u)
				if g := fmt.Sprintf("items %v ops %v links %v vias %v", e.items, e.ops, e.links, e.vias); g != want[u] {
					t.Errorf("chunk %d, unit %s: %s, want %s", chunk, u, g, want[u])
				}
				return nil
			})
		})
		l.Close()
		if len(got) != len(want) {
			t.Errorf("chunk %d: %d unit entries, want %d", chunk, len(got), len(want))
		}
	}
}

// A full write whose chunk transactions fail (another full write took
// its staging) ends its goroutines wherever the failure surfaces: in
// Finish's last hand-over of items (the committer had failed a chunk Add
// handed it), or in a transaction of the units' entries. A committer left
// waiting for chunks that never come keeps the writer, and every unit's
// keys and ids, for the process's life (the daemon's).
func TestAFailedFullWriteLeavesNoGoroutine(t *testing.T) {
	defer func(n int) { fullChunk = n }(fullChunk)
	fullChunk = 512
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := writeFull(t, l, 20, "kept"); err != nil {
		t.Fatal(err)
	}
	steal := func() {
		other, err := l.BeginFull() // deletes the staging of the one begun before
		if err != nil {
			t.Fatal(err)
		}
		other.Abort()
	}
	add := func(fw *FullWriter, i int, items bool) error {
		u := domain.PaymentUnit(fmt.Sprintf("q-%06d", i))
		if !items {
			return fw.Add(u, nil, nil, []uint64{uint64(i + 1)})
		}
		it := domain.Item{Result: domain.ResultMatched, PaymentID: string(u[1:]), Reason: strings.Repeat("x", 40)}
		return fw.Add(u, []domain.Item{it}, []domain.Place{{Key: fmt.Sprintf("g%08d", i), Owner: u}}, nil)
	}
	// The items: Add hands a first chunk over, which fails; a second
	// hand-over waits for the committer, which has failed by then (it
	// gives the chunk back only after it said so), so that Finish is
	// where the failure is seen. Add may see it first (the committer was
	// quicker than the engine): then again.
	seen := false
	for round := 0; round < 50 && !seen; round++ {
		fw, err := l.BeginFull()
		if err != nil {
			t.Fatal(err)
		}
		steal()
		flushes := 0
		for i := 0; flushes < 2 && err == nil; i++ {
			if err = add(fw, i, true); err == nil && len(fw.pending) == 0 {
				flushes++
			}
		}
		if err != nil {
			fw.Abort()
			continue
		}
		add(fw, 1_000_000, true) // something left for Finish to hand over
		if _, err := fw.Finish(ResultWrite{At: t0}); err == nil || !strings.Contains(err.Error(), "gone") {
			t.Fatalf("round %d: a full write whose staging went: %v", round, err)
		}
		seen = true
	}
	if !seen {
		t.Fatal("in 50 rounds Add always saw the failure first")
	}
	noWriterGoroutine(t, "a failure seen by Finish's hand-over of the items")
	// The units' entries: no item to hand over, the entries' first
	// transaction fails; the encoder must not be left waiting to send.
	fw, err := l.BeginFull()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if err := add(fw, i, false); err != nil {
			t.Fatal(err)
		}
	}
	steal()
	if _, err := fw.Finish(ResultWrite{At: t0}); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("a full write whose staging went before its units: %v", err)
	}
	noWriterGoroutine(t, "a failure in the units' entries")
	if st, ok, err := l.Result(); err != nil || !ok || st.Items != 20 {
		t.Fatalf("the stored result after them: %+v %v %v", st, ok, err)
	}
}

// noWriterGoroutine fails if a FullWriter's committer or encoder is
// parked for good; it waits for those still running to end (a goroutine
// that was told to stop ends; one left waiting never does, and parks).
func noWriterGoroutine(t *testing.T, after string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		live := false
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if !strings.Contains(g, "(*FullWriter).commit(") && !strings.Contains(g, "(*FullWriter).encodeUnits(") {
				continue
			}
			live = true
			if head, _, _ := strings.Cut(g, "\n"); strings.Contains(head, "chan receive") || strings.Contains(head, "chan send") {
				t.Fatalf("after %s, a writer goroutine is left waiting:\n%s", after, g)
			}
		}
		if !live {
			return
		}
		runtime.Gosched()
	}
}

// oldUnitEntries are the units' entries as Finish made them before it
// encoded them on a goroutine of its own (3f0a8a4): the reference the
// test below holds the new encoding to, byte for byte.
func oldUnitEntries(f *FullWriter, w ResultWrite) [][2]string {
	order := make([]int32, len(f.parts))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(f.parts[a].unit, f.parts[b].unit) })
	extra := map[domain.Unit]*unitEntry{}
	get := func(u domain.Unit) *unitEntry {
		if extra[u] == nil {
			extra[u] = &unitEntry{}
		}
		return extra[u]
	}
	for _, l := range w.Links {
		get(l[0]).links = append(get(l[0]).links, l[1])
		get(l[1]).links = append(get(l[1]).links, l[0])
	}
	for _, fb := range w.Fallbacks {
		get(fb.Owner).vias = append(get(fb.Owner).vias, fb.Via)
	}
	var entries [][2]string
	var e unitEntry
	emit := func(u domain.Unit) {
		if x := extra[u]; x != nil {
			e.links, e.vias = slices.Clone(x.links), slices.Clone(x.vias)
			delete(extra, u)
		}
		for _, us := range []*[]domain.Unit{&e.links, &e.vias} {
			slices.Sort(*us)
			*us = slices.Compact(*us)
		}
		slices.Sort(e.ops)
		e.ops = slices.Compact(e.ops)
		if !e.empty() {
			entries = append(entries, [2]string{string(u), string(appendUnit(nil, &e))})
		}
		e = unitEntry{}
	}
	for i, pi := range order {
		p := &f.parts[pi]
		r := reader{b: f.keysOf(pi)}
		for len(r.b) > 0 && r.err == nil {
			e.items = append(e.items, r.string())
		}
		e.ops = append(e.ops, f.opsOf(pi)...)
		if i+1 == len(order) || f.parts[order[i+1]].unit != p.unit {
			emit(p.unit)
		}
	}
	if len(extra) > 0 {
		rest := make([]domain.Unit, 0, len(extra))
		for u := range extra {
			rest = append(rest, u)
		}
		slices.Sort(rest)
		sorted := entries
		entries = nil
		for _, u := range rest {
			emit(u)
		}
		more := entries
		entries = nil
		for len(sorted) > 0 || len(more) > 0 {
			if len(more) == 0 || len(sorted) > 0 && sorted[0][0] < more[0][0] {
				entries, sorted = append(entries, sorted[0]), sorted[1:]
			} else {
				entries, more = append(entries, more[0]), more[1:]
			}
		}
	}
	return entries
}

// The units' entries Finish writes are those the code before it wrote,
// byte for byte, on random writes: many parts per unit, parts with
// operations only, links and fallbacks to units with parts and without,
// and chunks small enough that both the items and the entries take many.
func TestFullWriteUnitEntriesAreTheOldOnes(t *testing.T) {
	defer func(n int) { fullChunk = n }(fullChunk)
	rnd := rand.New(rand.NewPCG(3, 13))
	var pool []domain.Unit
	for i := range 12 {
		pool = append(pool, domain.PaymentUnit(fmt.Sprintf("p-%d", i)), domain.ProviderUnit(fmt.Sprintf("v-%d", i%4)), domain.OperationUnit(uint64(100+i)))
	}
	loners := []domain.Unit{domain.PaymentUnit("a-first"), domain.PaymentUnit("p-5x"), domain.ProviderUnit("zz"), domain.OperationUnit(7)} // never a part
	pick := func() domain.Unit {
		if rnd.IntN(5) == 0 {
			return loners[rnd.IntN(len(loners))]
		}
		return pool[rnd.IntN(len(pool))]
	}
	for round := range 40 {
		fullChunk = []int{64, 300, 16 << 20}[round%3]
		l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		fw, err := l.BeginFull()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for range 1 + rnd.IntN(300) {
			u := pool[rnd.IntN(len(pool))]
			var its []domain.Item
			var ps []domain.Place
			for range rnd.IntN(4) {
				n++
				its = append(its, domain.Item{Result: domain.ResultMatched, Code: domain.ResultMatched, PaymentID: "x", Type: domain.RecordPurchase})
				ps = append(ps, domain.Place{Key: fmt.Sprintf("g%06d%s", n, strings.Repeat("k", rnd.IntN(150))), Owner: u})
			}
			var ops []uint64
			for range rnd.IntN(5) {
				ops = append(ops, uint64(1+rnd.IntN(40)))
			}
			if err := fw.Add(u, its, ps, ops); err != nil {
				t.Fatal(err)
			}
		}
		var w ResultWrite
		for range rnd.IntN(30) {
			w.Links = append(w.Links, [2]domain.Unit{pick(), pick()})
		}
		for range rnd.IntN(30) {
			w.Fallbacks = append(w.Fallbacks, domain.Fallback{Via: pick(), Owner: pick()})
		}
		w.At, w.Config = t0, "c"
		want := oldUnitEntries(fw, w)
		if _, err := fw.Finish(w); err != nil {
			t.Fatal(err)
		}
		var got [][2]string
		l.view(func(tx *bolt.Tx) error {
			return unitsOf(root(tx).Bucket(bucketResult)).ForEach(func(k, v []byte) error {
				got = append(got, [2]string{string(k), string(v)})
				return nil
			})
		})
		l.Close()
		if !slices.Equal(got, want) {
			for i := range max(len(got), len(want)) {
				var g, w [2]string
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if g != w {
					t.Fatalf("round %d (chunk %d): entry %d is %q %x, the old code's %q %x (%d entries, %d before)", round, fullChunk, i, g[0], g[1], w[0], w[1], len(got), len(want))
				}
			}
		}
	}
}

// Every writer writes a bulk mark past the limit, and lists its units
// under it; a mark written while a full recompute computes (after
// BeginFull), bulk or listed, stays for the next run, and the marks
// before it go.
func TestBulkMarksOfEveryWriterAndDuringAFullRecompute(t *testing.T) {
	defer func(n int) { bulkMark = n }(bulkMark)
	bulkMark = 4
	l, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := writeFull(t, l, 3, "x"); err != nil {
		t.Fatal(err)
	}
	n := 0
	page := func(k int) []domain.Operation {
		var p []domain.Operation
		for range k {
			n++
			p = append(p, sale(30000000000000000+uint64(n), fmt.Sprintf("n-%d", n), "success"))
		}
		return p
	}
	books := func(k int) []domain.Record {
		var rs []domain.Record
		for range k {
			n++
			rs = append(rs, rec(fmt.Sprintf("b-%d", n), "purchase", "paid", 100, fmt.Sprintf("b.csv:%d", n)))
		}
		return rs
	}
	resolutions := func(k int) []domain.Resolution {
		var rs []domain.Resolution
		for range k {
			n++
			rs = append(rs, domain.Resolution{ID: fmt.Sprintf("r-%d", n), Type: domain.RecordPurchase, Code: domain.ResultMissingInRecords})
		}
		return rs
	}
	marks := func() (kinds string) {
		l.view(func(tx *bolt.Tx) error {
			return root(tx).Bucket(bucketDirty).ForEach(func(k, v []byte) error {
				units := 0
				if err := eachMark(k, v, func(domain.Unit, []uint64) error { units++; return nil }); err != nil {
					return err
				}
				if isBulkMark(v) {
					kinds += "B"
				} else {
					kinds += fmt.Sprint(units)
				}
				return nil
			})
		})
		return kinds
	}
	write := func(what string, f func() error) {
		t.Helper()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	write("a page of 4", func() error { _, err := l.UpsertPage(page(4), t0); return err })
	write("a page of 5", func() error { _, err := l.UpsertPage(page(5), t0); return err })
	write("books of 3", func() error { _, err := l.ImportRecords(books(3), Import{File: "b.csv"}, t0); return err })
	write("books of 9", func() error { _, err := l.ImportRecords(books(9), Import{File: "c.csv"}, t0); return err })
	rs := resolutions(3) // each names a payment id only: one unit each
	write("3 resolutions", func() error { return l.SaveResolutions(rs, nil) })
	more := resolutions(6)
	write("6 resolutions", func() error { return l.SaveResolutions(more, nil) })
	var keys []domain.ResolutionKey
	for _, r := range more {
		keys = append(keys, r.Key())
	}
	write("6 taken back", func() error { return l.DeleteResolutions(keys, nil) })
	write("2 taken back", func() error { return l.DeleteResolutions([]domain.ResolutionKey{rs[0].Key(), rs[1].Key()}, nil) })
	if got, want := marks(), "4B3B3BB2"; got != want {
		t.Fatalf("marks %s, want %s (a number: the units listed; B: a bulk mark)", got, want)
	}
	all := func(*domain.Operation) bool { return true }
	if g, err := l.Gather(t0, nil, all, 1000); err != nil || !g.TooMany {
		t.Fatalf("listed marks with bulk ones between: TooMany %v, %v", g.TooMany, err)
	}
	if b, err := l.Behind(t0); err != nil || !b.Bulk || b.Changed != 4+3+3 { // the 2 taken back are of the 3
		t.Fatalf("Behind %+v, %v: want Bulk and the %d units listed", b, err, 4+3+3)
	}
	rep, err := l.Verify(context.Background(), false)
	if err != nil || !rep.OK() {
		t.Fatalf("check with bulk marks: %v %v", rep.Problems, err)
	}
	if line := strings.Join(rep.Checked, "\n"); !strings.Contains(line, fmt.Sprintf("more than %d payments marked changed since", BulkMark)) {
		t.Fatalf("check with bulk marks says:\n%s", line)
	}
	// A full recompute; a listed mark and a bulk one land while it computes.
	fw, err := l.BeginFull()
	if err != nil {
		t.Fatal(err)
	}
	write("a page of 2 during", func() error { _, err := l.UpsertPage(page(2), t0); return err })
	write("books of 7 during", func() error { _, err := l.ImportRecords(books(7), Import{File: "d.csv"}, t0); return err })
	u := domain.PaymentUnit("p-0")
	if err := fw.Add(u, []domain.Item{{Result: domain.ResultMatched, PaymentID: "p-0"}}, []domain.Place{{Key: "g1", Owner: u}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Finish(ResultWrite{At: t0, Config: "c"}); err != nil {
		t.Fatal(err)
	}
	if got, want := marks(), "2B"; got != want {
		t.Fatalf("after the full recompute, marks %s, want %s: those written while it computed", got, want)
	}
	if g, err := l.Gather(t0, nil, all, 1000); err != nil || !g.TooMany {
		t.Fatalf("the bulk mark kept: TooMany %v, %v", g.TooMany, err)
	}
	if _, err := writeFull(t, l, 3, "y"); err != nil {
		t.Fatal(err)
	}
	if got := marks(); got != "" {
		t.Fatalf("after the next full recompute, marks %s", got)
	}
}
