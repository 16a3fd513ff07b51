package dataapi

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
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
// (docs/data-api.md, "Signature"):
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
// Verification accepts more than signing makes. ECommPay's official SDKs
// (PHP, Python, JS, Go, Java) decode the JSON into native numbers before
// they build the string, so a number with a fraction or an exponent is
// signed as the SDK's language prints the float64, not as written: 1.10 as
// "1.1", 1e3 as "1000" (JS, PHP, Go) or "1000.0" (Python, Java). verify
// tries the literal text first and then, for a document that has such a
// number, every number of it formatted as JS, as Python and as Java print
// them (one signer signed the whole document, so one format for all its
// numbers). Integer literals are never re-formatted, in any variant: an
// operation id of 17 digits does not survive a float64, and accepting its
// rounded form would leave its last digits unsigned. Sign, AppendSigned and
// SignatureString keep the literal text.
//
// The flattener below walks the JSON once with a tokenizer and writes every
// "path:value" item into one arena; the response decoder (wire.go) reads the
// same items in document order, so a page is parsed once for both the
// signature and the operations.

// item is one "path:value" entry in a flatDoc's arena.
type item struct {
	start, pathEnd, end int32 // arena[start:pathEnd] is the path, arena[start:end] the item
	// kind is the JSON value's first byte: '"' a string, 't' or 'f' a
	// boolean, 'n' null, anything else a number. The signed text of true
	// is "1": the decoder must not read it as a number.
	kind byte
}

// flatDoc is a flattened JSON object.
//
// The items are kept twice: in document order (items), which the response
// decoder reads, and in signing order (sorted). Sorting 24,000 paths of a
// page that share long prefixes ("operations:517:…") was a third of a sync's
// CPU, so sorted is built as the walk goes: when a container closes, its
// children are ordered by their keys and their blocks of items moved into
// place. That is the same order as sorting whole paths, because a child's
// items all start with its key, except when a key holds an escaped ':'
// (then one child's items may interleave with a sibling's): a document with
// such a key, or an empty key at the root, gets a plain sort of the whole
// path instead (globalSort).
type flatDoc struct {
	arena      []byte
	items      []item // document order
	sorted     []item // signing order
	globalSort bool
	kids       []kid  // children of the open containers, a stack
	keys       []byte // their keys
	tmp        []item
	tmpBytes   []byte
	shape      []byte
	orders     map[string][]int32 // container shape → order of its kids
	// arraysInOrder keeps array elements in document order (0, 1, 2, …,
	// 10) instead of path order (0, 1, 10, 2, …): the other order some
	// SDKs use for arrays of 11 or more. See verify.
	arraysInOrder bool
	longArray     bool // an array of 11 or more elements was read
	path          []byte
	signature     []byte   // the dropped signature's value, if any
	signed        bool     // a signature key was present
	rootKeys      [][]byte // root keys seen, in document order (signature excluded)
	dec           jsontext.Decoder
	// nums are the items whose value is a number literal with a '.', 'e'
	// or 'E', in document order (so by start): the numbers an SDK may
	// have signed in another format. Empty for the usual page, whose
	// numbers are all integers.
	nums     []item
	variants [1 + len(numFormats)]numVariant // the literal, then numFormats'
}

var flatPool = sync.Pool{New: func() any { return new(flatDoc) }}

// kid is one child of a container while the container is read: its key
// (keys[keyStart:keyEnd], escaped), whether it is a container with items,
// and its items, sorted[lo:hi].
type kid struct {
	keyStart, keyEnd int32
	lo, hi           int32
	container        bool
}

func getFlat() *flatDoc { return flatPool.Get().(*flatDoc) }

func putFlat(f *flatDoc) {
	if cap(f.arena) > 64<<20 { // do not pin huge buffers
		return
	}
	f.arraysInOrder = false
	f.dec.Reset(bytes.NewBuffer(nil))
	flatPool.Put(f)
}

// flatten parses doc, which must be one JSON object, into f.
func (f *flatDoc) flatten(doc []byte) error {
	// A page of operations flattens to about twice its size in paths and
	// values, one item per 25 bytes: grow once instead of doubling.
	f.arena = slices.Grow(f.arena[:0], 2*len(doc))
	f.items = slices.Grow(f.items[:0], len(doc)/25)
	f.sorted = slices.Grow(f.sorted[:0], len(doc)/25)
	f.path = f.path[:0]
	f.kids, f.keys, f.globalSort, f.longArray = f.kids[:0], f.keys[:0], false, false
	f.nums = f.nums[:0]
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
	if f.globalSort {
		slices.SortFunc(f.sorted, func(a, b item) int {
			return bytes.Compare(f.arena[a.start:a.pathEnd], f.arena[b.start:b.pathEnd])
		})
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
	kidBase := len(f.kids)
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
			f.globalSort = true
		}
		if len(f.path) == 0 {
			// An empty key at the root: the SDKs join its children
			// without a ':' ("" and "x" give "x"), so its items do not
			// start with its key.
			f.globalSort = true
		}
		if err := f.child(f.path[keyStart:], depth, depth == 0 && string(key) == "general"); err != nil {
			return err
		}
	}
	f.path = f.path[:base]
	f.closeContainer(kidBase)
	_, err := f.dec.ReadToken() // '}'
	return err
}

// child reads one member or element whose escaped key is key, noting it
// as a kid of the open container.
func (f *flatDoc) child(key []byte, depth int, inGeneral bool) error {
	k := kid{keyStart: int32(len(f.keys)), lo: int32(len(f.sorted))}
	f.keys = append(f.keys, key...)
	k.keyEnd = int32(len(f.keys))
	kind := f.dec.PeekKind()
	if err := f.value(depth+1, inGeneral); err != nil {
		return err
	}
	k.hi = int32(len(f.sorted))
	k.container = (kind == '{' || kind == '[') && k.hi > k.lo
	f.kids = append(f.kids, k)
	return nil
}

// closeContainer orders the items of the container whose kids start at
// kidBase by key, and pops the kids.
func (f *flatDoc) closeContainer(kidBase int) {
	kids := f.kids[kidBase:]
	if !f.globalSort && len(kids) > 1 {
		cmpKids := func(a, b kid) int {
			ka, kb := f.keys[a.keyStart:a.keyEnd], f.keys[b.keyStart:b.keyEnd]
			n := min(len(ka), len(kb))
			if c := bytes.Compare(ka[:n], kb[:n]); c != 0 {
				return c
			}
			// One key is a prefix of the other. The path of a container
			// goes on with ':', that of a scalar ends.
			switch {
			case len(ka) < len(kb) && a.container:
				return cmp.Compare(':', kb[n])
			case len(ka) < len(kb):
				return -1
			case len(kb) < len(ka) && b.container:
				return cmp.Compare(ka[n], ':')
			default:
				return 1
			}
		}
		// Most containers repeat a shape (every operation record has the
		// same keys; every full page has elements 0..999): their order
		// is remembered by shape.
		f.shape = f.shape[:0]
		for _, k := range kids {
			f.shape = binary.AppendUvarint(f.shape, uint64(k.keyEnd-k.keyStart))
			f.shape = append(f.shape, f.keys[k.keyStart:k.keyEnd]...)
			if k.container {
				f.shape = append(f.shape, 1)
			} else {
				f.shape = append(f.shape, 0)
			}
		}
		order, ok := f.orders[string(f.shape)]
		if !ok {
			order = make([]int32, len(kids))
			for i := range order {
				order[i] = int32(i)
			}
			slices.SortFunc(order, func(a, b int32) int { return cmpKids(kids[a], kids[b]) })
			if f.orders == nil || len(f.orders) > 256 {
				f.orders = map[string][]int32{}
			}
			f.orders[string(f.shape)] = order
		}
		if !isIdentity(order) {
			lo, hi := kids[0].lo, kids[len(kids)-1].hi
			f.tmp = append(f.tmp[:0], f.sorted[lo:hi]...)
			pos := lo
			for _, i := range order {
				k := kids[i]
				pos += int32(copy(f.sorted[pos:], f.tmp[k.lo-lo:k.hi-lo]))
			}
		}
	}
	if len(kids) > 0 {
		f.keys = f.keys[:kids[0].keyStart]
	}
	f.kids = f.kids[:kidBase]
}

func (f *flatDoc) array(depth int) error {
	base := len(f.path)
	kidBase := len(f.kids)
	for i := 0; f.dec.PeekKind() != ']'; i++ {
		f.path = f.path[:base]
		if base > 0 {
			f.path = append(f.path, ':')
		}
		keyStart := len(f.path)
		f.path = appendInt(f.path, i)
		if err := f.child(f.path[keyStart:], depth, false); err != nil {
			return err
		}
	}
	f.path = f.path[:base]
	if len(f.kids)-kidBase > MaxSignedArray {
		f.longArray = true
	}
	if f.arraysInOrder {
		f.keys = f.keys[:f.keysStart(kidBase)]
		f.kids = f.kids[:kidBase]
	} else {
		f.closeContainer(kidBase)
	}
	_, err := f.dec.ReadToken() // ']'
	return err
}

// keysStart is where the keys of the kids from kidBase begin.
func (f *flatDoc) keysStart(kidBase int) int32 {
	if kidBase < len(f.kids) {
		return f.kids[kidBase].keyStart
	}
	return int32(len(f.keys))
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
	reformattable := false
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
		reformattable = !isIntegerLiteral(v)
	}
	if len(f.arena) > 1<<31-1 {
		return errors.New("document too large")
	}
	it := item{start, pathEnd, int32(len(f.arena)), v[0]}
	f.items = append(f.items, it)
	f.sorted = append(f.sorted, it)
	if reformattable {
		f.nums = append(f.nums, it)
	}
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

func isIdentity(order []int32) bool {
	for i, v := range order {
		if int(v) != i {
			return false
		}
	}
	return true
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

// writeString writes the string to be signed to w, in chunks of about
// 32 KiB (many tiny writes into HMAC-SHA512 cost more than the hashing).
func (f *flatDoc) writeString(w io.Writer) { f.writeVariant(w, nil) }

// writeVariant is writeString with the values of f.nums taken from v (nil:
// the literal text, the usual case, with no search per item).
func (f *flatDoc) writeVariant(w io.Writer, v *numVariant) {
	buf := f.tmpBytes[:0]
	for i, it := range f.sorted {
		if i > 0 {
			buf = append(buf, ';')
		}
		n, ok := -1, false
		if v != nil {
			n, ok = slices.BinarySearchFunc(f.nums, it.start, byStart)
		}
		if ok {
			buf = append(buf, f.arena[it.start:it.pathEnd+1]...)
			buf = append(buf, v.value(n)...)
		} else {
			buf = append(buf, f.arena[it.start:it.end]...)
		}
		if len(buf) >= 32<<10 {
			w.Write(buf)
			buf = buf[:0]
		}
	}
	w.Write(buf)
	f.tmpBytes = buf[:0]
}

func (f *flatDoc) mac(secret []byte) []byte {
	h := hmac.New(sha512.New, secret)
	f.writeString(h)
	return h.Sum(nil)
}

// macVariant is mac with the numbers of f.nums as in v.
func (f *flatDoc) macVariant(secret []byte, v *numVariant) []byte {
	h := hmac.New(sha512.New, secret)
	f.writeVariant(h, v)
	return h.Sum(nil)
}

// verifyAnyArrayOrder is verify, and for a document with an array of 11
// or more elements, a second try with arrays in document order. The
// official SDKs disagree on that order (docs/data-api.md, "Signature");
// responses carry up to 1000 operations in one array, and which order
// ECommPay's server uses is not documented. Either order is a valid HMAC of the same data, so
// accepting both does not weaken the check. Each try is verify's, with its
// number formats: at most 2 × (1 + len(numFormats)) HMACs, and as today 1
// or 2 for a document whose numbers are all integers.
func verifyAnyArrayOrder(f *flatDoc, doc, secret []byte) error {
	err := f.verify(secret)
	if !errors.Is(err, ErrBadSignature) || !f.longArray || f.globalSort {
		return err
	}
	g := getFlat()
	defer putFlat(g)
	g.arraysInOrder = true
	if g.flatten(doc) != nil || g.verify(secret) != nil {
		return err
	}
	return nil
}

// verify checks the captured signature against the document: with the
// numbers as written, then, if it has numbers with a fraction or an
// exponent, with them as each of numFormats prints them. A format that
// gives the same string as one tried before is skipped.
func (f *flatDoc) verify(secret []byte) error {
	if !f.signed || len(f.signature) == 0 {
		return ErrUnsigned
	}
	got := make([]byte, base64.StdEncoding.DecodedLen(len(f.signature)))
	n, err := base64.StdEncoding.Decode(got, f.signature)
	if err != nil {
		return ErrBadSignature
	}
	got = got[:n]
	if hmac.Equal(got, f.mac(secret)) {
		return nil
	}
	if len(f.nums) == 0 {
		return ErrBadSignature
	}
	f.buildVariants()
	for i := range numFormats {
		v := &f.variants[1+i]
		if !v.same && hmac.Equal(got, f.macVariant(secret, v)) {
			return nil
		}
	}
	return ErrBadSignature
}

// buildVariants fills f.variants for f.nums: the literal text, then each of
// numFormats, marking those that give the string of an earlier one.
func (f *flatDoc) buildVariants() {
	f.variants[0].build(f, nil)
	for i, format := range numFormats {
		v := &f.variants[1+i]
		v.build(f, format)
		v.same = false
		for _, earlier := range f.variants[:1+i] {
			// Values never hold ';', so equal buffers mean equal values,
			// so equal strings; and different values, different strings
			// (a value that is a prefix of another is followed by ';').
			if bytes.Equal(v.vals, earlier.vals) {
				v.same = true
				break
			}
		}
	}
}

// numVariant holds the values of a flatDoc's nums as one signer wrote them.
type numVariant struct {
	vals   []byte  // each value followed by ';'
	starts []int32 // where each value starts in vals
	same   bool    // the string is that of an earlier variant: not tried
}

// build fills v with the numbers of f.nums formatted by format, or as
// written if format is nil. A number that does not parse as a float64
// (out of range: the SDKs would print an infinity) keeps its literal text.
func (v *numVariant) build(f *flatDoc, format func([]byte, float64) []byte) {
	v.vals, v.starts = v.vals[:0], v.starts[:0]
	for _, it := range f.nums {
		v.starts = append(v.starts, int32(len(v.vals)))
		lit := f.valueOf(it)
		x, err := strconv.ParseFloat(string(lit), 64)
		if format == nil || err != nil {
			v.vals = append(v.vals, lit...)
		} else {
			v.vals = format(v.vals, x)
		}
		v.vals = append(v.vals, ';')
	}
}

// value is the value of the n-th of the flatDoc's nums.
func (v *numVariant) value(n int) []byte {
	end := len(v.vals)
	if n+1 < len(v.starts) {
		end = int(v.starts[n+1])
	}
	return v.vals[v.starts[n] : end-1]
}

func byStart(it item, start int32) int { return cmp.Compare(it.start, start) }

// isIntegerLiteral reports whether a JSON number has neither a fraction nor
// an exponent. Such a number is only ever verified as written, on purpose:
// Python decodes it exactly, PHP as an int64, but a signer that reads it
// as a float64 (JS's JSON.parse) signs a 17-digit operation id with its
// last digits changed (10000000000000001 as 10000000000000000), and
// accepting that would leave those digits unsigned.
func isIntegerLiteral(num []byte) bool {
	for _, c := range num {
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
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
