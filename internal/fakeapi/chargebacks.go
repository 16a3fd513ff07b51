package fakeapi

import (
	"errors"
	"net/http"
	"sort"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
)

// The fake's chargebacks, served by /chargeback/list: a dispute of one in
// ChargebackEvery successful card purchases (by operation id), opened
// ChargebackAfter the purchase completed and decided ChargebackDecided
// later — lost, won, or (a third of them) still open in pre-arbitration —
// so that a sync sees a chargeback open and then change its status. The
// interval selects on the chargeback's creation time, both ends included
// (an assumption of the fake, as for operations).

// ChargebackEvery: a successful card sale or capture whose operation id is
// a multiple of it is disputed.
const ChargebackEvery = 101

// ChargebackAfter is how long after its purchase a chargeback opens;
// ChargebackDecided how long it then stays open before its decision.
const (
	ChargebackAfter   = 6 * time.Hour
	ChargebackDecided = 24 * time.Hour
)

// chargebackIDBase keeps the fake's chargeback ids apart from its
// operation ids (another id space upstream too).
const chargebackIDBase = 7_000_000_000

var reasonCodes = []string{"4837", "4853", "10.4", "13.1"}

// chargebackCandidates lists, once, the operations the fake disputes: the
// successful card sales and captures with an id that is a multiple of
// ChargebackEvery, in their final form, by creation time.
func (s *Server) chargebackCandidates() []domain.Operation {
	s.cbOnce.Do(func() {
		far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < s.gen.count; i++ {
			if (s.gen.opBase+uint64(i))%ChargebackEvery != 0 || s.gen.project(i).Method != MethodCardPartner {
				continue
			}
			op, ok := s.gen.op(i, far)
			if !ok || op.OperationStatus != domain.StatusSuccess || (op.OperationType != domain.OpSale && op.OperationType != domain.OpCapture) {
				continue
			}
			s.cbOps = append(s.cbOps, op)
		}
	})
	return s.cbOps
}

// ChargebackOf is the chargeback the fake reports on op at now, if any.
func ChargebackOf(op *domain.Operation, now time.Time) (domain.Chargeback, bool) {
	created := op.CompletedAt.Add(ChargebackAfter)
	if op.CompletedAt.IsZero() || created.After(now) {
		return domain.Chargeback{}, false
	}
	id := chargebackIDBase + op.OperationID
	cb := domain.Chargeback{ID: id, ProjectID: op.ProjectID, PaymentID: op.PaymentID, OperationID: op.OperationID,
		Amount: op.SumInitial, Status: "open", ReasonCode: reasonCodes[id%uint64(len(reasonCodes))],
		CreatedAt: created, UpdatedAt: created}
	if id%4 != 3 {
		cb.Deadline = created.Add(10 * 24 * time.Hour)
	}
	if id%5 == 0 { // a part of the purchase disputed
		cb.Amount.Amount /= 2
	}
	if decided := created.Add(ChargebackDecided); !decided.After(now) {
		cb.UpdatedAt = decided
		switch id % 3 {
		case 0:
			cb.Status = "lost"
		case 1:
			cb.Status = "won"
		default:
			cb.Status = "pre_arbitration"
		}
	}
	return cb, true
}

// Chargebacks returns every chargeback that exists at now, as served.
func (s *Server) Chargebacks(now time.Time) []domain.Chargeback {
	var out []domain.Chargeback
	for _, op := range s.chargebackCandidates() {
		if cb, ok := ChargebackOf(&op, now); ok {
			out = append(out, cb)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].CreatedAt.Before(out[j].CreatedAt) || out[i].CreatedAt.Equal(out[j].CreatedAt) && out[i].ID < out[j].ID
	})
	return out
}

func (s *Server) handleChargebacks(w http.ResponseWriter, r *http.Request) {
	req, wd, ok := s.windowRequest(w, r, func(req *dataapi.OperationsRequest) error {
		if len(req.Fields) > 0 || req.OperationType != "" {
			return errors.New("fields and operation_type are not parameters of " + dataapi.PathChargebacks)
		}
		return nil
	})
	if !ok {
		return
	}
	f, n, loc, from, to, projects := wd.faults, wd.n, wd.loc, wd.from, wd.to, wd.projects
	var sel []domain.Chargeback
	for _, cb := range s.Chargebacks(s.cfg.Now()) {
		if projects[cb.ProjectID] && !cb.CreatedAt.Before(from) && !cb.CreatedAt.After(to) {
			sel = append(sel, cb)
		}
	}
	page := []domain.Chargeback{}
	if req.Offset < len(sel) {
		page = sel[req.Offset:min(req.Offset+req.Limit, len(sel))]
	}
	resp := dataapi.AppendSignedChargebacksResponse(nil, s.cfg.Secret, page, loc)
	if f.BadSignatureEvery > 0 && n%f.BadSignatureEvery == 0 {
		k := len(resp) - 5
		resp[k] ^= 1
	}
	if f.Unsigned {
		resp = dataapi.AppendChargebacksResponse(nil, page, loc)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(resp)
}
