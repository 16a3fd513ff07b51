// Package receiver is the front door of ECommPay's callbacks: an HTTP
// handler that reads each callback (internal/callback: malformed 400, an
// unknown project or a bad signature 403, a body over the limit 413) and
// stores its operation in the ledger as a sync would (UpsertCallbacks),
// answering 200 only once the operation is committed: a callback answered
// is never lost, and one whose process dies before the commit is sent
// again by ECommPay, which retries until it hears 200.
//
// Commits are grouped. One writer goroutine takes every callback that
// arrived while it committed the last group and stores them in one bbolt
// transaction, then answers each (a failed group is stored again one
// callback at a time, so that one the ledger refuses fails alone). Under
// a trickle a group is one callback and nothing waits for company; under
// load the groups grow with the commit's time, and so does the rate: one
// fsync per group, not per callback.
//
// Listen serves a Receiver on an address with the limits that keep slow
// or half-open clients from exhausting it: a connection limit that takes
// the slot of the connection idle longest for a new one (slots.go), time
// limits for headers, body, answer and idle
// connections, a header size limit, and TLS when given a certificate.
//
// What is logged of a callback: its project, payment and operation ids,
// type, status and what storing it did; of a refusal, the status, the
// project when known, the remote address (and X-Forwarded-For, masked)
// and the reason, which never quotes the body (callback's reasons name
// members, not values). No secret, no full card number. Anyone who
// reaches the listener can make refusals (a forged signature, a malformed
// body), so they are logged one by one only refusalBurst to a window of
// refusalWindow; the rest of the window's are counted, by status, in one
// line when it ends (or when the receiver closes).
package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"reconciled/internal/callback"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// Options are what a Receiver runs on.
type Options struct {
	Ledger *ledger.Ledger
	// SecretOf is a project's callback secret, false for a project whose
	// callbacks are not taken. It is asked at every callback, so that a
	// reload's secrets take effect at once.
	SecretOf func(project int64) ([]byte, bool)
	MaxBody  int64               // a larger body is 413, unread
	Now      func() time.Time    // dates the status history; nil: time.Now
	Log      func() *slog.Logger // the current logger (a reload may replace it); nil: discards
	// Stored, if set, is called after a group that changed stored
	// operations was committed, with the units it changed and their
	// operations that changed (what a reconcile of them must read: a new
	// operation is listed by no stored unit), on the writer's goroutine:
	// it must not block (the daemon's trigger of a reconcile of those
	// payments).
	Stored func(changes ledger.Changes)
	// MaxGroup bounds the callbacks of one transaction (default 1000).
	MaxGroup int
}

// Receiver receives callbacks: an http.Handler for one path (Listen
// routes it) and the writer that commits them.
type Receiver struct {
	o     Options
	queue chan *job

	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup // handlers with a job queued or being stored
	stop     chan struct{}
	done     chan struct{}

	refusals refusalLog

	countMu  sync.Mutex
	answered map[int]int64    // HTTP status → callbacks answered with it
	stored   map[string]int64 // outcome → callbacks stored with it
}

// Counts are what a receiver answered and stored since it started.
type Counts struct {
	Answered map[int]int64    // by HTTP status (200, 400, 403, 405, 413, 500, 503, ...)
	Stored   map[string]int64 // by outcome (new, updated, unchanged, older, sync stands)
}

// Counts returns a copy of the counters (the daemon's /metrics).
func (r *Receiver) Counts() Counts {
	r.countMu.Lock()
	defer r.countMu.Unlock()
	return Counts{Answered: maps.Clone(r.answered), Stored: maps.Clone(r.stored)}
}

// counted is a ResponseWriter that remembers the status it answered.
type counted struct {
	http.ResponseWriter
	status int
}

func (c *counted) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
	c.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (c *counted) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *counted) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.ResponseWriter.Write(b)
}

// count notes a callback's answer and, when stored, its outcome ("" if
// none).
func (r *Receiver) count(status int, outcome string) {
	r.countMu.Lock()
	defer r.countMu.Unlock()
	if status != 0 { // 0: nothing answered (the client went away)
		r.answered[status]++
	}
	if outcome != "" {
		r.stored[outcome]++
	}
}

// refusalBurst is how many refusals one window logs one by one;
// refusalWindow is the window's length, from its first refusal.
const refusalBurst = 20

var refusalWindow = time.Minute // a variable for the tests

// refusalLog is the window of refusals under way: how many it logged,
// and those it only counted, by status.
type refusalLog struct {
	mu     sync.Mutex
	logged int
	held   map[int]int
	timer  *time.Timer // nil: no window open
}

// job is one callback's operation on its way to the ledger.
type job struct {
	op     domain.Operation
	result chan result // buffered: the writer never waits
}

type result struct {
	outcome ledger.Outcome
	err     error
}

// New returns a Receiver and starts its writer; Close stops it.
func New(o Options) *Receiver {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		discard := slog.New(slog.DiscardHandler)
		o.Log = func() *slog.Logger { return discard }
	}
	if o.MaxGroup <= 0 {
		o.MaxGroup = 1000
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 64 << 10
	}
	r := &Receiver{o: o, queue: make(chan *job, o.MaxGroup), stop: make(chan struct{}), done: make(chan struct{}),
		answered: map[int]int64{}, stored: map[string]int64{}}
	go r.write()
	return r
}

// Close refuses new callbacks (503), lets those under way be stored and
// answered, and stops the writer. Shut the server down first: its
// handlers then have nothing left to wait for.
func (r *Receiver) Close() {
	r.mu.Lock()
	already := r.closed
	r.closed = true
	r.mu.Unlock()
	if already {
		<-r.done
		return
	}
	r.inflight.Wait()
	close(r.stop)
	<-r.done
	r.refusals.mu.Lock()
	t := r.refusals.timer
	r.refusals.mu.Unlock()
	if t != nil && t.Stop() {
		r.endRefusals()
	}
}

// ServeHTTP receives one callback.
func (r *Receiver) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	w := &counted{ResponseWriter: rw}
	outcome := ""
	defer func() { r.count(w.status, outcome) }()
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "callbacks are POSTed", http.StatusMethodNotAllowed)
		return
	}
	if req.ContentLength > r.o.MaxBody {
		r.refuse(w, req, http.StatusRequestEntityTooLarge, 0, "the body is larger than callbacks.max_body_bytes")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, req.Body, r.o.MaxBody)) // rw: its server closes the connection after an overlong body
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			r.refuse(w, req, http.StatusRequestEntityTooLarge, 0, "the body is larger than callbacks.max_body_bytes")
			return
		}
		r.refuse(w, req, http.StatusBadRequest, 0, "the body could not be read: "+err.Error())
		return
	}
	cb, err := callback.Read(body, r.o.SecretOf)
	switch {
	case errors.Is(err, callback.ErrUnknownProject), errors.Is(err, callback.ErrSignature):
		r.refuse(w, req, http.StatusForbidden, cb.ProjectID, err.Error())
		return
	case errors.Is(err, callback.ErrInvalid):
		// Signed by ECommPay and still not readable: a person must
		// look (ECommPay sends it again meanwhile, for 11 days).
		r.o.Log().Error("callback refused", r.who(req, http.StatusBadRequest, cb.ProjectID, err.Error())...)
		http.Error(w, "callback not usable", http.StatusBadRequest)
		return
	case err != nil:
		r.refuse(w, req, http.StatusBadRequest, cb.ProjectID, err.Error())
		return
	case !cb.HasOperation:
		r.o.Log().Info("callback without an operation: nothing to store", "project", cb.ProjectID)
		answer(w)
		return
	}
	res, err := r.store(req.Context(), cb.Operation)
	if errors.Is(err, errClosing) {
		http.Error(w, "stopping: send it again", http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		return // the client left: nobody to answer
	}
	op := &cb.Operation
	if res.err != nil {
		r.o.Log().Error("callback not stored", "project", op.ProjectID, "operation_id", op.OperationID, "err", res.err)
		http.Error(w, "not stored", http.StatusInternalServerError)
		return
	}
	if res.outcome == ledger.OutcomeOtherProject {
		// Signed with this project's key, about an operation of another:
		// ECommPay's ids are one space, so a person must look (a key
		// shared by two projects, or one in the wrong hands).
		other := "another project"
		if rec, ok, err := r.o.Ledger.Get(op.OperationID); err == nil && ok {
			other = "project " + strconv.FormatInt(rec.ProjectID, 10)
		}
		reason := fmt.Sprintf("operation %d is stored under %s; a callback signed with project %d's key does not change it", op.OperationID, other, op.ProjectID)
		r.o.Log().Error("callback refused", r.who(req, http.StatusBadRequest, op.ProjectID, reason)...)
		http.Error(w, "callback not usable", http.StatusBadRequest)
		return
	}
	outcome = res.outcome.String()
	r.o.Log().Info("callback", "project", op.ProjectID, "payment_id", domain.MaskCardNumbers(op.PaymentID), "operation_id", op.OperationID,
		"type", op.OperationType, "status", op.OperationStatus, "outcome", outcome)
	answer(w)
}

func answer(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "OK\n")
}

// errClosing: the receiver takes no more callbacks (503: ECommPay sends
// it again, to the next process).
var errClosing = errors.New("the receiver is closing")

// store queues op for the writer and waits for its commit: errClosing, or
// ctx's error when the client went away while it waited.
func (r *Receiver) store(ctx context.Context, op domain.Operation) (result, error) {
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return result{}, errClosing
	}
	r.inflight.Add(1)
	r.mu.RUnlock()
	defer r.inflight.Done()
	j := &job{op: op, result: make(chan result, 1)}
	r.o.Ledger.CallbacksWaiting(1) // a sync's next page waits for it (ledger.YieldToCallbacks)
	r.queue <- j                   // the writer runs until every handler in flight is done
	select {
	case res := <-j.result:
		return res, nil
	case <-ctx.Done():
		// Gone: its job is stored anyway, and nobody hears the 200;
		// ECommPay sends it again and finds it stored.
		return result{}, ctx.Err()
	}
}

// refuse answers a callback that is not taken, and says why in the log.
func (r *Receiver) refuse(w http.ResponseWriter, req *http.Request, status int, project int64, reason string) {
	if r.logRefusal(status) {
		r.o.Log().Warn("callback refused", r.who(req, status, project, reason)...)
	}
	http.Error(w, http.StatusText(status), status)
}

// logRefusal says whether a refusal is logged one by one; one that is not
// is counted for its window's summary (endRefusals).
func (r *Receiver) logRefusal(status int) bool {
	l := &r.refusals
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer == nil {
		l.logged, l.held = 0, nil
		l.timer = time.AfterFunc(refusalWindow, r.endRefusals)
	}
	if l.logged < refusalBurst {
		l.logged++
		return true
	}
	if l.held == nil {
		l.held = map[int]int{}
	}
	l.held[status]++
	return false
}

// endRefusals ends the window: what it only counted is logged in one
// line, and the next refusal opens a window of its own.
func (r *Receiver) endRefusals() {
	l := &r.refusals
	l.mu.Lock()
	held := l.held
	l.held, l.timer = nil, nil
	l.mu.Unlock()
	if len(held) == 0 {
		return
	}
	total, by := 0, make([]string, 0, len(held))
	for _, status := range slices.Sorted(maps.Keys(held)) {
		total += held[status]
		by = append(by, fmt.Sprintf("%d: %d", status, held[status]))
	}
	r.o.Log().Warn("callbacks refused, not logged one by one", "count", total, "by_status", strings.Join(by, ", "),
		"logged_first", refusalBurst, "window", refusalWindow.String())
}

// who are a refusal's log attributes: status, project (when read),
// remote address, forwarded-for (a proxy's; masked, shortened), reason.
func (r *Receiver) who(req *http.Request, status int, project int64, reason string) []any {
	a := []any{"status", status}
	if project != 0 {
		// An unknown project's id is the sender's text: masked like any.
		a = append(a, "project", domain.MaskCardNumbers(strconv.FormatInt(project, 10)))
	}
	a = append(a, "remote", req.RemoteAddr)
	if f := req.Header.Get("X-Forwarded-For"); f != "" {
		if len(f) > 200 {
			f = f[:200]
		}
		a = append(a, "forwarded_for", domain.MaskCardNumbers(domain.CleanName(f)))
	}
	return append(a, "reason", reason)
}

// write is the writer: it commits what is queued, a group at a time, until
// Close; then what is still queued, and returns.
func (r *Receiver) write() {
	defer close(r.done)
	group := make([]*job, 0, r.o.MaxGroup)
	for {
		group = group[:0]
		select {
		case j := <-r.queue:
			group = append(group, j)
		case <-r.stop:
			// No handler is in flight any more (Close waited): what is
			// queued is all there is.
			for len(r.queue) > 0 {
				group = append(group, <-r.queue)
			}
			if len(group) > 0 {
				r.commit(group)
			}
			return
		}
		// Whatever else waits joins this group: it arrived while the last
		// one was being committed.
	more:
		for len(group) < r.o.MaxGroup {
			select {
			case j := <-r.queue:
				group = append(group, j)
			default:
				break more
			}
		}
		r.commit(group)
	}
}

// commit stores a group in one transaction and answers each of it; a group
// the ledger refuses is stored again one by one (unless the database is
// damaged: then each hears the damage). Stored is told before anyone is
// answered: a callback answered has its reconcile asked for.
func (r *Receiver) commit(group []*job) {
	ops := make([]domain.Operation, len(group))
	for i, j := range group {
		ops[i] = j.op
	}
	results := make([]result, len(group))
	outcomes, changed, err := r.o.Ledger.UpsertCallbacks(ops, r.o.Now())
	switch {
	case err == nil:
		for i := range group {
			results[i].outcome = outcomes[i]
		}
	case len(group) == 1 || errors.Is(err, ledger.ErrDamaged):
		for i := range group {
			results[i].err = err
		}
	default:
		changed = ledger.Changes{}
		for i := range group {
			out, ch, err := r.o.Ledger.UpsertCallbacks(ops[i:i+1], r.o.Now())
			if err != nil {
				results[i].err = err
				continue
			}
			results[i].outcome = out[0]
			changed.Add(ch)
		}
	}
	r.o.Ledger.CallbacksWaiting(-len(group))
	if len(changed) > 0 && r.o.Stored != nil {
		r.o.Stored(changed)
	}
	for i, j := range group {
		j.result <- results[i]
	}
}
