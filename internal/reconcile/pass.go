package reconcile

import (
	"encoding/binary"
	"runtime"
	"sync"

	"reconciled/internal/domain"
)

// The pass over the groups (Stream's loop: each payment's items, in the
// order of their first operation) judges each group on its own: nothing
// one group's items say depends on another's. A full recompute's million
// groups are judged on two goroutines when Stream has a sink, in batches
// of consecutive groups, each worker its own engine (the memos, buffers
// and slab Stream's engine changes as it judges) taking every second
// batch; Stream's goroutine hands the batches' items to the sink in
// their order, so the sink sees what one goroutine would have given it,
// and the re-checks and re-opened resolutions are collected in that order
// too. Run (no sink) and small inputs stay on one goroutine.

// parallelGroups is the fewest groups judged on two goroutines, and
// batchGroups the groups of one batch; variables for the tests.
var (
	parallelGroups = 1 << 14
	batchGroups    = 1024
)

// groupPass is what judging a group reads besides the engine: Stream's
// groups and the chargebacks of each.
type groupPass struct {
	groups    []group
	cbOfGroup map[int32][]int32
}

// feeCount counts the operations feeItems compared with their tariff
// (checked) or found none for (unchecked).
type feeCount struct{ checked, unchecked int }

// batch is the items of consecutive groups as one engine made them, with
// the buffers it reuses from group to group.
type batch struct {
	items         []domain.Item
	places        []Place
	opIDs         []uint64
	spans         []span // one per group, in order
	opBuf, recBuf []int32
	keyBuf        []byte
	fees          feeCount
	slab          slab // what the items point at (Item.Provider, Item.Merchant)
	recheck       []PaymentRef
	reopened      []Resolution
	panicked      any // the worker's panic, raised again on Stream's goroutine
}

// span is where one group's items, places and operation ids end in its
// batch, and the unit that owns them.
type span struct {
	owner                domain.Unit
	items, places, opIDs int
}

func (b *batch) reset() {
	b.items, b.places, b.opIDs, b.spans = b.items[:0], b.places[:0], b.opIDs[:0], b.spans[:0]
	b.fees, b.recheck, b.reopened = feeCount{}, b.recheck[:0], b.reopened[:0]
	b.slab.reset()
}

// groupItems appends the items of group gi to b, and returns the unit
// that owns them. withOps: the ids of its operations too.
func (e *engine) groupItems(b *batch, p *groupPass, gi int32, withOps bool) domain.Unit {
	g := &p.groups[gi]
	ops := e.ops.rows
	owner := domain.PaymentUnit(e.ops.paymentID(g.latest))
	var payment *domain.Operation // the payment's latest operation, made at its first use
	for n, ti := range byTypeName {
		b.opBuf, b.recBuf = b.opBuf[:0], b.recBuf[:0]
		for i := g.opHead[ti]; i >= 0; i = e.opNext[i] {
			b.opBuf = append(b.opBuf, i)
			if withOps {
				b.opIDs = append(b.opIDs, ops[i].id)
			}
		}
		for i := g.recHead[ti]; i >= 0; i = e.recNext[i] {
			b.recBuf = append(b.recBuf, i)
		}
		if len(b.opBuf) == 0 && len(b.recBuf) == 0 {
			continue
		}
		if payment == nil {
			payment = e.op(g.latest)
		}
		from := len(b.items)
		b.items = e.emit(b.items, g.project, domain.RecordTypes[ti], payment, b.opBuf, b.recBuf)
		b.items = e.feeItems(b.items, &b.fees, domain.RecordTypes[ti], b.opBuf)
		b.keyBuf = append(binary.BigEndian.AppendUint64(append(b.keyBuf[:0], 'g'), g.firstOp), byte(n))
		b.places = appendPlaces(b.places, b.keyBuf, owner, len(b.items)-from)
	}
	if run := p.cbOfGroup[gi]; len(run) > 0 {
		from := len(b.items)
		if payment == nil {
			payment = e.op(g.latest)
		}
		b.items = e.chargebackItems(b.items, run, payment)
		b.keyBuf = append(binary.BigEndian.AppendUint64(append(b.keyBuf[:0], 'g'), g.firstOp), byte(len(byTypeName)))
		b.places = appendPlaces(b.places, b.keyBuf, owner, len(b.items)-from)
	}
	return owner
}

// inParallel says whether Stream judges n groups on two goroutines.
func inParallel(n int) bool { return n >= parallelGroups && runtime.GOMAXPROCS(0) > 1 }

// passWorkers is how many goroutines judge in a parallel pass.
const passWorkers = 2

// worker is a copy of e that judges on a goroutine of its own: what e
// changes as it judges is its own, what it reads is e's.
func (e *engine) worker() *engine {
	w := *e
	w.kindIdx.words, w.kindIdx.idx = append([]string(nil), e.kindIdx.words...), append([]uint8(nil), e.kindIdx.idx...)
	w.outcomeIdx.words, w.outcomeIdx.idx = append([]string(nil), e.outcomeIdx.words...), append([]uint8(nil), e.outcomeIdx.idx...)
	w.refBuf, w.recBuf, w.slab, w.recheck, w.reopened = nil, nil, slab{}, nil, nil
	return &w
}

// passParallel is the pass over the groups of order on passWorkers
// goroutines, its items handed to sink in order. It stops at sink's
// first error; a worker's panic is raised again here.
func (e *engine) passParallel(p *groupPass, order []int32, sink Sink, fees *feeCount) error {
	type lane struct{ free, done chan *batch }
	var lanes [passWorkers]lane
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	batches := (len(order) + batchGroups - 1) / batchGroups
	for w := range lanes {
		l := lane{free: make(chan *batch, 2), done: make(chan *batch, 2)}
		l.free <- &batch{}
		l.free <- &batch{}
		lanes[w] = l
		we := e.worker()
		wg.Go(func() {
			for k := w; k < batches; k += passWorkers {
				var b *batch
				select {
				case b = <-l.free:
				case <-stop:
					return
				}
				b.reset()
				we.judgeBatch(b, p, order[k*batchGroups:min((k+1)*batchGroups, len(order))])
				select {
				case l.done <- b:
				case <-stop:
					return
				}
				if b.panicked != nil {
					return
				}
			}
		})
	}
	for k := range batches {
		l := lanes[k%passWorkers]
		b := <-l.done
		if b.panicked != nil {
			panic(b.panicked)
		}
		it, pl, op := 0, 0, 0
		for _, s := range b.spans {
			if err := sink(s.owner, b.items[it:s.items:s.items], b.places[pl:s.places:s.places], b.opIDs[op:s.opIDs:s.opIDs]); err != nil {
				return err
			}
			it, pl, op = s.items, s.places, s.opIDs
		}
		e.recheck = append(e.recheck, b.recheck...)
		e.reopened = append(e.reopened, b.reopened...)
		fees.checked += b.fees.checked
		fees.unchecked += b.fees.unchecked
		l.free <- b
	}
	return nil
}

// judgeBatch appends the items of the groups gs to b, which takes the
// slab they point at and the re-checks and re-openings they found.
func (e *engine) judgeBatch(b *batch, p *groupPass, gs []int32) {
	defer func() {
		if r := recover(); r != nil {
			b.panicked = r
		}
	}()
	e.slab, b.slab = b.slab, slab{}
	for _, gi := range gs {
		owner := e.groupItems(b, p, gi, true)
		b.spans = append(b.spans, span{owner: owner, items: len(b.items), places: len(b.places), opIDs: len(b.opIDs)})
	}
	b.slab, e.slab = e.slab, slab{}
	b.recheck, e.recheck = append(b.recheck, e.recheck...), e.recheck[:0]
	b.reopened, e.reopened = append(b.reopened, e.reopened...), e.reopened[:0]
}
