package dataapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
)

// /chargeback/list pages and verifies like /operations/get: every
// chargeback the fake has in the window arrives once, as it has it.
func TestChargebacksArriveWhole(t *testing.T) {
	fake, url := newFake(t, fakeapi.Config{Seed: 3, Count: 40000, Step: 30 * time.Second})
	c := newClient(t, url, func(o *dataapi.Options) { o.PageSize = 7 })
	var got []domain.Chargeback
	pages := 0
	q := dataapi.Query{Projects: []int64{580, 579}, From: start, To: now}
	err := c.Chargebacks(context.Background(), q, func(p *dataapi.Page) error {
		pages++
		if len(p.Operations) != 0 {
			t.Errorf("a chargeback page with %d operations", len(p.Operations))
		}
		got = append(got, p.Chargebacks...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := fake.Chargebacks(now)
	if len(want) < 20 || pages < 3 {
		t.Fatalf("%d chargebacks in %d pages: the fake's chargebacks are not exercised", len(want), pages)
	}
	if len(got) != len(want) {
		t.Fatalf("%d chargebacks received, the fake has %d", len(got), len(want))
	}
	states := map[domain.ChargebackState]int{}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("chargeback %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
		s, known := got[i].State()
		if !known {
			t.Errorf("chargeback %d: status %q unknown", got[i].ID, got[i].Status)
		}
		states[s]++
	}
	if states[domain.ChargebackOpen] == 0 || states[domain.ChargebackWon] == 0 || states[domain.ChargebackLost] == 0 {
		t.Fatalf("states %v: every state should be served", states)
	}
}

// A chargebacks answer with a broken signature, a record without a
// required member or a value that does not read gives nothing.
func TestChargebacksRefused(t *testing.T) {
	cb := `{"chargeback_id":5,"project_id":580,"payment_id":"p-1","amount":"1250","currency":"EUR","status":"open","created_at":"2026-11-01 10:00:00"}`
	for _, tc := range []struct {
		name, body, want string
		sign             bool
	}{
		{"unsigned", `{"chargebacks":[` + cb + `]}`, "rejected", false},
		{"no amount", `{"chargebacks":[` + strings.Replace(cb, `"amount":"1250",`, "", 1) + `]}`, `"amount"`, true},
		{"float amount", `{"chargebacks":[` + strings.Replace(cb, `"1250"`, `12.50`, 1) + `]}`, "amount", true},
		{"unknown currency", `{"chargebacks":[` + strings.Replace(cb, `"EUR"`, `"EUX"`, 1) + `]}`, "currency", true},
		{"bad time", `{"chargebacks":[` + strings.Replace(cb, `2026-11-01 10:00:00`, `yesterday`, 1) + `]}`, "created_at", true},
		{"no array", `{"items":[]}`, `no "chargebacks"`, true},
		{"another project", `{"chargebacks":[` + strings.Replace(cb, `580`, `1`, 1) + `]}`, "not asked for", true},
		{"boolean id", `{"chargebacks":[` + strings.Replace(cb, `5,`, `true,`, 1) + `]}`, "chargeback_id", true},
		// A chargeback takes money back: a negative one would add to the
		// settlement's net, and one near 2^63 makes every sum wrap.
		{"negative amount", `{"chargebacks":[` + strings.Replace(cb, `"1250"`, `"-1250"`, 1) + `]}`, "chargeback 5: amount -1250", true},
		{"huge amount", `{"chargebacks":[` + strings.Replace(cb, `"1250"`, `9223372036854775807`, 1) + `]}`, "chargeback 5: amount 9223372036854775807", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			if tc.sign {
				var err error
				if body, err = dataapi.AppendSigned([]byte(secret), body); err != nil {
					t.Fatal(err)
				}
			}
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
			c := newClient(t, srv, nil)
			called := false
			err := c.Chargebacks(context.Background(), dataapi.Query{Projects: []int64{580}, From: start, To: now}, func(p *dataapi.Page) error {
				called = true
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) || called {
				t.Fatalf("err %v (want %q), page handed on: %v", err, tc.want, called)
			}
			if tc.name == "no amount" && !errors.Is(err, dataapi.ErrMissingField) {
				t.Fatalf("err %v is not ErrMissingField", err)
			}
		})
	}
}

// An answer whose error text echoes the request carries no token or
// signature into the error.
func TestChargebacksErrorRedacted(t *testing.T) {
	_, url := newFake(t, fakeapi.Config{Seed: 3, Count: 100, Faults: fakeapi.Faults{EchoStatus: http.StatusBadRequest}})
	c := newClient(t, url, nil)
	err := c.Chargebacks(context.Background(), dataapi.Query{Projects: []int64{580}, From: start, To: now}, func(*dataapi.Page) error { return nil })
	if err == nil || strings.Contains(err.Error(), token) || strings.Contains(err.Error(), secret) {
		t.Fatalf("err %v", err)
	}
}

// newServer serves h on loopback and returns its URL.
func newServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
