package reconcile

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"reconciled/internal/domain"
)

// side is ECommPay's side of one item, read from its operations.
type side struct {
	op      *domain.Operation // the operation compared and shown: ids, amount, method, time
	outcome domain.Outcome    // success, failure or pending (not final)
	// status is the ECommPay status compared with [reconcile.status_map]:
	// the operation's own, or "cancelled" for an authorisation released,
	// "reversed" for a refund taken back.
	status string
	// what says what ECommPay did when it is not simply "operation N is
	// <status>": "auth 12 succeeded: authorised, not captured yet".
	what string
	// charge is the first operation that moved money; charges lists them
	// all when there is more than one (a double charge), else it is nil:
	// most items have one, and a million slices of one are garbage.
	charge  *domain.Operation
	charges []*domain.Operation
	// unknown is the first operation of a type the vocabulary does not
	// know, unknownStatus the first in a status it does not know: the side
	// cannot be final while either is there.
	unknown, unknownStatus *domain.Operation
}

// emit appends the items of one (payment, type): one for a purchase or a
// payout, one per refund for refunds. payment is the payment's latest
// operation (nil when no operation was found), whose payment status is the
// newest.
func (e *engine) emit(out []domain.Item, project int64, typ string, payment *domain.Operation, opIdx, recIdx []int32) []domain.Item {
	// refs is reused from item to item: nothing keeps it (items point into
	// the input), and a million items would make a million slices.
	refs := e.refBuf[:0]
	defer func() { e.refBuf = refs[:0] }()
	for _, i := range opIdx {
		refs = append(refs, opRef{e.op(i), e.meta[i]})
	}
	slices.SortFunc(refs, func(a, b opRef) int {
		return cmp.Or(a.op.CreatedAt.Compare(b.op.CreatedAt), cmp.Compare(a.op.OperationID, b.op.OperationID))
	})
	recs := e.recBuf[:0] // reused likewise
	defer func() { e.recBuf = recs[:0] }()
	matched := byNone
	for _, i := range recIdx {
		recs = append(recs, e.rec(i))
		matched = max(matched, byBest(e.recBy[i]))
	}
	if typ == domain.RecordRefund {
		// Each record is paired on its own: how it found the payment goes
		// with it (a map, but refunds are few).
		by := make(map[*domain.Record]uint8, len(recIdx))
		for k, i := range recIdx {
			by[recs[k]] = e.recBy[i]
		}
		slices.SortFunc(recs, cmpRecord)
		return e.refunds(out, project, payment, refs, recs, by)
	}
	slices.SortFunc(recs, cmpRecord)
	s := e.chargeSide(refs)
	ops := func() []*domain.Operation {
		out := make([]*domain.Operation, len(refs))
		for i, r := range refs {
			out[i] = r.op
		}
		return out
	}
	if it, ok := e.judge(project, typ, payment, s, ops, recs, unrank(matched)); ok {
		e.finish(&it)
		out = append(out, it)
	}
	return out
}

// cmpRecord orders records by what they say, not by where they were read
// (the same record read from another file keeps its first origin, so the
// origin depends on the order of imports).
func cmpRecord(a, b *domain.Record) int {
	return cmp.Or(cmp.Compare(a.Source, b.Source), a.CreatedAt.Compare(b.CreatedAt),
		cmp.Compare(a.Amount.Amount, b.Amount.Amount), cmp.Compare(a.Amount.Currency, b.Amount.Currency),
		cmp.Compare(a.Status, b.Status), cmp.Compare(a.OperationID, b.OperationID),
		cmp.Compare(a.ProviderPaymentID, b.ProviderPaymentID), cmp.Compare(a.Origin, b.Origin))
}

// opRef is one operation of an item and what the vocabulary says of it.
type opRef struct {
	op *domain.Operation
	m  opMeta
}

// chargeSide reads ECommPay's side of a purchase or a payout from all its
// operations, in time order.
func (e *engine) chargeSide(ops []opRef) side {
	var s side
	var last *opRef // the latest charge
	var steps []opRef
	for k := range ops {
		r := &ops[k]
		if !r.m.statusKnown() && s.unknownStatus == nil {
			s.unknownStatus = r.op
		}
		switch {
		case !r.m.known():
			if s.unknown == nil {
				s.unknown = r.op
			}
		case r.m.kind().MovesMoney():
			last = r
			if r.m.outcome() == domain.OutcomeSuccess {
				switch {
				case s.charge == nil:
					s.charge = r.op
				case s.charges == nil:
					s.charges = []*domain.Operation{s.charge, r.op}
				default:
					s.charges = append(s.charges, r.op)
				}
			}
		default:
			steps = append(steps, *r)
		}
	}
	switch {
	case s.charge != nil:
		s.op, s.outcome = s.charge, domain.OutcomeSuccess
		for _, st := range steps {
			if st.m.kind() == domain.KindHold && st.m.outcome() == domain.OutcomeSuccess {
				s.what = fmt.Sprintf("ECommPay %s %d authorised it, %s %d charged it", st.op.OperationType, st.op.OperationID,
					s.op.OperationType, s.op.OperationID)
				break
			}
		}
	case last != nil:
		s.op, s.outcome = last.op, last.m.outcome()
	case len(steps) > 0:
		e.stepSide(&s, steps)
	case s.unknown != nil:
		s.op, s.outcome = s.unknown, domain.OutcomePending
	default:
		return s
	}
	if s.status == "" {
		s.status = s.op.OperationStatus
	}
	if (s.unknown != nil || s.unknownStatus != nil) && s.outcome.Final() {
		s.outcome = domain.OutcomePending
	}
	return s
}

// stepSide reads a purchase that has no charge: an authorisation and what
// became of it.
func (e *engine) stepSide(s *side, steps []opRef) {
	var held, released, running *domain.Operation
	for _, r := range steps {
		switch r.m.outcome() {
		case domain.OutcomeSuccess:
			if r.m.kind() == domain.KindRelease {
				released = r.op
			} else {
				held = r.op
			}
		case domain.OutcomePending:
			running = r.op
		}
	}
	switch {
	case released != nil:
		s.op, s.outcome, s.status = released, domain.OutcomeFailure, domain.StatusCancelled
		s.what = fmt.Sprintf("ECommPay %s %d released the authorisation: nothing was charged", released.OperationType, released.OperationID)
	case running != nil:
		s.op, s.outcome = running, domain.OutcomePending
	case held != nil:
		s.op, s.outcome, s.status = held, domain.OutcomePending, domain.StatusAwaitingCapture
		s.what = fmt.Sprintf("ECommPay %s %d succeeded: authorised, not captured yet", held.OperationType, held.OperationID)
	default:
		last := steps[len(steps)-1]
		s.op, s.outcome = last.op, last.m.outcome()
	}
}

// judge gives one item its code and reason. ops gives every operation the
// verdict rests on (for the fingerprint of an exception: most items are
// not one), recs are the records compared.
func (e *engine) judge(project int64, typ string, payment *domain.Operation, s side, ops func() []*domain.Operation, recs []*domain.Record, by uint8) (domain.Item, bool) {
	it := domain.Item{Type: typ, ProjectID: project}
	op := s.op
	var rec *domain.Record
	if len(recs) > 0 {
		rec = recs[0]
		it.MatchedBy = byName[by]
	}
	if op == nil && rec == nil {
		return it, false
	}
	it.Provider, it.Merchant = op, rec
	fill(&it, op, rec)
	switch {
	case len(recs) > 1:
		it.Result = domain.ResultDuplicate
		origins := make([]string, len(recs))
		for i, r := range recs {
			origins[i] = r.Origin
		}
		what := "one payment and type"
		if typ == domain.RecordRefund && op != nil {
			what = fmt.Sprintf("one refund (ECommPay %s %d)", op.OperationType, op.OperationID)
		}
		it.Reason = fmt.Sprintf("%d merchant records for %s: %s", len(recs), what, strings.Join(origins, ", "))
	case len(s.charges) > 1:
		it.Result = domain.ResultDuplicate
		ids := make([]string, len(s.charges))
		for i, c := range s.charges {
			ids[i] = c.OperationType + " " + strconv.FormatUint(c.OperationID, 10) + " of " + c.SumInitial.String()

		}
		what := "charges" // a double charge
		if typ == domain.RecordPayout {
			what = "payouts"
		}
		it.Reason = fmt.Sprintf("%d successful ECommPay %s for one payment: %s", len(s.charges), what, strings.Join(ids, ", "))
	case rec == nil:
		if s.charge == nil {
			return it, false // nothing moved: nothing to reconcile yet
		}
		it.Result = domain.ResultMissingInRecords
		// The commonest exception of a book not imported yet: appended, not
		// fmt'd (a million of them made three million garbage objects).
		b := make([]byte, 0, 96)
		b = append(b, "ECommPay "...)
		b = append(b, op.OperationType...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, op.OperationID, 10)
		b = append(b, " of "...)
		b = op.SumInitial.Append(b)
		b = append(b, " succeeded at "...)
		b = appendStamp(b, op.CompletedAt)
		b = append(b, "; no merchant record"...)
		it.Reason = string(b)
	case op == nil:
		e.judgeTime(&it, rec.Method, typ, rec.CreatedAt, true, domain.ResultMissingAtProvider,
			fmt.Sprintf("no ECommPay operation for the merchant's %s record of %s", rec.Status, rec.Amount))
	case rec.Amount.Currency != op.SumInitial.Currency:
		it.Result = domain.ResultCurrencyMismatch
		it.Reason = fmt.Sprintf("currency: merchant %s, ECommPay %s (operation %d)", rec.Amount, op.SumInitial, op.OperationID)
	case !s.outcome.Final():
		e.judgeTime(&it, op.PaymentMethod, typ, op.CreatedAt, true, domain.ResultOverdue, e.describePending(s)+e.alsoDiffers(op, rec))
	case !rec.Final():
		e.judgeTime(&it, op.PaymentMethod, typ, earliest(rec.CreatedAt, op.CreatedAt), false, domain.ResultOverdue,
			"the merchant's record is pending; "+e.describeSide(s)+e.alsoDiffers(op, rec))
	case e.paymentStatusUnknown(payment):
		e.judgeTime(&it, op.PaymentMethod, typ, op.CreatedAt, true, domain.ResultOverdue,
			fmt.Sprintf("the payment's status %q is one reconciled does not know, read as not final "+
				"(give it a meaning in [reconcile.payment_statuses])", domain.Shorten(payment.PaymentStatus))+e.alsoDiffers(op, rec))
	case !e.statusAgrees(rec, s, typ, payment):
		it.Result = domain.ResultStatusMismatch
		it.Reason = fmt.Sprintf("status: merchant %s, ECommPay %s", rec.Status, e.describeStatus(s, payment)) + e.alsoDiffers(op, rec)
	case distance(rec.Amount.Amount, op.SumInitial.Amount) > uint64(max(e.cfg.AmountTolerance, 0)):
		it.Result = domain.ResultAmountMismatch
		it.Reason = amountReason(rec, op, e.cfg.AmountTolerance)
	default:
		it.Result = domain.ResultMatched
		it.Reason = "amount, currency and status agree"
		switch {
		case s.what != "":
			it.Reason += " (" + s.what + ")"
		case s.outcome == domain.OutcomeFailure:
			it.Reason = matchedFailure(s.op)
		}
	}
	it.Code = it.Result
	if domain.IsException(it.Result) {
		// Records in the order the first releases hashed them, so that
		// stored resolutions keep holding.
		fp := recs
		if len(recs) > 1 {
			fp = slices.Clone(recs)
			slices.SortStableFunc(fp, func(a, b *domain.Record) int {
				return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Origin, b.Origin))
			})
		}
		it.Fingerprint = fingerprint(&it, ops(), fp)
	}
	return it, true
}

// matchedFailure is the reason of a failure both sides agree on, built
// without fmt: one item in ten is one.
func matchedFailure(op *domain.Operation) string {
	r := "amount, currency and status agree (failed on both sides: ECommPay " + op.OperationStatus
	if op.Code != "" && op.Code != "0" {
		r += " (code " + op.Code + " " + domain.MaskCardNumbers(op.Message) + ")" // masked again: an earlier release stored it as it came
	}
	return r + ")"
}

// describeSide says what ECommPay did: "ECommPay operation 12 is success".
func (e *engine) describeSide(s side) string {
	if s.what != "" {
		return s.what
	}
	return fmt.Sprintf("ECommPay operation %d is %s", s.op.OperationID, s.op.OperationStatus)
}

// describePending says why ECommPay's side is not final, naming a word the
// vocabulary does not know and where to give it a meaning.
func (e *engine) describePending(s side) string {
	switch {
	case s.unknown != nil:
		return fmt.Sprintf("ECommPay operation %d has the type %q, which reconciled does not know: read as not final "+
			"(give it a meaning in [reconcile.operation_types])", s.unknown.OperationID, domain.Shorten(s.unknown.OperationType))
	case s.unknownStatus != nil || !e.vocab.Known(domain.FieldOperationStatus, s.op.OperationStatus):
		u := s.unknownStatus
		if u == nil {
			u = s.op
		}
		return fmt.Sprintf("ECommPay operation %d is %q, a status reconciled does not know: read as not final "+
			"(give it a meaning in [reconcile.operation_statuses])", u.OperationID, domain.Shorten(u.OperationStatus))
	}
	return e.describeSide(s)
}

// statusAgrees compares a final record with a final side.
func (e *engine) statusAgrees(rec *domain.Record, s side, typ string, payment *domain.Operation) bool {
	if list, ok := e.cfg.StatusMap[rec.Status]; ok {
		if !slices.Contains(list, s.status) {
			return false
		}
	} else if want, ok := DefaultAgreement[rec.Status]; !ok || s.outcome != want {
		return false
	}
	if rec.Status == domain.RecordRefunded && typ == domain.RecordPurchase {
		switch e.vocab.PaymentStatus(paymentStatus(s, payment)).Outcome {
		case domain.OutcomeRefunded, domain.OutcomePartlyRefunded:
			return true
		}
		return false
	}
	return true
}

// paymentStatusUnknown: a payment in a status the vocabulary does not know
// is not final, whatever its operations say.
func (e *engine) paymentStatusUnknown(payment *domain.Operation) bool {
	return payment != nil && !e.vocab.Known(domain.FieldPaymentStatus, payment.PaymentStatus)
}

// paymentStatus is the newest payment status known: the payment's latest
// operation's, else the side's own.
func paymentStatus(s side, payment *domain.Operation) string {
	if payment != nil && payment.PaymentStatus != "" {
		return payment.PaymentStatus
	}
	return s.op.PaymentStatus
}

func (e *engine) describeStatus(s side, payment *domain.Operation) string {
	op := s.op
	st := op.OperationStatus
	if s.what != "" {
		st = s.status + " (" + s.what + ")"
	}
	if op.Code != "" && op.Code != "0" {
		st += fmt.Sprintf(" (code %s %s)", op.Code, domain.MaskCardNumbers(op.Message))
	}
	if ps := paymentStatus(s, payment); ps != "" && ps != op.OperationStatus {
		st += ", payment " + ps
	}
	return st
}
