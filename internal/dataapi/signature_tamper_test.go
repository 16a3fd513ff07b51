package dataapi_test

import (
	"errors"
	"strings"
	"testing"

	"reconciled/internal/dataapi"
)

// Accepting the SDKs' number forms lets no changed value verify.
// A number is re-formatted only from its own float64, so a changed literal
// verifies only if it is the same float64 (1.10 for 1.1), and integers are
// never re-formatted.
func TestTamperedNumbersDoNotVerify(t *testing.T) {
	key := []byte("k")
	signed := func(doc string) string {
		out, err := dataapi.AppendSigned(key, []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	orig := `{"rate":1.10,"operation_id":10000000000000001,"amount":100,"e":1e3}`
	doc := signed(orig)
	if err := dataapi.Verify(key, []byte(doc)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ from, to string }{
		{"1.10", "1.1000001"},
		{"1.10", "1.2"},
		{"10000000000000001", "10000000000000002"},
		{"10000000000000001", "10000000000000000"},
		{"10000000000000001", "1.0000000000000001e16"},
		{`"amount":100`, `"amount":100.4`},
		{`"amount":100`, `"amount":1e2`},
		{"1e3", "1001"},
	} {
		bad := strings.Replace(doc, tt.from, tt.to, 1)
		if err := dataapi.Verify(key, []byte(bad)); !errors.Is(err, dataapi.ErrBadSignature) {
			t.Errorf("%s → %s: Verify = %v, want ErrBadSignature", tt.from, tt.to, err)
		}
	}
}

// data_api.fields without payment_status is refused before any request.
func TestFieldsWithoutPaymentStatusRefused(t *testing.T) {
	_, err := dataapi.New(dataapi.Options{BaseURL: "http://x", Token: token, Secret: []byte(secret),
		Fields: []string{"operation_type", "operation_status", "payment_type", "payment_method", "sum_initial"}})
	if err == nil || !strings.Contains(err.Error(), `"payment_status"`) {
		t.Errorf("err = %v", err)
	}
}
