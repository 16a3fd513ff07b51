package fakeapi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// Payment methods of the seeds, as the API names them in payment_method.
const (
	MethodADVCash     = "advcash"
	MethodCardPartner = "Card partner"
)

// Project is one merchant project of the fake and its payment method.
type Project struct {
	ID     int64
	Method string // MethodADVCash or MethodCardPartner
}

// DefaultProjects are the seeds' projects: 580 takes ADVCash, 579 the Uzbek
// card partner.
var DefaultProjects = []Project{{ID: 580, Method: MethodADVCash}, {ID: 579, Method: MethodCardPartner}}

// advcashCurrencies are ADVCash's payment currencies (seed 000).
var advcashCurrencies = []string{"EUR", "BRL", "GBP", "KZT", "RUB", "UAH", "USD"}

// ADVCash test amounts that end in decline (seed 000, "Статусы тестовых
// платежей"), in minor units.
const (
	advcashDeclineAmount1 = 40000
	advcashDeclineAmount2 = 40400
)

// Decline codes and messages. "100" and "20105" are in the seeds; the others
// are plausible synthetic ones.
var declines = []struct{ code, message string }{
	{"100", "General decline"},
	{"20105", "Insufficient funds on customer account"},
	{"20101", "Card is expired"},
	{"20302", "Customer account is blocked"},
	{"3028", "Transaction declined by the provider"},
}

// Limit times of the seeds: a payout through the card partner that is not
// final after 24 hours is declined by the platform.
const cardPayoutLimit = 24 * time.Hour

// stuckDelay is how long a stuck card purchase stays processing.
const stuckDelay = 8 * 24 * time.Hour

// refundWindow is how many operations back a refund may look for its sale.
const refundWindow = 50

// kind of a generated operation.
type kind uint8

const (
	kindSale kind = iota
	kindPayout
	kindRefund
	kindScenario // part of a scenario payment, not the ordinary generator's
)

// generator derives every operation from (seed, index) alone, so that a fake
// of a million operations needs no memory for them, and the same seed always
// gives the same data. Operation i is created at start + i*step plus a jitter
// below step: creation times never decrease with i, which lets an interval
// be found by binary search. A few indexes in every hundred are scenario
// payments instead (see scenarioEvery); the rest is the ordinary data:
// sales, payouts, refunds of card sales.
type generator struct {
	seed     uint64
	projects []Project
	start    time.Time
	step     time.Duration
	count    int
	opBase   uint64
	// byMethod lists the indexes in projects of each payment method, for
	// the scenarios' projects.
	byMethod map[string][]int
}

func newGenerator(seed uint64, projects []Project, start time.Time, step time.Duration, count int) *generator {
	g := &generator{
		seed:     seed,
		projects: projects,
		start:    start.UTC().Truncate(time.Second),
		step:     step,
		count:    count,
		// 17-digit ids, above 2^53: a float64 on the way would change them.
		opBase:   10_000_000_000_000_000 + (seed%89)*100_000_000_000_000,
		byMethod: map[string][]int{},
	}
	for n, p := range projects {
		g.byMethod[p.Method] = append(g.byMethod[p.Method], n)
	}
	return g
}

// h is a splitmix64 hash of (seed, i, salt).
func (g *generator) h(i int, salt uint64) uint64 {
	z := g.seed ^ uint64(i)*0x9E3779B97F4A7C15 ^ salt*0xBF58476D1CE4E5B9
	z += 0x9E3779B97F4A7C15
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

func (g *generator) createdAt(i int) time.Time {
	jitter := time.Duration(g.h(i, 1) % uint64(max(g.step, 1)))
	return g.start.Add(time.Duration(i)*g.step + jitter).Truncate(time.Second)
}

// firstAtOrAfter returns the first index created at or after t.
func (g *generator) firstAtOrAfter(t time.Time) int {
	return sort.Search(g.count, func(i int) bool { return !g.createdAt(i).Before(t) })
}

func (g *generator) baseProject(i int) int {
	if f, sc, ok := g.scenarioOf(i); ok {
		ps := g.byMethod[sc.method]
		return ps[g.h(f, 2)%uint64(len(ps))]
	}
	return g.ordinaryProject(i)
}

// ordinaryProject is baseProject of an index that is not a scenario's.
func (g *generator) ordinaryProject(i int) int { return int(g.h(i, 2) % uint64(len(g.projects))) }

// baseKind is the kind before refunds are resolved: a card-partner
// operation may be a refund candidate. An index of a scenario is
// kindScenario: never a refund candidate nor a refund's sale.
func (g *generator) baseKind(i int) kind {
	if _, _, ok := g.scenarioOf(i); ok {
		return kindScenario
	}
	r := g.h(i, 3) % 100
	if g.projects[g.ordinaryProject(i)].Method == MethodCardPartner {
		switch {
		case r < 55:
			return kindSale
		case r < 80:
			return kindPayout
		default:
			return kindRefund
		}
	}
	if r < 65 {
		return kindSale
	}
	return kindPayout
}

// refundTarget returns the sale that operation i refunds, or -1 when i is
// not a refund. A candidate refunds the sale refundWindow or fewer places
// back if that sale succeeded before i was created and no earlier candidate
// took it; otherwise it is an ordinary sale.
func (g *generator) refundTarget(i int) int {
	if g.baseKind(i) != kindRefund {
		return -1
	}
	t := i - 1 - int(g.h(i, 4)%refundWindow)
	if t < 0 || g.baseKind(t) != kindSale || g.projects[g.baseProject(t)].Method != MethodCardPartner {
		return -1
	}
	if out := g.outcome(t); out.failed || !out.completedAt.Before(g.createdAt(i)) {
		return -1
	}
	for j := t + 1; j < i; j++ {
		// The hash first: baseKind only for the few that point at t.
		if j-1-int(g.h(j, 4)%refundWindow) == t && g.baseKind(j) == kindRefund {
			return -1 // an earlier candidate refunds t already
		}
	}
	return t
}

func (g *generator) kind(i int) kind {
	switch k := g.baseKind(i); {
	case k != kindRefund:
		return k
	case g.refundTarget(i) >= 0:
		return kindRefund
	default:
		return kindSale
	}
}

func (g *generator) project(i int) Project {
	if t := g.refundTarget(i); t >= 0 {
		return g.projects[g.baseProject(t)]
	}
	return g.projects[g.baseProject(i)]
}

// outcome is the final state of operation i, whenever it is reached.
type outcome struct {
	amount      domain.Money
	failed      bool   // a final failure: status is not success
	status      string // the final operation status
	code, msg   string
	completedAt time.Time
}

// errorShare is one in how many of the ordinary generator's random declines
// is an internal or external error instead (still a final failure). The
// seeds' own declines (the ADVCash test amounts, the card payout limit time)
// stay declines.
const errorShare = 20

// Failures other than a decline; the codes are plausible synthetic ones.
var (
	internalError = struct{ code, message string }{"3000", "Internal error"}
	externalError = struct{ code, message string }{"3001", "Provider error"}
	expiredError  = struct{ code, message string }{"3002", "Payment expired"}
)

func (g *generator) outcome(i int) outcome {
	p := g.projects[g.baseProject(i)]
	created := g.createdAt(i)
	r := g.h(i, 5)
	var o outcome
	if t := g.refundTarget(i); t >= 0 {
		sale := g.outcome(t).amount
		o.amount = sale
		if r%10 < 3 { // partial refund
			o.amount.Amount = max(sale.Amount/2, 1)
		}
		o.failed = r%100 >= 95
		o.completedAt = created.Add(time.Duration(30+r%600) * time.Second)
	} else if p.Method == MethodADVCash {
		cur := advcashCurrencies[r%uint64(len(advcashCurrencies))]
		amount := int64(100 + (r>>8)%500_000)
		switch (r >> 32) % 100 {
		case 0, 1:
			amount = advcashDeclineAmount1
		case 2:
			amount = advcashDeclineAmount2
		}
		o.amount = domain.Money{Amount: amount, Currency: cur}
		o.failed = amount == advcashDeclineAmount1 || amount == advcashDeclineAmount2 || (r>>40)%100 < 7
		// base time 2–3 minutes; one in twenty takes hours.
		delay := time.Duration(60+(r>>48)%120) * time.Second
		if (r>>20)%20 == 0 {
			delay = time.Duration(1+(r>>24)%30) * time.Hour
		}
		o.completedAt = created.Add(delay)
	} else {
		o.amount = domain.Money{Amount: int64(1_000_000 + (r>>8)%499_000_000), Currency: "UZS"}
		o.failed = (r>>40)%100 < 10
		delay := time.Duration(60+(r>>48)%1140) * time.Second // within 20 minutes
		if (r>>20)%25 == 0 {
			delay = time.Duration(1+(r>>24)%30) * time.Hour
		}
		if g.baseKind(i) == kindSale && (r>>12)%100 == 0 {
			// Stuck: a purchase that stays "processing" for days, the
			// case reconciliation reports as overdue.
			delay = stuckDelay
		}
		if g.baseKind(i) == kindPayout && delay > cardPayoutLimit {
			delay = cardPayoutLimit // the platform declines at the limit time
			o.failed, o.code, o.msg = true, "100", "General decline"
		}
		o.completedAt = created.Add(delay)
	}
	switch {
	case !o.failed:
		o.status, o.code, o.msg = domain.StatusSuccess, "0", "Success"
	case o.code != "": // the platform's decline at the limit time
		o.status = domain.StatusDecline
	case o.amount.Amount == advcashDeclineAmount1 || o.amount.Amount == advcashDeclineAmount2:
		o.status, o.code, o.msg = domain.StatusDecline, declines[0].code, declines[0].message
	default:
		e := g.h(i, 7)
		switch {
		case e%errorShare == 0 && (e>>8)%2 == 0:
			o.status, o.code, o.msg = domain.StatusInternalError, internalError.code, internalError.message
		case e%errorShare == 0:
			o.status, o.code, o.msg = domain.StatusExternalError, externalError.code, externalError.message
		default:
			d := declines[(r>>56)%uint64(len(declines))]
			o.status, o.code, o.msg = domain.StatusDecline, d.code, d.message
		}
	}
	return o
}

// refundOf returns the refund of ordinary sale i, or -1 (always -1 for an
// index of a scenario: its refunds are in paymentOps).
func (g *generator) refundOf(i int) int {
	for j := i + 1; j <= i+refundWindow && j < g.count; j++ {
		// Only a j that points at i can refund it: the hash first.
		if j-1-int(g.h(j, 4)%refundWindow) == i && g.refundTarget(j) == i {
			return j
		}
	}
	return -1
}

func (g *generator) paymentID(i int) string {
	if f, sc, ok := g.scenarioOf(i); ok {
		prefix := "adv-"
		if sc.method == MethodCardPartner {
			prefix = "uz-"
		}
		if sc.steps[0].payType == domain.PaymentPayout {
			return prefix + "payout-" + strconv.Itoa(f)
		}
		return prefix + "order-" + strconv.Itoa(f)
	}
	prefix := "adv-"
	if g.project(i).Method == MethodCardPartner {
		prefix = "uz-"
	}
	switch g.kind(i) {
	case kindPayout:
		return prefix + "payout-" + strconv.Itoa(i)
	case kindRefund:
		return g.paymentID(g.refundTarget(i))
	}
	return prefix + "order-" + strconv.Itoa(i)
}

// parsePaymentID returns the index of the operation that opened a payment:
// an ordinary sale or payout, or the first of a scenario.
func (g *generator) parsePaymentID(id string) (int, bool) {
	n := strings.LastIndexByte(id, '-')
	if n < 0 {
		return 0, false
	}
	i, err := strconv.Atoi(id[n+1:])
	if err != nil || i < 0 || i >= g.count || g.paymentID(i) != id || g.kind(i) == kindRefund {
		return 0, false
	}
	return i, true
}

// op returns operation i as the API shows it at now, and whether it exists
// yet (it is created at or before now).
func (g *generator) op(i int, now time.Time) (domain.Operation, bool) {
	created := g.createdAt(i)
	if created.After(now) {
		return domain.Operation{}, false
	}
	if f, sc, ok := g.scenarioOf(i); ok {
		return g.scenarioOp(f, i-f, sc, now), true
	}
	p := g.project(i)
	k := g.kind(i)
	out := g.outcome(i)
	r := g.h(i, 6)
	op := domain.Operation{
		ProjectID:     p.ID,
		OperationID:   g.opBase + uint64(i),
		PaymentID:     g.paymentID(i),
		PaymentMethod: p.Method,
		CustomerID:    fmt.Sprintf("cust-%05d", r%20000),
		CreatedAt:     created,
		SumInitial:    out.amount,
		SumConverted:  out.amount,
	}
	switch k {
	case kindSale:
		op.OperationType, op.PaymentType = domain.OpSale, domain.PaymentPurchase
	case kindPayout:
		op.OperationType, op.PaymentType = domain.OpPayout, domain.PaymentPayout
	case kindRefund:
		op.OperationType, op.PaymentType = domain.OpRefund, domain.PaymentPurchase
		op.CustomerID = fmt.Sprintf("cust-%05d", g.h(g.refundTarget(i), 6)%20000)
	}
	op.ProviderID, op.AccountNumber = account(p.Method, k == kindPayout, r)
	if now.Before(out.completedAt) {
		op.OperationStatus = domain.StatusProcessing
		op.PaymentStatus = domain.StatusProcessing
		if k == kindRefund {
			op.PaymentStatus = domain.StatusSuccess
		}
		return op, true
	}
	op.CompletedAt = out.completedAt
	op.Code, op.Message = out.code, out.msg
	op.OperationStatus = out.status
	if !out.failed {
		op.ProviderPaymentID = providerPaymentID(p.Method, r)
	}
	op.PaymentStatus = g.paymentStatus(i, now)
	return op, true
}

// account is the provider id and account number of an operation of the
// method, drawn from the hash r.
func account(method string, payout bool, r uint64) (int64, string) {
	if method == MethodADVCash {
		return 1203, fmt.Sprintf("wallet%d@example.com", r%5000)
	}
	switch {
	case payout && r%10 == 0:
		// A full card number, as a careless upstream might send it: the
		// client must mask it before it is stored.
		return 1521, fmt.Sprintf("8600%012d", r%1_000_000_000_000)
	case payout:
		return 1521, fmt.Sprintf("860012******%04d", r%10000)
	}
	return 1521, fmt.Sprintf("%04d-%010X...%015X", r%10000, r>>24&0xFFFFFFFFFF, r&0xFFFFFFFFFFFF)
}

// providerPaymentID is the provider's id of a successful operation whose
// hash is r.
func providerPaymentID(method string, r uint64) string {
	if method == MethodADVCash {
		return fmt.Sprintf("%08x-%04x-%03x", uint32(r>>32), uint16(r>>16), r&0xFFF)
	}
	return strconv.FormatUint(100000+r%900000000, 10)
}

// paymentStatus is the status of the payment that operation i belongs to.
func (g *generator) paymentStatus(i int, now time.Time) string {
	if t := g.refundTarget(i); t >= 0 {
		i = t
	}
	out := g.outcome(i)
	if now.Before(out.completedAt) {
		return domain.StatusProcessing
	}
	if out.failed {
		return out.status
	}
	if j := g.refundOf(i); j >= 0 && !g.createdAt(j).After(now) {
		ro := g.outcome(j)
		if !now.Before(ro.completedAt) && !ro.failed {
			if ro.amount.Amount < out.amount.Amount {
				return domain.StatusPartiallyRefunded
			}
			return domain.StatusRefunded
		}
	}
	return domain.StatusSuccess
}

// paymentOps returns the indexes of every operation of the payment that
// operation i opens (as parsePaymentID returns it), in order: an ordinary
// sale and its refund if any, an ordinary payout alone, or a scenario's
// block. Any other index of the payment gives the same answer. It is nil
// for an index out of range.
func (g *generator) paymentOps(i int) []int {
	if i < 0 || i >= g.count {
		return nil
	}
	if f, sc, ok := g.scenarioOf(i); ok {
		ops := make([]int, len(sc.steps))
		for k := range ops {
			ops[k] = f + k
		}
		return ops
	}
	if t := g.refundTarget(i); t >= 0 {
		i = t
	}
	if g.kind(i) == kindSale {
		if j := g.refundOf(i); j >= 0 {
			return []int{i, j}
		}
	}
	return []int{i}
}

// Scenario payments: ECommPay's less common cases, each a payment of a few
// operations that follow a script. In every hundred indexes, the block that
// starts at index 100n+scenarioOffset is scenario n % len(scenarios), one
// index per step of its script (so at most maxScenarioSteps of the hundred;
// the rest is ordinary data). The ordinary generator leaves these indexes
// alone: they are never a refund candidate nor a refund's sale. A block
// that would not fit below the count, or whose method no project takes, is
// ordinary data instead. The scenarios, in this order:
//
//   - two-step purchase (card partner): auth, then a capture of the same
//     amount; the payment is "awaiting capture" while only the auth is
//     done, then "success";
//   - authorisation cancelled (card partner): auth, then cancel of the same
//     amount; the payment ends "cancelled", nothing charged;
//   - sale refunded in two parts (card partner): sale, a refund of 40 %
//     (payment "partially refunded"), a refund of the rest ("refunded");
//   - refund taken back (card partner): sale, a refund in full
//     ("refunded"), a refund reverse of the same amount ("success" again);
//   - payout with a commission (ADVCash): a payout and a "commission"
//     operation of 1.5 % of it (rounded half up, at least one minor unit),
//     payment type payout, same currency;
//   - internal error, external error, expired (ADVCash): a sale that ends in
//     that status, and so does its payment; the expired one after one to
//     two hours, the customer never having finished;
//   - unknown status (card partner): a sale that stays "awaiting review",
//     a status ECommPay's lists do not have; its payment stays
//     "processing" and it is never completed.
//
// Each step is created at its index's time, as every operation, and is
// "processing" until its completion time: 30 s to 3 min (from the hash)
// after its creation or after the step before it completed, whichever is
// later, so the steps complete in order. Every operation of the payment
// shows the payment status of the steps completed by now. Payment ids are
// the ordinary ones with the block's first index: uz-order-N, adv-order-N,
// adv-payout-N.
const (
	scenarioEvery  = 100
	scenarioOffset = 50
)

// statusAwaitingReview is a status ECommPay's lists do not have.
const statusAwaitingReview = "awaiting review"

// Commission of the payout scenario, in thousandths of the payout.
const commissionPermille = 15

// refundFirstPercent is the share of the first refund of the two-part
// refund scenario.
const refundFirstPercent = 40

// amountRule is how a step's amount follows from the payment's.
type amountRule uint8

const (
	amountWhole      amountRule = iota // the payment's amount
	amountFirstPart                    // refundFirstPercent % of it, at least 1
	amountRest                         // what the first part leaves
	amountCommission                   // commissionPermille ‰, rounded half up, at least 1
)

// delayRule is when a step completes.
type delayRule uint8

const (
	delayMinutes delayRule = iota // 30 s to 3 min
	delayHours                    // one to two hours
	delayNever                    // never: the status stays as it is
)

// scriptStep is one operation of a scenario.
type scriptStep struct {
	opType, payType string
	amount          amountRule
	delay           delayRule
	status          string // final status, or the lasting one with delayNever
	code, msg       string // of a final status
	payment         string // payment status once the step is done
}

type scenario struct {
	name   string
	method string
	steps  []scriptStep
}

func succeeds(opType, payType string, amount amountRule, payment string) scriptStep {
	return scriptStep{opType: opType, payType: payType, amount: amount, status: domain.StatusSuccess, code: "0", msg: "Success", payment: payment}
}

func fails(status string, delay delayRule, cm struct{ code, message string }) scriptStep {
	return scriptStep{opType: domain.OpSale, payType: domain.PaymentPurchase, delay: delay, status: status, code: cm.code, msg: cm.message, payment: status}
}

var scenarios = []scenario{
	{"two-step purchase", MethodCardPartner, []scriptStep{
		succeeds(domain.OpAuth, domain.PaymentPurchase, amountWhole, domain.StatusAwaitingCapture),
		succeeds(domain.OpCapture, domain.PaymentPurchase, amountWhole, domain.StatusSuccess),
	}},
	{"authorisation cancelled", MethodCardPartner, []scriptStep{
		succeeds(domain.OpAuth, domain.PaymentPurchase, amountWhole, domain.StatusAwaitingCapture),
		succeeds(domain.OpCancel, domain.PaymentPurchase, amountWhole, domain.StatusCancelled),
	}},
	{"sale refunded in two parts", MethodCardPartner, []scriptStep{
		succeeds(domain.OpSale, domain.PaymentPurchase, amountWhole, domain.StatusSuccess),
		succeeds(domain.OpRefund, domain.PaymentPurchase, amountFirstPart, domain.StatusPartiallyRefunded),
		succeeds(domain.OpRefund, domain.PaymentPurchase, amountRest, domain.StatusRefunded),
	}},
	{"refund taken back", MethodCardPartner, []scriptStep{
		succeeds(domain.OpSale, domain.PaymentPurchase, amountWhole, domain.StatusSuccess),
		succeeds(domain.OpRefund, domain.PaymentPurchase, amountWhole, domain.StatusRefunded),
		succeeds(domain.OpRefundReverse, domain.PaymentPurchase, amountWhole, domain.StatusSuccess),
	}},
	{"payout with a commission", MethodADVCash, []scriptStep{
		succeeds(domain.OpPayout, domain.PaymentPayout, amountWhole, domain.StatusSuccess),
		succeeds(domain.OpCommission, domain.PaymentPayout, amountCommission, domain.StatusSuccess),
	}},
	{"internal error", MethodADVCash, []scriptStep{fails(domain.StatusInternalError, delayMinutes, internalError)}},
	{"external error", MethodADVCash, []scriptStep{fails(domain.StatusExternalError, delayMinutes, externalError)}},
	{"expired", MethodADVCash, []scriptStep{fails(domain.StatusExpired, delayHours, expiredError)}},
	{"unknown status", MethodCardPartner, []scriptStep{
		{opType: domain.OpSale, payType: domain.PaymentPurchase, delay: delayNever, status: statusAwaitingReview},
	}},
}

// maxScenarioSteps bounds the scripts' length (a test checks every script
// fits): the indexes of a hundred past scenarioOffset+maxScenarioSteps are
// ordinary without looking further.
const maxScenarioSteps = 3

// scenarioOf returns the first index of the scenario block that index i is
// part of, and the scenario; ok is false for an ordinary index.
func (g *generator) scenarioOf(i int) (first int, sc *scenario, ok bool) {
	off := i % scenarioEvery
	if i < 0 || off < scenarioOffset || off >= scenarioOffset+maxScenarioSteps {
		return 0, nil, false
	}
	first = i - off + scenarioOffset
	sc = &scenarios[(first/scenarioEvery)%len(scenarios)]
	if i-first >= len(sc.steps) || first+len(sc.steps) > g.count || len(g.byMethod[sc.method]) == 0 {
		return 0, nil, false
	}
	return first, sc, true
}

// scenarioAmount is the amount of the payment a scenario block opens.
func (g *generator) scenarioAmount(f int, sc *scenario) domain.Money {
	r := g.h(f, 5)
	if sc.method == MethodCardPartner {
		return domain.Money{Amount: int64(1_000_000 + (r>>8)%499_000_000), Currency: "UZS"}
	}
	amount := int64(100 + (r>>8)%500_000)
	if amount == advcashDeclineAmount1 || amount == advcashDeclineAmount2 {
		amount++ // the seeds' test amounts always decline
	}
	return domain.Money{Amount: amount, Currency: advcashCurrencies[r%uint64(len(advcashCurrencies))]}
}

// stepAmount is the amount of a step of a payment of amount total.
func stepAmount(rule amountRule, total int64) int64 {
	first := max(total*refundFirstPercent/100, 1)
	switch rule {
	case amountFirstPart:
		return first
	case amountRest:
		return total - first
	case amountCommission:
		return max((total*commissionPermille+500)/1000, 1)
	}
	return total
}

// scenarioCompleted returns the completion times of the steps of the block
// that starts at f; a zero time is a step that never completes (and so do
// the steps after it).
func (g *generator) scenarioCompleted(f int, sc *scenario) [maxScenarioSteps]time.Time {
	var done [maxScenarioSteps]time.Time
	var prev time.Time
	for k, st := range sc.steps {
		if st.delay == delayNever || (k > 0 && prev.IsZero()) {
			break
		}
		r := g.h(f+k, 7)
		d := time.Duration(30+r%151) * time.Second
		if st.delay == delayHours {
			d = time.Hour + time.Duration(r%3601)*time.Second
		}
		prev = later(g.createdAt(f+k), prev).Add(d)
		done[k] = prev
	}
	return done
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// scenarioOp is step k of the scenario block that starts at f, as the API
// shows it at now (the step exists: it was created at or before now).
func (g *generator) scenarioOp(f, k int, sc *scenario, now time.Time) domain.Operation {
	i := f + k
	st := sc.steps[k]
	p := g.projects[g.baseProject(f)]
	total := g.scenarioAmount(f, sc)
	amount := domain.Money{Amount: stepAmount(st.amount, total.Amount), Currency: total.Currency}
	rf := g.h(f, 6) // the payment's customer and account
	op := domain.Operation{
		ProjectID:     p.ID,
		OperationID:   g.opBase + uint64(i),
		PaymentID:     g.paymentID(f),
		PaymentType:   st.payType,
		OperationType: st.opType,
		PaymentMethod: p.Method,
		CustomerID:    fmt.Sprintf("cust-%05d", rf%20000),
		CreatedAt:     g.createdAt(i),
		SumInitial:    amount,
		SumConverted:  amount,
	}
	op.ProviderID, op.AccountNumber = account(p.Method, st.payType == domain.PaymentPayout, rf)
	completed := g.scenarioCompleted(f, sc)
	op.PaymentStatus = domain.StatusProcessing
	for n := range sc.steps {
		if completed[n].IsZero() || now.Before(completed[n]) {
			break
		}
		op.PaymentStatus = sc.steps[n].payment
	}
	switch {
	case st.delay == delayNever:
		op.OperationStatus = st.status
	case now.Before(completed[k]):
		op.OperationStatus = domain.StatusProcessing
	default:
		op.OperationStatus, op.Code, op.Message = st.status, st.code, st.msg
		op.CompletedAt = completed[k]
		if st.status == domain.StatusSuccess {
			op.ProviderPaymentID = providerPaymentID(p.Method, g.h(i, 6))
		}
	}
	return op
}
