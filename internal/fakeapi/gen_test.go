package fakeapi

import (
	"slices"
	"strconv"
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
		if op.OperationStatus == statusAwaitingReview {
			// The unknown-status scenario: a status ECommPay's lists do
			// not have, never final, on purpose.
			counts["unknown status"]++
		} else if !op.Final() {
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
		switch op.OperationStatus {
		case domain.StatusDecline, domain.StatusInternalError, domain.StatusExternalError, domain.StatusExpired:
			// Since the scenarios and the ordinary errors, not every
			// failure is a decline.
			counts[op.OperationStatus]++
			if op.Code == "" || op.Code == "0" || op.Message == "" {
				t.Fatalf("failure without a code: %+v", op)
			}
		}
		if a := op.SumInitial.Amount; a == 40000 || a == 40400 {
			counts["test amount"]++
		}
		if g.kind(i) == kindRefund { // an ordinary refund; the scenarios' are TestScenariosFollowTheirScripts'
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
	for _, k := range []string{"advcash sale", "advcash payout", "card sale", "card payout", "card refund", "decline", "test amount",
		domain.StatusInternalError, domain.StatusExternalError} {
		if counts[k] < 20 {
			t.Errorf("only %d operations of kind %q in 20000: %v", counts[k], k, counts)
		}
	}
	// The scenarios: one block in a hundred indexes, each scenario in one
	// block of len(scenarios).
	for _, k := range []string{"card auth", "card capture", "card cancel", "card refund reverse", "advcash commission", domain.StatusExpired, "unknown status"} {
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
		if f, _, isScenario := g.scenarioOf(i); isScenario {
			if !ok || j != f {
				t.Fatalf("op %d of the scenario at %d: payment %q parses to %d, %v", i, f, id, j, ok)
			}
			continue
		}
		if !ok || j != i {
			t.Fatalf("op %d: payment %q parses to %d, %v", i, id, j, ok)
		}
	}
	// Seed 5's blocks: 50 a two-step purchase (uz-order-50, ops 50 and
	// 51), 450 a payout with a commission (adv-payout-450).
	for id, want := range map[string]int{"uz-order-50": 50, "adv-payout-450": 450} {
		if j, ok := g.parsePaymentID(id); !ok || j != want {
			t.Errorf("parsePaymentID(%q) = %d, %v, want %d", id, j, ok, want)
		}
	}
	for _, bad := range []string{"", "x", "adv-order-99999", "adv-order--1", "uz-order-1x",
		"uz-order-51", "adv-order-50", "adv-order-450", "uz-payout-450", "adv-payout-451"} {
		if _, ok := g.parsePaymentID(bad); ok {
			t.Errorf("parsePaymentID(%q) ok", bad)
		}
	}
}

// The scenarios as the tests expect them, written out again rather than
// read from the generator's table: each step's operation type, payment
// type, final status and the payment status once it is done.
type wantStep struct{ opType, payType, status, payment string }

var wantScripts = map[string]struct {
	method string
	steps  []wantStep
}{
	"two-step purchase": {MethodCardPartner, []wantStep{
		{"auth", "purchase", "success", "awaiting capture"},
		{"capture", "purchase", "success", "success"},
	}},
	"authorisation cancelled": {MethodCardPartner, []wantStep{
		{"auth", "purchase", "success", "awaiting capture"},
		{"cancel", "purchase", "success", "cancelled"},
	}},
	"sale refunded in two parts": {MethodCardPartner, []wantStep{
		{"sale", "purchase", "success", "success"},
		{"refund", "purchase", "success", "partially refunded"},
		{"refund", "purchase", "success", "refunded"},
	}},
	"refund taken back": {MethodCardPartner, []wantStep{
		{"sale", "purchase", "success", "success"},
		{"refund", "purchase", "success", "refunded"},
		{"refund reverse", "purchase", "success", "success"},
	}},
	"payout with a commission": {MethodADVCash, []wantStep{
		{"payout", "payout", "success", "success"},
		{"commission", "payout", "success", "success"},
	}},
	"internal error": {MethodADVCash, []wantStep{{"sale", "purchase", "internal error", "internal error"}}},
	"external error": {MethodADVCash, []wantStep{{"sale", "purchase", "external error", "external error"}}},
	"expired":        {MethodADVCash, []wantStep{{"sale", "purchase", "expired", "expired"}}},
	// Never completes: the payment stays "processing".
	"unknown status": {MethodCardPartner, []wantStep{{"sale", "purchase", "awaiting review", "processing"}}},
}

// scenarioBlocks returns the first index of every scenario block of g, by
// scenario name.
func scenarioBlocks(g *generator) map[string][]int {
	blocks := map[string][]int{}
	for i := 0; i < g.count; i++ {
		if f, sc, ok := g.scenarioOf(i); ok && f == i {
			blocks[sc.name] = append(blocks[sc.name], f)
		}
	}
	return blocks
}

func TestScriptsFitTheirBlocks(t *testing.T) {
	if scenarioOffset+maxScenarioSteps > scenarioEvery {
		t.Fatalf("blocks of %d from %d do not fit in %d", maxScenarioSteps, scenarioOffset, scenarioEvery)
	}
	for _, sc := range scenarios {
		if len(sc.steps) == 0 || len(sc.steps) > maxScenarioSteps {
			t.Errorf("scenario %q has %d steps, want 1..%d", sc.name, len(sc.steps), maxScenarioSteps)
		}
		if _, ok := wantScripts[sc.name]; !ok {
			t.Errorf("scenario %q is not tested", sc.name)
		}
	}
	// A block that does not fit below the count is ordinary data: seed 1's
	// block at 4950 is a payout with a commission, two operations.
	g := testGen(1, 4951)
	if _, _, ok := g.scenarioOf(4950); ok {
		t.Fatal("the block at 4950 is a scenario with 4951 operations")
	}
	if k := g.kind(4950); k != kindSale && k != kindPayout {
		t.Errorf("op 4950 of 4951 is of kind %d", k)
	}
	if _, sc, ok := testGen(1, 4952).scenarioOf(4951); !ok || sc.name != "payout with a commission" {
		t.Errorf("op 4951 of 4952 is not the commission of the scenario at 4950")
	}
}

func TestScenariosFollowTheirScripts(t *testing.T) {
	g := testGen(1, 5000)
	now := t0.Add(60 * 24 * time.Hour) // long after the last operation
	blocks := scenarioBlocks(g)
	scenarioOps := 0
	for name, want := range wantScripts {
		if len(blocks[name]) < 4 {
			t.Errorf("scenario %q at %v: want at least 4 in 5000 operations", name, blocks[name])
		}
		for _, f := range blocks[name] {
			idx := g.paymentOps(f)
			if len(idx) != len(want.steps) {
				t.Fatalf("%s at %d: operations %v, want %d", name, f, idx, len(want.steps))
			}
			scenarioOps += len(idx)
			ops := make([]domain.Operation, len(idx))
			for k, i := range idx {
				op, ok := g.op(i, now)
				if !ok || i != f+k {
					t.Fatalf("%s at %d: op %d (%v) not visible at %v", name, f, i, idx, now)
				}
				if err := op.Validate(); err != nil {
					t.Fatal(err)
				}
				ops[k] = op
			}
			first := ops[0]
			wantProject, prefix := int64(579), "uz-"
			if want.method == MethodADVCash {
				wantProject, prefix = 580, "adv-"
			}
			if first.PaymentType == domain.PaymentPayout {
				prefix += "payout-"
			} else {
				prefix += "order-"
			}
			if first.PaymentID != prefix+strconv.Itoa(f) {
				t.Errorf("%s at %d: payment id %q, want %s%d", name, f, first.PaymentID, prefix, f)
			}
			final := want.steps[len(want.steps)-1].payment
			for k, op := range ops {
				w := want.steps[k]
				got := wantStep{op.OperationType, op.PaymentType, op.OperationStatus, op.PaymentStatus}
				if got != (wantStep{w.opType, w.payType, w.status, final}) {
					t.Errorf("%s at %d, step %d: %+v, want %+v with payment status %q", name, f, k, got, w, final)
				}
				if op.ProjectID != wantProject || op.PaymentMethod != want.method || op.PaymentID != first.PaymentID ||
					op.CustomerID != first.CustomerID || op.AccountNumber != first.AccountNumber || op.SumInitial.Currency != first.SumInitial.Currency {
					t.Errorf("%s at %d, step %d is not of the same payment: %+v\n%+v", name, f, k, op, first)
				}
				if op.OperationID != g.opBase+uint64(f+k) {
					t.Errorf("%s at %d, step %d: operation id %d", name, f, k, op.OperationID)
				}
				if (op.ProviderPaymentID != "") != (op.OperationStatus == domain.StatusSuccess) {
					t.Errorf("%s at %d, step %d: status %q with provider payment id %q", name, f, k, op.OperationStatus, op.ProviderPaymentID)
				}
				if op.SumConverted != op.SumInitial || op.SumInitial.Amount <= 0 {
					t.Errorf("%s at %d, step %d: amounts %v, %v", name, f, k, op.SumInitial, op.SumConverted)
				}
				if a := op.SumInitial.Amount; op.PaymentMethod == MethodADVCash && (a == advcashDeclineAmount1 || a == advcashDeclineAmount2) {
					t.Errorf("%s at %d: the seeds' decline amount %d", name, f, a)
				}
				switch {
				case op.OperationStatus == statusAwaitingReview:
					if !op.CompletedAt.IsZero() || op.Code != "" {
						t.Errorf("%s at %d: completed %v, code %q", name, f, op.CompletedAt, op.Code)
					}
				case op.OperationStatus == domain.StatusSuccess:
					if op.Code != "0" || op.Message != "Success" {
						t.Errorf("%s at %d, step %d: code %q %q", name, f, k, op.Code, op.Message)
					}
				default:
					if op.Code == "" || op.Code == "0" || op.Message == "" {
						t.Errorf("%s at %d, step %d: failure %q with code %q %q", name, f, k, op.OperationStatus, op.Code, op.Message)
					}
				}
				if op.OperationStatus != statusAwaitingReview {
					d := op.CompletedAt.Sub(op.CreatedAt)
					lo, hi := 30*time.Second, 10*time.Minute
					if op.OperationStatus == domain.StatusExpired {
						lo, hi = time.Hour, 2*time.Hour+time.Minute
					}
					if d < lo || d > hi {
						t.Errorf("%s at %d, step %d completes %v after its creation, want %v to %v", name, f, k, d, lo, hi)
					}
					if k > 0 && !op.CompletedAt.After(ops[k-1].CompletedAt) {
						t.Errorf("%s at %d: step %d completes at %v, not after step %d (%v)", name, f, k, op.CompletedAt, k-1, ops[k-1].CompletedAt)
					}
				}
			}
			total := first.SumInitial.Amount
			switch name {
			case "two-step purchase", "authorisation cancelled":
				if ops[1].SumInitial != first.SumInitial {
					t.Errorf("%s at %d: %s of %v after an auth of %v", name, f, ops[1].OperationType, ops[1].SumInitial, first.SumInitial)
				}
			case "sale refunded in two parts":
				a, b := ops[1].SumInitial.Amount, ops[2].SumInitial.Amount
				if a+b != total || a != total*40/100 || a >= b {
					t.Errorf("%s at %d: refunds %d + %d of a sale of %d, want 40 %% and the rest", name, f, a, b, total)
				}
				if ops[1].ProviderPaymentID == ops[2].ProviderPaymentID {
					t.Errorf("%s at %d: both refunds have provider payment id %s", name, f, ops[1].ProviderPaymentID)
				}
			case "refund taken back":
				if ops[1].SumInitial != first.SumInitial || ops[2].SumInitial != ops[1].SumInitial {
					t.Errorf("%s at %d: sale %v, refund %v, refund reverse %v", name, f, first.SumInitial, ops[1].SumInitial, ops[2].SumInitial)
				}
			case "payout with a commission":
				// 1.5 %, rounded half up, at least one minor unit.
				if c := ops[1].SumInitial.Amount; c != max((total*15+500)/1000, 1) || c*1000 < total*15-500 || c*1000 > total*15+500 {
					t.Errorf("%s at %d: commission %d of a payout of %d", name, f, c, total)
				}
			}
		}
	}
	// The ordinary data stays the large majority: about 2 in 100.
	if scenarioOps > g.count/20 {
		t.Errorf("%d operations of scenarios in %d", scenarioOps, g.count)
	}
}

func TestScenarioPaymentStatusStepByStep(t *testing.T) {
	g := testGen(1, 5000)
	late := t0.Add(60 * 24 * time.Hour)
	checked := 0
	for name, want := range wantScripts {
		for _, f := range scenarioBlocks(g)[name] {
			idx := g.paymentOps(f)
			var done []time.Time // completion times, seen late
			for _, i := range idx {
				op, _ := g.op(i, late)
				done = append(done, op.CompletedAt)
			}
			// Just before the first step completes, then when each step
			// has completed and the next not yet.
			times := []time.Time{g.createdAt(f)}
			if !done[0].IsZero() {
				times = append(times, done[0].Add(-time.Second))
			}
			for _, d := range done {
				if !d.IsZero() {
					times = append(times, d)
				}
			}
			for _, now := range times {
				n := 0 // the steps done at now
				for n < len(done) && !done[n].IsZero() && !now.Before(done[n]) {
					n++
				}
				payment := domain.StatusProcessing
				if n > 0 {
					payment = want.steps[n-1].payment
				}
				for k, i := range idx {
					op, ok := g.op(i, now)
					if !ok {
						continue // not created yet
					}
					status := want.steps[k].status
					if k >= n && status != statusAwaitingReview {
						status = domain.StatusProcessing
					}
					if op.OperationStatus != status || op.PaymentStatus != payment || (k < n) == op.CompletedAt.IsZero() {
						t.Errorf("%s at %d, %d steps done at %v: step %d is %q/%q completed %v, want %q/%q",
							name, f, n, now.Format(time.TimeOnly), k, op.OperationStatus, op.PaymentStatus, op.CompletedAt, status, payment)
					}
					checked++
				}
			}
		}
	}
	// The cases the brief names: awaiting capture after the auth, and
	// partially refunded after the first refund.
	for name, f := range map[string]int{"two-step purchase": 50, "sale refunded in two parts": 250} {
		auth, _ := g.op(f, late)
		second, _ := g.op(f+1, late)
		now := auth.CompletedAt
		a, _ := g.op(f, now)
		b, _ := g.op(f+1, now)
		want := map[string]string{"two-step purchase": "awaiting capture", "sale refunded in two parts": "success"}[name]
		if a.PaymentStatus != want || b.PaymentStatus != want || b.OperationStatus != domain.StatusProcessing {
			t.Errorf("%s at %d, first step done: %q/%q, %s %q, want %q", name, f, a.PaymentStatus, b.PaymentStatus, b.OperationType, b.OperationStatus, want)
		}
		if name == "sale refunded in two parts" {
			c, _ := g.op(f+2, second.CompletedAt)
			if c.PaymentStatus != domain.StatusPartiallyRefunded || c.OperationStatus != domain.StatusProcessing {
				t.Errorf("after the first refund: second refund %q, payment %q", c.OperationStatus, c.PaymentStatus)
			}
		}
	}
	if checked < 200 {
		t.Errorf("only %d checks", checked)
	}
}

func TestOperationIDsAndTimes(t *testing.T) {
	g := testGen(1, 5000)
	now := t0.Add(60 * 24 * time.Hour)
	seen := map[uint64]int{}
	var prev time.Time
	for i := 0; i < g.count; i++ {
		op, ok := g.op(i, now)
		if !ok {
			t.Fatalf("op %d not visible", i)
		}
		if j, dup := seen[op.OperationID]; dup {
			t.Fatalf("ops %d and %d have operation id %d", j, i, op.OperationID)
		}
		seen[op.OperationID] = i
		if op.OperationID != g.opBase+uint64(i) || len(strconv.FormatUint(op.OperationID, 10)) != 17 {
			t.Fatalf("op %d: operation id %d", i, op.OperationID)
		}
		if op.CreatedAt.Before(prev) || !op.CreatedAt.Equal(g.createdAt(i)) {
			t.Fatalf("op %d created at %v, after %v", i, op.CreatedAt, prev)
		}
		prev = op.CreatedAt
		if i > 0 && g.firstAtOrAfter(op.CreatedAt) > i {
			t.Fatalf("firstAtOrAfter(%v) = %d > %d", op.CreatedAt, g.firstAtOrAfter(op.CreatedAt), i)
		}
	}
}

func TestPaymentOpsAreThePayment(t *testing.T) {
	g := testGen(1, 5000)
	now := t0.Add(60 * 24 * time.Hour)
	byPayment := map[string][]int{}
	for i := 0; i < g.count; i++ {
		op, _ := g.op(i, now)
		byPayment[op.PaymentID] = append(byPayment[op.PaymentID], i)
		// The ordinary generator leaves the scenarios alone.
		if r := g.refundTarget(i); r >= 0 {
			if _, _, ok := g.scenarioOf(i); ok {
				t.Fatalf("op %d of a scenario refunds %d", i, r)
			}
			if _, _, ok := g.scenarioOf(r); ok {
				t.Fatalf("op %d refunds op %d of a scenario", i, r)
			}
		}
	}
	multi := 0
	for id, want := range byPayment {
		f, ok := g.parsePaymentID(id)
		if !ok || f != want[0] {
			t.Fatalf("payment %q (ops %v) parses to %d, %v", id, want, f, ok)
		}
		if got := g.paymentOps(f); !slices.Equal(got, want) {
			t.Fatalf("paymentOps(%d) = %v, the operations of payment %q are %v", f, got, id, want)
		}
		for _, i := range want {
			if got := g.paymentOps(i); !slices.Equal(got, want) {
				t.Fatalf("paymentOps(%d) = %v, want %v", i, got, want)
			}
		}
		if len(want) > 1 {
			multi++
		}
	}
	if multi < 100 {
		t.Errorf("only %d payments of several operations", multi)
	}
	if g.paymentOps(-1) != nil || g.paymentOps(g.count) != nil {
		t.Error("paymentOps out of range is not nil")
	}
}

func TestOrdinaryErrors(t *testing.T) {
	g := testGen(1, 5000)
	now := t0.Add(60 * 24 * time.Hour)
	counts := map[string]int{}
	for i := 0; i < g.count; i++ {
		if _, _, ok := g.scenarioOf(i); ok {
			continue
		}
		op, _ := g.op(i, now)
		switch op.OperationStatus {
		case domain.StatusSuccess:
			continue
		case domain.StatusInternalError, domain.StatusExternalError:
			want := map[string]string{domain.StatusInternalError: "3000", domain.StatusExternalError: "3001"}[op.OperationStatus]
			if op.Code != want || op.Message == "" || op.ProviderPaymentID != "" {
				t.Errorf("op %d: %q with code %q %q, provider payment id %q", i, op.OperationStatus, op.Code, op.Message, op.ProviderPaymentID)
			}
			// A refund's failure leaves its sale's payment as it was.
			if g.kind(i) != kindRefund && op.PaymentStatus != op.OperationStatus {
				t.Errorf("op %d: %q, payment %q", i, op.OperationStatus, op.PaymentStatus)
			}
		case domain.StatusDecline:
		default:
			t.Fatalf("ordinary op %d in status %q", i, op.OperationStatus)
		}
		counts[op.OperationStatus]++
		counts["failed"]++
	}
	errors := counts[domain.StatusInternalError] + counts[domain.StatusExternalError]
	share := float64(errors) / float64(counts["failed"])
	t.Logf("%d internal and %d external errors of %d ordinary failures: %.1f %%",
		counts[domain.StatusInternalError], counts[domain.StatusExternalError], counts["failed"], 100*share)
	if share < 0.025 || share > 0.08 || counts[domain.StatusInternalError] == 0 || counts[domain.StatusExternalError] == 0 {
		t.Errorf("ordinary failures: %v, want about 5 %% errors of both kinds", counts)
	}
}

// BenchmarkOp is the cost of one operation as the server makes it: the
// operation seen long after it was created.
func BenchmarkOp(b *testing.B) {
	g := testGen(7, 1_000_000)
	now := t0.Add(3 * 365 * 24 * time.Hour)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g.op(i%g.count, now)
	}
}
