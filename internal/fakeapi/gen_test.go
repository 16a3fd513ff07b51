package fakeapi

import (
	"slices"
	"testing"
	"time"

	"reconciled/internal/domain"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func testGen(seed uint64, count int) *generator {
	return newGenerator(seed, DefaultProjects, t0, time.Minute, count)
}

func TestGeneratorIsDeterministic(t *testing.T) {
	now := t0.Add(30 * 24 * time.Hour)
	a, b, c := testGen(1, 500), testGen(1, 500), testGen(2, 500)
	same, differ := 0, 0
	for i := 0; i < 500; i++ {
		x, _ := a.op(i, now)
		y, _ := b.op(i, now)
		z, _ := c.op(i, now)
		if x != y {
			t.Fatalf("op %d differs between two generators of seed 1:\n%+v\n%+v", i, x, y)
		}
		if x == z {
			same++
		} else {
			differ++
		}
	}
	if differ < 450 {
		t.Errorf("seeds 1 and 2 give %d equal operations of 500", same)
	}
}

func TestGeneratorFollowsTheSeeds(t *testing.T) {
	g := testGen(7, 20000)
	now := t0.Add(60 * 24 * time.Hour) // every operation final
	counts := map[string]int{}
	for i := 0; i < g.count; i++ {
		op, ok := g.op(i, now)
		if !ok {
			t.Fatalf("op %d not visible at %v", i, now)
		}
		if err := op.Validate(); err != nil {
			t.Fatal(err)
		}
		if op.OperationID < 1e16 || op.OperationID >= 1e17 {
			t.Fatalf("operation id %d is not 17 digits", op.OperationID)
		}
		if i > 0 && op.CreatedAt.Before(g.createdAt(i-1)) {
			t.Fatalf("creation time goes back at %d", i)
		}
		if !op.Final() {
			t.Fatalf("op %d not final at %v: %s", i, now, op.OperationStatus)
		}
		switch op.PaymentMethod {
		case MethodADVCash:
			if op.ProjectID != 580 || !slices.Contains(advcashCurrencies, op.SumInitial.Currency) || op.OperationType == domain.OpRefund {
				t.Fatalf("bad ADVCash operation %+v", op)
			}
			if a := op.SumInitial.Amount; (a == 40000 || a == 40400) && (op.OperationStatus != domain.StatusDecline || op.Code != "100") {
				t.Fatalf("test amount %d must decline with code 100: %+v", a, op)
			}
			counts["advcash "+op.OperationType]++
		case MethodCardPartner:
			if op.ProjectID != 579 || op.SumInitial.Currency != "UZS" {
				t.Fatalf("bad card operation %+v", op)
			}
			counts["card "+op.OperationType]++
		default:
			t.Fatalf("unknown method %q", op.PaymentMethod)
		}
		if op.OperationStatus == domain.StatusDecline {
			counts["decline"]++
			if op.Code == "" || op.Code == "0" || op.Message == "" {
				t.Fatalf("decline without a code: %+v", op)
			}
		}
		if a := op.SumInitial.Amount; a == 40000 || a == 40400 {
			counts["test amount"]++
		}
		if op.OperationType == domain.OpRefund {
			sale, _ := g.op(g.refundTarget(i), now)
			if sale.PaymentID != op.PaymentID || sale.ProjectID != op.ProjectID || sale.OperationType != domain.OpSale || sale.OperationStatus != domain.StatusSuccess {
				t.Fatalf("refund %+v does not refund a successful sale: %+v", op, sale)
			}
			if op.SumInitial.Amount > sale.SumInitial.Amount {
				t.Fatalf("refund larger than sale: %d > %d", op.SumInitial.Amount, sale.SumInitial.Amount)
			}
			if op.OperationStatus == domain.StatusSuccess {
				want := domain.StatusRefunded
				if op.SumInitial.Amount < sale.SumInitial.Amount {
					want = domain.StatusPartiallyRefunded
				}
				if sale.PaymentStatus != want || op.PaymentStatus != want {
					t.Fatalf("refunded sale shows %q/%q, want %q", sale.PaymentStatus, op.PaymentStatus, want)
				}
			}
		}
	}
	for _, k := range []string{"advcash sale", "advcash payout", "card sale", "card payout", "card refund", "decline", "test amount"} {
		if counts[k] < 20 {
			t.Errorf("only %d operations of kind %q in 20000: %v", counts[k], k, counts)
		}
	}
}

func TestProcessingBecomesFinal(t *testing.T) {
	g := testGen(3, 3000)
	early := t0.Add(3000 * time.Minute) // just after the last one was created
	late := early.Add(40 * 24 * time.Hour)
	processing, changed := 0, 0
	for i := 0; i < g.count; i++ {
		a, _ := g.op(i, early)
		b, _ := g.op(i, late)
		if a.OperationStatus == domain.StatusProcessing {
			processing++
			if !a.CompletedAt.IsZero() {
				t.Fatalf("processing operation has a completion time: %+v", a)
			}
			if !b.Final() || b.CompletedAt.IsZero() || b.OperationID != a.OperationID {
				t.Fatalf("op %d does not become final: %+v", i, b)
			}
			changed++
		}
	}
	if processing < 30 {
		t.Errorf("only %d operations processing just after creation", processing)
	}
}

func TestPaymentIDsParseBack(t *testing.T) {
	g := testGen(5, 2000)
	for i := 0; i < g.count; i++ {
		id := g.paymentID(i)
		j, ok := g.parsePaymentID(id)
		if g.kind(i) == kindRefund {
			if !ok || j != g.refundTarget(i) {
				t.Fatalf("refund %d: payment %q parses to %d, %v", i, id, j, ok)
			}
			continue
		}
		if !ok || j != i {
			t.Fatalf("op %d: payment %q parses to %d, %v", i, id, j, ok)
		}
	}
	for _, bad := range []string{"", "x", "adv-order-99999", "adv-order--1", "uz-order-1x"} {
		if _, ok := g.parsePaymentID(bad); ok {
			t.Errorf("parsePaymentID(%q) ok", bad)
		}
	}
}
