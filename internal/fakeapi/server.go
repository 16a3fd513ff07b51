// Package fakeapi is a fake ECommPay Data API for tests, benchmarks and the
// demo. It serves /operations/get, /operations/get-by-payment,
// /financial-reporting/operations (the same records with the fee of each,
// from a tariff with some deliberate errors: fees.go), /chargeback/list
// (disputes of some card purchases that open and are decided on the fake's
// clock: chargebacks.go) and /balance/get (balances derived from the
// operations: balances.go) on 127.0.0.1, checks request signatures, signs its responses, pages by
// limit/offset and filters by project and interval, exactly as the client in
// internal/dataapi expects (it encodes with that package's wire.go).
//
// Its data is synthetic and deterministic: the same seed gives the same
// operations, for the seeds' two methods (ADVCash in EUR, BRL, GBP, KZT, RUB,
// UAH, USD; the Uzbek card partner in UZS), with purchases, payouts, refunds
// of card purchases, declines with codes (and some internal and external
// errors), and operations that stay "processing" for a while and become
// final later on the fake's clock. Every hundred operations hold one of
// ECommPay's rarer cases (gen.go, "scenarios"): auth then capture, auth
// then cancel, a sale refunded in two parts, a refund taken back by a
// refund reverse, a payout with a commission, internal and external errors,
// an expired sale, and a status ECommPay's lists do not have
// ("awaiting review").
//
// Like the reference, a request without "fields" gets only the required
// parameters of each operation (project, ids, times); with it, what it
// names, in the reference's fixed order; an unknown name is a 400.
//
// Assumption of the fake, not of the real API: the interval filters by the
// operation's creation time, both ends included.
//
// Faults can be switched on to test the client: 5xx answers, 429 with
// Retry-After, slow answers, wrong or missing response signatures, a row
// repeated across two pages, and errors that echo the request.
package fakeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
)

// Config describes a fake.
type Config struct {
	Token    string
	Secret   []byte
	Seed     uint64
	Projects []Project // default DefaultProjects
	Start    time.Time // creation time of operation 0
	Count    int       // number of operations
	Step     time.Duration
	Now      func() time.Time // the fake's clock; default time.Now
	Faults   Faults
	// RequestArraysInOrder makes the fake check request signatures with
	// array items in index order (as PHP's natural sort does) instead of
	// path order.
	RequestArraysInOrder bool
	Logger               *slog.Logger
}

// Faults make the fake misbehave on purpose. Counters are 1-based over all
// requests to either endpoint.
type Faults struct {
	ServerErrorEvery  int           // every Nth request answers 500
	RateLimitEvery    int           // every Nth request answers 429 with Retry-After
	RetryAfter        time.Duration // sent with 429, in whole seconds (at least 1)
	Delay             time.Duration // every answer waits this long first
	BadSignatureEvery int           // every Nth answer carries a wrong signature
	Unsigned          bool          // answers carry no signature
	RepeatRow         bool          // the last row of the first full page is sent again as the first row of the next
	// OmitField leaves this parameter (a name of dataapi.Parameters) out of
	// every OmitEvery-th record sent, 1-based over all records (default
	// every one), whether asked for or not.
	OmitField string
	OmitEvery int
	// EchoStatus, when set, answers every request with this HTTP status
	// and the request (its token and signature too) quoted in the error
	// message, as some gateways and error pages do.
	EchoStatus int
}

// Server is a running fake.
type Server struct {
	cfg      Config
	gen      *generator
	mu       sync.Mutex
	faults   Faults
	edit     atomic.Pointer[func(op *domain.Operation)]
	cache    []cachedQuery
	requests atomic.Int64
	served   atomic.Int64 // operations sent
	ln       net.Listener
	srv      *http.Server
	cbOnce   sync.Once          // chargebacks.go
	cbOps    []domain.Operation // the operations it disputes
}

type cachedQuery struct {
	key     string
	indexes []int32
}

// New returns a fake that is not listening yet: call Start, or use Handler
// with httptest.
func New(cfg Config) (*Server, error) {
	if cfg.Token == "" || len(cfg.Secret) == 0 {
		return nil, fmt.Errorf("fakeapi: token and secret are required")
	}
	if len(cfg.Projects) == 0 {
		cfg.Projects = DefaultProjects
	}
	if cfg.Step <= 0 {
		cfg.Step = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Count < 0 || cfg.Count > math.MaxInt32 {
		return nil, fmt.Errorf("fakeapi: count %d out of range", cfg.Count)
	}
	s := &Server{cfg: cfg, faults: cfg.Faults}
	s.gen = newGenerator(cfg.Seed, cfg.Projects, cfg.Start, cfg.Step, cfg.Count)
	return s, nil
}

// Start listens on 127.0.0.1 on a free port.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return nil
}

// URL is the base URL of a started fake.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops a started fake.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// SetFaults replaces the faults; it is safe while serving.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// SetEdit makes the fake change each operation the generator made before it
// is served (and in Operations) with edit: values the generator never
// makes, such as a card number a provider did not mask. nil serves them as
// made. It is safe while serving.
func (s *Server) SetEdit(edit func(op *domain.Operation)) {
	if edit == nil {
		s.edit.Store(nil)
		return
	}
	s.edit.Store(&edit)
}

// Requests is how many requests the fake has received.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Served is how many operation records the fake has sent.
func (s *Server) Served() int { return int(s.served.Load()) }

// Operations returns every operation that exists at now, as the API would
// show it (before the client masks account numbers), in creation order.
func (s *Server) Operations(now time.Time) []domain.Operation {
	var ops []domain.Operation
	for i := 0; i < s.gen.count; i++ {
		op, ok := s.op(i, now)
		if !ok {
			break
		}
		ops = append(ops, op)
	}
	return ops
}

// op is operation i at now, as served.
func (s *Server) op(i int, now time.Time) (domain.Operation, bool) {
	op, ok := s.gen.op(i, now)
	if edit := s.edit.Load(); ok && edit != nil {
		(*edit)(&op)
	}
	return op, ok
}

// Handler serves the two endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+dataapi.PathOperations, func(w http.ResponseWriter, r *http.Request) { s.handleOperations(w, r, false) })
	mux.HandleFunc("POST "+dataapi.PathFinancialOperations, func(w http.ResponseWriter, r *http.Request) { s.handleOperations(w, r, true) })
	mux.HandleFunc("POST "+dataapi.PathOperationsByPayment, s.handleByPayment)
	mux.HandleFunc("POST "+dataapi.PathChargebacks, s.handleChargebacks)
	mux.HandleFunc("POST "+dataapi.PathBalance, s.handleBalance) // balances.go
	return mux
}

// precheck applies the faults and checks the token and signature. It returns
// the faults in force and false when it has answered already.
func (s *Server) precheck(w http.ResponseWriter, r *http.Request) ([]byte, Faults, int, bool) {
	n := int(s.requests.Add(1))
	s.mu.Lock()
	f := s.faults
	s.mu.Unlock()
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return nil, f, n, false
		}
	}
	if f.ServerErrorEvery > 0 && n%f.ServerErrorEvery == 0 {
		writeError(w, http.StatusInternalServerError, "internal_error", "fault injected: internal error")
		return nil, f, n, false
	}
	if f.RateLimitEvery > 0 && n%f.RateLimitEvery == 0 {
		w.Header().Set("Retry-After", fmt.Sprint(max(int(math.Ceil(f.RetryAfter.Seconds())), 1)))
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many requests")
		return nil, f, n, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "cannot read body")
		return nil, f, n, false
	}
	if f.EchoStatus != 0 {
		writeError(w, f.EchoStatus, "refused", "cannot process the request "+string(body))
		return nil, f, n, false
	}
	verify := dataapi.Verify
	if s.cfg.RequestArraysInOrder {
		verify = dataapi.VerifyArraysInOrder
	}
	if err := verify(s.cfg.Secret, body); err != nil {
		writeError(w, http.StatusForbidden, "invalid_signature", "request signature is not valid: "+err.Error())
		return nil, f, n, false
	}
	var tok struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(body, &tok) != nil || tok.Token != s.cfg.Token {
		writeError(w, http.StatusUnauthorized, "invalid_token", "token is not valid")
		return nil, f, n, false
	}
	return body, f, n, true
}

// handleOperations answers /operations/get, or with financial
// /financial-reporting/operations: the same records, with the fee of
// each when asked for ("fee").
func (s *Server) handleOperations(w http.ResponseWriter, r *http.Request, financial bool) {
	var fields dataapi.ParamSet
	req, wd, ok := s.windowRequest(w, r, func(req *dataapi.OperationsRequest) (err error) {
		fields, err = dataapi.ParseFieldsLenient(req.Fields, financial)
		return err
	})
	if !ok {
		return
	}
	f, n, loc, from, to, projects := wd.faults, wd.n, wd.loc, wd.from, wd.to, wd.projects
	now := s.cfg.Now()
	if now.Before(to) {
		to = now
	}
	idx := s.query(projects, from, to)
	total := len(idx)
	repeat := f.RepeatRow && len(idx) > req.Limit
	if repeat {
		total++
	}
	ops := make([]domain.Operation, 0, req.Limit)
	for v := req.Offset; v < total && len(ops) < req.Limit; v++ {
		real := v
		if repeat && v >= req.Limit {
			real = v - 1
		}
		op, ok := s.op(int(idx[real]), now)
		if ok {
			if financial {
				op.Fee = FeeOf(&op)
			}
			ops = append(ops, op)
		}
	}
	s.respond(w, ops, loc, fields, f, n)
}

// window is what a paged request of /operations/get's shape selects, and
// the faults in force for it.
type window struct {
	faults   Faults
	n        int // the request's number at its endpoint
	loc      *time.Location
	from, to time.Time
	projects map[int64]bool
}

// windowRequest reads a request of /operations/get's shape (faults,
// signature, token, limit, offset, tz, interval, then check, then the
// projects) and answers it with the error when one does not hold.
func (s *Server) windowRequest(w http.ResponseWriter, r *http.Request, check func(*dataapi.OperationsRequest) error) (dataapi.OperationsRequest, window, bool) {
	var req dataapi.OperationsRequest
	body, f, n, ok := s.precheck(w, r)
	if !ok {
		return req, window{}, false
	}
	if err := strictUnmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return req, window{}, false
	}
	loc, from, to, err := s.checkRequest(&req)
	if err == nil {
		err = check(&req)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return req, window{}, false
	}
	projects, err := s.projectSet(req.ProjectID)
	if err != nil {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return req, window{}, false
	}
	return req, window{faults: f, n: n, loc: loc, from: from, to: to, projects: projects}, true
}

func (s *Server) handleByPayment(w http.ResponseWriter, r *http.Request) {
	body, f, n, ok := s.precheck(w, r)
	if !ok {
		return
	}
	var req dataapi.PaymentRequest
	if err := strictUnmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	loc, err := time.LoadLocation(req.TZ)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "tz: "+err.Error())
		return
	}
	fields, err := dataapi.ParseFieldsLenient(req.Fields, false)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if _, err := s.projectSet([]int64{req.ProjectID}); err != nil {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	now := s.cfg.Now()
	var ops []domain.Operation
	if i, ok := s.gen.parsePaymentID(req.PaymentID); ok && s.gen.project(i).ID == req.ProjectID {
		for _, j := range s.gen.paymentOps(i) {
			if op, ok := s.op(j, now); ok {
				ops = append(ops, op)
			}
		}
	}
	s.respond(w, ops, loc, fields, f, n)
}

func (s *Server) respond(w http.ResponseWriter, ops []domain.Operation, loc *time.Location, fields dataapi.ParamSet, f Faults, n int) {
	omit := dataapi.ParamOf(f.OmitField)
	every := max(f.OmitEvery, 1)
	before := s.served.Load()
	opts := func(i int) dataapi.EncodeOptions {
		// ADVCash amounts go as strings, card amounts as numbers: the
		// API may send either.
		o := dataapi.EncodeOptions{Location: loc, AmountAsString: ops[i].PaymentMethod == MethodADVCash, Fields: fields}
		if omit != 0 && (before+int64(i)+1)%int64(every) == 0 {
			o.Fields &^= omit
		}
		return o
	}
	buf := make([]byte, 0, 700*len(ops)+256)
	var body []byte
	if f.Unsigned {
		body = dataapi.AppendOperationsResponse(buf, ops, opts)
	} else {
		body = dataapi.AppendSignedOperationsResponse(buf, s.cfg.Secret, ops, opts)
		if f.BadSignatureEvery > 0 && n%f.BadSignatureEvery == 0 {
			// Change one character of the base64 signature.
			k := bytes.LastIndex(body, []byte(`"signature":"`)) + len(`"signature":"`) + 3
			body[k] ^= 1
		}
	}
	s.served.Add(int64(len(ops)))
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (s *Server) checkRequest(req *dataapi.OperationsRequest) (*time.Location, time.Time, time.Time, error) {
	if req.Limit < 1 || req.Limit > dataapi.MaxPageSize {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("limit %d: must be 1..%d", req.Limit, dataapi.MaxPageSize)
	}
	if req.Offset < 0 {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("offset %d is negative", req.Offset)
	}
	if len(req.ProjectID) > dataapi.MaxSignedArray {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("project_id: at most %d ids", dataapi.MaxSignedArray)
	}
	loc, err := time.LoadLocation(req.TZ)
	if err != nil {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("tz: %v", err)
	}
	if req.Interval == nil {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("interval is required")
	}
	from, err1 := time.ParseInLocation(dataapi.TimeLayout, req.Interval.From, loc)
	to, err2 := time.ParseInLocation(dataapi.TimeLayout, req.Interval.To, loc)
	if err1 != nil || err2 != nil {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("interval: times must be %q", dataapi.TimeLayout)
	}
	if to.Before(from) {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("interval: to is before from")
	}
	return loc, from, to, nil
}

// projectSet checks that every requested project belongs to the token; no
// project means all of them.
func (s *Server) projectSet(ids []int64) (map[int64]bool, error) {
	known := map[int64]bool{}
	for _, p := range s.cfg.Projects {
		known[p.ID] = true
	}
	if len(ids) == 0 {
		return known, nil
	}
	set := map[int64]bool{}
	for _, id := range ids {
		if !known[id] {
			return nil, fmt.Errorf("project %d is not available to this token", id)
		}
		set[id] = true
	}
	return set, nil
}

// query returns the indexes of the operations of projects created in
// [from, to], cached so that the pages of one sync do not rescan.
func (s *Server) query(projects map[int64]bool, from, to time.Time) []int32 {
	key := fmt.Sprint(projects, from.Unix(), to.Unix())
	s.mu.Lock()
	for _, c := range s.cache {
		if c.key == key {
			s.mu.Unlock()
			return c.indexes
		}
	}
	s.mu.Unlock()
	var idx []int32
	for i := s.gen.firstAtOrAfter(from); i < s.gen.count; i++ {
		if s.gen.createdAt(i).After(to) {
			break
		}
		if projects[s.gen.project(i).ID] {
			idx = append(idx, int32(i))
		}
	}
	s.mu.Lock()
	s.cache = append(s.cache, cachedQuery{key, idx})
	if len(s.cache) > 4 {
		s.cache = s.cache[1:]
	}
	s.mu.Unlock()
	return idx
}

func strictUnmarshal(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(dataapi.ErrorBody{Status: "error", Code: code, Message: msg})
}
