package dataapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
)

// serveBalances answers every request with body signed by key (nothing
// signs it when key is empty) and returns what Balances of project 580
// made of it, and the requests' bodies.
func serveBalances(t *testing.T, body, key string) ([]domain.Balance, []string, error) {
	t.Helper()
	answer := []byte(body)
	if key != "" {
		var err error
		if answer, err = dataapi.AppendSigned([]byte(key), answer); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		requests = append(requests, r.URL.Path+" "+string(b))
		mu.Unlock()
		w.Write(answer)
	}))
	t.Cleanup(srv.Close)
	bs, err := newClient(t, srv.URL, nil).Balances(context.Background(), []int64{580})
	mu.Lock()
	defer mu.Unlock()
	return bs, requests, err
}

// A signed answer reads as every balance in it, by name and currency, in
// minor units as they came (a string or an integer, negative too); the
// request is signed and names the project.
func TestBalancesReadASignedAnswer(t *testing.T) {
	bs, requests, err := serveBalances(t, `{"balance":[{"name":"OUT","AUD":"1010750","EUR":-500},{"name":"Rolling reserve","UZS":"123456789012345678"}]}`, secret)
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Balance{
		{Name: "OUT", Out: true, Money: domain.Money{Amount: 1010750, Currency: "AUD"}},
		{Name: "OUT", Out: true, Money: domain.Money{Amount: -500, Currency: "EUR"}},
		{Name: "Rolling reserve", Money: domain.Money{Amount: 123456789012345678, Currency: "UZS"}},
	}
	if !reflect.DeepEqual(bs, want) {
		t.Errorf("got\n%+v\nwant\n%+v", bs, want)
	}
	if len(requests) != 1 {
		t.Fatalf("%d requests", len(requests))
	}
	path, body, _ := strings.Cut(requests[0], " ")
	if path != "/balance/get" {
		t.Errorf("path %s", path)
	}
	if err := dataapi.Verify([]byte(secret), []byte(body)); err != nil {
		t.Errorf("the request's signature: %v (%s)", err, body)
	}
	var req map[string]any
	json.Unmarshal([]byte(body), &req)
	if req["token"] != token || !reflect.DeepEqual(req["project_id"], []any{580.0}) || len(req) != 3 {
		t.Errorf("request %s", body)
	}
}

// An answer whose signature is wrong or missing is not used at all.
func TestBalancesOfAnUntrustedAnswerAreNotUsed(t *testing.T) {
	const body = `{"balance":[{"name":"OUT","EUR":"100"}]}`
	for _, tt := range []struct{ name, key string }{{"wrong key", "another-secret"}, {"unsigned", ""}} {
		t.Run(tt.name, func(t *testing.T) {
			bs, _, err := serveBalances(t, body, tt.key)
			if err == nil || bs != nil || !strings.Contains(err.Error(), "response rejected, nothing from it is used") {
				t.Fatalf("%+v, %v", bs, err)
			}
			if !strings.Contains(err.Error(), "projects [580]") || !strings.Contains(err.Error(), "/balance/get") {
				t.Errorf("the error does not say what was read: %v", err)
			}
		})
	}
}

// An answer reconciled cannot read exactly is refused whole, saying where
// and why, and nothing of it is returned: an amount that is not a whole
// number of minor units, a member that is no currency, no name, a name
// twice, no array.
func TestBalancesRefuseWhatTheyCannotReadExactly(t *testing.T) {
	for _, tt := range []struct{ name, body, want string }{
		{"decimal string", `{"balance":[{"name":"OUT","AUD":"10107.50"}]}`, `balance[0] "OUT": AUD: "10107.50" is not a whole number of minor units`},
		{"decimal number", `{"balance":[{"name":"OUT","AUD":10107.5}]}`, `AUD: "10107.5" is not a whole number`},
		{"integral float", `{"balance":[{"name":"OUT","AUD":1.0}]}`, `AUD: "1.0" is not a whole number`},
		{"exponent", `{"balance":[{"name":"OUT","AUD":"1e3"}]}`, `AUD: "1e3" is not a whole number`},
		{"empty", `{"balance":[{"name":"OUT","AUD":""}]}`, `AUD: "" is not a whole number`},
		{"spaces", `{"balance":[{"name":"OUT","AUD":" 5"}]}`, `AUD: " 5" is not a whole number`},
		{"plus", `{"balance":[{"name":"OUT","AUD":"+5"}]}`, `AUD: "+5" is not a whole number`},
		{"too large", `{"balance":[{"name":"OUT","AUD":"99999999999999999999"}]}`, `does not fit in 64 bits`},
		{"boolean", `{"balance":[{"name":"OUT","AUD":true}]}`, `AUD: "true" is not an amount`},
		{"null", `{"balance":[{"name":"OUT","AUD":null}]}`, `AUD: "null" is not an amount`},
		{"object", `{"balance":[{"name":"OUT","AUD":{}}]}`, `AUD: "{}" is not an amount`},
		{"nested amount", `{"balance":[{"name":"OUT","AUD":{"amount":"5"}}]}`, `is not an amount`},
		{"unknown currency", `{"balance":[{"name":"OUT","XYZ":"5"}]}`, `balance[0] "OUT": the member "XYZ" is neither "name" nor an ISO 4217 currency code`},
		{"lower-case code", `{"balance":[{"name":"OUT","aud":"5"}]}`, `the member "aud" is neither`},
		{"another member", `{"balance":[{"name":"OUT","project_id":"580","EUR":"5"}]}`, `the member "project_id" is neither`},
		{"no name", `{"balance":[{"EUR":"5"}]}`, `balance[0] has no "name"`},
		{"empty name", `{"balance":[{"name":"","EUR":"5"}]}`, `balance[0] has no "name"`},
		{"name a number", `{"balance":[{"name":5,"EUR":"5"}]}`, `balance[0] has no "name"`},
		{"a name twice", `{"balance":[{"name":"OUT","EUR":"5"},{"name":"OUT","USD":"5"}]}`, `balance[1] "OUT": the name of balance[0] too`},
		{"entry not an object", `{"balance":["OUT"]}`, `balance[0] is not an object`},
		{"no array", `{"balances":[{"name":"OUT","EUR":"5"}]}`, `response has no "balance" array`},
		{"an object", `{"balance":{"name":"OUT","EUR":"5"}}`, `response has no "balance" array`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bs, _, err := serveBalances(t, tt.body, secret)
			if err == nil || bs != nil {
				t.Fatalf("read as %+v, %v", bs, err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "nothing of the answer is used") {
				t.Errorf("error\n%v\nwant it to hold\n%s", err, tt.want)
			}
		})
	}
}

// An empty array is a reading with no balance: not an error.
func TestBalancesMayBeNone(t *testing.T) {
	bs, _, err := serveBalances(t, `{"balance":[]}`, secret)
	if err != nil || len(bs) != 0 {
		t.Fatalf("%+v, %v", bs, err)
	}
}

// Upstream text never shows the token, the secret or the request's
// signature: not an error answer that echoes the request, nor a value of a
// signed answer that the error quotes.
func TestBalancesErrorsRedactCredentials(t *testing.T) {
	t.Run("error answer", func(t *testing.T) {
		var mu sync.Mutex
		var signature string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			var req struct{ Signature string }
			json.Unmarshal(b, &req)
			mu.Lock()
			signature = req.Signature
			mu.Unlock()
			writeJSON(w, http.StatusBadRequest, dataapi.ErrorBody{Status: "error", Code: "bad_request", Message: "cannot process " + string(b)})
		}))
		defer srv.Close()
		_, err := newClient(t, srv.URL, nil).Balances(context.Background(), []int64{580})
		mu.Lock()
		defer mu.Unlock()
		if err == nil || signature == "" {
			t.Fatalf("%v, signature %q", err, signature)
		}
		for _, cred := range []string{token, secret, signature} {
			if strings.Contains(err.Error(), cred) {
				t.Errorf("%.6s… shows in %v", cred, err)
			}
		}
		if !strings.Contains(err.Error(), "<redacted>") || !strings.Contains(err.Error(), "HTTP 400") {
			t.Errorf("%v", err)
		}
	})
	t.Run("a value quoted", func(t *testing.T) {
		_, _, err := serveBalances(t, `{"balance":[{"name":"OUT","EUR":"`+token+`"}]}`, secret)
		if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "<redacted>") {
			t.Fatalf("%v", err)
		}
	})
}

// A balance is a payout balance when its name holds OUT as a word.
func TestIsOutBalance(t *testing.T) {
	for name, want := range map[string]bool{
		"OUT": true, "out": true, "Out": true, "Balance OUT": true, "OUT_EUR": true, "OUT-1": true, "out balance": true,
		"IN": false, "payout": false, "OUTGOING": false, "": false, "Rolling reserve": false, "CASHOUT": false,
	} {
		if got := dataapi.IsOutBalance(name); got != want {
			t.Errorf("IsOutBalance(%q) = %v", name, got)
		}
	}
}

// More projects than a signed array may hold are refused before a
// request is made.
func TestBalancesOfTooManyProjectsAreRefused(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:9", nil)
	if _, err := c.Balances(context.Background(), []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}); err == nil || !strings.Contains(err.Error(), "at most 10") {
		t.Fatal(err)
	}
}

// A name is upstream text that is stored and shown: a credential or a
// card number in it does not survive.
func TestBalanceNamesLoseCredentialsAndCardNumbers(t *testing.T) {
	bs, _, err := serveBalances(t, `{"balance":[{"name":"OUT `+token+`","EUR":"1"},{"name":"card 4111111111111111","EUR":"2"}]}`, secret)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || strings.Contains(bs[0].Name, token) || !strings.Contains(bs[0].Name, "<redacted>") || !bs[0].Out {
		t.Errorf("%+v", bs)
	}
	if len(bs) == 2 && bs[1].Name != "card 411111******1111" {
		t.Errorf("%q %q", bs[1].Name, bs[0].Name)
	}
}
