package dataapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// ECommPay's published signature test vectors (V1 and V6 are in
// docs/data-api.md, whose own test checks them too).
var vectors = []struct {
	name, key, input, str, sig string
}{
	{
		name:  "V1",
		key:   "qwerty",
		input: `{"project_id":11,"payment_currency":"EUR","frame_mode":"popup","some_bool_param":true,"two_levels_param":{"param1":1,"param2":2}}`,
		str:   `payment_currency:EUR;project_id:11;some_bool_param:1;two_levels_param:param1:1;two_levels_param:param2:2`,
		sig:   `ehwG+e+Sq6b0QEek2hmHGUFzViX9/Xfcgnh0Ysn1+AqCY8BsKhC/Vcyr4XH8CKXW3iS0vW9S2mTwOt/0Ozf5pg==`,
	},
	{
		name:  "V2",
		input: `{"a": {"b": 1111111111111111, "c": 2 }, "d": false, "f": [ "g", { "h": 7, "i": { "k": 8 } } ], "e": [ 4, 5 ], "j": null}`,
		str:   `a:b:1111111111111111;a:c:2;d:0;e:0:4;e:1:5;f:0:g;f:1:h:7;f:1:i:k:8;j:`,
	},
	{
		name:  "V3",
		key:   "qwerty",
		input: `{"payment":{"id":"test-payment"},"errors":[{"code":"123","message":"grand crash","description":["description-str",{"description1":1}]},{"code":"456","message":"minor crash","description":null}]}`,
		str:   `errors:0:code:123;errors:0:description:0:description-str;errors:0:description:1:description1:1;errors:0:message:grand crash;errors:1:code:456;errors:1:description:;errors:1:message:minor crash;payment:id:test-payment`,
		sig:   `dxjnun8oySSl0CWlhhjy/k1V9CZcCtaHvu/Y5qJQbWHq8wd6TqTUt4bIfHrlWxT8ba9NOJfkgGHrGc5OgyQVGA==`,
	},
	{
		name:  "V4",
		key:   "qwerty",
		input: `{"payment":{"id":"test-payment","status":"success"}}`,
		sig:   `UGzKT0NC26f4u0niyJSQPx5q3kFFIndwLXeJVXahfCFwbY+Svg1WoXIxzrIyyjWUSLFhT8wAQ5SfBDRHnwm6Yg==`,
	},
	{
		name:  "V5",
		key:   "secret",
		input: `{"customer":{"project_id":0,"id":"sutm_id"},"card":{"pan":"4242424242424242","year":2020,"month":8,"card_holder":"John Smith","cvv":"123","save":true},"frame_mode":"popup"}`,
		sig:   `lY0LTSAzpR7zGce5qfYGacOuYlHGWqkMcQlqmjlsDDZI2gVcE1qVeWANnkIR7mdOqRXJnL1kO0lUmkQ0YYLWRg==`,
	},
	{
		name:  "V6",
		key:   "secret",
		input: `{"interval":{"from":"2020-01-01 14:53:55","to":"2020-01-30 13:53:59"},"limit":3,"offset":0,"project_id":[183],"token":"WKiarERJ5pcceNerpM9R5TNnyPTQMl","tz":"Asia/Singapore"}`,
		str:   `interval:from:2020-01-01 14:53:55;interval:to:2020-01-30 13:53:59;limit:3;offset:0;project_id:0:183;token:WKiarERJ5pcceNerpM9R5TNnyPTQMl;tz:Asia/Singapore`,
		sig:   `Ini3aKje6aZskajTuRS761YOzVqierlVRafZdxIz48wmVnL7yxgy9vDsp7T2/LGPGHJ/DHoKOgP7VqObJALrUA==`,
	},
}

func TestSignatureVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			if v.str != "" {
				got, err := SignatureString([]byte(v.input))
				if err != nil {
					t.Fatal(err)
				}
				if got != v.str {
					t.Errorf("string\n got %s\nwant %s", got, v.str)
				}
			}
			if v.sig == "" {
				return
			}
			got, err := Sign([]byte(v.key), []byte(v.input))
			if err != nil {
				t.Fatal(err)
			}
			if got != v.sig {
				t.Errorf("signature\n got %s\nwant %s", got, v.sig)
			}
			signed, err := AppendSigned([]byte(v.key), []byte(v.input))
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify([]byte(v.key), signed); err != nil {
				t.Errorf("Verify(signed) = %v", err)
			}
			if err := Verify([]byte(v.key+"x"), signed); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify with another key = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestSignatureString(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"root signature dropped", `{"a":1,"signature":"x"}`, `a:1`},
		{"general.signature dropped", `{"general":{"project_id":1,"signature":"x"},"b":2}`, `b:2;general:project_id:1`},
		{"nested signature kept", `{"payment":{"signature":"x"}}`, `payment:signature:x`},
		{"frame_mode dropped at any depth", `{"a":{"frame_mode":{"x":1},"b":1}}`, `a:b:1`},
		{"colon in key escaped", `{"a:b":1}`, `a::b:1`},
		{"empty containers produce nothing", `{"a":[],"b":{},"c":1}`, `c:1`},
		{"17-digit id keeps its digits", `{"operation_id":12345678901234567}`, `operation_id:12345678901234567`},
		{"number literal kept as written", `{"x":1.50,"y":-0,"z":1e3}`, `x:1.50;y:-0;z:1e3`},
		{"escapes decoded", `{"m":"a\"b\\c\u0416"}`, "m:a\"b\\cЖ"},
		{"arrays of 11 sort by text", `{"p":[0,1,2,3,4,5,6,7,8,9,10]}`, `p:0:0;p:1:1;p:10:10;p:2:2;p:3:3;p:4:4;p:5:5;p:6:6;p:7:7;p:8:8;p:9:9`},
		{"sort by path not by item", `{"a":"z","a::b":1}`, `a:z;a::::b:1`},
		{"empty object", `{}`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SignatureString([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestSignatureRejectsBadInput(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `"x"`, `{"a":1}{}`, `{"a":1,"a":2}`, `{"a":}`, `{"signature":5}`,
		// The seeds' callback examples are not all valid JSON:
		`{"provider":{"id": xxxx}}`, `{"customer": {"id": "john_id" "operation": {}}}`,
		"{\"a\":\"\xff\"}",
	} {
		if _, err := SignatureString([]byte(in)); err == nil {
			t.Errorf("SignatureString(%q) succeeded, want an error", in)
		}
	}
	if err := Verify([]byte("k"), []byte(`{"a":1}`)); !errors.Is(err, ErrUnsigned) {
		t.Errorf("Verify(unsigned) = %v, want ErrUnsigned", err)
	}
	if err := Verify([]byte("k"), []byte(`{"a":1,"signature":"not base64!"}`)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(garbage) = %v, want ErrBadSignature", err)
	}
}

func TestTamperedDocumentFailsVerify(t *testing.T) {
	signed, err := AppendSigned([]byte("k"), []byte(`{"operations":[{"operation_id":12345678901234567,"sum_initial":{"amount":100000,"currency":"UAH"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(signed), "100000", "100001", 1)
	if err := Verify([]byte("k"), []byte(tampered)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(tampered) = %v, want ErrBadSignature", err)
	}
	// A float64 round trip would turn the id into ...568; the signature must see it.
	rounded := strings.Replace(string(signed), "12345678901234567", "12345678901234568", 1)
	if err := Verify([]byte("k"), []byte(rounded)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(rounded id) = %v, want ErrBadSignature", err)
	}
}

// A response whose long array was signed in document order (0, 1, 2, …,
// 10, 11) rather than path order (0, 1, 10, 11, 2, …) is accepted too; a
// wrong signature is still refused in both orders.
func TestVerifyAcceptsEitherOrderOfLongArrays(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"operations":[`)
	for i := 0; i < 12; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"operation_id":%d,"x":"v%d"}`, i+1, i)
	}
	b.WriteString(`]}`)
	doc := []byte(b.String())
	key := []byte("k")

	inOrder := getFlat()
	inOrder.arraysInOrder = true
	if err := inOrder.flatten(doc); err != nil {
		t.Fatal(err)
	}
	var s strings.Builder
	inOrder.writeString(&s)
	if !strings.HasPrefix(s.String(), "operations:0:operation_id:1;operations:0:x:v0;operations:1:") || !strings.Contains(s.String(), "operations:9:x:v9;operations:10:") {
		t.Fatalf("document order string: %s", s.String())
	}
	signedInOrder, _ := appendMember(doc, "signature", base64.StdEncoding.EncodeToString(inOrder.mac(key)))
	putFlat(inOrder)

	for name, d := range map[string][]byte{"path order": mustSign(t, key, doc), "document order": signedInOrder} {
		f := getFlat()
		if err := f.flatten(d); err != nil {
			t.Fatal(err)
		}
		if err := verifyAnyArrayOrder(f, d, key); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := verifyAnyArrayOrder(f, d, []byte("other")); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s with another key: %v", name, err)
		}
		putFlat(f)
	}
}

func mustSign(t *testing.T, key, doc []byte) []byte {
	t.Helper()
	out, err := AppendSigned(key, doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
