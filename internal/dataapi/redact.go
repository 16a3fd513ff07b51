package dataapi

import (
	"bytes"
	"encoding/base64"
	"net/url"
)

// Upstream text (an error answer's body, a broken answer quoted by
// net/http) is redacted where it enters, in the client, so that nothing
// downstream (an error, a log line, the ledger's last error, `status`)
// can show a credential an upstream echoed: the token, the secret,
// base_url's password and its Basic authorisation, and the request's
// signature (an HMAC of a known text: with it, a weak secret can be
// guessed offline), in every form an echo is likely to take (package
// redact). Redaction comes before shortening, so that a cut does not leave
// part of a credential.

// credentials are the values the client redacts from upstream text.
func (c *Client) credentials() []string {
	out := []string{c.token, string(c.secret)}
	if u, err := url.Parse(c.base); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			out = append(out, pw, base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
		}
	}
	return out
}

// signatureOf is the signature of a signed request body.
func signatureOf(body []byte) string {
	const key = `"signature":"`
	i := bytes.LastIndex(body, []byte(key))
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		return string(rest[:j])
	}
	return ""
}

// redactURL is a URL with its password, if any, as "xxxxx".
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
