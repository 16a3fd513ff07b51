// Package callback reads ECommPay's callbacks: the signed JSON notification
// ECommPay POSTs for every operation result (docs/data-api.md,
// "Callbacks"). A body is read in three steps, and each refuses what it
// cannot trust before the next one reads further:
//
//  1. ProjectOf: the whole body must be one JSON object (UTF-8, no member
//     name twice, nothing after it); only its project_id (at the root, or
//     general.project_id) is read, to choose the secret.
//  2. Verify: the signature (signature, or general.signature) with that
//     project's own secret key, over the whole body, by the Data API's
//     algorithm (dataapi.Verify).
//  3. Decode: the operation, mapped to a domain.Operation exactly as the
//     sync stores one: amounts and ids from their literal digits (never a
//     float), the account number masked (domain.MaskAccount), card numbers
//     in the message masked, times in UTC.
//
// Read does the three. Its errors say which step refused (ErrMalformed,
// ErrUnknownProject, ErrSignature, ErrInvalid), which is the HTTP answer
// the receiver gives: 400, 403, 403, 400. A reason never quotes a value of
// the body but its JSON pointer and the kind of value found, so that a log
// line cannot carry a card number or a secret.
//
// Append writes the callback ECommPay would send for an operation (the
// demo, the tests and the benchmark post them), unsigned: dataapi's
// AppendSigned signs it.
package callback

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
)

// Errors of Read, by the step that refused.
var (
	// ErrMalformed: the body is not one JSON object, or has no project_id
	// a secret can be chosen by. Nothing of it was trusted.
	ErrMalformed = errors.New("malformed callback")
	// ErrUnknownProject: no secret is configured for the project.
	ErrUnknownProject = errors.New("callback of an unknown project")
	// ErrSignature: the signature is missing or does not match the body
	// with the project's secret.
	ErrSignature = errors.New("callback signature refused")
	// ErrInvalid: signed, but not an operation reconciled can store (an
	// id, a type, a status, an amount missing or of the wrong kind).
	ErrInvalid = errors.New("callback not usable")
)

// Callback is what one verified callback says.
type Callback struct {
	ProjectID int64
	// Operation is the operation of the callback, when it has one
	// (HasOperation): what a sync would store for it.
	Operation    domain.Operation
	HasOperation bool
}

// Read reads one callback body: its project, the signature with the
// project's secret (secretOf; false: no such project), then the operation.
// The Callback's ProjectID is set as soon as it was read, also with an
// error.
func Read(body []byte, secretOf func(project int64) ([]byte, bool)) (Callback, error) {
	project, err := ProjectOf(body)
	if err != nil {
		return Callback{}, err
	}
	cb := Callback{ProjectID: project}
	secret, ok := secretOf(project)
	if !ok {
		// The id is the sender's: a card number's digits stay masked.
		return cb, fmt.Errorf("%w: no callback secret is configured for project %s", ErrUnknownProject, domain.MaskCardNumbers(strconv.FormatInt(project, 10)))
	}
	if err := Verify(body, secret); err != nil {
		return cb, err
	}
	return Decode(body, project)
}

// ProjectOf checks that body is one JSON object and returns its
// project_id (the root's, else general's): a positive integer, as a
// number or a string of digits.
func ProjectOf(body []byte) (int64, error) {
	if err := wellFormed(body); err != nil {
		return 0, err
	}
	v, where := member(body, "project_id"), "project_id"
	if v == nil {
		if g := member(body, "general"); g.Kind() == '{' {
			v, where = member(g, "project_id"), "general.project_id"
		}
	}
	if v == nil {
		return 0, fmt.Errorf("%w: no project_id (at the root or in general)", ErrMalformed)
	}
	n, ok, err := integer(v)
	if lit, _ := literal(v); err != nil || !ok || n <= 0 || lit[0] == '+' {
		// Digits only, as docs/data-api.md says: strconv takes a sign.
		return 0, fmt.Errorf("%w: %s is %s, not a positive integer", ErrMalformed, where, kindOf(v))
	}
	return n, nil
}

// Verify checks the signature of body with secret.
func Verify(body, secret []byte) error {
	if err := dataapi.Verify(secret, body); err != nil {
		if errors.Is(err, dataapi.ErrUnsigned) {
			return fmt.Errorf("%w: no signature", ErrSignature)
		}
		return fmt.Errorf("%w: the signature does not match the body with the project's secret", ErrSignature)
	}
	return nil
}

// wellFormed refuses anything but one JSON object, saying where it broke.
func wellFormed(body []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	v, err := dec.ReadValue()
	if err != nil {
		return fmt.Errorf("%w: %s", ErrMalformed, syntaxReason(err))
	}
	if v.Kind() != '{' {
		return fmt.Errorf("%w: the body is %s, not a JSON object", ErrMalformed, kindOf(v))
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return fmt.Errorf("%w: more after the object's end at byte %d", ErrMalformed, dec.InputOffset())
	}
	return nil
}

// syntaxReason is a JSON syntax error in our words: what is wrong, at
// which member (the JSON pointer) and byte.
func syntaxReason(err error) string {
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return "not valid JSON: the body ends before the object does"
		}
		return "not valid JSON"
	}
	what := "syntax error"
	if se.Err != nil {
		what = se.Err.Error()
	}
	if errors.Is(se.Err, io.ErrUnexpectedEOF) {
		what = "the body ends before the object does"
	}
	s := "not valid JSON: " + what
	if p := string(se.JSONPointer); p != "" {
		if len(p) > 100 {
			p = p[:100] + "…"
		}
		// A member name is text of the body: masked like a message.
		s += " at " + domain.MaskCardNumbers(p)
	}
	if se.ByteOffset > 0 {
		s += fmt.Sprintf(" (byte %d)", se.ByteOffset)
	}
	return s
}

// member is the value of obj's member name (one level), nil when it has
// none. obj is well formed.
func member(obj jsontext.Value, name string) jsontext.Value {
	dec := jsontext.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil
	}
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil
		}
		if tok.String() == name {
			v, err := dec.ReadValue()
			if err != nil {
				return nil
			}
			return v.Clone()
		}
		if dec.SkipValue() != nil {
			return nil
		}
	}
	return nil
}

// kindOf names a JSON value's kind for a reason, never its content.
func kindOf(v jsontext.Value) string {
	switch v.Kind() {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "nothing"
}
