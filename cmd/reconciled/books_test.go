package main

import (
	"reconciled/internal/domain"
)

// bookLine is a line the merchant's books would hold for ECommPay's data:
// the operation it stands for (and its index), the record type and the
// status.
type bookLine struct {
	i      int
	op     domain.Operation
	typ    string
	status string
}

// booksOf is what a merchant whose books agree with ECommPay records for
// ops: a purchase line per payment (its charge; a cancelled authorisation
// is a failed purchase, one not captured yet a pending one), a payout line
// per payout, a refund line per refund (a refund taken back is a failed
// one); nothing for commissions, account verifications and the like.
// Lines come in the order of the operation they stand for.
func booksOf(ops []domain.Operation) []bookLine {
	v := domain.Builtin
	outcomeWord := func(o domain.Outcome) string {
		switch o {
		case domain.OutcomeSuccess:
			return domain.RecordPaid
		case domain.OutcomeFailure:
			return domain.RecordFailed
		}
		return domain.RecordPending
	}
	type key struct {
		project int64
		id      string
	}
	// The operation that stands for each payment's purchase.
	purchase := map[key]int{}
	reversed := map[key][]int{} // successful refund reverses, by payment
	for i := range ops {
		op := &ops[i]
		k := key{op.ProjectID, op.PaymentID}
		switch v.Type(op.OperationType).Kind {
		case domain.KindPurchase, domain.KindHold, domain.KindRelease:
			j, ok := purchase[k]
			if !ok || standsBetter(v, op, &ops[j]) {
				purchase[k] = i
			}
		case domain.KindRefundReverse:
			if v.Outcome(op) == domain.OutcomeSuccess {
				reversed[k] = append(reversed[k], i)
			}
		}
	}
	var lines []bookLine
	takenBack := map[int]bool{}
	for i := range ops {
		op := &ops[i]
		k := key{op.ProjectID, op.PaymentID}
		t := v.Type(op.OperationType)
		switch t.Kind {
		case domain.KindPurchase, domain.KindHold, domain.KindRelease:
			if purchase[k] != i {
				continue
			}
			status := outcomeWord(v.Outcome(op))
			switch {
			case t.Kind == domain.KindHold && status == domain.RecordPaid:
				status = domain.RecordPending // authorised, not captured yet
			case t.Kind == domain.KindRelease && status == domain.RecordPaid:
				status = domain.RecordFailed // the authorisation was released
			}
			lines = append(lines, bookLine{i, *op, domain.RecordPurchase, status})
		case domain.KindPayout:
			lines = append(lines, bookLine{i, *op, domain.RecordPayout, outcomeWord(v.Outcome(op))})
		case domain.KindRefund:
			status := outcomeWord(v.Outcome(op))
			// A refund reverse of the same amount after it took it back.
			for _, r := range reversed[k] {
				if rv := &ops[r]; !takenBack[r] && status == domain.RecordPaid && rv.SumInitial == op.SumInitial && rv.CreatedAt.After(op.CreatedAt) {
					takenBack[r] = true
					status = domain.RecordFailed
					break
				}
			}
			lines = append(lines, bookLine{i, *op, domain.RecordRefund, status})
		}
	}
	return lines
}

// standsBetter: a charge stands for a purchase before an authorisation
// step, a successful one before a failed one, a later one before an
// earlier.
func standsBetter(v *domain.Vocabulary, a, b *domain.Operation) bool {
	rank := func(op *domain.Operation) int {
		r := 0
		switch v.Type(op.OperationType).Kind {
		case domain.KindPurchase:
			r += 4
		case domain.KindRelease:
			r += 2
		}
		if v.Outcome(op) == domain.OutcomeSuccess {
			r++
		}
		return r
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra > rb
	}
	return a.CreatedAt.After(b.CreatedAt)
}
