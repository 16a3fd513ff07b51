package domain

import (
	"strconv"
	"strings"
)

// Unit names what the stored reconciliation recomputes together: a
// payment id, or, for merchant records that carry none, the id they name
// instead. It is the records' key space (internal/ledger): "P" and a
// payment id, "V" and a provider payment id, "O" and an operation id in
// decimal. Every operation belongs to the unit of its payment id; a record
// to the unit of the first id it carries.
type Unit string

// Unit kinds: the first byte of a Unit.
const (
	UnitPayment   = 'P'
	UnitProvider  = 'V'
	UnitOperation = 'O'
)

// PaymentUnit is the unit of a payment id.
func PaymentUnit(id string) Unit { return Unit("P" + id) }

// ProviderUnit is the unit of records that name a payment by its provider
// payment id only.
func ProviderUnit(id string) Unit { return Unit("V" + id) }

// OperationUnit is the unit of records that name an operation id only.
func OperationUnit(id uint64) Unit { return Unit("O" + strconv.FormatUint(id, 10)) }

// Unit is the unit a record belongs to.
func (r *Record) Unit() Unit {
	switch {
	case r.PaymentID != "":
		return PaymentUnit(r.PaymentID)
	case r.ProviderPaymentID != "":
		return ProviderUnit(r.ProviderPaymentID)
	}
	return OperationUnit(r.OperationID)
}

// ResolutionUnits are the units a resolution key's id may stand for: its
// payment id, or the record id of Record.ID ("provider:…",
// "operation:…"), which a payment id may also spell.
func ResolutionUnits(id string) []Unit {
	us := []Unit{PaymentUnit(id)}
	if p, ok := strings.CutPrefix(id, "provider:"); ok {
		us = append(us, ProviderUnit(p))
	} else if p, ok := strings.CutPrefix(id, "operation:"); ok {
		if n, err := strconv.ParseUint(p, 10, 64); err == nil {
			us = append(us, OperationUnit(n))
		}
	}
	return us
}

// Place is where a reconciled item stands. Key orders the items as the
// engine does (byte-wise: payments by their first operation id, then
// records without an operation), so that items stored by Key come back in
// the engine's order. Owner is the unit whose recomputation replaces the
// item: its payment's, or its records' when they found none.
type Place struct {
	Key   string
	Owner Unit
}

// Fallback says that records of Owner looked a payment up by Via: a
// provider payment id (ProviderUnit) or an operation id (OperationUnit).
// An operation with that id, new or changed, may change their items.
type Fallback struct {
	Via, Owner Unit
}
