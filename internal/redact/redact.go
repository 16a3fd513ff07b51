// Package redact takes secrets out of text that came from elsewhere: an
// upstream server's error answer, an SMTP server's reply. Such text can
// echo what we sent (a token, a password, an authorisation), and it goes
// on into errors, log lines, `status` and the database; it is redacted
// where it enters, before any of them can see it. Each value is replaced
// in every form an echo is likely to take: as it is, JSON-escaped (Go's,
// with and without HTML escapes; PHP's and Python's \uXXXX; '/' as '\/';
// twice), Go-quoted, and percent-escaped, with either case of hex digits.
package redact

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Mark stands where a secret was.
const Mark = "<redacted>"

// Text replaces every form of each of values in s with Mark.
func Text(s string, values ...string) string {
	var forms []string
	for _, v := range values {
		if v != "" && s != "" {
			forms = append(forms, escapedForms(v)...)
		}
	}
	if len(forms) == 0 {
		return s
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) }) // the longest form wins where several start
	forms = slices.Compact(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, Mark)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

var (
	rePercent = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)
	reUnicode = regexp.MustCompile(`\\u[0-9A-Fa-f]{4}`)
)

// escapedForms lists v as echoes are likely to write it.
func escapedForms(v string) []string {
	ascii := strconv.QuoteToASCII(v)
	quoted := strconv.Quote(v)
	base := []string{v, jsonText(v, true), jsonText(v, false), ascii[1 : len(ascii)-1], quoted[1 : len(quoted)-1]}
	for _, b := range base[1:] {
		base = append(base, strings.ReplaceAll(b, "/", `\/`))
	}
	var forms []string
	for _, b := range base {
		forms = append(forms, b, url.QueryEscape(b), url.PathEscape(b), jsonText(b, true), jsonText(b, false))
	}
	for _, f := range forms {
		forms = append(forms, hexCase(f, strings.ToLower), hexCase(f, strings.ToUpper))
	}
	slices.Sort(forms)
	forms = slices.Compact(forms)
	return slices.DeleteFunc(forms, func(f string) bool { return f == "" })
}

// jsonText is s as encoding/json writes it between quotes.
func jsonText(s string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	enc.Encode(s)
	out := bytes.TrimSpace(b.Bytes())
	return string(out[1 : len(out)-1])
}

// hexCase changes the case of the hex digits of %XX and \uXXXX escapes.
func hexCase(s string, to func(string) string) string {
	s = rePercent.ReplaceAllStringFunc(s, to)
	return reUnicode.ReplaceAllStringFunc(s, func(e string) string { return `\u` + to(e[2:]) })
}

// redactedError is an error whose text had credentials; errors.Is and
// errors.As see the error under it.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// Err returns err with every form of values redacted from its text.
func Err(err error, values ...string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	if r := Text(text, values...); r != text {
		return &redactedError{r, err}
	}
	return err
}
