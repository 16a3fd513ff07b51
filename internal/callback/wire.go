package callback

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
)

// This file is the one place that knows the callbacks' wire names
// (docs/data-api.md, "Callbacks": the shape ECommPay documents, as the
// seeds show it). Members not read here (payment.sum, errors[],
// provider_extra_fields, redirect_data, request_id, …) are signed and
// otherwise ignored.

// TimeLayout is how callbacks write times: 2019-02-08T12:01:06+0000.
const TimeLayout = "2006-01-02T15:04:05-0700"

// The members read. Every scalar is kept raw (jsontext.Value) and read by
// text or integer, so that a number where a string was expected (an id
// written 65465) reads as its literal text, and no number passes through
// a float.
type wireCallback struct {
	Payment   *wirePayment   `json:"payment"`
	Account   wireAccount    `json:"account"`
	Customer  wireCustomer   `json:"customer"`
	Operation *wireOperation `json:"operation"`
}

type wirePayment struct {
	ID     jsontext.Value `json:"id"`
	Type   jsontext.Value `json:"type"`
	Status jsontext.Value `json:"status"`
	Method jsontext.Value `json:"method"`
}

type wireAccount struct {
	Number jsontext.Value `json:"number"`
}

type wireCustomer struct {
	ID jsontext.Value `json:"id"`
}

type wireOperation struct {
	ID           jsontext.Value `json:"id"`
	Type         jsontext.Value `json:"type"`
	Status       jsontext.Value `json:"status"`
	Date         jsontext.Value `json:"date"`
	CreatedDate  jsontext.Value `json:"created_date"`
	SumInitial   *wireSum       `json:"sum_initial"`
	SumConverted *wireSum       `json:"sum_converted"`
	Provider     wireProvider   `json:"provider"`
	Code         jsontext.Value `json:"code"`
	Message      jsontext.Value `json:"message"`
}

type wireSum struct {
	Amount   jsontext.Value `json:"amount"`
	Currency jsontext.Value `json:"currency"`
}

type wireProvider struct {
	ID        jsontext.Value `json:"id"`
	PaymentID jsontext.Value `json:"payment_id"`
}

// Decode reads the operation of a verified callback body of project
// (ProjectOf's). A callback without an operation is no error: it has
// nothing to store (HasOperation false).
func Decode(body []byte, project int64) (Callback, error) {
	cb := Callback{ProjectID: project}
	var w wireCallback
	if err := json.Unmarshal(body, &w); err != nil {
		return cb, fmt.Errorf("%w: %s", ErrInvalid, semanticReason(err))
	}
	if w.Operation == nil {
		return cb, nil
	}
	d := decoder{}
	op := &cb.Operation
	o := w.Operation
	op.ProjectID = project
	op.OperationID = d.id(o.ID, "operation.id")
	op.OperationType = d.required(o.Type, "operation.type")
	op.OperationStatus = d.required(o.Status, "operation.status")
	op.CreatedAt = d.time(o.CreatedDate, "operation.created_date", true)
	if domain.IsFinalOperationStatus(op.OperationStatus) {
		// The Data API leaves the completion time empty until the
		// operation is final; a callback dates every result.
		op.CompletedAt = d.time(o.Date, "operation.date", false)
	}
	op.SumInitial = d.sum(o.SumInitial, "operation.sum_initial", true)
	op.SumConverted = d.sum(o.SumConverted, "operation.sum_converted", false)
	op.ProviderID, _ = d.integer(o.Provider.ID, "operation.provider.id")
	op.ProviderPaymentID = d.upstreamID(o.Provider.PaymentID, "operation.provider.payment_id")
	op.Code = d.text(o.Code, "operation.code")
	op.Message = domain.MaskCardNumbers(d.text(o.Message, "operation.message"))
	if w.Payment == nil {
		d.fail("no payment object")
	} else {
		p := w.Payment
		op.PaymentID = d.upstreamID(p.ID, "payment.id")
		if op.PaymentID == "" {
			d.fail("payment.id is missing or empty")
		}
		op.PaymentType = d.text(p.Type, "payment.type")
		op.PaymentStatus = d.text(p.Status, "payment.status")
		op.PaymentMethod = d.text(p.Method, "payment.method")
	}
	op.AccountNumber = domain.MaskAccount(d.text(w.Account.Number, "account.number"))
	op.CustomerID = d.text(w.Customer.ID, "customer.id")
	if d.err != nil {
		return cb, d.err
	}
	if err := op.Validate(); err != nil {
		return cb, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	cb.HasOperation = true
	return cb, nil
}

// semanticReason is a decoding error in our words: which member has a
// value of the wrong kind.
func semanticReason(err error) string {
	var se *json.SemanticError
	if errors.As(err, &se) {
		where := string(se.JSONPointer)
		if where == "" {
			where = "the body"
		}
		return fmt.Sprintf("%s is %s where an object belongs", domain.MaskCardNumbers(where), kindName(se.JSONKind))
	}
	return "cannot be read"
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '[':
		return "an array"
	case '{':
		return "an object"
	}
	return "a value"
}

// decoder keeps the first problem of a body.
type decoder struct{ err error }

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
}

// text is a scalar's text: a string's value, a number's literal, "" for
// null or none; anything else is a problem.
func (d *decoder) text(v jsontext.Value, where string) string {
	switch v.Kind() {
	case 0, 'n':
		return ""
	case '"':
		s, err := jsontext.AppendUnquote(nil, v)
		if err != nil {
			d.fail("%s is not a valid string", where)
			return ""
		}
		return string(s)
	case '0':
		return string(v)
	}
	d.fail("%s is %s, not a string", where, kindOf(v))
	return ""
}

// required is text that must not be empty.
func (d *decoder) required(v jsontext.Value, where string) string {
	s := d.text(v, where)
	if s == "" {
		d.fail("%s is missing or empty", where)
	}
	return s
}

// upstreamID is text held to domain.MaxUpstreamIDBytes, as the sync holds
// it: never quoted.
func (d *decoder) upstreamID(v jsontext.Value, where string) string {
	s := d.text(v, where)
	if len(s) > domain.MaxUpstreamIDBytes {
		d.fail("%s is %d bytes long, more than the %d an id may have", where, len(s), domain.MaxUpstreamIDBytes)
		return ""
	}
	return s
}

// integer reads a whole number written as a JSON number or a string of
// digits (false: none given).
func (d *decoder) integer(v jsontext.Value, where string) (int64, bool) {
	n, ok, err := integer(v)
	if err != nil {
		d.fail("%s is %s, not a whole number", where, kindOf(v))
	}
	return n, ok
}

// integer reads v's whole number from its literal digits: a JSON number
// without fraction or exponent, or a string of such digits; false for
// null or none.
func integer(v jsontext.Value) (int64, bool, error) {
	lit, err := literal(v)
	if err != nil || lit == "" {
		return 0, false, err
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return 0, false, errors.New("not a whole number")
	}
	return n, true, nil
}

// literal is the digits of a number or a string, "" for null or none.
func literal(v jsontext.Value) (string, error) {
	switch v.Kind() {
	case 0, 'n':
		return "", nil
	case '0':
		return string(v), nil
	case '"':
		s, err := jsontext.AppendUnquote(nil, v)
		if err != nil {
			return "", err
		}
		return string(s), nil
	}
	return "", errors.New("not a number")
}

// id reads an operation id: an unsigned 64-bit integer from its digits.
func (d *decoder) id(v jsontext.Value, where string) uint64 {
	lit, err := literal(v)
	if err != nil {
		d.fail("%s is %s, not an id", where, kindOf(v))
		return 0
	}
	if lit == "" {
		d.fail("%s is missing", where)
		return 0
	}
	n, err := strconv.ParseUint(lit, 10, 64)
	if err != nil || n == 0 {
		d.fail("%s is not a positive whole number", where)
		return 0
	}
	return n
}

// time reads a callback time (TimeLayout; RFC 3339 too) in UTC.
func (d *decoder) time(v jsontext.Value, where string, required bool) time.Time {
	s := d.text(v, where)
	if s == "" {
		if required {
			d.fail("%s is missing", where)
		}
		return time.Time{}
	}
	for _, layout := range []string{TimeLayout, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	d.fail("%s is not a time such as 2019-02-08T12:01:06+0000", where)
	return time.Time{}
}

// sum reads {amount, currency}: minor units from the amount's digits.
func (d *decoder) sum(s *wireSum, where string, required bool) domain.Money {
	if s == nil {
		if required {
			d.fail("%s is missing", where)
		}
		return domain.Money{}
	}
	amount, ok := d.integer(s.Amount, where+".amount")
	currency := d.text(s.Currency, where+".currency")
	if !ok && (required || currency != "") {
		d.fail("%s.amount is missing: a whole number of minor units", where)
	}
	if currency == "" && (required || ok) {
		d.fail("%s.currency is missing", where)
	}
	return domain.Money{Amount: amount, Currency: currency}
}

// Append appends the callback ECommPay sends for op, unsigned; sign it
// with dataapi.AppendSigned and the project's secret. What Decode reads
// of it is op (with a masked account number and no fee).
func Append(dst []byte, op *domain.Operation) []byte {
	str := func(b []byte, s string) []byte { b, _ = jsontext.AppendQuote(b, s); return b }
	date := op.CompletedAt
	if date.IsZero() {
		date = op.CreatedAt
	}
	b := append(dst, `{"project_id":`...)
	b = strconv.AppendInt(b, op.ProjectID, 10)
	b = append(b, `,"payment":{"id":`...)
	b = str(b, op.PaymentID)
	b = append(b, `,"type":`...)
	b = str(b, op.PaymentType)
	b = append(b, `,"status":`...)
	b = str(b, op.PaymentStatus)
	b = append(b, `,"date":`...)
	b = str(b, date.UTC().Format(TimeLayout))
	b = append(b, `,"method":`...)
	b = str(b, op.PaymentMethod)
	b = append(b, `,"sum":`...)
	b = appendSum(b, op.SumInitial)
	b = append(b, `,"description":""}`...)
	if op.AccountNumber != "" {
		b = append(b, `,"account":{"number":`...)
		b = str(b, op.AccountNumber)
		b = append(b, '}')
	}
	if op.CustomerID != "" {
		b = append(b, `,"customer":{"id":`...)
		b = str(b, op.CustomerID)
		b = append(b, '}')
	}
	b = append(b, `,"operation":{"id":`...)
	b = strconv.AppendUint(b, op.OperationID, 10)
	b = append(b, `,"type":`...)
	b = str(b, op.OperationType)
	b = append(b, `,"status":`...)
	b = str(b, op.OperationStatus)
	b = append(b, `,"date":`...)
	b = str(b, date.UTC().Format(TimeLayout))
	b = append(b, `,"created_date":`...)
	b = str(b, op.CreatedAt.UTC().Format(TimeLayout))
	b = append(b, `,"request_id":`...)
	b = str(b, fmt.Sprintf("req-%d", op.OperationID))
	b = append(b, `,"sum_initial":`...)
	b = appendSum(b, op.SumInitial)
	if op.SumConverted.Currency != "" {
		b = append(b, `,"sum_converted":`...)
		b = appendSum(b, op.SumConverted)
	}
	b = append(b, `,"provider":{"id":`...)
	b = strconv.AppendInt(b, op.ProviderID, 10)
	b = append(b, `,"payment_id":`...)
	b = str(b, op.ProviderPaymentID)
	b = append(b, `,"auth_code":""},"code":`...)
	b = str(b, op.Code)
	b = append(b, `,"message":`...)
	b = str(b, op.Message)
	return append(b, `}}`...)
}

func appendSum(b []byte, m domain.Money) []byte {
	b = append(b, `{"amount":`...)
	b = strconv.AppendInt(b, m.Amount, 10)
	b = append(b, `,"currency":`...)
	b, _ = jsontext.AppendQuote(b, m.Currency)
	return append(b, '}')
}

// Sign returns body, a JSON object without a signature, with the
// signature ECommPay would give it with secret (the project's).
func Sign(secret, body []byte) ([]byte, error) { return dataapi.AppendSigned(secret, body) }

// Signed is op's callback (Append) signed with secret.
func Signed(secret []byte, op *domain.Operation) []byte {
	b, err := Sign(secret, Append(nil, op))
	if err != nil {
		panic("callback: Append wrote no JSON object: " + err.Error())
	}
	return b
}
