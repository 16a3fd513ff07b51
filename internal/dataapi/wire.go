package dataapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-json-experiment/json/jsontext"

	"reconciled/internal/domain"
)

// This file is the one place that knows the Data API's wire names. Those
// marked "assumed" in docs/data-api.md are our reconstruction: when the first call
// against the real service shows another name, the change is here, and the
// fake server (internal/fakeapi) follows because it encodes with this file.

// Endpoint paths (confirmed).
const (
	PathOperations          = "/operations/get"
	PathOperationsByPayment = "/operations/get-by-payment"
	// PathFinancialOperations is /operations/get's records with the fee
	// charged on each (request as /operations/get).
	PathFinancialOperations = "/financial-reporting/operations"
	// PathBalance is the account's balances (request assumed; balance.go).
	PathBalance = "/balance/get"
)

// TimeLayout is how the Data API writes times, in the request's tz.
const TimeLayout = "2006-01-02 15:04:05"

// WireTZ is the tz of every request, so also the zone of the interval and
// of the times in the answers. It is always UTC: in a zone with daylight
// saving time, the hour repeated in autumn makes local times ambiguous (two
// operations an hour apart would arrive with one time) and an interval
// across it would go out with from after to. data_api.tz is the zone people
// type and read times in, never the wire's.
const WireTZ = "UTC"

// MaxPageSize is the largest limit /operations/get accepts (confirmed).
const MaxPageSize = 1000

// MaxSignedArray is the longest array we put in a signed request: the
// official SDKs sort paths of longer arrays differently.
const MaxSignedArray = 10

// OperationsRequest is the body of /operations/get.
type OperationsRequest struct {
	Token         string    `json:"token"`
	ProjectID     []int64   `json:"project_id,omitempty"`     // name from a docs example
	Interval      *Interval `json:"interval,omitempty"`       // name from a docs example
	TZ            string    `json:"tz,omitempty"`             // name from a docs example
	Limit         int       `json:"limit"`                    // confirmed
	Offset        int       `json:"offset"`                   // confirmed
	OperationType string    `json:"operation_type,omitempty"` // assumed
	Fields        []string  `json:"fields,omitempty"`         // meaning confirmed, name assumed: see Parameters
	Signature     string    `json:"signature,omitempty"`
}

// Interval is a time window, both ends as TimeLayout in the request's tz.
type Interval struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// PaymentRequest is the body of /operations/get-by-payment (assumed).
type PaymentRequest struct {
	Token     string   `json:"token"`
	ProjectID int64    `json:"project_id"`
	PaymentID string   `json:"payment_id"`
	TZ        string   `json:"tz,omitempty"`
	Fields    []string `json:"fields,omitempty"`
	Signature string   `json:"signature,omitempty"`
}

// ErrorBody is the body of a 4xx/5xx answer. Undocumented: this is the shape
// our fake sends and the client reads when it can.
type ErrorBody struct {
	Status  string `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// keyOperations is the response's array of operations (assumed wrapper).
const keyOperations = "operations"

// BalanceRequest is the body of /balance/get (assumed: the token, and the
// projects as /operations/get names them).
type BalanceRequest struct {
	Token     string  `json:"token"`
	ProjectID []int64 `json:"project_id,omitempty"` // assumed; none: every project of the token
	Signature string  `json:"signature,omitempty"`
}

// The answer of /balance/get, from ECommPay's docs example
// {"balance":[{"name":"…","AUD":"1010750"}],"signature":"…"}: an array of
// entries (keyBalance), each with its name (keyBalanceName) and one member
// per currency, an ISO 4217 code whose value is the amount. That amounts
// are minor units (1010750 AUD = 10107.50) is assumed, as is outWord.
const (
	keyBalance     = "balance"
	keyBalanceName = "name"
)

// outWord is the word that makes a balance's name that of a payout ("OUT")
// balance (assumed): see IsOutBalance.
const outWord = "OUT"

// IsOutBalance says whether a balance called name is a payout ("OUT")
// balance: the name holds outWord as a word of its own, in any case ("OUT",
// "out", "Balance OUT", "OUT_EUR"; not "payout" or "OUTGOING"). What a name
// that is not recognised stands for is not guessed: it is shown with its
// name, never added to another.
func IsOutBalance(name string) bool {
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	return slices.ContainsFunc(words, func(w string) bool { return strings.EqualFold(w, outWord) })
}

// Parameters are the parameters of an operation record that reconciled
// stores, in the reference's order (the order values come back in, whatever
// the order asked). Without a "fields" array /operations/get returns only
// the required ones (docs/data-api.md, "fields"): the client asks for every
// parameter of data_api.fields, by default all of these.
//
// Required parameters come whether asked or not. Needed ones are those the
// reconciliation cannot do without (a type, a status, an amount): a response
// whose record lacks one, or sends it null or empty, is refused whole, naming
// the parameter, the operation and the config key, and nothing of it is
// stored. The others are stored when they come and left empty when they do
// not (a response that omits one that was asked for is logged): the payment
// method only chooses the limit times (the default ones when it is empty),
// the payment type is shown.
var Parameters = []Parameter{
	{Name: "project_id", Required: true},
	{Name: "operation_id", Required: true},
	{Name: "payment_id", Required: true},
	{Name: "operation_type", Needed: true},
	{Name: "operation_status", Needed: true},
	{Name: "payment_type"},
	{Name: "payment_status", Needed: true},
	{Name: "payment_method"},
	{Name: "account_number"},
	{Name: "customer_id"},
	{Name: "operation_created_at", Required: true},
	{Name: "operation_completed_at", Required: true},
	{Name: "sum_initial", Needed: true},
	{Name: "sum_converted"},
	{Name: "provider_id"},
	{Name: "provider_payment_id"},
	{Name: "code"},
	{Name: "message"},
	// Assumed name and shape, {amount, currency} as sum_initial: the
	// reference's fee names are not readable. Only
	// /financial-reporting/operations has it.
	{Name: "fee", Financial: true},
}

// Parameter is one parameter of an operation record.
type Parameter struct {
	Name     string // as the record and the "fields" array name it
	Required bool   // sent without being asked
	Needed   bool   // reconciled cannot do without it
	// Financial: only /financial-reporting/operations has it; the client
	// asks for it there, never in data_api.fields.
	Financial bool
}

// DefaultFields is what the client asks for when data_api.fields is not
// set: every parameter reconciled stores from /operations/get.
func DefaultFields() []string {
	var out []string
	for _, p := range Parameters {
		if !p.Financial {
			out = append(out, p.Name)
		}
	}
	return out
}

// financialParams are the Financial parameters.
var financialParams = func() ParamSet {
	var s ParamSet
	for i, p := range Parameters {
		if p.Financial {
			s |= 1 << i
		}
	}
	return s
}()

// FinancialFields are the parameter names of financialParams.
func FinancialFields() []string {
	var out []string
	for _, p := range Parameters {
		if p.Financial {
			out = append(out, p.Name)
		}
	}
	return out
}

// ParamSet is a set of Parameters (bit i is Parameters[i]).
type ParamSet uint32

// AllParams holds every parameter; RequiredParams those sent unasked.
var (
	AllParams      = ParamSet(1)<<len(Parameters) - 1
	RequiredParams = func() ParamSet {
		var s ParamSet
		for i, p := range Parameters {
			if p.Required {
				s |= 1 << i
			}
		}
		return s
	}()
	neededParams = func() ParamSet {
		s := RequiredParams
		for i, p := range Parameters {
			if p.Needed {
				s |= 1 << i
			}
		}
		return s
	}()
)

// Has reports whether the set holds the parameter called name.
func (s ParamSet) Has(name string) bool {
	i := paramIndex(name)
	return i >= 0 && s&(1<<i) != 0
}

// ParamOf is the set of the one parameter called name, or empty.
func ParamOf(name string) ParamSet {
	if i := paramIndex(name); i >= 0 {
		return 1 << i
	}
	return 0
}

func paramIndex(name string) int {
	for i, p := range Parameters {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// ParseFields checks a "fields" list (data_api.fields): every name a
// parameter reconciled stores, none twice, every needed one present. It
// returns the set the response will hold: the names and the required ones.
func ParseFields(names []string) (ParamSet, error) {
	var s ParamSet
	for _, n := range names {
		i := paramIndex(n)
		if i < 0 {
			return 0, fmt.Errorf("%q is not an operation parameter reconciled stores (%s)", n, strings.Join(DefaultFields(), ", "))
		}
		if Parameters[i].Financial {
			return 0, fmt.Errorf("%q comes from %s only, which the fee sync asks for it: leave it out", n, PathFinancialOperations)
		}
		if s&(1<<i) != 0 {
			return 0, fmt.Errorf("%q is listed twice", n)
		}
		s |= 1 << i
	}
	var missing []string
	for i, p := range Parameters {
		if p.Needed && s&(1<<i) == 0 {
			missing = append(missing, strconv.Quote(p.Name))
		}
	}
	if len(missing) > 0 {
		return 0, fmt.Errorf("%s missing: the reconciliation needs every one of %s", strings.Join(missing, ", "), strings.Join(neededNames(), ", "))
	}
	return s | RequiredParams, nil
}

// neededNames lists the needed parameters.
func neededNames() []string {
	var out []string
	for _, p := range Parameters {
		if p.Needed {
			out = append(out, p.Name)
		}
	}
	return out
}

// ParseFieldsLenient is ParseFields for a server: it accepts any subset
// (no needed ones) but no unknown name, and a Financial one only when
// financial (a request to /financial-reporting/operations). The fake
// uses it.
func ParseFieldsLenient(names []string, financial bool) (ParamSet, error) {
	var s ParamSet
	for _, n := range names {
		i := paramIndex(n)
		if i < 0 || Parameters[i].Financial && !financial {
			return 0, fmt.Errorf("fields: unknown parameter %q", n)
		}
		s |= 1 << i
	}
	return s | RequiredParams, nil
}

// fieldDec is how one flattened path of a record is read: into which
// recordFields entry (for presence), with what.
type fieldDec struct {
	slot    int  // index in recordFields
	numeric bool // a JSON number or a string of digits, never true/false
	set     func(d *opDecoder, op *domain.Operation, v []byte) error
}

// operationFields maps each flattened field path of one operation record to
// what it sets. Fields not listed are ignored, so that new upstream fields do
// not break the sync.
var operationFields = func() map[string]fieldDec {
	setters := map[string]func(d *opDecoder, op *domain.Operation, v []byte) error{
		"project_id": func(d *opDecoder, op *domain.Operation, v []byte) (err error) {
			op.ProjectID, err = parseInt(v)
			return
		},
		"operation_id": func(d *opDecoder, op *domain.Operation, v []byte) (err error) {
			op.OperationID, err = parseUint(v)
			return
		},
		"payment_id": func(d *opDecoder, op *domain.Operation, v []byte) error {
			if err := idLength(v); err != nil {
				return err
			}
			op.PaymentID = d.str(v)
			return nil
		},
		"payment_type":     func(d *opDecoder, op *domain.Operation, v []byte) error { op.PaymentType = d.str(v); return nil },
		"payment_status":   func(d *opDecoder, op *domain.Operation, v []byte) error { op.PaymentStatus = d.str(v); return nil },
		"operation_type":   func(d *opDecoder, op *domain.Operation, v []byte) error { op.OperationType = d.str(v); return nil },
		"operation_status": func(d *opDecoder, op *domain.Operation, v []byte) error { op.OperationStatus = d.str(v); return nil },
		"payment_method":   func(d *opDecoder, op *domain.Operation, v []byte) error { op.PaymentMethod = d.str(v); return nil },
		"account_number": func(d *opDecoder, op *domain.Operation, v []byte) error {
			op.AccountNumber = domain.MaskAccount(string(v))
			return nil
		},
		"customer_id":          func(d *opDecoder, op *domain.Operation, v []byte) error { op.CustomerID = string(v); return nil },
		"operation_created_at": func(d *opDecoder, op *domain.Operation, v []byte) (err error) { op.CreatedAt, err = d.time(v); return },
		"operation_completed_at": func(d *opDecoder, op *domain.Operation, v []byte) (err error) {
			op.CompletedAt, err = d.time(v)
			return
		},
		"sum_initial:amount": func(d *opDecoder, op *domain.Operation, v []byte) (err error) {
			// Never a zero for an empty value: an amount must be given.
			op.SumInitial.Amount, err = parseAmount(v)
			return
		},
		"sum_initial:currency": func(d *opDecoder, op *domain.Operation, v []byte) error {
			op.SumInitial.Currency = d.str(v)
			return nil
		},
		"sum_converted:amount": func(d *opDecoder, op *domain.Operation, v []byte) (err error) {
			op.SumConverted.Amount, err = parseInt(v)
			return
		},
		"sum_converted:currency": func(d *opDecoder, op *domain.Operation, v []byte) error {
			op.SumConverted.Currency = d.str(v)
			return nil
		},
		"provider_id": func(d *opDecoder, op *domain.Operation, v []byte) (err error) {
			op.ProviderID, err = parseInt(v)
			return
		},
		"provider_payment_id": func(d *opDecoder, op *domain.Operation, v []byte) error {
			if err := idLength(v); err != nil {
				return err
			}
			op.ProviderPaymentID = string(v)
			return nil
		},
		"code": func(d *opDecoder, op *domain.Operation, v []byte) error { op.Code = d.str(v); return nil },
		"message": func(d *opDecoder, op *domain.Operation, v []byte) error {
			op.Message = domain.MaskCardNumbers(d.str(v))
			return nil
		},
		"fee:amount": func(d *opDecoder, op *domain.Operation, v []byte) (err error) {
			op.Fee.Amount, err = parseAmount(v)
			return
		},
		"fee:currency": func(d *opDecoder, op *domain.Operation, v []byte) error {
			op.Fee.Currency = d.str(v)
			return nil
		},
	}
	m := make(map[string]fieldDec, len(setters))
	for i, f := range recordFields {
		set, ok := setters[f.path]
		if !ok {
			panic("dataapi: no setter for " + f.path)
		}
		numeric := false
		switch f.path {
		case "project_id", "operation_id", "sum_initial:amount", "sum_converted:amount", "provider_id", "fee:amount":
			numeric = true
		}
		m[f.path] = fieldDec{slot: i, numeric: numeric, set: set}
	}
	if len(m) != len(setters) {
		panic("dataapi: a setter has no record field")
	}
	return m
}()

// neededSlots are the recordFields a record must have: those of the
// required and needed parameters; nonEmptySlots those of them that may not
// be null or empty either (a required time may be empty: not completed yet;
// the ids are checked by Validate).
var neededSlots, nonEmptySlots = func() (uint32, uint32) {
	var all, nonEmpty uint32
	for i := range recordFields {
		p := Parameters[recordParams[i]]
		if neededParams&(1<<recordParams[i]) != 0 {
			all |= 1 << i
		}
		if p.Needed {
			nonEmpty |= 1 << i
		}
	}
	return all, nonEmpty
}()

// opDecoder turns a flattened, verified response into operations.
type opDecoder struct {
	loc   *time.Location
	asked ParamSet // what the request asked for
	// fees: records of /financial-reporting/operations asked for their
	// fee alone: only the required parameters must come, and a record is
	// checked as a fee's (ids, the fee's currency), not as an operation.
	fees bool
	// missing counts, per parameter, the records that lack one that was
	// asked for but is not needed (stored empty).
	missing map[string]int
}

// words are the values of the low-cardinality fields (types, statuses,
// methods, currencies, common codes): str returns these strings instead of
// allocating one per field of every operation.
var words = func() map[string]string {
	m := map[string]string{}
	for _, w := range []string{
		domain.OpSale, domain.OpRefund, domain.OpReversal, domain.OpPayout, domain.OpAuth, domain.OpCapture,
		domain.OpCancel, domain.OpRecurring, domain.OpAccountVerification,
		domain.PaymentPurchase, domain.PaymentInvoice,
		domain.StatusSuccess, domain.StatusDecline, domain.StatusError, domain.StatusProcessing, domain.StatusAwaiting3DS,
		domain.StatusAwaitingRedirect, domain.StatusAwaitingClarification, domain.StatusAwaitingCustomer,
		domain.StatusAwaitingCapture, domain.StatusCanceled, domain.StatusCancelled, domain.StatusRefunded,
		domain.StatusPartiallyRefunded, domain.StatusReversed, domain.StatusPartiallyReversed,
		"advcash", "advcash_direct", "Card partner", "card",
		"EUR", "BRL", "GBP", "KZT", "RUB", "UAH", "USD", "UZS",
		"0", "Success", "100", "General decline", "20105", "Insufficient funds on customer account",
	} {
		m[w] = w
	}
	return m
}()

func (d *opDecoder) str(v []byte) string {
	if s, ok := words[string(v)]; ok {
		return s
	}
	return string(v)
}

// time reads a TimeLayout time in the decoder's zone.
func (d *opDecoder) time(v []byte) (time.Time, error) {
	if len(v) == 0 {
		return time.Time{}, nil
	}
	t, err := domain.ParseDateTime(v, d.loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q is not %s", v, TimeLayout)
	}
	return t.UTC(), nil
}

// parseInt accepts an integer given as a JSON number or a JSON string.
func parseInt(v []byte) (int64, error) {
	if len(v) == 0 {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", v)
	}
	return n, nil
}

// parseAmount is parseInt for an amount, which may not be empty.
func parseAmount(v []byte) (int64, error) {
	if len(v) == 0 {
		return 0, errors.New("the amount is empty")
	}
	return parseInt(v)
}

func parseUint(v []byte) (uint64, error) {
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an unsigned integer", v)
	}
	return n, nil
}

// decodeOperations reads the operations of a flattened response. The items
// of operation i all have paths "operations:i:…" and come in document order.
// A record that lacks a required or needed parameter fails the whole
// response: nothing of it may be stored with an empty type or a zero
// amount.
func (d *opDecoder) decodeOperations(f *flatDoc) ([]domain.Operation, error) {
	if !f.hasRootKey(keyOperations) {
		return nil, errors.New(`response has no "operations" array`)
	}
	prefix := keyOperations + ":"
	ops := make([]domain.Operation, 0, len(f.items)/20)
	seen := make([]uint32, 0, cap(ops)) // recordFields present with a value, per operation
	var bad map[int]error               // the first value refused, per operation
	cur := -1
	for _, it := range f.items {
		path := f.pathOf(it)
		if len(path) <= len(prefix) || string(path[:len(prefix)]) != prefix {
			continue // another root member: ignored
		}
		rest := path[len(prefix):]
		colon := 0
		for colon < len(rest) && rest[colon] != ':' {
			colon++
		}
		idx, err := strconv.Atoi(string(rest[:colon]))
		if err != nil || colon == len(rest) {
			return nil, fmt.Errorf("operations: item %q is not an object member", path)
		}
		if idx != cur {
			if idx != len(ops) {
				return nil, fmt.Errorf("operations: item %d out of order", idx)
			}
			ops = append(ops, domain.Operation{})
			seen = append(seen, 0)
			cur = idx
		}
		field := rest[colon+1:]
		fd, ok := operationFields[string(field)]
		if !ok {
			continue
		}
		v := f.valueOf(it)
		err = nil
		switch {
		case fd.numeric && (it.kind == 't' || it.kind == 'f'):
			word := "false"
			if it.kind == 't' {
				word = "true"
			}
			err = fmt.Errorf("%s: %s is not a number", field, word)
		case len(v) == 0 && nonEmptySlots&(1<<fd.slot) != 0:
			continue // null or "": no value, as if it were not there
		default:
			if err = fd.set(d, &ops[idx], v); err != nil {
				err = fmt.Errorf("%s: %w", field, err)
			}
		}
		if err != nil {
			if bad == nil {
				bad = map[int]error{}
			}
			if bad[idx] == nil {
				bad[idx] = err
			}
			continue
		}
		seen[idx] |= 1 << fd.slot
	}
	for i := range ops {
		if err := bad[i]; err != nil {
			return nil, fmt.Errorf("%s: %w; nothing of this page is stored", who(i, &ops[i]), err)
		}
		must := neededSlots
		if d.fees {
			must = requiredSlots
		}
		if lack := must &^ seen[i]; lack != 0 {
			return nil, d.lacking(i, &ops[i], lack)
		}
		if d.fees {
			// Half a fee is no fee of 0, nor none: refused, like a sum
			// without its amount.
			if amount, currency := seen[i]&(1<<feeAmountSlot) != 0, ops[i].Fee.Currency != ""; amount != currency {
				half := "a currency but no amount"
				if amount {
					half = "an amount but no currency"
				}
				return nil, fmt.Errorf("%s: fee: has %s; nothing of this page is stored", who(i, &ops[i]), half)
			}
			if err := validFee(&ops[i]); err != nil {
				return nil, fmt.Errorf("operations[%d]: %w", i, err)
			}
		} else if err := ops[i].Validate(); err != nil {
			return nil, fmt.Errorf("operations[%d]: %w", i, err)
		}
		if all := uint32(1)<<len(recordFields) - 1; seen[i] != all {
			for slot := range recordFields {
				if seen[i]&(1<<slot) == 0 && d.asked&(1<<recordParams[slot]) != 0 {
					if d.missing == nil {
						d.missing = map[string]int{}
					}
					d.missing[recordFields[slot].path]++
				}
			}
		}
	}
	return ops, nil
}

// feeAmountSlot is the recordFields slot of fee:amount.
var feeAmountSlot = operationFields["fee:amount"].slot

// requiredSlots are the recordFields of the required parameters.
var requiredSlots = func() uint32 {
	var s uint32
	for i := range recordFields {
		if Parameters[recordParams[i]].Required {
			s |= 1 << i
		}
	}
	return s
}()

// validFee checks a record of /financial-reporting/operations asked for
// its fee: the ids it is stored by, and the fee's currency.
func validFee(op *domain.Operation) error {
	if err := op.ValidateIDs(); err != nil {
		return err
	}
	if op.Fee.Currency != "" {
		if _, err := domain.Exponent(op.Fee.Currency); err != nil {
			return fmt.Errorf("operation %d: fee: %w", op.OperationID, err)
		}
	}
	return nil
}

// lacking explains a record without a parameter it must have.
func (d *opDecoder) lacking(i int, op *domain.Operation, lack uint32) error {
	slot := bits.TrailingZeros32(lack)
	path := recordFields[slot].path
	param := Parameters[recordParams[slot]]
	var why string
	switch {
	case param.Required:
		why = "the Data API sends it with every operation; the response is not what the reference describes"
	case d.asked&(1<<recordParams[slot]) == 0:
		why = fmt.Sprintf("it was not asked for: add %q to data_api.fields", param.Name)
	default:
		why = fmt.Sprintf("although data_api.fields asked for %q", param.Name)
	}
	return fmt.Errorf("%w: %s has no %s, or a null or empty one (%s); nothing of this page is stored", ErrMissingField, who(i, op), path, why)
}

// who names record i of a page: by its operation id (and payment) when it
// has one.
func who(i int, op *domain.Operation) string {
	if op.OperationID == 0 {
		return fmt.Sprintf("operations[%d]", i)
	}
	w := fmt.Sprintf("operation %d", op.OperationID)
	if op.PaymentID != "" {
		w += fmt.Sprintf(" (payment %q)", op.PaymentID)
	}
	return w
}

// ErrMissingField means a response lacks a parameter reconciled cannot do
// without.
var ErrMissingField = errors.New("operation parameter missing")

// ErrIDTooLong means a record's payment_id or provider_payment_id is longer
// than domain.MaxUpstreamIDBytes: the ledger could not index it. The page
// fails, as for ErrMissingField: storing it by a hash or cut short would
// change the id the merchant looks for, and every key that holds a
// payment id (resolutions, re-checks) would need the same.
var ErrIDTooLong = errors.New("id too long to be stored")

// idLength refuses an id longer than domain.MaxUpstreamIDBytes, saying how
// long it is and never quoting it.
func idLength(v []byte) error {
	if len(v) > domain.MaxUpstreamIDBytes {
		return fmt.Errorf("%w: %d bytes, more than the %d an id may have", ErrIDTooLong, len(v), domain.MaxUpstreamIDBytes)
	}
	return nil
}

// recordFields are the scalars of one operation record as the fake sends
// it, in the order it writes them; a path "a:b" is member b of object a.
// Each appends its value's text: what the signature signs, and what JSON
// carries (quoted when quoted says so).
var recordFields = []struct {
	path   string
	quoted func(o *EncodeOptions) bool
	text   func(b []byte, op *domain.Operation, o *EncodeOptions) []byte
}{
	{"project_id", never, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte {
		return strconv.AppendInt(b, op.ProjectID, 10)
	}},
	{"operation_id", never, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte {
		return strconv.AppendUint(b, op.OperationID, 10)
	}},
	{"payment_id", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte { return append(b, op.PaymentID...) }},
	{"operation_type", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte { return append(b, op.OperationType...) }},
	{"operation_status", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte { return append(b, op.OperationStatus...) }},
	{"payment_type", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte { return append(b, op.PaymentType...) }},
	{"payment_status", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte { return append(b, op.PaymentStatus...) }},
	{"payment_method", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte { return append(b, op.PaymentMethod...) }},
	{"account_number", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte { return append(b, op.AccountNumber...) }},
	{"customer_id", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte { return append(b, op.CustomerID...) }},
	{"operation_created_at", always, func(b []byte, op *domain.Operation, o *EncodeOptions) []byte {
		return appendWireTime(b, op.CreatedAt, o)
	}},
	{"operation_completed_at", always, func(b []byte, op *domain.Operation, o *EncodeOptions) []byte {
		return appendWireTime(b, op.CompletedAt, o)
	}},
	{"sum_initial:amount", amountQuoted, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte {
		return strconv.AppendInt(b, op.SumInitial.Amount, 10)
	}},
	{"sum_initial:currency", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte {
		return append(b, op.SumInitial.Currency...)
	}},
	{"sum_converted:amount", amountQuoted, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte {
		return strconv.AppendInt(b, op.SumConverted.Amount, 10)
	}},
	{"sum_converted:currency", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte {
		return append(b, op.SumConverted.Currency...)
	}},
	{"provider_id", never, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte {
		return strconv.AppendInt(b, op.ProviderID, 10)
	}},
	{"provider_payment_id", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte {
		return append(b, op.ProviderPaymentID...)
	}},
	{"code", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte { return append(b, op.Code...) }},
	{"message", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte { return append(b, op.Message...) }},
	{"fee:amount", amountQuoted, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte {
		return strconv.AppendInt(b, op.Fee.Amount, 10)
	}},
	{"fee:currency", always, func(b []byte, op *domain.Operation, _ *EncodeOptions) []byte {
		return append(b, op.Fee.Currency...)
	}},
}

// recordParams is the parameter (index in Parameters) of each recordFields
// entry: "sum_initial:amount" belongs to "sum_initial".
var recordParams = func() []int {
	out := make([]int, len(recordFields))
	for i, f := range recordFields {
		name, _, _ := strings.Cut(f.path, ":")
		if out[i] = paramIndex(name); out[i] < 0 {
			panic("dataapi: record field " + f.path + " has no parameter")
		}
	}
	return out
}()

func never(*EncodeOptions) bool          { return false }
func always(*EncodeOptions) bool         { return true }
func amountQuoted(o *EncodeOptions) bool { return o.AmountAsString }

func appendWireTime(b []byte, t time.Time, o *EncodeOptions) []byte {
	if t.IsZero() {
		return b
	}
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).AppendFormat(b, TimeLayout)
}

// recordSignOrder lists recordFields by path, the order their items take
// in the signed string.
var recordSignOrder = func() []int {
	order := make([]int, len(recordFields))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(recordFields[a].path, recordFields[b].path) })
	return order
}()

// EncodeOptions tune how one record is written.
type EncodeOptions struct {
	Location       *time.Location // zone of the times; UTC if nil
	AmountAsString bool           // "amount":"100000" instead of 100000, as the API may send
	// Fields are the parameters written (the request's "fields" and the
	// required ones); zero writes them all but the Financial ones.
	Fields ParamSet
}

func (o *EncodeOptions) writes(slot int) bool {
	if o.Fields == 0 {
		return financialParams&(1<<recordParams[slot]) == 0
	}
	return o.Fields&(1<<recordParams[slot]) != 0
}

// AppendOperation appends op as one JSON record of an /operations/get
// response. The fake Data API uses it so that it speaks exactly the names the
// client reads.
func AppendOperation(dst []byte, op *domain.Operation, o EncodeOptions) []byte {
	dst = append(dst, '{')
	open := "" // the nested object being written, if any
	var text []byte
	first := true
	for i, f := range recordFields {
		if !o.writes(i) {
			continue
		}
		parent, name, nested := strings.Cut(f.path, ":")
		if !nested {
			name = parent
			parent = ""
		}
		if open != parent {
			if open != "" {
				dst = append(dst, '}')
			}
			if !first {
				dst = append(dst, ',')
			}
			if parent != "" {
				dst, _ = jsontext.AppendQuote(dst, parent)
				dst = append(dst, ':', '{')
			}
			open = parent
		} else if !first {
			dst = append(dst, ',')
		}
		first = false
		dst, _ = jsontext.AppendQuote(dst, name)
		dst = append(dst, ':')
		text = f.text(text[:0], op, &o)
		if f.quoted(&o) {
			dst, _ = jsontext.AppendQuote(dst, text)
		} else {
			dst = append(dst, text...)
		}
	}
	if open != "" {
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// AppendOperationsResponse appends an unsigned /operations/get response
// holding ops; opts gives the options of each record.
func AppendOperationsResponse(dst []byte, ops []domain.Operation, opts func(i int) EncodeOptions) []byte {
	dst = append(dst, `{"`+keyOperations+`":[`...)
	for i := range ops {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendOperation(dst, &ops[i], opts(i))
	}
	return append(dst, ']', '}')
}

// AppendSignedOperationsResponse is AppendOperationsResponse with the
// response signature. It builds the signed string straight from ops, in
// the algorithm's order (records by the text of their index, fields by
// path), instead of parsing the JSON it just wrote: the fake's share of a
// benchmark sync halves. A test checks it against Verify.
func AppendSignedOperationsResponse(dst, secret []byte, ops []domain.Operation, opts func(i int) EncodeOptions) []byte {
	dst = AppendOperationsResponse(dst, ops, opts)
	idx := make([]int, len(ops))
	keys := make([]string, len(ops))
	for i := range idx {
		idx[i] = i
		keys[i] = strconv.Itoa(i) + ":"
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	mac := hmac.New(sha512.New, secret)
	buf := make([]byte, 0, 64<<10)
	first := true
	for _, i := range idx {
		o := opts(i)
		for _, fi := range recordSignOrder {
			if !o.writes(fi) {
				continue
			}
			if !first {
				buf = append(buf, ';')
			}
			first = false
			buf = append(buf, keyOperations+":"...)
			buf = append(buf, keys[i]...)
			buf = append(buf, recordFields[fi].path...)
			buf = append(buf, ':')
			buf = recordFields[fi].text(buf, &ops[i], &o)
		}
		if len(buf) > 32<<10 {
			mac.Write(buf)
			buf = buf[:0]
		}
	}
	mac.Write(buf)
	out, _ := appendMember(dst, "signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return out
}

// Chargebacks: /chargeback/list. Its shapes are not readable in the
// reference (docs/data-api.md): the request is assumed to page and select
// like /operations/get (token, project_id, interval, tz, limit, offset; no
// fields), the answer to be {"chargebacks": [record, …], "signature"},
// one flat record per chargeback with the names below. Which time the
// interval selects on is not stated either: the sync looks back far
// enough for a status change to be seen either way (chargebacks.lookback).
const (
	PathChargebacks = "/chargeback/list"
	keyChargebacks  = "chargebacks"
)

// Chargeback record members (assumed names).
const (
	cbID         = "chargeback_id" // required
	cbProject    = "project_id"    // required
	cbPayment    = "payment_id"    // required
	cbOperation  = "operation_id"  // the operation disputed; optional
	cbAmount     = "amount"        // minor units, number or string; required
	cbCurrency   = "currency"      // ISO 4217; required
	cbStatus     = "status"        // required
	cbReasonCode = "reason_code"   // optional
	cbCreatedAt  = "created_at"    // TimeLayout in the request's tz; required
	cbUpdatedAt  = "updated_at"    // optional
	cbDeadline   = "deadline"      // the merchant's time to answer; optional
)

// chargebackMembers are the members reconciled reads, in the order the
// fake writes them (docs/data-api.md lists them so).
var chargebackMembers = []string{cbID, cbProject, cbPayment, cbOperation, cbAmount, cbCurrency, cbStatus, cbReasonCode, cbCreatedAt, cbUpdatedAt, cbDeadline}

// cbRequired are the members a chargeback record cannot do without.
var cbRequired = []string{cbID, cbProject, cbPayment, cbAmount, cbCurrency, cbStatus, cbCreatedAt}

// decodeChargebacks reads the chargebacks of a flattened, verified answer.
// A record that lacks a required member, or carries a value that does not
// read, fails the whole answer: nothing of it is stored.
func decodeChargebacks(f *flatDoc) ([]domain.Chargeback, error) {
	if !f.hasRootKey(keyChargebacks) {
		return nil, errors.New(`response has no "chargebacks" array`)
	}
	prefix := keyChargebacks + ":"
	var out []domain.Chargeback
	var seen []map[string]bool
	d := opDecoder{loc: time.UTC}
	cur := -1
	for _, it := range f.items {
		path := f.pathOf(it)
		if len(path) <= len(prefix) || string(path[:len(prefix)]) != prefix {
			continue
		}
		rest := path[len(prefix):]
		colon := bytes.IndexByte(rest, ':')
		if colon < 0 {
			return nil, fmt.Errorf("chargebacks: item %q is not an object member", path)
		}
		idx, err := strconv.Atoi(string(rest[:colon]))
		if err != nil {
			return nil, fmt.Errorf("chargebacks: item %q is not an object member", path)
		}
		if idx != cur {
			if idx != len(out) {
				return nil, fmt.Errorf("chargebacks: item %d out of order", idx)
			}
			out = append(out, domain.Chargeback{})
			seen = append(seen, map[string]bool{})
			cur = idx
		}
		field, v := string(rest[colon+1:]), f.valueOf(it)
		if len(v) == 0 || it.kind == 't' || it.kind == 'f' {
			if it.kind == 't' || it.kind == 'f' {
				return nil, fmt.Errorf("chargebacks[%d]: %s is not a value reconciled reads; nothing of this page is stored", idx, field)
			}
			continue // null or "": as if it were not there
		}
		cb := &out[idx]
		switch field {
		case cbID:
			cb.ID, err = parseUint(v)
		case cbProject:
			cb.ProjectID, err = parseInt(v)
		case cbPayment:
			if err = idLength(v); err == nil {
				cb.PaymentID = string(v)
			}
		case cbOperation:
			cb.OperationID, err = parseUint(v)
		case cbAmount:
			cb.Amount.Amount, err = parseAmount(v)
		case cbCurrency:
			cb.Amount.Currency = d.str(v)
		case cbStatus:
			cb.Status = string(v)
		case cbReasonCode:
			cb.ReasonCode = string(v)
		case cbCreatedAt:
			cb.CreatedAt, err = d.time(v)
		case cbUpdatedAt:
			cb.UpdatedAt, err = d.time(v)
		case cbDeadline:
			cb.Deadline, err = d.time(v)
		default:
			continue // a member reconciled does not read
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w; nothing of this page is stored", cbWho(idx, cb), field, err)
		}
		seen[idx][field] = true
	}
	for i := range out {
		for _, m := range cbRequired {
			if !seen[i][m] {
				return nil, fmt.Errorf("%s: %w: %q; nothing of this page is stored", cbWho(i, &out[i]), ErrMissingField, m)
			}
		}
		if _, err := domain.Exponent(out[i].Amount.Currency); err != nil {
			return nil, fmt.Errorf("%s: currency: %w; nothing of this page is stored", cbWho(i, &out[i]), err)
		}
		if out[i].ID == 0 {
			return nil, fmt.Errorf("chargebacks[%d]: chargeback_id is 0; nothing of this page is stored", i)
		}
		if err := out[i].CheckAmount(); err != nil {
			return nil, fmt.Errorf("%w; nothing of this page is stored", err)
		}
	}
	return out, nil
}

func cbWho(i int, cb *domain.Chargeback) string {
	if cb.ID == 0 {
		return fmt.Sprintf("chargebacks[%d]", i)
	}
	return fmt.Sprintf("chargeback %d", cb.ID)
}

// AppendSignedChargebacksResponse appends the signed answer of
// /chargeback/list holding cbs, times in loc: what the fake sends.
func AppendSignedChargebacksResponse(dst, secret []byte, cbs []domain.Chargeback, loc *time.Location) []byte {
	doc := AppendChargebacksResponse(nil, cbs, loc)
	signed, err := AppendSigned(secret, doc)
	if err != nil {
		panic("dataapi: the chargebacks answer is not JSON: " + err.Error()) // built here: a bug
	}
	return append(dst, signed...)
}

// AppendChargebacksResponse is AppendSignedChargebacksResponse unsigned,
// with wire.go's names. Amounts of odd ids go as strings (the API may
// send either).
func AppendChargebacksResponse(dst []byte, cbs []domain.Chargeback, loc *time.Location) []byte {
	doc := append(dst, `{"`+keyChargebacks+`":[`...)
	for i := range cbs {
		cb := &cbs[i]
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = append(doc, '{')
		member := func(name string) {
			if doc[len(doc)-1] != '{' {
				doc = append(doc, ',')
			}
			doc = append(doc, '"')
			doc = append(doc, name...)
			doc = append(doc, `":`...)
		}
		str := func(name, v string) {
			member(name)
			doc, _ = jsontext.AppendQuote(doc, v)
		}
		when := func(name string, t time.Time) {
			if !t.IsZero() {
				str(name, t.In(loc).Format(TimeLayout))
			}
		}
		member(cbID)
		doc = strconv.AppendUint(doc, cb.ID, 10)
		member(cbProject)
		doc = strconv.AppendInt(doc, cb.ProjectID, 10)
		str(cbPayment, cb.PaymentID)
		if cb.OperationID != 0 {
			member(cbOperation)
			doc = strconv.AppendUint(doc, cb.OperationID, 10)
		}
		if cb.ID%2 == 1 {
			str(cbAmount, strconv.FormatInt(cb.Amount.Amount, 10))
		} else {
			member(cbAmount)
			doc = strconv.AppendInt(doc, cb.Amount.Amount, 10)
		}
		str(cbCurrency, cb.Amount.Currency)
		str(cbStatus, cb.Status)
		if cb.ReasonCode != "" {
			str(cbReasonCode, cb.ReasonCode)
		}
		when(cbCreatedAt, cb.CreatedAt)
		when(cbUpdatedAt, cb.UpdatedAt)
		when(cbDeadline, cb.Deadline)
		doc = append(doc, '}')
	}
	return append(doc, "]}"...)
}
