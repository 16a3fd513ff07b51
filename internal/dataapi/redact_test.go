package dataapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"reconciled/internal/dataapi"
)

// Credentials with characters that every kind of escaping changes.
const (
	oddToken  = `Tk/+<&"ё% zQ\wErTy12345678900` // 30 characters
	oddSecret = `s3/cr+t"<ё>&%secret`
)

// jsonText is s as encoding/json writes it inside a string (HTML escapes
// on or off).
func jsonText(s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	enc.Encode(s)
	out := strings.TrimSpace(b.String())
	return out[1 : len(out)-1]
}

// phpText is s as PHP's json_encode writes it: non-ASCII as \uXXXX and
// '/' as '\/'.
func phpText(s string) string {
	q := strconv.QuoteToASCII(s)
	q = q[1 : len(q)-1]
	return strings.ReplaceAll(q, "/", `\/`)
}

// echoes are ways an upstream error (or a proxy in front of it) puts the
// request back into its answer.
var echoes = []struct {
	name   string
	status int
	echo   func(w http.ResponseWriter, r *http.Request, body []byte)
}{
	{"JSON message quoting the request", 400, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, 400, dataapi.ErrorBody{Status: "error", Code: "bad_request", Message: "cannot process " + string(body)})
	}},
	{"plain text with the request", 400, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.WriteHeader(400)
		w.Write([]byte("400 Bad Request\n" + string(body)))
	}},
	{"the request percent-escaped in a URL", 404, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.WriteHeader(404)
		w.Write([]byte("<a href=\"/retry?req=" + url.QueryEscape(string(body)) + "&p=" + url.PathEscape(string(body)) + "\">retry</a>"))
	}},
	{"the token as PHP escapes it", 401, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.WriteHeader(401)
		w.Write([]byte(`{"status":"error","detail":{"token":"` + phpText(oddToken) + `"}}`))
	}},
	{"the token percent-escaped, lower-case hex", 403, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.WriteHeader(403)
		w.Write([]byte("denied for token=" + lowerHex(url.QueryEscape(oddToken))))
	}},
	{"the signature and the secret", 403, func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct{ Signature string }
		json.Unmarshal(body, &req)
		writeJSON(w, 403, dataapi.ErrorBody{Status: "error", Code: "invalid_signature",
			Message: "signature " + req.Signature + " is not HMAC(" + oddSecret + ") nor " + jsonText(req.Signature, true)})
	}},
	{"the token past the 200th character", 400, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, 400, dataapi.ErrorBody{Status: "error", Code: "bad_request", Message: strings.Repeat("x", 190) + oddToken + strings.Repeat("y", 50)})
	}},
	{"the Authorization header of base_url's user:password", 502, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, 502, dataapi.ErrorBody{Status: "error", Code: "bad_gateway", Message: "upstream refused Authorization: " + r.Header.Get("Authorization") + " for " + r.URL.User.String()})
	}},
	{"a 5xx quoting the request, retried", 503, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, 503, dataapi.ErrorBody{Status: "error", Code: "unavailable", Message: "try again: " + string(body)})
	}},
	{"a broken HTTP answer quoting the token", 0, func(w http.ResponseWriter, r *http.Request, body []byte) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nX-Echo " + oddToken + "\r\n\r\n")
		buf.Flush()
		conn.Close()
	}},
}

// lowerHex writes the hex digits of s's %XX escapes in lower case.
func lowerHex(s string) string {
	return regexp.MustCompile(`%[0-9A-F]{2}`).ReplaceAllStringFunc(s, strings.ToLower)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Whatever an upstream answer echoes, the token, the secret, the request's
// signature and base_url's password never reach an error or a log line,
// in any escaping; the rest of the answer still does.
func TestUpstreamTextNeverShowsCredentials(t *testing.T) {
	const user, password = "proxyuser", "pr0xy-pa55word"
	for _, tt := range echoes {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var signatures []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var body bytes.Buffer
				body.ReadFrom(r.Body)
				var req struct{ Signature string }
				json.Unmarshal(body.Bytes(), &req)
				mu.Lock()
				signatures = append(signatures, req.Signature)
				mu.Unlock()
				tt.echo(w, r, body.Bytes())
			}))
			defer srv.Close()
			base, _ := url.Parse(srv.URL)
			base.User = url.UserPassword(user, password)
			var logs bytes.Buffer
			c, err := dataapi.New(dataapi.Options{
				BaseURL: base.String(), Token: oddToken, Secret: []byte(oddSecret), PageSize: 100,
				Retry:  dataapi.Retry{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Operations(context.Background(), dataapi.Query{Projects: []int64{580}, From: start, To: now}, func(*dataapi.Page) error { return nil })
			if err == nil {
				t.Fatal("no error")
			}
			_, err2 := c.OperationsByPayment(context.Background(), 580, "p-1")
			var api *dataapi.APIError
			apiText := ""
			if errors.As(err, &api) {
				apiText = api.Code + " " + api.Message
			}
			text := err.Error() + "\n" + err2.Error() + "\n" + apiText + "\n" + logs.String() + "\n" + c.String() + "\n" + dataapi.Options{BaseURL: base.String()}.String()
			mu.Lock()
			sigs := signatures
			mu.Unlock()
			basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
			credentials := append([]string{oddToken, oddSecret, password, basic}, sigs...)
			for _, cred := range credentials {
				if cred == "" {
					continue
				}
				for _, form := range []string{cred, jsonText(cred, true), jsonText(cred, false), phpText(cred), strconv.Quote(cred),
					url.QueryEscape(cred), lowerHex(url.QueryEscape(cred)), url.PathEscape(cred),
					url.QueryEscape(jsonText(cred, true)), url.PathEscape(jsonText(cred, true))} {
					if leak := shares(text, form, 10); leak != "" {
						t.Errorf("%q (a form of %.6s…) shows in:\n%s", leak, cred, text)
					}
				}
			}
			if !strings.Contains(text, "<redacted>") {
				t.Errorf("nothing was redacted, so nothing was tested:\n%s", text)
			}
			if tt.status != 0 && !strings.Contains(err.Error(), "HTTP "+strconv.Itoa(tt.status)) {
				t.Errorf("the error lost the answer: %v", err)
			}
		})
	}
}

// shares returns a substring of form of n bytes (all of it if shorter)
// that text holds, or "".
func shares(text, form string, n int) string {
	if len(form) <= n {
		if strings.Contains(text, form) {
			return form
		}
		return ""
	}
	for i := 0; i+n <= len(form); i++ {
		if strings.Contains(text, form[i:i+n]) {
			return form[i : i+n]
		}
	}
	return ""
}
