package reconcile

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"reconciled/internal/domain"
)

// Chargebacks (Input.Chargebacks) are items of their own, beside their
// payment's, each its own part ("chargeback:ID"): open, or lost and not
// resolved, a chargeback item is an exception (a person must answer the
// dispute, or book the loss); won, it is none. Its ECommPay side is the
// chargeback read as an operation of type "chargeback" (its status, its
// amount, the disputed operation's id): what the exports show.

// OpChargeback is the operation type a chargeback item's ECommPay side
// carries.
const OpChargeback = "chargeback"

// chargebackIndex sorts the input's chargebacks by payment id, project
// and id: those of one payment are a run of it.
func chargebackIndex(cbs []domain.Chargeback) []int32 {
	idx := make([]int32, len(cbs))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		x, y := &cbs[a], &cbs[b]
		if c := strings.Compare(x.PaymentID, y.PaymentID); c != 0 {
			return c
		}
		if c := cmp.Compare(x.ProjectID, y.ProjectID); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
	return idx
}

// chargebackItems appends the items of the chargebacks of idx (one
// payment's, in id order); payment is its latest operation, nil when
// none is an item's.
func (e *engine) chargebackItems(items []domain.Item, idx []int32, payment *domain.Operation) []domain.Item {
	for _, i := range idx {
		cb := &e.in.Chargebacks[i]
		state, known := cb.State()
		if state == domain.ChargebackWon {
			continue
		}
		op := &domain.Operation{ProjectID: cb.ProjectID, OperationID: cb.OperationID, PaymentID: cb.PaymentID,
			OperationType: OpChargeback, OperationStatus: cb.Status, SumInitial: cb.Amount, Code: cb.ReasonCode,
			CreatedAt: cb.CreatedAt, CompletedAt: cb.UpdatedAt}
		if payment != nil {
			op.PaymentMethod, op.PaymentType, op.PaymentStatus = payment.PaymentMethod, payment.PaymentType, payment.PaymentStatus
		}
		it := domain.Item{Result: domain.ResultChargeback, Code: domain.ResultChargeback, Type: domain.RecordPurchase,
			Part: cb.Part(), Provider: op}
		fill(&it, op, nil)
		it.Reason = chargebackReason(cb, state, known)
		it.Fingerprint = chargebackFingerprint(cb)
		e.finish(&it)
		items = append(items, it)
	}
	return items
}

// chargebackReason says what the dispute is and what it asks of a person,
// with dates, never ages.
func chargebackReason(cb *domain.Chargeback, state domain.ChargebackState, known bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "chargeback %d", cb.ID)
	if cb.ReasonCode != "" { // upstream's: 80 characters at most, as unknown words are shown
		fmt.Fprintf(&b, " (reason code %s)", domain.Shorten(cb.ReasonCode))
	}
	fmt.Fprintf(&b, " of %s", cb.Amount)
	if cb.OperationID != 0 {
		fmt.Fprintf(&b, " on operation %d", cb.OperationID)
	}
	fmt.Fprintf(&b, ", opened %s", stamp(cb.CreatedAt))
	switch {
	case state == domain.ChargebackLost:
		b.WriteString(", lost")
		if !cb.UpdatedAt.IsZero() {
			fmt.Fprintf(&b, " %s", stamp(cb.UpdatedAt))
		}
		fmt.Fprintf(&b, " (status %s): the amount is taken back; book the loss, then resolve it", cb.Status)
	default:
		if known {
			fmt.Fprintf(&b, ", %s (status %s)", state, cb.Status)
		} else {
			fmt.Fprintf(&b, ", status %q, which reconciled does not know: read as open", domain.Shorten(cb.Status))
		}
		if cb.Deadline.IsZero() {
			b.WriteString("; ECommPay gives no deadline to answer")
		} else {
			fmt.Fprintf(&b, "; answer by %s", stamp(cb.Deadline))
		}
	}
	return b.String()
}

// chargebackFingerprint sums up what a chargeback item rests on: a
// resolution holds until its status, amount, reason code or deadline
// changes (an open one resolved is seen again when it is lost).
func chargebackFingerprint(cb *domain.Chargeback) string {
	deadline := "-"
	if !cb.Deadline.IsZero() {
		deadline = strconv.FormatInt(cb.Deadline.Unix(), 10)
	}
	b := fmt.Appendf(nil, "%s|%d|%s|%d|%d|%s|%s|%s|%s", domain.ResultChargeback, cb.ProjectID, cb.PaymentID, cb.ID, cb.Amount.Amount,
		cb.Amount.Currency, cb.Status, cb.ReasonCode, deadline)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// orphanChargebackKey is the place key of the chargebacks of a payment no
// item's operation belongs to: after every group's and every records'
// key ('g', 'o').
func orphanChargebackKey(b []byte, cb *domain.Chargeback) []byte {
	b = appendEscaped(append(b[:0], 'q'), cb.PaymentID)
	return binary.BigEndian.AppendUint64(b, uint64(cb.ProjectID)^1<<63)
}
