package web

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"reconciled/internal/domain"
	"reconciled/internal/export"
)

// index is the open exceptions of one stored result, compact: one entry
// of fixed size per item, its words as small numbers into tables, its
// strings in one block, and the two sort orders beside the engine's. A
// filtered page is one pass over an order that counts the matches and
// keeps the page's window; nothing is read from the database.
type index struct {
	key     string    // the stored result it was built from (resultKey)
	of      time.Time // that result's time
	built   time.Time
	entries []entry // in the engine's order
	ids     string  // the payment ids, end to end, in the entries' order
	block   string  // the other strings
	// words: codes, methods, currencies, types, matched-by, projects.
	codes, methods, currencies, types, matchedBy []string
	projects                                     []int64
	// The two orders, each an array of what the filters read (hot), so
	// that a page is a sequential pass: a permutation of positions into
	// entries made every step a cache miss (230 ms a pass at a million).
	byAge, byAmount []hot
}

// hot is what a filter reads of one entry, and where the entry is.
type hot struct {
	created, amount int64
	at              uint32 // the position in entries
	method, project uint16
	code, cur       uint8
	mCur, pCur      uint8
}

// entry is one open exception. Strings are (offset, length) into the
// block: payment id, reason, provider payment id.
type entry struct {
	created       int64 // unix nanoseconds; math.MinInt64 for none
	amount        int64 // domain.Item.Amount, minor units of cur
	mAmount       int64 // the merchant's, minor units of mCur
	pAmount       int64 // ECommPay's, minor units of pCur
	operationID   uint64
	id, reason    span
	provider      span
	project       uint16
	method        uint16
	code, typ     uint8
	cur, mCur     uint8 // 0: none (currencies[0] is "")
	pCur, matched uint8
	hasM, hasP    bool
}

type span struct{ off, n uint32 }

func (ix *index) str(s span) string { return ix.block[s.off : s.off+s.n] }

// interner numbers the distinct words of one column.
type interner struct {
	m     map[string]int
	words []string
}

func newInterner() *interner { return &interner{m: map[string]int{"": 0}, words: []string{""}} }

func (in *interner) id(s string) int {
	if n, ok := in.m[s]; ok {
		return n
	}
	n := len(in.words)
	s = strings.Clone(s)
	in.m[s] = n
	in.words = append(in.words, s)
	return n
}

// builder makes an index from a stream of items.
type builder struct {
	ix                                    index
	block, ids                            []byte
	methods, currencies, types, matchedBy *interner
	codeOf                                map[string]uint8
	projectOf                             map[int64]uint16
}

// exceptionCodes are the result codes an open exception can have, in
// the summaries' order: the known codes domain.IsException holds.
func exceptionCodes() []string {
	var out []string
	for _, c := range domain.Results {
		if domain.IsException(c) {
			out = append(out, c)
		}
	}
	return out
}

func newBuilder(key string) *builder {
	b := &builder{methods: newInterner(), currencies: newInterner(), types: newInterner(), matchedBy: newInterner(),
		codeOf: map[string]uint8{}, projectOf: map[int64]uint16{}}
	b.ix.key = key
	b.ix.codes = exceptionCodes()
	for i, c := range b.ix.codes {
		b.codeOf[c] = uint8(i)
	}
	return b
}

// small bounds the words of a column that fit a byte (or two): past it
// the word is kept as "" (shown as none, filtered as none), which real
// data (a dozen methods, a few currencies) never reaches.
func small(n, limit int) int {
	if n >= limit {
		return 0
	}
	return n
}

func (b *builder) str(s string) span {
	sp := span{uint32(len(b.block)), uint32(len(s))}
	b.block = append(b.block, s...)
	return sp
}

// add takes it into the index if it is an open exception.
func (b *builder) add(it *domain.Item) {
	code, ok := b.codeOf[it.Result]
	if !ok {
		return
	}
	e := entry{code: code, created: math.MinInt64, operationID: it.OperationID}
	if !it.CreatedAt.IsZero() {
		e.created = it.CreatedAt.UnixNano()
	}
	am := it.Amount()
	e.amount = am.Amount
	e.cur = uint8(small(b.currencies.id(am.Currency), 256))
	if m := it.Merchant; m != nil {
		e.hasM, e.mAmount = true, m.Amount.Amount
		e.mCur = uint8(small(b.currencies.id(m.Amount.Currency), 256))
	}
	if p := it.Provider; p != nil {
		e.hasP, e.pAmount = true, p.SumInitial.Amount
		e.pCur = uint8(small(b.currencies.id(p.SumInitial.Currency), 256))
	}
	e.method = uint16(small(b.methods.id(it.Method), 1<<16))
	e.typ = uint8(small(b.types.id(it.Type), 256))
	e.matched = uint8(small(b.matchedBy.id(it.MatchedBy), 256))
	p, ok := b.projectOf[it.ProjectID]
	if !ok && len(b.projectOf) < 1<<16 {
		p = uint16(len(b.ix.projects))
		b.projectOf[it.ProjectID] = p
		b.ix.projects = append(b.ix.projects, it.ProjectID)
	}
	e.project = p
	e.id = span{uint32(len(b.ids)), uint32(len(it.PaymentID))}
	b.ids = append(b.ids, it.PaymentID...)
	e.reason, e.provider = b.str(it.Reason), b.str(it.ProviderPaymentID)
	b.ix.entries = append(b.ix.entries, e)
}

// done finishes the index: the block as one string, the sort orders.
func (b *builder) done(now time.Time) *index {
	ix := &b.ix
	ix.block, ix.ids = string(b.block), string(b.ids)
	b.block, b.ids = nil, nil
	ix.methods, ix.currencies, ix.types, ix.matchedBy = b.methods.words, b.currencies.words, b.types.words, b.matchedBy.words
	ix.entries = slices.Clip(ix.entries)
	n := len(ix.entries)
	ix.byAge = make([]hot, n)
	for i := range ix.entries {
		e := &ix.entries[i]
		ix.byAge[i] = hot{created: e.created, amount: e.amount, at: uint32(i), method: e.method, project: e.project,
			code: e.code, cur: e.cur, mCur: e.mCur, pCur: e.pCur}
	}
	ix.byAmount = slices.Clone(ix.byAge)
	// Oldest first; the engine's order among equals (stable sorts).
	slices.SortStableFunc(ix.byAge, func(x, y hot) int { return cmp.Compare(x.created, y.created) })
	// By currency, then the largest amount first.
	slices.SortStableFunc(ix.byAmount, func(x, y hot) int {
		return cmp.Or(cmp.Compare(ix.currencies[x.cur], ix.currencies[y.cur]), cmp.Compare(y.amount, x.amount))
	})
	ix.built = now
	return ix
}

// Query is a page of the exceptions as the form asks for it.
type Query struct {
	Codes, Methods, Currencies []string
	Projects                   []int64
	From, To                   time.Time // creation time, [From, To); zero is open
	Text                       string    // part of the payment id
	Sort                       string    // "age" (oldest first, the default), "newest", "amount"
	Page, Per                  int       // Page from 1
}

// Sort orders of the exceptions page.
const (
	SortAge    = "age"
	SortNewest = "newest"
	SortAmount = "amount"
)

// Filter is q as the reconciliation export's filter: the same rows.
func (q *Query) Filter() export.ItemFilter {
	codes := q.Codes
	if len(codes) == 0 {
		codes = exceptionCodes()
	}
	return export.ItemFilter{Results: codes, Projects: q.Projects, Methods: q.Methods, Currencies: q.Currencies,
		From: q.From, To: q.To, IDContains: q.Text}
}

// matcher is a query compiled against one index's tables.
type matcher struct {
	codes, methods, currencies, projects []bool // nil: any
	lo, hi                               int64
	text                                 []uint64 // nil: any; else the entries whose id has the text
}

func (ix *index) compile(q *Query) matcher {
	m := matcher{lo: math.MinInt64, hi: math.MaxInt64}
	if q.Text != "" {
		m.text = ix.textMatches(q.Text)
	}
	if len(q.Codes) > 0 {
		m.codes = make([]bool, len(ix.codes))
		for i, c := range ix.codes {
			m.codes[i] = slices.Contains(q.Codes, c)
		}
	}
	fold := func(words []string, want []string) []bool {
		if len(want) == 0 {
			return nil
		}
		set := make([]bool, len(words))
		for i, w := range words {
			set[i] = slices.ContainsFunc(want, func(x string) bool { return strings.EqualFold(x, w) })
		}
		return set
	}
	m.methods, m.currencies = fold(ix.methods, q.Methods), fold(ix.currencies, q.Currencies)
	if len(q.Projects) > 0 {
		m.projects = make([]bool, len(ix.projects))
		for i, p := range ix.projects {
			m.projects[i] = slices.Contains(q.Projects, p)
		}
	}
	if !q.From.IsZero() {
		m.lo = q.From.UnixNano()
	}
	if !q.To.IsZero() {
		m.hi = q.To.UnixNano()
	}
	return m
}

// match says whether e passes m, as export.ItemFilter.Match would say of
// its item (a test holds the two together).
func (ix *index) match(m *matcher, e *hot) bool {
	switch {
	case m.codes != nil && !m.codes[e.code],
		m.methods != nil && !m.methods[e.method],
		m.projects != nil && !m.projects[e.project]:
		return false
	case e.created < m.lo || e.created >= m.hi: // no time: before any From, as the zero time is
		return false
	case m.currencies != nil && !m.currencies[e.mCur] && !m.currencies[e.pCur]: // 0 for a side it lacks
		return false
	}
	return m.text == nil || m.text[e.at/64]&(1<<(e.at%64)) != 0
}

// textMatches is the set of entries whose payment id contains text: one
// sequential pass over the ids.
func (ix *index) textMatches(text string) []uint64 {
	set := make([]uint64, (len(ix.entries)+63)/64)
	for i := range ix.entries {
		if s := ix.entries[i].id; strings.Contains(ix.ids[s.off:s.off+s.n], text) {
			set[i/64] |= 1 << (i % 64)
		}
	}
	return set
}

// Page is one page of exceptions.
type Page struct {
	Total int              // the matches
	Rows  []*entry         // the page's
	Sums  map[string]int64 // the matches' amounts by currency
}

// page runs q over the index: one pass in q's order.
func (ix *index) page(q *Query) Page {
	m := ix.compile(q)
	per := max(q.Per, 1)
	off := (max(q.Page, 1) - 1) * per
	p := Page{Sums: map[string]int64{}}
	sums := make([]int64, len(ix.currencies))
	take := func(h *hot) {
		if !ix.match(&m, h) {
			return
		}
		if p.Total >= off && p.Total < off+per {
			p.Rows = append(p.Rows, &ix.entries[h.at])
		}
		p.Total++
		sums[h.cur] += h.amount
	}
	switch q.Sort {
	case SortAmount:
		for i := range ix.byAmount {
			take(&ix.byAmount[i])
		}
	case SortNewest:
		for k := len(ix.byAge) - 1; k >= 0; k-- {
			take(&ix.byAge[k])
		}
	default:
		for i := range ix.byAge {
			take(&ix.byAge[i])
		}
	}
	for i, s := range sums {
		if s != 0 {
			p.Sums[ix.currencies[i]] = s
		}
	}
	return p
}

// AgeBucket counts the open exceptions of one age.
type AgeBucket struct {
	Name    string
	Count   int
	Amounts map[string]int64
}

// ages counts the open exceptions by age at now.
func (ix *index) ages(now time.Time) []AgeBucket {
	bounds := []struct {
		name string
		d    time.Duration
	}{{"under a day", 24 * time.Hour}, {"1 to 7 days", 7 * 24 * time.Hour}, {"7 to 30 days", 30 * 24 * time.Hour}, {"over 30 days", math.MaxInt64}}
	out := make([]AgeBucket, len(bounds))
	for i := range out {
		out[i] = AgeBucket{Name: bounds[i].name, Amounts: map[string]int64{}}
	}
	t := now.UnixNano()
	for i := range ix.byAge {
		e := &ix.byAge[i]
		age := time.Duration(math.MaxInt64)
		if e.created != math.MinInt64 {
			age = time.Duration(t - e.created)
		}
		k := 0
		for k < len(bounds)-1 && age >= bounds[k].d {
			k++
		}
		out[k].Count++
		out[k].Amounts[ix.currencies[e.cur]] += e.amount
	}
	return out
}

const entrySize = unsafe.Sizeof(entry{})

// Size is about how many bytes the index holds.
func (ix *index) Size() int {
	return len(ix.entries)*int(entrySize) + len(ix.block) + len(ix.ids) + 2*len(ix.byAge)*int(unsafe.Sizeof(hot{}))
}

func (ix *index) projectName(p uint16) string {
	if int(p) >= len(ix.projects) || ix.projects[p] == 0 {
		return ""
	}
	return strconv.FormatInt(ix.projects[p], 10)
}

// idOf is an entry's payment id.
func (ix *index) idOf(e *entry) string { return ix.ids[e.id.off : e.id.off+e.id.n] }
