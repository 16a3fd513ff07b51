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
)

// generator derives every operation from (seed, index) alone, so that a fake
// of a million operations needs no memory for them, and the same seed always
// gives the same data. Operation i is created at start + i*step plus a jitter
// below step: creation times never decrease with i, which lets an interval
// be found by binary search.
type generator struct {
	seed     uint64
	projects []Project
	start    time.Time
	step     time.Duration
	count    int
	opBase   uint64
}

func newGenerator(seed uint64, projects []Project, start time.Time, step time.Duration, count int) *generator {
	return &generator{
		seed:     seed,
		projects: projects,
		start:    start.UTC().Truncate(time.Second),
		step:     step,
		count:    count,
		// 17-digit ids, above 2^53: a float64 on the way would change them.
		opBase: 10_000_000_000_000_000 + (seed%89)*100_000_000_000_000,
	}
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

func (g *generator) baseProject(i int) int { return int(g.h(i, 2) % uint64(len(g.projects))) }

// baseKind is the kind before refunds are resolved: a card-partner
// operation may be a refund candidate.
func (g *generator) baseKind(i int) kind {
	r := g.h(i, 3) % 100
	if g.projects[g.baseProject(i)].Method == MethodCardPartner {
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
	if out := g.outcome(t); out.decline || !out.completedAt.Before(g.createdAt(i)) {
		return -1
	}
	for j := t + 1; j < i; j++ {
		if g.baseKind(j) == kindRefund && j-1-int(g.h(j, 4)%refundWindow) == t {
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
	decline     bool
	code, msg   string
	completedAt time.Time
}

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
		o.decline = r%100 >= 95
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
		o.decline = amount == advcashDeclineAmount1 || amount == advcashDeclineAmount2 || (r>>40)%100 < 7
		// base time 2–3 minutes; one in twenty takes hours.
		delay := time.Duration(60+(r>>48)%120) * time.Second
		if (r>>20)%20 == 0 {
			delay = time.Duration(1+(r>>24)%30) * time.Hour
		}
		o.completedAt = created.Add(delay)
	} else {
		o.amount = domain.Money{Amount: int64(1_000_000 + (r>>8)%499_000_000), Currency: "UZS"}
		o.decline = (r>>40)%100 < 10
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
			o.decline, o.code, o.msg = true, "100", "General decline"
		}
		o.completedAt = created.Add(delay)
	}
	if o.decline && o.code == "" {
		if o.amount.Amount == advcashDeclineAmount1 || o.amount.Amount == advcashDeclineAmount2 {
			o.code, o.msg = declines[0].code, declines[0].message
		} else {
			d := declines[(r>>56)%uint64(len(declines))]
			o.code, o.msg = d.code, d.message
		}
	}
	if !o.decline {
		o.code, o.msg = "0", "Success"
	}
	return o
}

// refundOf returns the refund of sale i, or -1.
func (g *generator) refundOf(i int) int {
	for j := i + 1; j <= i+refundWindow && j < g.count; j++ {
		if g.refundTarget(j) == i {
			return j
		}
	}
	return -1
}

func (g *generator) paymentID(i int) string {
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

// parsePaymentID returns the index of the operation that opened a payment.
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
	if p.Method == MethodADVCash {
		op.ProviderID = 1203
		op.AccountNumber = fmt.Sprintf("wallet%d@example.com", r%5000)
	} else {
		op.ProviderID = 1521
		switch {
		case k == kindPayout && r%10 == 0:
			// A full card number, as a careless upstream might send it: the
			// client must mask it before it is stored.
			op.AccountNumber = fmt.Sprintf("8600%012d", r%1_000_000_000_000)
		case k == kindPayout:
			op.AccountNumber = fmt.Sprintf("860012******%04d", r%10000)
		default:
			op.AccountNumber = fmt.Sprintf("%04d-%010X...%015X", r%10000, r>>24&0xFFFFFFFFFF, r&0xFFFFFFFFFFFF)
		}
	}
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
	if out.decline {
		op.OperationStatus = domain.StatusDecline
	} else {
		op.OperationStatus = domain.StatusSuccess
		if p.Method == MethodADVCash {
			op.ProviderPaymentID = fmt.Sprintf("%08x-%04x-%03x", uint32(r>>32), uint16(r>>16), r&0xFFF)
		} else {
			op.ProviderPaymentID = strconv.FormatUint(100000+r%900000000, 10)
		}
	}
	op.PaymentStatus = g.paymentStatus(i, now)
	return op, true
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
	if out.decline {
		return domain.StatusDecline
	}
	if j := g.refundOf(i); j >= 0 && !g.createdAt(j).After(now) {
		ro := g.outcome(j)
		if !now.Before(ro.completedAt) && !ro.decline {
			if ro.amount.Amount < out.amount.Amount {
				return domain.StatusPartiallyRefunded
			}
			return domain.StatusRefunded
		}
	}
	return domain.StatusSuccess
}
