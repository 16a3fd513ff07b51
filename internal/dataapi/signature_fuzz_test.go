package dataapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// FuzzSignature signs and verifies arbitrary JSON objects: no input may
// panic, a signed document must verify, a changed signature must not, and the
// signed string must equal the one a plain encoding/json implementation of
// the algorithm builds.
func FuzzSignature(f *testing.F) {
	for _, v := range vectors {
		f.Add([]byte(v.input))
	}
	f.Add([]byte(`{"operations":[{"operation_id":12345678901234567,"sum_initial":{"amount":"100000","currency":"UAH"},"operation_completed_at":null}]}`))
	f.Add([]byte(`{"general":{"signature":"x","a:b":[[],{},[1,[2,{"frame_mode":3}]]]}}`))
	f.Add([]byte(`{"a-":1,"a":{"0":1,"z":2},"a::b":true}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		want, err := SignatureString(doc)
		if err != nil {
			return // not a JSON object we sign; it must only not panic
		}
		ref, err := referenceString(doc)
		if err != nil {
			t.Fatalf("encoding/json rejects what we accept: %v\n%q", err, doc)
		}
		if ref != want && ref != ambiguous {
			t.Fatalf("signed string differs from reference\n got %q\nwant %q\n doc %q", want, ref, doc)
		}
		var probe map[string]json.RawMessage
		if json.Unmarshal(doc, &probe) == nil {
			if _, has := probe["signature"]; has {
				return // AppendSigned is for unsigned documents
			}
		}
		key := []byte("fuzz-secret")
		signed, err := AppendSigned(key, doc)
		if err != nil {
			t.Fatalf("AppendSigned: %v", err)
		}
		if err := Verify(key, signed); err != nil {
			t.Fatalf("Verify(AppendSigned(doc)) = %v\n%q", err, signed)
		}
		if err := Verify([]byte("other"), signed); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify with another key = %v", err)
		}
	})
}

const ambiguous = "\x00ambiguous"

// referenceString is a deliberately naive implementation of the signature
// string on top of encoding/json, used to cross-check the tokenizer.
func referenceString(doc []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return "", err
	}
	type kv struct{ path, value string }
	var items []kv
	var walk func(path string, v any, depth int, inGeneral bool)
	walk = func(path string, v any, depth int, inGeneral bool) {
		join := func(k string) string {
			if path == "" {
				return k
			}
			return path + ":" + k
		}
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if k == "frame_mode" || k == "signature" && (depth == 0 || inGeneral) {
					continue
				}
				walk(join(strings.ReplaceAll(k, ":", "::")), c, depth+1, depth == 0 && k == "general")
			}
		case []any:
			for i, c := range v {
				walk(join(fmt.Sprint(i)), c, depth+1, false)
			}
		case string:
			items = append(items, kv{path, v})
		case json.Number:
			items = append(items, kv{path, string(v)})
		case bool:
			items = append(items, kv{path, map[bool]string{true: "1", false: "0"}[v]})
		case nil:
			items = append(items, kv{path, ""})
		}
	}
	walk("", root, 0, false)
	sort.Slice(items, func(i, j int) bool { return items[i].path < items[j].path })
	for i := 1; i < len(items); i++ {
		// Empty keys can give two items one path ({"A":1,"":{"A":2}}: the
		// SDKs join "" and "A" as "A"); their order is then undefined.
		if items[i].path == items[i-1].path {
			return ambiguous, nil
		}
	}
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.path + ":" + it.value
	}
	return strings.Join(parts, ";"), nil
}
