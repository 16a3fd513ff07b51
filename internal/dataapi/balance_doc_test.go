package dataapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"reconciled/internal/doccheck"
	"reconciled/internal/domain"
)

// The reference's example answer of /balance/get, served as it is
// written, reads as the balances it shows.
func TestReferenceBalanceExample(t *testing.T) {
	blocks := doccheck.Blocks(t, doccheck.Read(t, "data-api.md"), "balance example")
	if len(blocks) != 2 {
		t.Fatalf("docs/data-api.md: balance example: want 2 code blocks (key, answer), have %d", len(blocks))
	}
	key, body := blocks[0], blocks[1]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, Token: strings.Repeat("t", 30), Secret: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Balances(context.Background(), []int64{580})
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Balance{
		{Name: "OUT", Out: true, Money: domain.Money{Amount: 1010750, Currency: "AUD"}},
		{Name: "OUT", Out: true, Money: domain.Money{Amount: -2500, Currency: "EUR"}},
		{Name: "IN", Money: domain.Money{Amount: 33000, Currency: "AUD"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the example reads as\n%+v\nwant\n%+v", got, want)
	}
}
