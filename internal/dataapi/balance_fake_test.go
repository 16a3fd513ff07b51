package dataapi_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
)

// What the fake answers is what the client reads, one project at a time,
// each in its own currencies.
func TestBalancesOfTheFake(t *testing.T) {
	f, url := newFake(t, fakeapi.Config{Seed: 3, Count: 2000})
	c := newClient(t, url, nil)
	for _, p := range []int64{580, 579} {
		got, err := c.Balances(context.Background(), []int64{p})
		if err != nil {
			t.Fatal(err)
		}
		var want []domain.Balance
		for _, e := range f.Balances([]int64{p}, now) {
			for _, m := range e.Amounts {
				want = append(want, domain.Balance{Name: e.Name, Out: e.Name == fakeapi.BalanceOut, Money: m})
			}
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("project %d: read\n%+v\nthe fake has\n%+v", p, got, want)
		}
	}
}

// The fake's faults reach /balance/get as they reach the operations: a 5xx
// is retried, a wrong or missing signature refuses the answer, an echo of
// the request is redacted.
func TestBalancesUnderTheFakesFaults(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults fakeapi.Faults
		want   string // "" reads
	}{
		{"every other answer 500", fakeapi.Faults{ServerErrorEvery: 2}, ""},
		{"every answer 500", fakeapi.Faults{ServerErrorEvery: 1}, "HTTP 500"},
		{"bad signature", fakeapi.Faults{BadSignatureEvery: 1}, "response rejected, nothing from it is used"},
		{"unsigned", fakeapi.Faults{Unsigned: true}, "response rejected, nothing from it is used"},
		{"echo", fakeapi.Faults{EchoStatus: http.StatusBadGateway}, "<redacted>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, url := newFake(t, fakeapi.Config{Count: 100, Faults: tt.faults})
			c := newClient(t, url, nil)
			bs, err := c.Balances(context.Background(), []int64{580})
			if tt.want == "" {
				// The second call's first request is the fake's second:
				// the one that fails.
				for i := range 2 {
					if i > 0 {
						bs, err = c.Balances(context.Background(), []int64{580})
					}
					if err != nil || len(bs) == 0 {
						t.Fatalf("call %d: %+v, %v", i+1, bs, err)
					}
				}
				return
			}
			if err == nil || bs != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%+v, %v; want an error with %q", bs, err, tt.want)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), secret) {
				t.Errorf("a credential shows: %v", err)
			}
			var api *dataapi.APIError
			if tt.faults.EchoStatus != 0 && !errors.As(err, &api) {
				t.Errorf("not an API error: %v", err)
			}
		})
	}
}
