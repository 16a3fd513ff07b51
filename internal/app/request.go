package app

import (
	"strconv"
	"strings"
	"time"
)

// RequestError is a request a use case refuses as it stands, whoever made
// it (a command line, a form, the control socket): bad usage. Each request
// has a Check (or a Check… function for one of its fields) that a front
// door calls before it opens anything, and the use case calls it again.
//
// Field is the request's field at fault, in lower case, plural where the
// request holds a list ("results"); Value is its value as given. Msg is
// what is wrong, written with placeholders, so that each front door names
// fields its own way (the command line as its flags): {field} stands for a
// field's name, {%q} for Value quoted, {%s} for Value as it is. Msg never
// holds a value itself, so a value that looks like a placeholder stays
// text.
type RequestError struct {
	Field string
	Value string
	Msg   string
}

// Error is the message with each field named as the request names it.
func (e *RequestError) Error() string { return e.Text(func(field string) string { return field }) }

// Text is the message with each field called name(field).
func (e *RequestError) Text(name func(field string) string) string {
	var b strings.Builder
	s := e.Msg
	for {
		i := strings.IndexByte(s, '{')
		j := strings.IndexByte(s[i+1:], '}')
		if i < 0 || j < 0 {
			break
		}
		b.WriteString(s[:i])
		switch p := s[i+1 : i+1+j]; p {
		case "%q":
			b.WriteString(strconv.Quote(e.Value))
		case "%s":
			b.WriteString(e.Value)
		default:
			b.WriteString(name(p))
		}
		s = s[i+2+j:]
	}
	b.WriteString(s)
	return b.String()
}

// refuse is the refusal of field's value for the reason msg (a template,
// see RequestError).
func refuse(field, value, msg string) *RequestError {
	return &RequestError{Field: field, Value: value, Msg: msg}
}

// CheckWindow refuses a window [from, to) that ends before it starts; a
// zero bound is open.
func CheckWindow(from, to time.Time) error {
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return refuse("to", to.Format(time.RFC3339), "{to} must be after {from}")
	}
	return nil
}
