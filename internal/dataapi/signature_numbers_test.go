package dataapi

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"reconciled/internal/domain"
)

// benchPage is a signed page of n operations as the Data API sends them:
// every amount an integer.
func benchPage(n int, secret []byte) []byte {
	ops := make([]domain.Operation, n)
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := range ops {
		ops[i] = domain.Operation{
			ProjectID:         580,
			OperationID:       12345678901230000 + uint64(i),
			PaymentID:         fmt.Sprintf("pay-%08d", i),
			PaymentType:       domain.PaymentPurchase,
			PaymentStatus:     domain.StatusSuccess,
			OperationType:     domain.OpSale,
			OperationStatus:   domain.StatusSuccess,
			PaymentMethod:     "card",
			AccountNumber:     "424242******4242",
			CustomerID:        fmt.Sprintf("cust-%d", i%97),
			CreatedAt:         t0.Add(time.Duration(i) * time.Minute),
			CompletedAt:       t0.Add(time.Duration(i)*time.Minute + 3*time.Second),
			SumInitial:        domain.Money{Amount: int64(1000 + i*7), Currency: "EUR"},
			SumConverted:      domain.Money{Amount: int64(1100 + i*7), Currency: "UAH"},
			ProviderID:        17,
			ProviderPaymentID: fmt.Sprintf("prov-%d", i),
			Code:              "0",
			Message:           "Success",
		}
	}
	return AppendSignedOperationsResponse(nil, secret, ops, func(int) EncodeOptions { return EncodeOptions{} })
}

// BenchmarkVerifyPage is what the client does with a page of 1000
// operations before decoding it: flatten and verify.
func BenchmarkVerifyPage(b *testing.B) {
	secret := []byte("bench-secret")
	page := benchPage(1000, secret)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		f := getFlat()
		if err := f.flatten(page); err != nil {
			b.Fatal(err)
		}
		if err := verifyAnyArrayOrder(f, page, secret); err != nil {
			b.Fatal(err)
		}
		putFlat(f)
	}
}

// The formats of the SDKs' languages. Every expected value was printed by
// the runtime itself: node 20 (String(JSON.parse(lit))), Python 3.11
// (repr(float(lit))) and Java 25 (Double.toString(Double.parseDouble(lit))).
// Java 17 prints two of them differently (see appendJavaNumber).
var numberFormatTests = []struct{ lit, js, python, java string }{
	{`1.10`, `1.1`, `1.1`, `1.1`},
	{`1e3`, `1000`, `1000.0`, `1000.0`},
	{`1E3`, `1000`, `1000.0`, `1000.0`},
	{`0.5`, `0.5`, `0.5`, `0.5`},
	{`-1.5`, `-1.5`, `-1.5`, `-1.5`},
	{`100.0`, `100`, `100.0`, `100.0`},
	{`123.456`, `123.456`, `123.456`, `123.456`},
	{`0.1`, `0.1`, `0.1`, `0.1`},
	{`0.30000000000000004`, `0.30000000000000004`, `0.30000000000000004`, `0.30000000000000004`},
	{`-0.0`, `0`, `-0.0`, `-0.0`},
	{`0.0`, `0`, `0.0`, `0.0`},
	{`1e-7`, `1e-7`, `1e-07`, `1.0E-7`},
	{`1.5e-7`, `1.5e-7`, `1.5e-07`, `1.5E-7`},
	{`9.99e-7`, `9.99e-7`, `9.99e-07`, `9.99E-7`},
	{`1e-6`, `0.000001`, `1e-06`, `1.0E-6`},
	{`0.000001`, `0.000001`, `1e-06`, `1.0E-6`},
	{`1.5e-5`, `0.000015`, `1.5e-05`, `1.5E-5`},
	{`1e-5`, `0.00001`, `1e-05`, `1.0E-5`},
	{`1e-4`, `0.0001`, `0.0001`, `1.0E-4`},
	{`0.001`, `0.001`, `0.001`, `0.001`},
	{`1e-3`, `0.001`, `0.001`, `0.001`},
	{`9.99e-4`, `0.000999`, `0.000999`, `9.99E-4`},
	{`12345.678`, `12345.678`, `12345.678`, `12345.678`},
	{`9999999.0`, `9999999`, `9999999.0`, `9999999.0`},
	{`1e7`, `10000000`, `10000000.0`, `1.0E7`},
	{`1.23456785E7`, `12345678.5`, `12345678.5`, `1.23456785E7`},
	{`123456789.0`, `123456789`, `123456789.0`, `1.23456789E8`},
	{`9007199254740993.0`, `9007199254740992`, `9007199254740992.0`, `9.007199254740992E15`},
	{`9999999999999998.0`, `9999999999999998`, `9999999999999998.0`, `9.999999999999998E15`},
	{`1e16`, `10000000000000000`, `1e+16`, `1.0E16`},
	{`1.5e16`, `15000000000000000`, `1.5e+16`, `1.5E16`},
	{`1e20`, `100000000000000000000`, `1e+20`, `1.0E20`},
	{`123e18`, `123000000000000000000`, `1.23e+20`, `1.23E20`},
	{`1e21`, `1e+21`, `1e+21`, `1.0E21`},
	{`1.5e21`, `1.5e+21`, `1.5e+21`, `1.5E21`},
	{`-1e21`, `-1e+21`, `-1e+21`, `-1.0E21`},
	{`1e23`, `1e+23`, `1e+23`, `1.0E23`}, // Java 17: 9.999999999999999E22
	{`1e100`, `1e+100`, `1e+100`, `1.0E100`},
	{`-2.5e-300`, `-2.5e-300`, `-2.5e-300`, `-2.5E-300`},
	{`1.7976931348623157e308`, `1.7976931348623157e+308`, `1.7976931348623157e+308`, `1.7976931348623157E308`},
	{`2.2250738585072014e-308`, `2.2250738585072014e-308`, `2.2250738585072014e-308`, `2.2250738585072014E-308`},
	{`5e-324`, `5e-324`, `5e-324`, `4.9E-324`},
	{`1e-323`, `1e-323`, `1e-323`, `9.9E-324`}, // Java 17: 1.0E-323
	{`12345678901234567.0`, `12345678901234568`, `1.2345678901234568e+16`, `1.2345678901234568E16`},
	{`1e-400`, `0`, `0.0`, `0.0`},
}

func testFormat(t *testing.T, name string, format func([]byte, float64) []byte, want func(lit, js, python, java string) string) {
	t.Helper()
	for _, tt := range numberFormatTests {
		x, err := strconv.ParseFloat(tt.lit, 64)
		if err != nil {
			t.Fatalf("%s: %v", tt.lit, err)
		}
		w := want(tt.lit, tt.js, tt.python, tt.java)
		if got := string(format([]byte("x"), x)); got != "x"+w {
			t.Errorf("%s(%s) = %q, want %q", name, tt.lit, got[1:], w)
		}
	}
}

func TestAppendJSNumber(t *testing.T) {
	testFormat(t, "JS", appendJSNumber, func(_, js, _, _ string) string { return js })
}

func TestAppendPythonNumber(t *testing.T) {
	testFormat(t, "Python", appendPythonNumber, func(_, _, py, _ string) string { return py })
}

func TestAppendJavaNumber(t *testing.T) {
	testFormat(t, "Java", appendJavaNumber, func(_, _, _, java string) string { return java })
}

// FuzzNumberFormats checks what holds for every float64: each format
// reads back as the same number (-0 as 0 in JS), is a JSON number, and is
// plain or in exponent form exactly in its language's ranges.
func FuzzNumberFormats(f *testing.F) {
	for _, tt := range numberFormatTests {
		x, _ := strconv.ParseFloat(tt.lit, 64)
		f.Add(math.Float64bits(x))
	}
	for _, bound := range []float64{1e-6, 1e-4, 1e-3, 1e7, 1e16, 1e21} {
		f.Add(math.Float64bits(bound) - 1) // the float64 just below
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		x := math.Float64frombits(bits)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		a := math.Abs(x)
		for _, c := range []struct {
			name        string
			format      func([]byte, float64) []byte
			plain       bool
			exponentSep string
		}{
			{"JS", appendJSNumber, a == 0 || 1e-6 <= a && a < 1e21, "e"},
			{"Python", appendPythonNumber, a == 0 || 1e-4 <= a && a < 1e16, "e"},
			{"Java", appendJavaNumber, a == 0 || 1e-3 <= a && a < 1e7, "E"},
		} {
			s := string(c.format(nil, x))
			y, err := strconv.ParseFloat(s, 64)
			if err != nil || y != x {
				t.Fatalf("%s(%v) = %q, reads back as %v, %v", c.name, x, s, y, err)
			}
			if !jsontext.Value(s).IsValid() {
				t.Fatalf("%s(%v) = %q, not a JSON number", c.name, x, s)
			}
			if strings.Contains(s, c.exponentSep) == c.plain {
				t.Fatalf("%s(%v) = %q: plain should be %v", c.name, x, s, c.plain)
			}
			if c.name != "JS" && c.plain && !strings.Contains(s, ".") {
				t.Fatalf("%s(%v) = %q: no fractional digit", c.name, x, s)
			}
		}
	})
}

// Golden documents signed over the literal text and as the SDKs sign
// them. The strings are written out by hand; the signatures were computed
// with Python's hmac and checked with node's crypto, not with this code.
var goldenKey = []byte("golden-secret")

var goldenNumberDocs = []struct {
	name, doc string
	strings   map[string]string // by signer: literal, js, python, java
	sigs      map[string]string
	refused   map[string]string // signatures that must not verify, by why
}{
	{
		name: "fraction and exponent",
		doc:  `{"payment":{"id":"p-1","sum":{"amount":1.10,"currency":"EUR"},"rate":1e3},"project_id":580}`,
		strings: map[string]string{
			"literal": `payment:id:p-1;payment:rate:1e3;payment:sum:amount:1.10;payment:sum:currency:EUR;project_id:580`,
			"js":      `payment:id:p-1;payment:rate:1000;payment:sum:amount:1.1;payment:sum:currency:EUR;project_id:580`,
			"python":  `payment:id:p-1;payment:rate:1000.0;payment:sum:amount:1.1;payment:sum:currency:EUR;project_id:580`,
			"java":    `payment:id:p-1;payment:rate:1000.0;payment:sum:amount:1.1;payment:sum:currency:EUR;project_id:580`,
		},
		sigs: map[string]string{
			"literal": `4R9laBqFWNppHPEHlkSxfPWK2leDrveTXe7LvY63VdUk83MQsjbVOjVB3swANqrON+urYP9Si0sZbEOrMmoFVw==`,
			"js":      `O4qFPFqW/ckY+jpwJENa6tVgwM/BaNac+eEszsp6l43jJzBQ1hlTrcZ1UyIRW/3g26cYk00joYtSuTrZ4hdJsw==`,
			"python":  `FS7NhucfINgU6W02eTQWDl4Z/3qKhPE0iRwoncdREkh3692dGny3/ixJBnIDBdlcheIXMKrLbl0qhoY0ufAoBA==`,
		},
		refused: map[string]string{
			// payment:id:p-1;payment:rate:1000;payment:sum:amount:1.2;payment:sum:currency:EUR;project_id:580
			"another amount, 1.2": `/QtIP6UyL5irElkLaVT0NaO65ym6fXZgsdQ565eab1RKNMwgCWoCkWqQbtyQ6Ew4aS8WC/1W4xieWeV83daD+g==`,
		},
	},
	{
		name: "negative exponents, big values, -0, an id of 17 digits",
		doc:  `{"operation_id":10000000000000001,"fee":{"rate":2.5E-7,"min":0.00001,"max":12.50},"limit":1.5e21,"ratio":-0.0,"ok":true}`,
		strings: map[string]string{
			"literal": `fee:max:12.50;fee:min:0.00001;fee:rate:2.5E-7;limit:1.5e21;ok:1;operation_id:10000000000000001;ratio:-0.0`,
			"js":      `fee:max:12.5;fee:min:0.00001;fee:rate:2.5e-7;limit:1.5e+21;ok:1;operation_id:10000000000000001;ratio:0`,
			"python":  `fee:max:12.5;fee:min:1e-05;fee:rate:2.5e-07;limit:1.5e+21;ok:1;operation_id:10000000000000001;ratio:-0.0`,
			"java":    `fee:max:12.5;fee:min:1.0E-5;fee:rate:2.5E-7;limit:1.5E21;ok:1;operation_id:10000000000000001;ratio:-0.0`,
		},
		sigs: map[string]string{
			"literal": `4ULB+ubN3DgQVwV5HrFwJHpTidkRWUQQ7lt7R61fO3hD9h+2WB6oo3Ob0ZLNWnSo83T2IFH1V58Ko57eNWLwYg==`,
			"js":      `VfAexKGLGUUYwp7CtI1zN4IzZInIvScxFnzuGL+NRAiztKcw8Nc4Xbrl7WvF6O6A3VPWnGnAJB7AN0LHml4Bqw==`,
			"python":  `uI3w1TCZQBFJ1l5xOdGCDr+oYJStcEyU3josWAskBHLJwhLQnB6M8/UgCa6OhUM9XZ4OfF7waJzAR4kVUGHXhw==`,
			"java":    `uBqd+0Rc5vU5ugUquv7HaRXK2uc4a4Vj/XPJQZB4cBTGNXeVdVaXUVXANbDGG1Y3elqb+TSCuovKCtFN41vJqQ==`,
		},
		refused: map[string]string{
			// What JS's JSON.parse makes of the document: the id through
			// float64, 10000000000000000.
			// fee:max:12.5;fee:min:0.00001;fee:rate:2.5e-7;limit:1.5e+21;ok:1;operation_id:10000000000000000;ratio:0
			"id rounded, JS numbers": `JRhKf15Co6iNMIlFyr2cAwv56EyLyyZMarvwAwHcR6gYEdIFZlwbbQQm13w60mw5yfZk2VRlON45HhFTuolv7g==`,
			// fee:max:12.50;fee:min:0.00001;fee:rate:2.5E-7;limit:1.5e21;ok:1;operation_id:10000000000000000;ratio:-0.0
			"id rounded, literal numbers": `q6A/uoITanHxM+u/K5eWCLKoA4Z9tXlphYkj9D4iDfcqK5/0p1MBV3f9nEvxyKtS4+251XLThepb6x4D61/lUw==`,
		},
	},
}

// variantString is the string signed for doc with its numbers as
// numFormats[i] prints them (i < 0: as written).
func variantString(t *testing.T, doc string, i int) string {
	t.Helper()
	f := getFlat()
	defer putFlat(f)
	if err := f.flatten([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if i < 0 {
		f.writeString(&b)
		return b.String()
	}
	f.buildVariants()
	f.writeVariant(&b, &f.variants[1+i])
	return b.String()
}

func TestVerifyAcceptsSDKNumberFormats(t *testing.T) {
	formatOf := map[string]int{"literal": -1, "js": 0, "python": 1, "java": 2}
	for _, g := range goldenNumberDocs {
		t.Run(g.name, func(t *testing.T) {
			for signer, want := range g.strings {
				if got := variantString(t, g.doc, formatOf[signer]); got != want {
					t.Errorf("%s string\n got %s\nwant %s", signer, got, want)
				}
			}
			lit, err := SignatureString([]byte(g.doc))
			if err != nil || lit != g.strings["literal"] {
				t.Errorf("SignatureString = %q, %v; want the literal form", lit, err)
			}
			if sig, err := Sign(goldenKey, []byte(g.doc)); err != nil || sig != g.sigs["literal"] {
				t.Errorf("Sign = %s, %v; want the literal form's %s", sig, err, g.sigs["literal"])
			}
			for signer, sig := range g.sigs {
				signed, err := appendMember([]byte(g.doc), "signature", sig)
				if err != nil {
					t.Fatal(err)
				}
				if err := Verify(goldenKey, signed); err != nil {
					t.Errorf("Verify(signed as %s) = %v", signer, err)
				}
				if err := Verify([]byte("other"), signed); !errors.Is(err, ErrBadSignature) {
					t.Errorf("Verify(signed as %s, another key) = %v, want ErrBadSignature", signer, err)
				}
			}
			for why, sig := range g.refused {
				signed, _ := appendMember([]byte(g.doc), "signature", sig)
				if err := Verify(goldenKey, signed); !errors.Is(err, ErrBadSignature) {
					t.Errorf("Verify(%s) = %v, want ErrBadSignature", why, err)
				}
			}
		})
	}
}

// Integers are never re-formatted: a document whose numbers are all
// integers has no variants (so costs one HMAC, as before), and its
// 17-digit id signed through float64 is refused.
func TestIntegersAreNeverReformatted(t *testing.T) {
	doc := []byte(`{"operation_id":10000000000000001,"amount":100000,"n":-0,"big":123456789012345678901234567890}`)
	f := getFlat()
	defer putFlat(f)
	if err := f.flatten(doc); err != nil {
		t.Fatal(err)
	}
	if len(f.nums) != 0 {
		t.Errorf("integers taken as re-formattable: %d", len(f.nums))
	}
	page := benchPage(20, []byte("k"))
	if err := f.flatten(page); err != nil {
		t.Fatal(err)
	}
	if len(f.nums) != 0 {
		t.Errorf("a page of integer amounts has %d re-formattable numbers", len(f.nums))
	}

	// The same document with its id as float64 prints it, signed.
	rounded, err := AppendSigned([]byte("k"), []byte(strings.Replace(string(doc), "10000000000000001", "10000000000000000", 1)))
	if err != nil {
		t.Fatal(err)
	}
	sig := rounded[bytes.LastIndex(rounded, []byte(`"signature":"`))+len(`"signature":"`) : len(rounded)-2]
	forged, _ := appendMember(doc, "signature", string(sig))
	if err := Verify([]byte("k"), forged); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(id signed rounded) = %v, want ErrBadSignature", err)
	}
	// Even with a re-formattable number beside it.
	withFloat := []byte(`{"id":10000000000000001,"rate":1.5}`)
	forged = signedAs(t, []byte(`{"id":10000000000000000,"rate":1.5}`), withFloat, 0)
	if err := Verify([]byte("k"), forged); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(id signed rounded, JS numbers) = %v, want ErrBadSignature", err)
	}
}

// signedAs returns doc with the signature (key "k") of signedDoc's string
// with its numbers as numFormats[i] prints them.
func signedAs(t *testing.T, signedDoc, doc []byte, i int) []byte {
	t.Helper()
	f := getFlat()
	defer putFlat(f)
	if err := f.flatten(signedDoc); err != nil {
		t.Fatal(err)
	}
	f.buildVariants()
	out, err := appendMember(doc, "signature", base64.StdEncoding.EncodeToString(f.macVariant([]byte("k"), &f.variants[1+i])))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A format whose string is one tried already is not hashed again; a number
// that does not fit a float64 keeps its text in every format.
func TestNumberVariantsSkipRepeats(t *testing.T) {
	for _, tt := range []struct {
		doc  string
		same [len(numFormats)]bool // JS, Python, Java
	}{
		{`{"a":1.10,"b":1e3}`, [...]bool{false, false, true}},   // Java = Python
		{`{"a":1.5}`, [...]bool{true, true, true}},              // all as written
		{`{"a":1.5,"b":2}`, [...]bool{true, true, true}},        // the integer does not count
		{`{"a":1000.0}`, [...]bool{false, true, true}},          // 1000, then 1000.0 twice
		{`{"a":1e400,"b":-1E999}`, [...]bool{true, true, true}}, // out of range: literal
		{`{"a":1.0E7}`, [...]bool{false, false, true}},          // 10000000, 10000000.0, 1.0E7 as written
		{`{"s":"1.10"}`, [...]bool{true, true, true}},           // a string is not a number
	} {
		f := getFlat()
		if err := f.flatten([]byte(tt.doc)); err != nil {
			t.Fatal(err)
		}
		f.buildVariants()
		var same [len(numFormats)]bool
		for i := range same {
			same[i] = f.variants[1+i].same
		}
		if same != tt.same {
			t.Errorf("%s: skipped %v, want %v", tt.doc, same, tt.same)
		}
		putFlat(f)
	}
}

// The array-order retry and the number formats combine: a long array
// signed in document order with Python's numbers verifies; another key
// does not, in any of the tries.
func TestVerifyCombinesArrayOrderAndNumberFormats(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"operations":[`)
	for i := range 12 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"operation_id":%d,"rate":%d.50}`, i+1, i)
	}
	b.WriteString(`]}`)
	doc := []byte(b.String())
	key := []byte("k")

	inOrder := getFlat()
	inOrder.arraysInOrder = true
	if err := inOrder.flatten(doc); err != nil {
		t.Fatal(err)
	}
	inOrder.buildVariants()
	var s strings.Builder
	inOrder.writeVariant(&s, &inOrder.variants[2])
	if !strings.HasPrefix(s.String(), "operations:0:operation_id:1;operations:0:rate:0.5;operations:1:") || !strings.Contains(s.String(), "operations:9:rate:9.5;operations:10:") {
		t.Fatalf("document order, Python numbers: %s", s.String())
	}
	signed, _ := appendMember(doc, "signature", base64.StdEncoding.EncodeToString(inOrder.macVariant(key, &inOrder.variants[2])))
	putFlat(inOrder)

	f := getFlat()
	defer putFlat(f)
	if err := f.flatten(signed); err != nil {
		t.Fatal(err)
	}
	if err := f.verify(key); !errors.Is(err, ErrBadSignature) {
		t.Errorf("path order alone: %v, want ErrBadSignature", err)
	}
	if err := verifyAnyArrayOrder(f, signed, key); err != nil {
		t.Errorf("verifyAnyArrayOrder: %v", err)
	}
	if err := verifyAnyArrayOrder(f, signed, []byte("other")); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another key: %v", err)
	}
}

// BenchmarkVerifyPageFloats is the slowest accepted page with a
// re-formattable number: signed by Java, with a number that all four forms
// write differently (1e-5, 0.00001, 1e-05, 1.0E-5), so verify hashes the
// literal, JS's and Python's strings before Java's.
func BenchmarkVerifyPageFloats(b *testing.B) {
	secret := []byte("k")
	page := benchPage(1000, secret)
	doc := page[:bytes.LastIndex(page, []byte(`,"signature"`))]
	doc = append(doc[:len(doc):len(doc)], `,"rate":1e-5}`...)
	f := getFlat()
	if err := f.flatten(doc); err != nil {
		b.Fatal(err)
	}
	f.buildVariants()
	if f.variants[1].same || f.variants[2].same || f.variants[3].same {
		b.Fatal("the formats should all differ")
	}
	signed, _ := appendMember(doc, "signature", base64.StdEncoding.EncodeToString(f.macVariant(secret, &f.variants[3])))
	putFlat(f)
	b.SetBytes(int64(len(signed)))
	b.ReportAllocs()
	for b.Loop() {
		f := getFlat()
		if err := f.flatten(signed); err != nil {
			b.Fatal(err)
		}
		if err := verifyAnyArrayOrder(f, signed, secret); err != nil {
			b.Fatal(err)
		}
		putFlat(f)
	}
}
