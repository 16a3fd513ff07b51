package dataapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// APIError is an answer other than 200 OK from the Data API.
type APIError struct {
	Path       string
	StatusCode int
	Code       string // the body's "code", if it had one
	Message    string // the body's "message", shortened
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Path, e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if h := e.Hint(); h != "" {
		fmt.Fprintf(&b, " (%s)", h)
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later: rate limits
// and server errors.
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// Hint says what the user should check for an error that retrying cannot fix.
func (e *APIError) Hint() string {
	text := strings.ToLower(e.Code + " " + e.Message)
	switch {
	case e.Temporary():
		return ""
	case strings.Contains(text, "signature"):
		return "check data_api.secret: it must be the secret key of the user whose token is data_api.token"
	case e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden || strings.Contains(text, "token"):
		return "check data_api.token: 30 characters, made in the Dashboard for a user who sees data_api.projects"
	case e.StatusCode == http.StatusNotFound:
		return "check data_api.base_url"
	default:
		return "the request was refused: check data_api.projects, data_api.tz and data_api.page_size"
	}
}

func newAPIError(path string, status int, body []byte) *APIError {
	e := &APIError{Path: path, StatusCode: status}
	var eb ErrorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Code, e.Message = eb.Code, eb.Message
	}
	if e.Message == "" && e.Code == "" {
		e.Message = strings.TrimSpace(string(body))
	}
	// The client redacts, then shortens to 200 characters; what lies
	// beyond 16 KiB cannot reach those 200, credential or not.
	if len(e.Message) > 16<<10 {
		e.Message = strings.ToValidUTF8(e.Message[:16<<10], "") // a rune cut in two is dropped
	}
	return e
}

// shorten cuts an upstream message to 200 characters.
func shorten(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// retryable reports whether a failed call is worth another attempt: rate
// limits, server errors, connection errors and timeouts; not a 4xx.
func retryable(err error) bool {
	var api *APIError
	if errors.As(err, &api) {
		return api.Temporary()
	}
	var perm *permanentError
	return !errors.As(err, &perm)
}

// backoff is the wait before attempt+1: exponential from BaseDelay, capped
// at MaxDelay, with "equal jitter" (half fixed, half random) so that clients
// do not retry in step and the wait still grows.
func backoff(r Retry, attempt int) time.Duration {
	d := r.BaseDelay
	for i := 1; i < attempt && d < r.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, r.MaxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(min(s, 1e6)) * time.Second // capped: a huge value would overflow
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
