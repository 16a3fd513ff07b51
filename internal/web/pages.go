package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"reconciled/internal/app"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/scratch"
)

//go:embed templates/*.html style.css
var files embed.FS

// pages are the templates, parsed on first use: a command that never
// serves the view does not pay for them.
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"money":    money,
		"sentence": sentence,
		"moneyOf":  func(m domain.Money) string { return money(m.Amount, m.Currency) },
		"join":     strings.Join,
		"add":      func(a, b int) int { return a + b },
		"sub":      func(a, b int) int { return a - b },
		// mask is free text as shown: a card number in it masked, as the
		// mailed report masks reasons (a merchant's column, a note).
		"mask": domain.MaskCardNumbers,
	}).ParseFS(files, "templates/*.html"))
})

// money is minor units as major ones with the currency, exactly (no
// float), thousands apart by a narrow no-break space (an amount never
// wraps; the downloads carry plain numbers).
func money(amount int64, cur string) string {
	if s, err := domain.FormatMajor(amount, cur); err == nil {
		return strings.TrimSpace(domain.GroupThousands(s, "\u202f") + " " + cur)
	}
	return strings.TrimSpace(strconv.FormatInt(amount, 10) + " " + cur + " (minor units)")
}

// sentence is s with its first letter upper case (the stored result's
// note is written to follow other words on the command line).
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// view is what every page's layout reads.
type view struct {
	Title, Nav string
	Zone       string
	Note       string // which stored reconciliation, what it lacks
	Refresh    int    // seconds: the page reloads itself (it is being prepared)
	Page       any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	var b strings.Builder
	if err := pages().ExecuteTemplate(&b, name, v); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	io.WriteString(w, b.String())
}

// fail answers 500 and logs what went wrong (never shown to the browser).
// A build that failed says what could not be prepared, as text: no
// reload, and it is tried again after the next write.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.o.Log.Error("web: a page failed", "path", r.URL.Path, "err", err)
	if pe, ok := errors.AsType[*prepareError](err); ok {
		http.Error(w, pe.what+" could not be prepared: the database could not be read (is it damaged? reconciled check says); the daemon's log says why. This page does not reload itself; it is tried again after the next change to the data.", http.StatusInternalServerError)
		return
	}
	http.Error(w, "the page could not be made; the daemon's log says why", http.StatusInternalServerError)
}

func (s *Server) now(a *app.App) time.Time {
	if s.o.Now != nil {
		return s.o.Now()
	}
	return a.Now()
}

func (s *Server) style(w http.ResponseWriter, r *http.Request) {
	b, _ := files.ReadFile("style.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Write(b)
}

// resultKey names a stored result's state: any write of the result
// changes its time.
func resultKey(st ledger.ResultState) string {
	return fmt.Sprintf("%d/%s/%d/%d", st.At.UnixNano(), st.Config, st.Items, st.Recomputed)
}

// index is the index of the stored result in force. With none held it
// is built in the background and the request waits for it up to
// FirstWait: if it is not done by then, the job is returned (the page
// says "being prepared" and reloads itself). With one of an older result
// held, that one is returned, stale (true), and the new one is built in
// the background, once: the page says so, and the next one after it is
// built shows it. A reconcile of a million items would otherwise cost
// its first page the whole build (0.15 s, BENCHMARKS.md).
func (s *Server) index(ctx context.Context, a *app.App) (*index, app.Stored, bool, *job, error) {
	st, err := a.StoredResult()
	if err != nil || st.None {
		return nil, st, false, nil, err
	}
	key := resultKey(st.State)
	for waited := false; ; waited = true {
		s.mu.Lock()
		s.touchLocked()
		if s.ix != nil && s.ix.key == key {
			ix := s.ix
			s.mu.Unlock()
			return ix, st, false, nil, nil
		}
		if f := s.ixFailed; f != nil && f.key == key {
			s.mu.Unlock()
			return nil, st, false, nil, &prepareError{"the index of the open exceptions", f.err}
		}
		if s.building != key {
			s.building, s.ixJob = key, newJob(st.State.Items <= smallItems)
			go s.rebuild(s.life.Load().ctx, a, key, s.ixJob, s.epoch.Load())
		}
		ix, j := s.ix, s.ixJob
		s.mu.Unlock()
		if ix != nil {
			return ix, st, true, nil, nil
		}
		if waited || !j.wait(ctx, s.o.FirstWait) {
			return nil, st, false, j, nil
		}
		if errors.Is(j.err, context.Canceled) { // stopped by Drop: the next page builds anew
			return nil, st, false, j, nil
		}
		if j.err != nil {
			return nil, st, false, nil, &prepareError{"the index of the open exceptions", j.err}
		}
	}
}

// build reads the stored items into a new index.
func (s *Server) build(ctx context.Context, a *app.App, key string, at time.Time) (*index, error) {
	begin := time.Now()
	b := newBuilder(key)
	n := 0
	open := func(result string) bool { _, ok := b.codeOf[result]; return ok }
	err := a.Ledger.ForEachItemWhere(open, func(it *domain.Item) error {
		b.add(it)
		if n++; n%4096 == 0 { // Drop stops it within a few milliseconds
			return ctx.Err()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ix := b.done(time.Now())
	ix.of = at
	settle(a)
	s.o.Log.Info("web: indexed the open exceptions", "exceptions", len(ix.entries),
		"bytes", ix.Size(), "took", time.Since(begin).Round(time.Millisecond))
	return ix, nil
}

// settle gives back what a pass over the database left: its pages in
// the resident set, the heap's garbage (as the daemon does after a job).
func settle(a *app.App) {
	a.Ledger.ReleaseMemory()
	debug.FreeOSMemory()
}

// rebuild builds the index of key in the background and holds it, unless
// the server dropped everything meanwhile (Drop: epoch moved on).
func (s *Server) rebuild(ctx context.Context, a *app.App, key string, j *job, epoch uint64) {
	st, err := a.StoredResult()
	var ix *index
	if err == nil && !st.None {
		ix, err = s.build(ctx, a, key, st.State.At)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	current := s.ixJob == j // not overtaken by the build of a newer result
	if current {
		s.building, s.ixJob = "", nil
	}
	j.err, j.key = err, key
	close(j.done)
	if err != nil {
		if epoch == s.epoch.Load() { // else stopped by Drop
			s.o.Log.Error("web: indexing the open exceptions failed", "err", err)
			if current {
				s.ixFailed = j // not again for this result: the page says so
			}
		}
		return
	}
	if ix != nil && epoch == s.epoch.Load() && (current || s.ix == nil) {
		s.ix = ix
		if current {
			s.ixFailed = nil
		}
	}
}

// staleNote says a page shows an older result than the one stored.
func staleNote(ix *index, loc *time.Location) string {
	return "These rows are of the reconciliation of " + ix.of.In(loc).Format("2006-01-02 15:04:05 MST") +
		"; the newer one is being indexed: reload in a few seconds (the downloads are of the newer one already)."
}

// idle drops, once nobody asked for a page for IdleDrop, the merged
// summaries, and the index and the analytics' partials unless they are
// small (KeepIdle): an idle daemon holds a few MB of them at most.
func (s *Server) idle() {
	s.mu.Lock()
	if s.timer == nil { // Drop stopped it while it fired
		s.mu.Unlock()
		return
	}
	if left := s.o.IdleDrop - time.Since(s.used); left > 0 {
		s.timer.Reset(left)
		s.mu.Unlock()
		return
	}
	s.timer = nil // the next request starts the clock again
	var dropped []string
	if s.ix != nil && s.ix.Size() > s.o.KeepIdle {
		s.ix = nil
		dropped = append(dropped, "the index of the open exceptions")
	}
	s.mu.Unlock()
	s.sumMu.Lock()
	s.sums = nil
	if s.days != nil && s.days.bytes() > s.o.KeepIdle {
		s.days = nil
		dropped = append(dropped, "the analytics' partials")
	}
	s.sumMu.Unlock()
	if len(dropped) > 0 {
		debug.FreeOSMemory() // give the pages back: an idle daemon holds none of it
		s.o.Log.Info("web: dropped what the pages read (idle)", "what", strings.Join(dropped, ", "))
	}
}

// touchLocked notes a request and starts the idle drop's clock (s.mu
// held).
func (s *Server) touchLocked() {
	s.used = time.Now()
	if s.timer == nil {
		s.timer = time.AfterFunc(s.o.IdleDrop, s.idle)
	}
}

// Indexed reports whether an index is held (tests, the idle drop).
func (s *Server) Indexed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ix != nil
}

func noteOf(a *app.App, st app.Stored) string {
	if st.None {
		return "No reconciliation is stored yet: run reconciled reconcile (or let the daemon's schedule do it)."
	}
	return st.Note(a.Config.Zone())
}

// --- overview

type resultRow struct {
	Code, Currency string
	Count          int
	Amount         string
	Exception      bool
}

type overviewPage struct {
	Stale     string
	Preparing bool // the index of the open exceptions is being built
	Status    *app.Status
	When      func(time.Time) string
	Results   []resultRow
	Ages      []ageRow
	Open      int
	Sync      []syncRow
	Mail      []ledger.Mail
	Unknown   []domain.WordCount
}

type ageRow struct {
	Name    string
	Count   int
	Amounts string
}

type syncRow struct {
	Project                             int64
	Watermark, LastSuccess, LastAttempt string
	Failing                             bool
	LastError                           string
	Operations, NotFinal                int64
}

func amountsText(m map[string]int64) string {
	curs := slices.Sorted(maps.Keys(m))
	var parts []string
	for _, c := range curs {
		parts = append(parts, money(m[c], c))
	}
	return strings.Join(parts, ", ")
}

func whenIn(loc *time.Location) func(time.Time) string {
	return func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.In(loc).Format("2006-01-02 15:04:05 MST")
	}
}

// betweenReads, when set (tests), runs between the overview's status
// and its stored result.
var betweenReads func()

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	a := s.o.App()
	st, err := a.Status(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if betweenReads != nil {
		betweenReads()
	}
	loc := a.Config.Zone()
	p := overviewPage{Status: st, When: whenIn(loc), Mail: st.Mail, Unknown: st.Unknown}
	ix, stored, stale, j, err := s.index(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The results are those of the state the index and the note were
	// read with, not of the status read before: a reconcile between the
	// two would show one result's counts beside another's ages.
	p.Status.Result = nil
	if !stored.None {
		p.Status.Result = &stored.State
	}
	if res := p.Status.Result; res != nil {
		for _, code := range domain.Results {
			curs := res.PerCurrency[code]
			for _, cur := range slices.Sorted(maps.Keys(curs)) {
				if curs[cur] == 0 {
					continue
				}
				p.Results = append(p.Results, resultRow{Code: code, Currency: cur, Count: curs[cur],
					Amount: money(res.Amounts[code][cur], cur), Exception: domain.IsException(code)})
			}
		}
	}
	if stale {
		p.Stale = staleNote(ix, loc)
	}
	refresh := 0
	if j != nil {
		p.Preparing, refresh = true, refreshSeconds
	}
	if ix != nil {
		for _, b := range ix.ages(s.now(a)) {
			p.Ages = append(p.Ages, ageRow{Name: b.Name, Count: b.Count, Amounts: amountsText(b.Amounts)})
			p.Open += b.Count
		}
	}
	for _, ps := range st.Projects {
		p.Sync = append(p.Sync, syncRow{Project: ps.Project, Watermark: p.When(ps.Watermark), LastSuccess: p.When(ps.LastSuccess),
			LastAttempt: p.When(ps.LastAttempt), Failing: ps.Failing(), LastError: ps.LastError,
			Operations: ps.Operations, NotFinal: ps.NotFinal})
	}
	s.render(w, r, http.StatusOK, "overview.html", view{Title: "Overview", Nav: "overview", Zone: loc.String(), Note: noteOf(a, stored), Refresh: refresh, Page: p})
}

// --- exceptions

type exceptionsPage struct {
	Stale               string // the index is of an older result (staleNote)
	Preparing           bool   // no index yet: it is being built
	Q                   *Query
	Total, From, Last   int
	Pages               int
	Prev, Next          string // links, "" for none
	CSV, XLSX           string
	Rows                []exceptionRow
	Sums                string
	Codes, Methods      []string
	Currencies          []string
	Projects            []string
	FromDay, ToDay      string
	Sorts               []string
	Pers                []int
	Indexed             bool
	SelCode, SelMethod  string
	SelCurrency, SelPrj string
}

type exceptionRow struct {
	Code, PaymentID, Type, Method, Created, Age string
	Merchant, Provider, Reason, Project         string
	Link                                        string
}

// Pages hold at most maxPer rows; there are at most maxPage of them.
const (
	maxPer  = 500
	maxPage = 1 << 24
)

// maxValues bounds the values of one filter: the download compares each
// stored item with every one (a million items times the 3,600 values a
// request's 32 KiB hold is a minute of CPU); the form sends one.
const maxValues = 100

// tooMany is the filter of v with more than maxValues values ("" if none).
func tooMany(v url.Values) string {
	for _, name := range []string{"code", "method", "currency", "project"} {
		if len(v[name]) > maxValues {
			return name
		}
	}
	return ""
}

// parseQuery reads the exceptions' form (a bad value is ignored: the
// page shows what it understood in the form again).
func parseQuery(v url.Values, loc *time.Location) (*Query, string, string) {
	q := &Query{Sort: SortAge, Page: 1, Per: 50}
	list := func(name string) []string {
		var out []string
		for _, s := range v[name] {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	q.Codes = slices.DeleteFunc(list("code"), func(c string) bool { return !slices.Contains(exceptionCodes(), c) })
	q.Methods, q.Currencies = list("method"), list("currency")
	for _, p := range list("project") {
		if n, err := strconv.ParseInt(p, 10, 64); err == nil {
			q.Projects = append(q.Projects, n)
		}
	}
	from, to := strings.TrimSpace(v.Get("from")), strings.TrimSpace(v.Get("to"))
	if t, err := domain.ParseDay(from, loc); err == nil {
		q.From = t
	} else {
		from = ""
	}
	if t, err := domain.ParseDay(to, loc); err == nil {
		q.To = domain.AddDays(t, 1, loc) // the whole last day
	} else {
		to = ""
	}
	q.Text = strings.TrimSpace(v.Get("q"))
	if s := v.Get("sort"); s == SortNewest || s == SortAmount {
		q.Sort = s
	}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 0 {
		q.Page = min(n, maxPage) // (page-1)*per stays far from overflowing
	}
	if n, err := strconv.Atoi(v.Get("per")); err == nil && n > 0 {
		q.Per = min(n, maxPer)
	}
	return q, from, to
}

// values is q as the form's query string (page given).
func values(q *Query, from, to string, page int) url.Values {
	v := url.Values{}
	for _, c := range q.Codes {
		v.Add("code", c)
	}
	for _, m := range q.Methods {
		v.Add("method", m)
	}
	for _, c := range q.Currencies {
		v.Add("currency", c)
	}
	for _, p := range q.Projects {
		v.Add("project", strconv.FormatInt(p, 10))
	}
	if from != "" {
		v.Set("from", from)
	}
	if to != "" {
		v.Set("to", to)
	}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	if q.Sort != SortAge {
		v.Set("sort", q.Sort)
	}
	if q.Per != 50 {
		v.Set("per", strconv.Itoa(q.Per))
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v
}

func ageText(d time.Duration) string {
	switch {
	case d < 0:
		return "0h"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d"
}

func (s *Server) exceptions(w http.ResponseWriter, r *http.Request) {
	a := s.o.App()
	loc := a.Config.Zone()
	if name := tooMany(r.URL.Query()); name != "" {
		http.Error(w, fmt.Sprintf("more than %d values of %s", maxValues, name), http.StatusBadRequest)
		return
	}
	q, from, to := parseQuery(r.URL.Query(), loc)
	ix, st, stale, j, err := s.index(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	refresh := 0
	if j != nil {
		refresh = refreshSeconds
	}
	p := exceptionsPage{Q: q, Preparing: j != nil, Stale: func() string {
		if stale {
			return staleNote(ix, loc)
		}
		return ""
	}(), FromDay: from, ToDay: to, Sorts: []string{SortAge, SortNewest, SortAmount}, Pers: []int{50, 100, 500},
		Codes: exceptionCodes()}
	first := func(l []string) string {
		if len(l) > 0 {
			return l[0]
		}
		return ""
	}
	p.SelCode, p.SelMethod, p.SelCurrency = first(q.Codes), first(q.Methods), first(q.Currencies)
	if len(q.Projects) > 0 {
		p.SelPrj = strconv.FormatInt(q.Projects[0], 10)
	}
	if ix != nil {
		p.Indexed = true
		p.Methods = slices.DeleteFunc(slices.Sorted(slices.Values(ix.methods)), func(s string) bool { return s == "" })
		p.Currencies = slices.DeleteFunc(slices.Sorted(slices.Values(ix.currencies)), func(s string) bool { return s == "" })
		for _, pr := range slices.Sorted(slices.Values(ix.projects)) {
			p.Projects = append(p.Projects, strconv.FormatInt(pr, 10))
		}
		page := ix.page(q)
		p.Total, p.Sums = page.Total, amountsText(page.Sums)
		p.Pages = max(1, (page.Total+q.Per-1)/q.Per)
		p.From = min((q.Page-1)*q.Per+1, page.Total)
		p.Last = (q.Page-1)*q.Per + len(page.Rows)
		now := s.now(a).UnixNano()
		for _, e := range page.Rows {
			row := exceptionRow{Code: ix.codes[e.code], PaymentID: ix.idOf(e), Type: ix.types[e.typ], Method: ix.methods[e.method],
				Reason: ix.str(e.reason), Project: ix.projectName(e.project)}
			if e.created != minTime {
				t := time.Unix(0, e.created).In(loc)
				row.Created, row.Age = t.Format("2006-01-02 15:04"), ageText(time.Duration(now-e.created))
			}
			if e.hasM {
				row.Merchant = money(e.mAmount, ix.currencies[e.mCur])
			}
			if e.hasP {
				row.Provider = money(e.pAmount, ix.currencies[e.pCur])
			}
			if row.PaymentID != "" {
				row.Link = "payment?" + url.Values{"id": {row.PaymentID}}.Encode()
			}
			p.Rows = append(p.Rows, row)
		}
		if q.Page > 1 {
			p.Prev = "exceptions?" + values(q, from, to, q.Page-1).Encode()
		}
		if q.Page < p.Pages {
			p.Next = "exceptions?" + values(q, from, to, q.Page+1).Encode()
		}
		dl := values(q, from, to, 1)
		dl.Del("sort")
		dl.Del("per")
		p.CSV, p.XLSX = "exceptions.csv?"+dl.Encode(), "exceptions.xlsx?"+dl.Encode()
	}
	s.render(w, r, http.StatusOK, "exceptions.html", view{Title: "Exceptions", Nav: "exceptions", Zone: loc.String(), Note: noteOf(a, st), Refresh: refresh, Page: p})
}

const minTime = -1 << 63

// download writes exactly the rows the filters select (every page of
// them, in the engine's order) through the reconciliation export's
// writers: the file `export --what reconciliation` writes with the same
// filters.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	a := s.o.App()
	st, err := a.StoredResult()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if st.None {
		http.Error(w, "no reconciliation is stored yet: run reconciled reconcile", http.StatusNotFound)
		return
	}
	if name := tooMany(r.URL.Query()); name != "" {
		http.Error(w, fmt.Sprintf("more than %d values of %s", maxValues, name), http.StatusBadRequest)
		return
	}
	q, _, _ := parseQuery(r.URL.Query(), a.Config.Zone())
	format, ctype := "csv", "text/csv; charset=utf-8"
	if strings.HasSuffix(r.URL.Path, ".xlsx") {
		format, ctype = "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	req := DownloadRequest(q, format)
	h := w.Header()
	if r.Method == http.MethodHead {
		h.Set("Content-Type", ctype)
		h.Set("Content-Disposition", `attachment; filename="exceptions.`+format+`"`)
		return
	}
	select {
	case s.downloads <- struct{}{}:
		defer func() { <-s.downloads }()
	default:
		h.Set("Retry-After", "30")
		http.Error(w, fmt.Sprintf("%d downloads are being made: try again in a minute", MaxDownloads), http.StatusServiceUnavailable)
		return
	}
	// The file is written in the scratch folder first, then sent: the
	// export's read transaction ends before the client reads, so a client
	// that stops reading holds no reader that bbolt's remap (a write
	// growing the file) would wait for, with every reader behind it.
	f, err := spool()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer func() { f.Close(); os.Remove(f.Name()) }()
	if _, err := a.Export(r.Context(), req, f); err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="exceptions.`+format+`"`)
	h.Set("Content-Length", strconv.FormatInt(n, 10)) // a cut download shows as one
	io.Copy(w, f)
}

// spool is a new file in the process's scratch folder for a download.
func spool() (*os.File, error) {
	dir, err := scratch.Dir()
	if err != nil {
		return nil, err
	}
	return os.CreateTemp(dir, "download-*")
}

// DownloadRequest is the export request of q's rows: `export --what
// reconciliation` with q's results (every exception code when none), its
// projects, methods, currencies, window and payment-id text.
func DownloadRequest(q *Query, format string) app.ExportRequest {
	f := q.Filter()
	req := app.ExportRequest{What: "reconciliation", Format: format, From: f.From, To: f.To, Results: f.Results, IDContains: f.IDContains}
	req.Filter.Projects, req.Filter.Methods, req.Filter.Currencies = f.Projects, f.Methods, f.Currencies
	return req
}

// --- payment

type paymentPage struct {
	ID        string
	P         *app.Payment
	When      func(time.Time) string
	Dashboard string
	Found     bool
}

func dashboardLink(pattern, id string) string {
	if pattern == "" || id == "" {
		return ""
	}
	return strings.ReplaceAll(pattern, config.WebPaymentPlaceholder, url.QueryEscape(id))
}

func (s *Server) payment(w http.ResponseWriter, r *http.Request) {
	a := s.o.App()
	loc := a.Config.Zone()
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	pg := paymentPage{ID: id, When: whenIn(loc)}
	var note string
	if id != "" {
		p, err := a.Payment(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pg.P, pg.Found = p, p.Found()
		note = noteOf(a, p.Stored)
		pg.Dashboard = dashboardLink(a.Config.Web.DashboardURL, id)
	}
	status := http.StatusOK
	if id != "" && !pg.Found {
		status = http.StatusNotFound
	}
	s.render(w, r, status, "payment.html", view{Title: "Payment " + id, Nav: "payment", Zone: loc.String(), Note: note, Page: pg})
}

// maskedAccount is an account number as shown: masked again, whatever
// was stored (stored ones are masked already).
func maskedAccount(s string) string { return domain.MaskAccount(s) }

// IndexBytes is about how many bytes the held index takes (0: none).
func (s *Server) IndexBytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ix == nil {
		return 0
	}
	return s.ix.Size()
}
