package callback

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
)

var secret = []byte("project-580-own-secret")

func secrets(project int64) ([]byte, bool) {
	switch project {
	case 580, 579, 112:
		return secret, true
	}
	return nil, false
}

func seed(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resign replaces a body's placeholder signature with one made with
// secret.
func resign(t *testing.T, body []byte) []byte {
	t.Helper()
	body = regexp.MustCompile(`,\s*"signature":\s*"[^"]*"`).ReplaceAll(body, nil)
	signed, err := dataapi.AppendSigned(secret, body)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// The seeds' own examples as published: those that are not JSON are
// refused as malformed, each with where it broke; those that are JSON
// carry placeholder signatures, refused as such.
func TestSeedExamplesAsPublished(t *testing.T) {
	for _, c := range []struct {
		file string
		err  error
		why  string
	}{
		{"advcash-purchase-success.json", ErrMalformed, `invalid character 'x' at start of value at /operation/provider/id (byte`},
		{"advcash-payout-success.json", ErrMalformed, `at /customer`},
		{"card-partner-purchase-success.json", ErrMalformed, `invalid character '\n' in string (expecting non-control character) at /signature (byte 1495)`},
		{"card-partner-purchase-decline.json", ErrMalformed, `at /signature`},
		{"card-partner-payout-success.json", ErrMalformed, `more after the object's end`},
		{"card-partner-payout-decline.json", ErrMalformed, `more after the object's end`},
		{"advcash-purchase-decline.json", ErrSignature, "does not match"},
		{"advcash-payout-decline.json", ErrSignature, "does not match"},
	} {
		t.Run(c.file, func(t *testing.T) {
			_, err := Read(seed(t, c.file), secrets)
			if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.why) {
				t.Errorf("err = %v, want %v saying %q", err, c.err, c.why)
			}
		})
	}
}

// The seeds' examples, repaired and signed with the project's key, read
// as the sync would store their operations.
func TestSeedExamplesRepairedAndSigned(t *testing.T) {
	at := func(s string) time.Time { tm, _ := time.Parse(TimeLayout, s); return tm.UTC() }
	uah := func(n int64) domain.Money { return domain.Money{Amount: n, Currency: "UAH"} }
	uzs := func(n int64) domain.Money { return domain.Money{Amount: n, Currency: "UZS"} }
	for _, c := range []struct {
		file   string
		repair func([]byte) []byte
		want   domain.Operation
	}{
		{"advcash-purchase-success.json", func(b []byte) []byte { return bytes.Replace(b, []byte(`"id": xxxx`), []byte(`"id": 1203`), 1) },
			domain.Operation{ProjectID: 580, OperationID: 3120003543056, PaymentID: "ECT_TEST_1549542812699", PaymentType: "purchase",
				PaymentStatus: "success", OperationType: "sale", OperationStatus: "success", PaymentMethod: "advcash",
				AccountNumber: "q***@gmail.com", CreatedAt: at("2019-02-08T12:00:13+0000"), CompletedAt: at("2019-02-08T12:01:06+0000"),
				SumInitial: uah(100000), SumConverted: uah(100000), ProviderID: 1203, ProviderPaymentID: "b9275gfy-44bd-4da",
				Code: "0", Message: "Success"}},
		{"advcash-purchase-decline.json", nil,
			domain.Operation{ProjectID: 580, OperationID: 11295000003456, PaymentID: "advcashtest111112066", PaymentType: "purchase",
				PaymentStatus: "decline", OperationType: "sale", OperationStatus: "decline", PaymentMethod: "advcash",
				AccountNumber: "1***@gmail.com", CustomerID: "test_id", CreatedAt: at("2019-02-08T12:38:36+0000"),
				CompletedAt: at("2019-02-08T12:38:37+0000"), SumInitial: domain.Money{Amount: 700, Currency: "RUB"},
				SumConverted: domain.Money{Amount: 700, Currency: "RUB"}, ProviderID: 1111, Code: "100", Message: "General decline"}},
		{"card-partner-purchase-success.json", func(b []byte) []byte { return bytes.TrimSuffix(bytes.TrimSpace(b), []byte("}")) },
			domain.Operation{ProjectID: 579, OperationID: 9708000007271, PaymentID: "307657677656546777", PaymentType: "purchase",
				PaymentStatus: "success", OperationType: "sale", OperationStatus: "success", PaymentMethod: "Card partner",
				AccountNumber: domain.MaskAccount("1743-3223966A2D...514183B2584F543"), CustomerID: "65465",
				CreatedAt: at("2019-10-08T14:02:18+0000"), CompletedAt: at("2019-10-08T14:13:50+0000"), SumInitial: uzs(100000),
				SumConverted: uzs(100000), ProviderID: 1521, ProviderPaymentID: "632441", Code: "0", Message: "Success"}},
	} {
		t.Run(c.file, func(t *testing.T) {
			body := seed(t, c.file)
			if c.repair != nil {
				body = c.repair(body)
			}
			cb, err := Read(resign(t, body), secrets)
			if err != nil {
				t.Fatal(err)
			}
			if !cb.HasOperation || cb.Operation != c.want {
				t.Errorf("read\n %+v\nwant\n %+v", cb.Operation, c.want)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	op := domain.Operation{ProjectID: 580, OperationID: 10000000000000001, PaymentID: "p1", PaymentType: "purchase",
		PaymentStatus: "success", OperationType: "sale", OperationStatus: "success", PaymentMethod: "card",
		AccountNumber: "411111******1111", CreatedAt: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
		CompletedAt: time.Date(2026, 11, 20, 10, 1, 0, 0, time.UTC), SumInitial: domain.Money{Amount: 100, Currency: "EUR"},
		SumConverted: domain.Money{Amount: 100, Currency: "EUR"}, Code: "0", Message: "Success"}
	good := Append(nil, &op)
	sign := func(b []byte) []byte {
		s, err := dataapi.AppendSigned(secret, b)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	swap := func(old, new string) []byte { return sign(bytes.Replace(good, []byte(old), []byte(new), 1)) }
	for _, c := range []struct {
		name string
		body []byte
		err  error
		why  string
	}{
		{"empty", nil, ErrMalformed, "not valid JSON"},
		{"an array", []byte(`[1]`), ErrMalformed, "an array, not a JSON object"},
		{"two objects", append(sign(good), `{}`...), ErrMalformed, "more after the object's end"},
		{"a name twice", []byte(`{"project_id":580,"project_id":579}`), ErrMalformed, `duplicate object member name at /project_id`},
		{"no project", []byte(`{"payment":{}}`), ErrMalformed, "no project_id"},
		{"project a float", []byte(`{"project_id":580.0}`), ErrMalformed, "project_id is a number, not a positive integer"},
		{"unknown project", bytes.Replace(sign(good), []byte(`"project_id":580`), []byte(`"project_id":581`), 1), ErrUnknownProject, "project 581"},
		{"unsigned", good, ErrSignature, "no signature"},
		{"tampered", bytes.Replace(sign(good), []byte(`"amount":100`), []byte(`"amount":900`), 1), ErrSignature, "does not match"},
		{"amount a float", swap(`"amount":100,"currency":"EUR"},"sum_converted"`, `"amount":1.5,"currency":"EUR"},"sum_converted"`), ErrInvalid, "operation.sum_initial.amount is a number, not a whole number"},
		{"no operation id", swap(`"id":10000000000000001`, `"id":null`), ErrInvalid, "operation.id is missing"},
		{"operation id past 64 bits", swap(`"id":10000000000000001`, `"id":100000000000000000001`), ErrInvalid, "operation.id is not a positive whole number"},
		{"payment a string", swap(`"payment":{"id":"p1"`, `"payment":"p1","x":{"id":"p1"`), ErrInvalid, "/payment is a string where an object belongs"},
		{"no status", swap(`"status":"success","date":"2026-11-20T10:01:00+0000","created_date"`, `"date":"2026-11-20T10:01:00+0000","created_date"`), ErrInvalid, "operation.status is missing"},
		{"bad time", swap(`"created_date":"2026-11-20T10:00:00+0000"`, `"created_date":"20.11.2026"`), ErrInvalid, "operation.created_date is not a time"},
		{"unknown currency", swap(`"amount":100,"currency":"EUR"},"sum_converted"`, `"amount":100,"currency":"XXY"},"sum_converted"`), ErrInvalid, "sum_initial"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(c.body, secrets)
			if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.why) {
				t.Errorf("err = %v, want %v saying %q", err, c.err, c.why)
			}
		})
	}
}

// What a callback says goes through the signature as written: an
// operation id of 17 digits, amounts as strings, general.project_id and
// general.signature.
func TestReadsWhatTheSyncWould(t *testing.T) {
	body := []byte(`{"general":{"project_id":"580"},"payment":{"id":"order-1","type":"purchase","status":"success","method":"card"},` +
		`"account":{"number":"4111111111111111"},"customer":{"id":65465},` +
		`"operation":{"id":12345678901234567,"type":"sale","status":"success","date":"2026-11-20T10:01:00+0000","created_date":"2026-11-20T10:00:00Z",` +
		`"sum_initial":{"amount":"45066","currency":"GBP"},"provider":{"id":"1203","payment_id":"prov-1"},"code":0,` +
		`"message":"card 4111 1111 1111 1111 charged"}}`)
	sig, err := dataapi.Sign(secret, body)
	if err != nil {
		t.Fatal(err)
	}
	body = bytes.Replace(body, []byte(`{"project_id":"580"}`), []byte(`{"project_id":"580","signature":"`+sig+`"}`), 1)
	cb, err := Read(body, secrets)
	if err != nil {
		t.Fatal(err)
	}
	op := cb.Operation
	if op.OperationID != 12345678901234567 || op.ProjectID != 580 || op.SumInitial != (domain.Money{Amount: 45066, Currency: "GBP"}) ||
		op.ProviderID != 1203 || op.CustomerID != "65465" || op.Code != "0" {
		t.Errorf("read %+v", op)
	}
	if op.AccountNumber != "411111******1111" || strings.Contains(op.Message, "4111 1111 1111 1111") {
		t.Errorf("a card number kept in full: %q, %q", op.AccountNumber, op.Message)
	}
	if !op.CompletedAt.Equal(time.Date(2026, 11, 20, 10, 1, 0, 0, time.UTC)) || op.CreatedAt.Location() != time.UTC {
		t.Errorf("times %v %v", op.CreatedAt, op.CompletedAt)
	}
}

// A callback without an operation (the redirect notice) is signed and
// stores nothing; a non-final operation has no completion time, as the
// Data API reports it.
func TestNoOperationAndNotFinal(t *testing.T) {
	cb, err := Read(mustSign(t, []byte(`{"project_id":580,"payment":{"id":"p"},"redirect_data":{"method":"GET","url":"https://example.com"}}`)), secrets)
	if err != nil || cb.HasOperation || cb.ProjectID != 580 {
		t.Errorf("redirect notice: %+v %v", cb, err)
	}
	op := domain.Operation{ProjectID: 580, OperationID: 7, PaymentID: "p", OperationType: "sale", OperationStatus: "processing",
		CreatedAt: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), SumInitial: domain.Money{Amount: 1, Currency: "EUR"}}
	cb, err = Read(mustSign(t, Append(nil, &op)), secrets)
	if err != nil || !cb.Operation.CompletedAt.IsZero() || cb.Operation != op {
		t.Errorf("processing: %+v %v", cb.Operation, err)
	}
}

func mustSign(t *testing.T, b []byte) []byte {
	t.Helper()
	s, err := dataapi.AppendSigned(secret, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A reason never quotes the body: a card number in a member's value stays
// out of every refusal.
func TestReasonsQuoteNoValue(t *testing.T) {
	const pan = "4111111111111111"
	for _, body := range []string{
		`{"project_id":580,"operation":{"id":"` + pan + `x"}}`,
		`{"project_id":580,"account":{"number":"` + pan + `"},"operation":{"id":1,"sum_initial":{"amount":"` + pan + `.5"}}}`,
		`{"project_id":580,"` + pan + `":x}`,
		`{"project_id":"` + pan + `"x}`,
	} {
		signed, err := dataapi.AppendSigned(secret, []byte(body))
		if err != nil {
			signed = []byte(body) // not JSON: refused before any signature
		}
		_, err = Read(signed, secrets)
		if err == nil || strings.Contains(err.Error(), pan) {
			t.Errorf("%s: %v", body, err)
		}
		if _, err := Decode([]byte(body), 580); err != nil && strings.Contains(err.Error(), pan) {
			t.Errorf("Decode %s: %v", body, err)
		}
	}
}

// FuzzRead: any body is refused with one of Read's errors or read into an
// operation that validates; never a panic.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"advcash-purchase-success.json", "advcash-purchase-decline.json", "card-partner-purchase-success.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := Read(body, secrets)
		if err == nil && cb.HasOperation {
			if verr := cb.Operation.Validate(); verr != nil {
				t.Fatalf("read an operation that does not validate: %v", verr)
			}
		}
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownProject) && !errors.Is(err, ErrSignature) && !errors.Is(err, ErrInvalid) {
			t.Fatalf("an error of no kind: %v", err)
		}
		if b, derr := Decode(body, 580); derr == nil && b.HasOperation && b.Operation.Validate() != nil {
			t.Fatalf("Decode read an operation that does not validate")
		}
	})
}

// Every operation the fake Data API makes, as a callback, reads back as
// the sync stores it (the account number masked, as the client masks it).
func TestAppendReadsBackAsTheSyncStores(t *testing.T) {
	now := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	fake, err := fakeapi.New(fakeapi.Config{Token: "t", Secret: []byte("s"), Seed: 3, Start: now.Add(-48 * time.Hour), Count: 3000, Step: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ops := fake.Operations(now)
	if len(ops) < 2000 {
		t.Fatalf("the fake made %d operations", len(ops))
	}
	for _, op := range ops {
		op.AccountNumber = domain.MaskAccount(op.AccountNumber)
		op.Message = domain.MaskCardNumbers(op.Message)
		if !op.Final() {
			op.CompletedAt = time.Time{} // the Data API's: none until final
		}
		cb, err := Read(mustSign(t, Append(nil, &op)), secrets)
		if err != nil {
			t.Fatalf("operation %d: %v", op.OperationID, err)
		}
		if cb.Operation != op {
			t.Fatalf("operation %d read back\n %+v\nnot\n %+v", op.OperationID, cb.Operation, op)
		}
	}
}

// The project_id that chooses the key is the project the operation is
// stored under, whichever of the root's and general's is there: a body
// with both is read by the root's, signed with that project's key or
// refused; a key of one project never signs for another. A project that
// is negative, past 64 bits, or a signature given twice at one place is
// malformed before any key is tried; a payment id longer than the ledger
// stores is refused signed.
func TestTheProjectThatPicksTheKeyIsTheOperations(t *testing.T) {
	keys := map[int64][]byte{580: []byte("key-of-580"), 581: []byte("key-of-581")}
	secretOf := func(p int64) ([]byte, bool) { k, ok := keys[p]; return k, ok }
	rest := `"payment":{"id":"o1"},"operation":{"id":1,"type":"sale","status":"success","created_date":"2026-11-20T10:00:00+0000",` +
		`"date":"2026-11-20T10:00:00+0000","sum_initial":{"amount":100,"currency":"EUR"}}`
	signed := func(project int64, body string) []byte {
		b, err := Sign(keys[project], []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name    string
		body    []byte
		project int64 // of the operation read; 0: refused
		err     error
	}{
		{"root", signed(580, `{"project_id":580,`+rest+`}`), 580, nil},
		{"a string of digits", signed(580, `{"project_id":"580",`+rest+`}`), 580, nil},
		{"general alone", signed(581, `{"general":{"project_id":581},`+rest+`}`), 581, nil},
		{"both, the root's key", signed(580, `{"project_id":580,"general":{"project_id":581},`+rest+`}`), 580, nil},
		{"both, general's key", signed(581, `{"project_id":580,"general":{"project_id":581},`+rest+`}`), 0, ErrSignature},
		{"another project's key", signed(581, `{"project_id":580,`+rest+`}`), 0, ErrSignature},
		{"negative", signed(580, `{"project_id":-580,`+rest+`}`), 0, ErrMalformed},
		{"past 64 bits", signed(580, `{"project_id":18446744073709552196,`+rest+`}`), 0, ErrMalformed},
		{"a float", signed(580, `{"project_id":5.8e2,`+rest+`}`), 0, ErrMalformed},
		{"a sign", signed(580, `{"project_id":"+580",`+rest+`}`), 0, ErrMalformed},
		{"signature twice", bytes.Replace(signed(580, `{"project_id":580,`+rest+`}`), []byte(`"signature":`), []byte(`"signature":"x","signature":`), 1), 0, ErrMalformed},
		{"a payment id too long", signed(580, `{"project_id":580,`+strings.Replace(rest, `"o1"`, `"`+strings.Repeat("9", domain.MaxUpstreamIDBytes+1)+`"`, 1)+`}`), 0, ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			cb, err := Read(c.body, secretOf)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Errorf("err %v, want %v", err, c.err)
				}
				return
			}
			if err != nil || !cb.HasOperation || cb.Operation.ProjectID != c.project || cb.ProjectID != c.project {
				t.Errorf("read project %d, operation's %d (%v), want %d", cb.ProjectID, cb.Operation.ProjectID, err, c.project)
			}
		})
	}
}
