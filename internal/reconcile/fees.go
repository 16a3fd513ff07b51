package reconcile

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"

	"reconciled/internal/domain"
	"reconciled/internal/fees"
)

// feeItems appends, after the items of one payment and type, a
// fee_mismatch item for each successful operation of opIdx that moved
// money (a charge, a payout, a refund: not a hold) whose charged
// fee is not its tariff's (Config.Fees): in operation id order, each its
// own part ("fee:ID"), so that one is resolved apart from the payment's
// verdict and from the others.
func (e *engine) feeItems(items []domain.Item, n *feeCount, typ string, opIdx []int32) []domain.Item {
	c := e.cfg.Fees
	if c == nil || c.Len() == 0 {
		return items
	}
	first := len(items)
	for _, i := range opIdx {
		m := e.meta[i]
		if e.ops.word(i, wCurFee) == "" || !m.statusKnown() || m.outcome() != domain.OutcomeSuccess {
			continue
		}
		op := e.op(i)
		if op.Fee.Currency == "" || !m.statusKnown() || m.outcome() != domain.OutcomeSuccess {
			continue
		}
		switch m.kind() { // those that move money; a hold or its release charges nothing
		case domain.KindPurchase, domain.KindPayout, domain.KindRefund:
		default:
			continue
		}
		want, t, ok := c.Expected(op.PaymentMethod, typ, op.SumInitial)
		if !ok {
			n.unchecked++
			continue
		}
		n.checked++
		if op.Fee.Currency == want.Currency && distance(op.Fee.Amount, want.Amount) <= uint64(max(e.cfg.FeeTolerance, 0)) {
			continue
		}
		it := domain.Item{Result: domain.ResultFeeMismatch, Code: domain.ResultFeeMismatch, Type: typ,
			Part: "fee:" + strconv.FormatUint(op.OperationID, 10), Provider: op}
		fill(&it, op, nil)
		it.Reason = feeReason(op, want, t, e.cfg.FeeTolerance)
		it.Fingerprint = feeFingerprint(&it, op)
		e.finish(&it)
		items = append(items, it)
	}
	slices.SortFunc(items[first:], func(a, b domain.Item) int { return cmp.Compare(a.OperationID, b.OperationID) })
	return items
}

// feeReason says what was charged, what the tariff says and why.
func feeReason(op *domain.Operation, want domain.Money, t fees.Tariff, tol int64) string {
	r := fmt.Sprintf("ECommPay charged %s on %s %s %s, the tariff %s (%s %% of %s", op.Fee, op.OperationType, strconv.FormatUint(op.OperationID, 10),
		op.PaymentMethod, want, fees.FormatPercent(t.Percent), op.SumInitial)
	minor := func(n int64) string { return domain.Money{Amount: n, Currency: want.Currency}.String() }
	if t.Fixed != 0 {
		r += " + " + minor(t.Fixed)
	}
	if t.Min > 0 {
		r += ", at least " + minor(t.Min)
	}
	if t.Max > 0 {
		r += ", at most " + minor(t.Max)
	}
	r += ")"
	if op.Fee.Currency != want.Currency {
		return r + "; charged in another currency"
	}
	if tol > 0 {
		off := "off by "
		d := distance(op.Fee.Amount, want.Amount)
		if d > math.MaxInt64 {
			off, d = "off by more than ", math.MaxInt64
		}
		r += fmt.Sprintf("; %s%s, more than the tolerance of %s", off, minor(int64(d)), minor(tol))
	}
	return r
}

// distance is |a - b| without wrapping: the amounts of two sides (an
// operation's and a record's, a charged fee and a tariff's) may be any
// int64, and their difference need not fit one.
func distance(a, b int64) uint64 {
	if a >= b {
		return uint64(a) - uint64(b)
	}
	return uint64(b) - uint64(a)
}

// feeFingerprint sums up what a fee_mismatch rests on: the operation and
// the fee charged (a resolution holds until either changes).
func feeFingerprint(it *domain.Item, op *domain.Operation) string {
	b := fmt.Appendf(nil, "%s|%s|%d|%s\nop|%d|%s|%s|%d|%s\nfee|%d|%s\n", it.Code, it.Type, it.ProjectID, it.PaymentID,
		op.OperationID, op.OperationType, op.OperationStatus, op.SumInitial.Amount, op.SumInitial.Currency, op.Fee.Amount, op.Fee.Currency)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
