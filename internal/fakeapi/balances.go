package fakeapi

import (
	"bytes"
	"maps"
	"net/http"
	"slices"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
)

// The fake's /balance/get: two balances per currency of the projects
// asked, derived from the operations that exist at the fake's now, so
// that the same seed and clock give the same numbers and the demo shows
// plausible ones:
//
//   - BalanceIn, what the merchant collected: successful purchases, less
//     successful refunds (plus refunds taken back), less the fees ECommPay
//     charged (FeeOf, and commission operations);
//   - BalanceOut, the payout balance: BalanceIn less the successful
//     payouts. It may be negative.
//
// The answer names no project: asked for several projects, the fake sums
// them. Requests go through the same checks and faults as the operations'
// (token, signature, 5xx, 429, delays, echoes, wrong or missing answer
// signatures).

// The names of the fake's balances.
const (
	BalanceOut = "OUT"
	BalanceIn  = "IN"
)

func (s *Server) handleBalance(w http.ResponseWriter, r *http.Request) {
	body, f, n, ok := s.precheck(w, r)
	if !ok {
		return
	}
	var req dataapi.BalanceRequest
	if err := strictUnmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if len(req.ProjectID) > dataapi.MaxSignedArray {
		writeError(w, http.StatusBadRequest, "bad_request", "project_id: too many ids")
		return
	}
	projects, err := s.projectSet(req.ProjectID)
	if err != nil {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	answer := dataapi.AppendBalanceResponse(nil, s.balances(projects, s.cfg.Now()))
	if !f.Unsigned {
		if answer, err = dataapi.AppendSigned(s.cfg.Secret, answer); err != nil {
			writeError(w, http.StatusInternalServerError, "internal_error", err.Error())
			return
		}
		if f.BadSignatureEvery > 0 && n%f.BadSignatureEvery == 0 {
			k := bytes.LastIndex(answer, []byte(`"signature":"`)) + len(`"signature":"`) + 3
			answer[k] ^= 1
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(answer)
}

// Balances is what /balance/get answers at now for projects (none: every
// project of the fake): BalanceOut, then BalanceIn, each with its
// currencies in code order.
func (s *Server) Balances(projects []int64, now time.Time) []dataapi.BalanceEntry {
	set, err := s.projectSet(projects)
	if err != nil {
		return nil
	}
	return s.balances(set, now)
}

func (s *Server) balances(projects map[int64]bool, now time.Time) []dataapi.BalanceEntry {
	in, out := map[string]int64{}, map[string]int64{}
	for i := 0; i < s.gen.count; i++ {
		op, ok := s.op(i, now)
		if !ok {
			break // created after now, as every later one
		}
		if !projects[op.ProjectID] || op.OperationStatus != domain.StatusSuccess {
			continue
		}
		m := op.SumInitial
		switch domain.Builtin.Type(op.OperationType).Kind {
		case domain.KindPurchase, domain.KindRefundReverse:
			in[m.Currency] += m.Amount
			out[m.Currency] += m.Amount
		case domain.KindRefund, domain.KindFee:
			in[m.Currency] -= m.Amount
			out[m.Currency] -= m.Amount
		case domain.KindPayout:
			out[m.Currency] -= m.Amount
		}
		if fee := FeeOf(&op); fee.Amount != 0 {
			in[fee.Currency] -= fee.Amount
			out[fee.Currency] -= fee.Amount
		}
	}
	amounts := func(byCur map[string]int64) []domain.Money {
		var ms []domain.Money
		for _, c := range slices.Sorted(maps.Keys(byCur)) {
			ms = append(ms, domain.Money{Amount: byCur[c], Currency: c})
		}
		return ms
	}
	return []dataapi.BalanceEntry{{Name: BalanceOut, Amounts: amounts(out)}, {Name: BalanceIn, Amounts: amounts(in)}}
}
