package dataapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// Signature errors.
var (
	// ErrUnsigned means a document that must carry a signature has none.
	ErrUnsigned = errors.New("no signature")
	// ErrBadSignature means the signature does not match the document: the
	// secret differs, or the document was changed on the way.
	ErrBadSignature = errors.New("signature does not match")
)

// The signature algorithm, shared by Gate, callbacks and the Data API
// (docs/DATA_API.md in the shared folder, "Signature"):
//
//  1. drop "signature" at the root and in "general", and "frame_mode" at any
//     depth;
//  2. flatten every scalar to "path:value", the path being the keys joined
//     with ':', array items keyed by their index, ':' in a key written "::";
//     empty arrays and objects produce nothing;
//  3. true is "1", false "0", null empty, numbers their literal text;
//  4. sort by path (byte order) and join with ';';
//  5. base64(HMAC-SHA512(secret, string)).
//
// The flattener below walks the JSON once with a tokenizer and writes every
// "path:value" item into one arena; the response decoder (wire.go) reads the
// same items in document order, so a page is parsed once for both the
// signature and the operations.

// item is one "path:value" entry in a flatDoc's arena.
type item struct {
	start, pathEnd, end int32 // arena[start:pathEnd] is the path, arena[start:end] the item
}

// flatDoc is a flattened JSON object.
type flatDoc struct {
	arena     []byte
	items     []item // document order
	sorted    []item
	path      []byte
	signature []byte   // the dropped signature's value, if any
	signed    bool     // a signature key was present
	rootKeys  [][]byte // root keys seen, in document order (signature excluded)
	dec       jsontext.Decoder
}

var flatPool = sync.Pool{New: func() any { return new(flatDoc) }}

func getFlat() *flatDoc { return flatPool.Get().(*flatDoc) }

func putFlat(f *flatDoc) {
	if cap(f.arena) > 64<<20 { // do not pin huge buffers
		return
	}
	f.dec.Reset(bytes.NewBuffer(nil))
	flatPool.Put(f)
}

// flatten parses doc, which must be one JSON object, into f.
func (f *flatDoc) flatten(doc []byte) error {
	f.arena, f.items, f.path = f.arena[:0], f.items[:0], f.path[:0]
	f.signature, f.signed, f.rootKeys = f.signature[:0], false, f.rootKeys[:0]
	f.dec.Reset(bytes.NewBuffer(doc))
	tok, err := f.dec.ReadToken()
	if err != nil {
		return fmt.Errorf("parse JSON: %w", err)
	}
	if tok.Kind() != '{' {
		return fmt.Errorf("parse JSON: want an object, got %v", tok.Kind())
	}
	if err := f.object(0, false); err != nil {
		return fmt.Errorf("parse JSON: %w", err)
	}
	if _, err := f.dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the top-level object")
		}
		return fmt.Errorf("parse JSON: %w", err)
	}
	return nil
}

// object reads the members of an object whose '{' has been consumed.
func (f *flatDoc) object(depth int, inGeneral bool) error {
	base := len(f.path)
	for f.dec.PeekKind() != '}' {
		name, err := f.dec.ReadValue()
		if err != nil {
			return err
		}
		f.path = f.path[:base]
		if base > 0 {
			f.path = append(f.path, ':')
		}
		keyStart := len(f.path)
		f.path, err = jsontext.AppendUnquote(f.path, name)
		if err != nil {
			return err
		}
		key := f.path[keyStart:]
		switch {
		case string(key) == "frame_mode":
			if err := f.dec.SkipValue(); err != nil {
				return err
			}
			continue
		case string(key) == "signature" && (depth == 0 || inGeneral):
			if err := f.captureSignature(); err != nil {
				return err
			}
			continue
		}
		if depth == 0 {
			f.rootKeys = append(f.rootKeys, bytes.Clone(key))
		}
		if bytes.IndexByte(key, ':') >= 0 {
			escaped := bytes.ReplaceAll(key, []byte(":"), []byte("::"))
			f.path = append(f.path[:keyStart], escaped...)
		}
		if err := f.value(depth+1, depth == 0 && string(key) == "general"); err != nil {
			return err
		}
	}
	f.path = f.path[:base]
	_, err := f.dec.ReadToken() // '}'
	return err
}

func (f *flatDoc) array(depth int) error {
	base := len(f.path)
	for i := 0; f.dec.PeekKind() != ']'; i++ {
		f.path = f.path[:base]
		if base > 0 {
			f.path = append(f.path, ':')
		}
		f.path = appendInt(f.path, i)
		if err := f.value(depth+1, false); err != nil {
			return err
		}
	}
	f.path = f.path[:base]
	_, err := f.dec.ReadToken() // ']'
	return err
}

func (f *flatDoc) value(depth int, inGeneral bool) error {
	if depth > 64 {
		return errors.New("nested deeper than 64 levels")
	}
	switch f.dec.PeekKind() {
	case '{':
		if _, err := f.dec.ReadToken(); err != nil {
			return err
		}
		return f.object(depth, inGeneral)
	case '[':
		if _, err := f.dec.ReadToken(); err != nil {
			return err
		}
		return f.array(depth)
	}
	v, err := f.dec.ReadValue()
	if err != nil {
		return err
	}
	start := int32(len(f.arena))
	f.arena = append(f.arena, f.path...)
	pathEnd := int32(len(f.arena))
	f.arena = append(f.arena, ':')
	switch v[0] {
	case '"':
		if f.arena, err = jsontext.AppendUnquote(f.arena, v); err != nil {
			return err
		}
	case 't':
		f.arena = append(f.arena, '1')
	case 'f':
		f.arena = append(f.arena, '0')
	case 'n':
	default: // a number: its literal text, never through float64
		f.arena = append(f.arena, v...)
	}
	if len(f.arena) > 1<<31-1 {
		return errors.New("document too large")
	}
	f.items = append(f.items, item{start, pathEnd, int32(len(f.arena))})
	return nil
}

func (f *flatDoc) captureSignature() error {
	v, err := f.dec.ReadValue()
	if err != nil {
		return err
	}
	if v.Kind() != '"' {
		return fmt.Errorf("signature is a %v, not a string", v.Kind())
	}
	f.signed = true
	f.signature, err = jsontext.AppendUnquote(f.signature[:0], v)
	return err
}

func appendInt(b []byte, i int) []byte {
	if i < 10 {
		return append(b, byte('0'+i))
	}
	var d [20]byte
	n := len(d)
	for i > 0 {
		n--
		d[n] = byte('0' + i%10)
		i /= 10
	}
	return append(b, d[n:]...)
}

func (f *flatDoc) pathOf(it item) []byte  { return f.arena[it.start:it.pathEnd] }
func (f *flatDoc) valueOf(it item) []byte { return f.arena[it.pathEnd+1 : it.end] }

func (f *flatDoc) hasRootKey(k string) bool {
	for _, rk := range f.rootKeys {
		if string(rk) == k {
			return true
		}
	}
	return false
}

// writeString writes the string to be signed to w.
func (f *flatDoc) writeString(w io.Writer) {
	f.sorted = append(f.sorted[:0], f.items...)
	slices.SortFunc(f.sorted, func(a, b item) int {
		return bytes.Compare(f.arena[a.start:a.pathEnd], f.arena[b.start:b.pathEnd])
	})
	for i, it := range f.sorted {
		if i > 0 {
			w.Write([]byte{';'})
		}
		w.Write(f.arena[it.start:it.end])
	}
}

func (f *flatDoc) mac(secret []byte) []byte {
	h := hmac.New(sha512.New, secret)
	f.writeString(h)
	return h.Sum(nil)
}

// verify checks the captured signature against the document.
func (f *flatDoc) verify(secret []byte) error {
	if !f.signed || len(f.signature) == 0 {
		return ErrUnsigned
	}
	want := f.mac(secret)
	got := make([]byte, base64.StdEncoding.DecodedLen(len(f.signature)))
	n, err := base64.StdEncoding.Decode(got, f.signature)
	if err != nil || !hmac.Equal(got[:n], want) {
		return ErrBadSignature
	}
	return nil
}

// SignatureString returns the string that is signed for doc (step 4 above).
// It is exported for tests and for debugging a signature mismatch; it holds
// the document's values, so do not log it.
func SignatureString(doc []byte) (string, error) {
	f := getFlat()
	defer putFlat(f)
	if err := f.flatten(doc); err != nil {
		return "", err
	}
	var b bytes.Buffer
	f.writeString(&b)
	return b.String(), nil
}

// Sign returns the signature of doc, a JSON object, with secret. An existing
// signature in doc is ignored.
func Sign(secret, doc []byte) (string, error) {
	f := getFlat()
	defer putFlat(f)
	if err := f.flatten(doc); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(f.mac(secret)), nil
}

// Verify checks doc's own "signature" (or "general.signature") against the
// rest of doc. It returns ErrUnsigned or ErrBadSignature (possibly wrapped
// with a parse error) when the document cannot be trusted.
func Verify(secret, doc []byte) error {
	f := getFlat()
	defer putFlat(f)
	if err := f.flatten(doc); err != nil {
		return err
	}
	return f.verify(secret)
}

// AppendSigned returns doc, a JSON object without a root "signature", with
// "signature" added as its last member.
func AppendSigned(secret, doc []byte) ([]byte, error) {
	sig, err := Sign(secret, doc)
	if err != nil {
		return nil, err
	}
	return appendMember(doc, "signature", sig)
}

// appendMember adds "name":"value" before the closing brace of a compact or
// indented JSON object.
func appendMember(doc []byte, name, value string) ([]byte, error) {
	end := bytes.LastIndexByte(doc, '}')
	if end < 0 {
		return nil, errors.New("not a JSON object")
	}
	body := bytes.TrimRight(doc[:end], " \t\r\n")
	out := make([]byte, 0, len(doc)+len(name)+len(value)+8)
	out = append(out, body...)
	if !bytes.HasSuffix(body, []byte("{")) {
		out = append(out, ',')
	}
	out, _ = jsontext.AppendQuote(out, name)
	out = append(out, ':')
	out, _ = jsontext.AppendQuote(out, value)
	out = append(out, '}')
	return out, nil
}
