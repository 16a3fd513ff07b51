package domain

import (
	"fmt"
	"strconv"
	"time"
)

// Chargeback is one chargeback as /chargeback/list reports it: a
// cardholder's dispute of a payment, which takes its amount back from the
// merchant unless the merchant wins it.
type Chargeback struct {
	ID          uint64 // ECommPay's chargeback id
	ProjectID   int64
	PaymentID   string
	OperationID uint64 // the operation disputed, when the provider says (0: not said)
	Amount      Money
	Status      string // as ECommPay sends it (ChargebackState reads it)
	ReasonCode  string // the card scheme's reason code, as sent
	CreatedAt   time.Time
	UpdatedAt   time.Time // zero: not sent
	Deadline    time.Time // the merchant's time to answer; zero: none given
}

// MaxChargebackAmount bounds a chargeback's amount, in minor units: 10^15
// (ten trillion of a currency with two decimals). A chargeback takes its
// amount back, so a negative one would add to the merchant's net, and
// one near 2^63 makes every sum of them (the settlement, the totals of
// status and the report, the stored result's amounts) wrap. Under the
// bound, 9,223 of them fit in an int64 sum.
const MaxChargebackAmount = MaxAmount

// CheckAmount refuses an amount below 0 or above MaxChargebackAmount.
func (c *Chargeback) CheckAmount() error {
	if a := c.Amount.Amount; a < 0 || a > MaxChargebackAmount {
		return fmt.Errorf("chargeback %d: amount %d is not in 0..%d minor units", c.ID, a, int64(MaxChargebackAmount))
	}
	return nil
}

// Part is how items, resolutions and the audit trail name a chargeback:
// "chargeback:ID".
func (c *Chargeback) Part() string { return ChargebackPart(c.ID) }

// ChargebackPart is the part of the item of chargeback id.
func ChargebackPart(id uint64) string { return "chargeback:" + strconv.FormatUint(id, 10) }

// ChargebackState is what a chargeback's status means for the money.
type ChargebackState uint8

const (
	// ChargebackOpen: disputed, not decided; the merchant may have to
	// answer by the deadline. A status reconciled does not know reads as
	// open: a dispute nobody decided is the one a person must see.
	ChargebackOpen ChargebackState = iota
	// ChargebackWon: decided for the merchant (or withdrawn): the money
	// stays.
	ChargebackWon
	// ChargebackLost: decided for the cardholder (or accepted by the
	// merchant): the amount is taken back.
	ChargebackLost
)

func (s ChargebackState) String() string {
	switch s {
	case ChargebackWon:
		return "won"
	case ChargebackLost:
		return "lost"
	}
	return "open"
}

// ChargebackStates lists the states in the order summaries show them.
var ChargebackStates = []ChargebackState{ChargebackOpen, ChargebackWon, ChargebackLost}

// Chargeback statuses ECommPay's side may send (assumed words: the
// reference does not show them; docs/data-api.md). Any other word is
// open.
var chargebackWords = map[string]ChargebackState{
	"new": ChargebackOpen, "open": ChargebackOpen, "pending": ChargebackOpen, "in_progress": ChargebackOpen,
	"disputed": ChargebackOpen, "representment": ChargebackOpen, "pre_arbitration": ChargebackOpen, "arbitration": ChargebackOpen,
	"won": ChargebackWon, "reversed": ChargebackWon, "cancelled": ChargebackWon,
	"lost": ChargebackLost, "accepted": ChargebackLost,
}

// State is what the chargeback's status means; known is false for a word
// reconciled does not know (read as open).
func (c *Chargeback) State() (s ChargebackState, known bool) {
	s, known = chargebackWords[c.Status]
	return s, known
}

// ChargebackWords are the statuses reconciled knows, with their meaning.
func ChargebackWords() map[string]ChargebackState {
	m := make(map[string]ChargebackState, len(chargebackWords))
	for k, v := range chargebackWords {
		m[k] = v
	}
	return m
}
