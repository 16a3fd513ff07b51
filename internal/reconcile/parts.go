package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"reconciled/internal/domain"
)

// A payment's refunds. A sale refunded in parts has several successful
// refund operations; each is an item of its own, paired with its own
// merchant record:
//
//  1. a record that carries an operation_id or provider_payment_id takes
//     that refund (two records taking one refund are a duplicate);
//  2. then records take refunds of agreeing outcome (a paid record a
//     successful refund, a failed one a failed refund) whose amount is
//     within amount_tolerance, the closest;
//  3. a record left that is the same as one already paired is that line
//     twice: a duplicate of its twin;
//  4. then records take refunds of agreeing outcome in time order, then of
//     an amount within the tolerance, then any, in time order;
//  5. a successful refund left is missing_in_records, a record left
//     missing_at_provider (pending within the limit time).
//
// A refund reverse takes back the successful refund before it of equal
// amount (else the latest one): that refund's side becomes "reversed", a
// failure that moved no money, which a failed record agrees with. A
// reverse with no refund to take back is money that came back unexplained:
// missing_in_records.

// part is one refund operation and what is paired with it.
type part struct {
	op       *domain.Operation
	m        opMeta
	reverses []opRef // refund reverses that take it back
	recs     []*domain.Record
	by       uint8 // how the first record was paired
	s        side
}

func (e *engine) refunds(out []domain.Item, project int64, payment *domain.Operation, ops []opRef, recs []*domain.Record, recBy map[*domain.Record]uint8) []domain.Item {
	var parts []*part
	var reverses []opRef
	for _, r := range ops {
		if r.m.kind() == domain.KindRefundReverse {
			reverses = append(reverses, r)
		} else {
			parts = append(parts, &part{op: r.op, m: r.m})
		}
	}
	var orphanReverses []*domain.Operation
	for _, rv := range reverses {
		if p := e.reversed(parts, rv.op); p != nil {
			p.reverses = append(p.reverses, rv)
		} else if rv.m.outcome() == domain.OutcomeSuccess {
			orphanReverses = append(orphanReverses, rv.op)
		}
	}
	for _, p := range parts {
		p.s = e.refundSide(p)
	}

	// Pairing.
	left := make([]*domain.Record, 0, len(recs))
	claims := claimsOf(parts, len(recs))
	for _, r := range recs {
		if p, by := claims.claimed(parts, r); p != nil {
			if len(p.recs) == 0 {
				p.by = by
			}
			p.recs = append(p.recs, r)
			continue
		}
		left = append(left, r)
	}
	agree := func(r *domain.Record, p *part) bool { return e.agrees(r, p.s) }
	anyOutcome := func(*domain.Record, *part) bool { return true }
	left = e.pair(parts, left, recBy, agree, true)
	left = twins(parts, left)
	left = e.pair(parts, left, recBy, agree, false)
	left = e.pair(parts, left, recBy, anyOutcome, true)
	left = e.pair(parts, left, recBy, anyOutcome, false)

	// Items: the refunds in time order, then the records left, then the
	// reverses that took nothing back.
	start := len(out)
	for _, p := range parts {
		opsOf := func() []*domain.Operation {
			out := []*domain.Operation{p.op}
			for _, rv := range p.reverses {
				out = append(out, rv.op)
			}
			return out
		}
		it, ok := e.judge(project, domain.RecordRefund, payment, p.s, opsOf, p.recs, p.by)
		if !ok {
			continue
		}
		it.Part = "operation:" + strconv.FormatUint(p.op.OperationID, 10)
		out = append(out, it)
	}
	// Records left that are the same line several times are one item.
	for _, group := range groupTwins(left) {
		by := byNone
		for _, r := range group {
			by = max(by, byBest(recBy[r]))
		}
		it, ok := e.judge(project, domain.RecordRefund, payment, side{}, func() []*domain.Operation { return nil }, group, unrank(by))
		if !ok {
			continue
		}
		it.Part = recordPart(group[0])
		out = append(out, it)
	}
	for _, rv := range orphanReverses {
		it := domain.Item{Type: domain.RecordRefund, ProjectID: project, Result: domain.ResultMissingInRecords, Provider: rv}
		fill(&it, rv, nil)
		it.Reason = fmt.Sprintf("ECommPay %s %d of %s succeeded at %s, with no refund of this payment to take back",
			rv.OperationType, rv.OperationID, rv.SumInitial, stamp(rv.CompletedAt))
		it.Code = it.Result
		it.Fingerprint = fingerprint(&it, []*domain.Operation{rv}, nil)
		it.Part = "operation:" + strconv.FormatUint(rv.OperationID, 10)
		out = append(out, it)
	}
	if n := len(out) - start; n > 1 {
		for k := range out[start:] {
			it := &out[start+k]
			it.Reason = fmt.Sprintf("refund %d of %d: %s", k+1, n, it.Reason)
		}
	}
	held := false
	for k := range out[start:] {
		held = e.finish(&out[start+k]) || held
	}
	e.reopenLegacy(out[start:], held)
	return out
}

// reopenLegacy re-opens, once, a refund resolution made before parts had
// keys (an empty Part: the release before made one item of all a
// payment's refunds) that no part's data matches any more, on the first
// part that is an exception of its own: without it the resolution would
// neither hold nor say why.
func (e *engine) reopenLegacy(items []domain.Item, held bool) {
	if held || len(items) == 0 {
		return
	}
	k := KeyOf(&items[0])
	k.Part = ""
	r, ok := e.res[k]
	if !ok {
		return
	}
	for i := range items {
		it := &items[i]
		if it.Part == "" {
			return // an item of the old kind: finish judged it
		}
		if _, own := e.res[KeyOf(it)]; !own && domain.IsException(it.Result) {
			e.reopen(it, r)
			return
		}
	}
}

// reversed is the refund a refund reverse takes back: the latest
// successful one before it of equal amount not taken back yet, else the
// latest successful one not taken back, else nil.
func (e *engine) reversed(parts []*part, rv *domain.Operation) *part {
	var best *part
	for _, p := range parts {
		if p.m.outcome() != domain.OutcomeSuccess || p.op.CreatedAt.After(rv.CreatedAt) || takenBack(p) {
			continue
		}
		if best == nil || p.op.SumInitial == rv.SumInitial || best.op.SumInitial != rv.SumInitial {
			best = p
		}
	}
	return best
}

// takenBack reports whether a successful reverse already took p back.
func takenBack(p *part) bool {
	for _, rv := range p.reverses {
		if rv.m.outcome() == domain.OutcomeSuccess {
			return true
		}
	}
	return false
}

// refundSide is ECommPay's side of one refund: the refund's own outcome,
// unless a reverse took it back (or is taking it back).
func (e *engine) refundSide(p *part) side {
	s := side{op: p.op, outcome: p.m.outcome(), status: p.op.OperationStatus}
	if s.outcome == domain.OutcomeSuccess {
		s.charge = p.op
	}
	for _, r := range p.reverses {
		rv := r.op
		switch r.m.outcome() {
		case domain.OutcomeSuccess:
			s.outcome, s.status, s.charge = domain.OutcomeFailure, domain.StatusReversed, nil
			s.what = fmt.Sprintf("ECommPay %s %d of %s was taken back by %s %d at %s: no money went back",
				p.op.OperationType, p.op.OperationID, p.op.SumInitial, rv.OperationType, rv.OperationID, stamp(rv.CompletedAt))
			return s
		case domain.OutcomePending:
			s.outcome = domain.OutcomePending
			s.what = fmt.Sprintf("ECommPay %s %d is being taken back: %s %d is %s",
				p.op.OperationType, p.op.OperationID, rv.OperationType, rv.OperationID, rv.OperationStatus)
		}
	}
	return s
}

// Many refunds of one payment, many records: past manyParts (refunds ×
// records) the lookups below go through maps, giving what the loops give
// (the first in order); below, a payment's few compare directly. The
// loops made 16,000 refunds of one payment a run of seconds (n²);
// e.pair still is (BenchmarkRefundsOfOnePayment).
var manyParts = 1024 // a var for the test that compares both ways

// claims finds the refund a record names by id, when there are many.
type claims struct {
	byOp       map[uint64]*part
	byProvider map[string]*part
}

func claimsOf(parts []*part, recs int) *claims {
	if len(parts)*recs <= manyParts {
		return nil
	}
	c := &claims{byOp: make(map[uint64]*part, len(parts)), byProvider: map[string]*part{}}
	for _, p := range parts {
		if _, ok := c.byOp[p.op.OperationID]; !ok {
			c.byOp[p.op.OperationID] = p
		}
		if pp := p.op.ProviderPaymentID; pp != "" {
			if _, ok := c.byProvider[pp]; !ok {
				c.byProvider[pp] = p
			}
		}
	}
	return c
}

// claimed is claimed(parts, r), through c's maps when there are any.
func (c *claims) claimed(parts []*part, r *domain.Record) (*part, uint8) {
	if c == nil {
		return claimed(parts, r)
	}
	if p := c.byOp[r.OperationID]; r.OperationID != 0 && p != nil {
		return p, byOperation
	}
	if p := c.byProvider[r.ProviderPaymentID]; r.ProviderPaymentID != "" && p != nil {
		return p, byProvider
	}
	return nil, byNone
}

// claimed is the refund a record names by operation id, else by provider
// id (which several refunds may share: the operation id is the surer), and
// how.
func claimed(parts []*part, r *domain.Record) (*part, uint8) {
	if r.OperationID != 0 {
		for _, p := range parts {
			if r.OperationID == p.op.OperationID {
				return p, byOperation
			}
		}
	}
	if r.ProviderPaymentID != "" {
		for _, p := range parts {
			if r.ProviderPaymentID == p.op.ProviderPaymentID {
				return p, byProvider
			}
		}
	}
	return nil, byNone
}

// recordPart keys the item of a refund record that no refund took, by
// what the record says (not by its place among the others, which moves
// when another record is paired or added): "record:" and a short hash.
func recordPart(r *domain.Record) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d|%s|%s|%d|%d|%s|%s", r.Source, r.Amount.Amount, r.Amount.Currency, r.Status,
		r.CreatedAt.UnixNano(), r.OperationID, r.ProviderPaymentID, r.PaymentID)
	return "record:" + hex.EncodeToString(h.Sum(nil)[:6])
}

// pair gives each record left a refund without a record that ok accepts:
// the first in time order, or with closest the one whose amount is within
// the tolerance of the record's and nearest to it (the earliest of equals).
// It returns the records still left.
func (e *engine) pair(parts []*part, left []*domain.Record, recBy map[*domain.Record]uint8, ok func(*domain.Record, *part) bool, closest bool) []*domain.Record {
	rest := left[:0]
	for _, r := range left {
		var best *part
		var bestDiff uint64
		for _, p := range parts {
			if len(p.recs) > 0 || !ok(r, p) {
				continue
			}
			if !closest {
				best = p
				break
			}
			if r.Amount.Currency != p.op.SumInitial.Currency {
				continue
			}
			if d := distance(r.Amount.Amount, p.op.SumInitial.Amount); d <= uint64(max(e.cfg.AmountTolerance, 0)) && (best == nil || d < bestDiff) {
				best, bestDiff = p, d
			}
		}
		if best == nil {
			rest = append(rest, r)
			continue
		}
		best.recs, best.by = []*domain.Record{r}, recBy[r]
	}
	return rest
}

// twins adds each record left that says the same as a paired one to its
// twin's refund (the same line twice: a duplicate), and returns the rest.
func twins(parts []*part, left []*domain.Record) []*domain.Record {
	rest := left[:0]
	if len(parts)*len(left) > manyParts {
		// Twinned parts and their first records do not change here: the
		// first twin in order of each record's words, found once.
		first := map[twinKey]*part{}
		for _, p := range parts {
			if len(p.recs) > 0 {
				if k := twinOf(p.recs[0]); first[k] == nil {
					first[k] = p
				}
			}
		}
		for _, r := range left {
			if p := first[twinOf(r)]; p != nil {
				p.recs = append(p.recs, r)
				continue
			}
			rest = append(rest, r)
		}
		return rest
	}
next:
	for _, r := range left {
		for _, p := range parts {
			if len(p.recs) > 0 && sameRecord(p.recs[0], r) {
				p.recs = append(p.recs, r)
				continue next
			}
		}
		rest = append(rest, r)
	}
	return rest
}

// groupTwins groups records that say the same, in order of first.
func groupTwins(recs []*domain.Record) [][]*domain.Record {
	var groups [][]*domain.Record
	if len(recs)*len(recs) > manyParts {
		at := make(map[twinKey]int, len(recs))
		for _, r := range recs {
			k := twinOf(r)
			if i, ok := at[k]; ok {
				groups[i] = append(groups[i], r)
				continue
			}
			at[k] = len(groups)
			groups = append(groups, []*domain.Record{r})
		}
		return groups
	}
next:
	for _, r := range recs {
		for k, g := range groups {
			if sameRecord(g[0], r) {
				groups[k] = append(g, r)
				continue next
			}
		}
		groups = append(groups, []*domain.Record{r})
	}
	return groups
}

// twinKey is what sameRecord compares: records with equal keys are twins.
type twinKey struct {
	amount            domain.Money
	status            string
	sec               int64
	nsec              int
	op                uint64
	provider, payment string
}

func twinOf(r *domain.Record) twinKey {
	return twinKey{r.Amount, r.Status, r.CreatedAt.Unix(), r.CreatedAt.Nanosecond(), r.OperationID, r.ProviderPaymentID, r.PaymentID}
}

// sameRecord reports whether two records say the same thing (where they
// were read aside).
func sameRecord(a, b *domain.Record) bool {
	return a.Amount == b.Amount && a.Status == b.Status && a.CreatedAt.Equal(b.CreatedAt) &&
		a.OperationID == b.OperationID && a.ProviderPaymentID == b.ProviderPaymentID && a.PaymentID == b.PaymentID
}

// agrees reports whether a record's status and a side's outcome go
// together, for pairing: paid or refunded with success, failed with
// failure, pending with pending.
func (e *engine) agrees(r *domain.Record, s side) bool {
	switch r.Status {
	case domain.RecordPaid, domain.RecordRefunded:
		return s.outcome == domain.OutcomeSuccess
	case domain.RecordFailed:
		return s.outcome == domain.OutcomeFailure
	}
	return !s.outcome.Final()
}
