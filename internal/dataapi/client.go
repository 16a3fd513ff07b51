// Package dataapi is the client of ECommPay's Data API: signed JSON requests
// to /operations/get and /operations/get-by-payment, paged by limit/offset,
// /financial-reporting/operations (the fees) and /balance/get (the
// balances, balance.go), with every response signature verified before
// anything is returned.
//
// Every wire name lives in wire.go. The signature algorithm is in
// signature.go; its golden tests are ECommPay's published vectors V1–V6.
// docs/data-api.md is the contract as implemented. Text that comes from
// upstream (error answers, broken answers) has the credentials redacted
// before any error carries it (redact.go).
package dataapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/redact"
)

// Options configure a Client. BaseURL, Token and Secret are required.
type Options struct {
	BaseURL  string // e.g. https://data.ecommpay.com/v1
	Token    string // 30 characters, made in the Dashboard
	Secret   []byte // the user's secret key ("salt")
	PageSize int    // 1..1000, default 1000
	// Fields are the operation parameters asked for (data_api.fields);
	// nil asks for every one reconciled stores (DefaultFields).
	Fields     []string
	Timeout    time.Duration
	Retry      Retry
	Logger     *slog.Logger
	HTTPClient *http.Client // default: a client with TLS 1.2 as the minimum
}

// Retry bounds how the client retries 429, 5xx, connection errors and
// timeouts: exponential backoff from BaseDelay, doubling up to MaxDelay, with
// jitter, never sooner than a Retry-After the server sent.
type Retry struct {
	MaxAttempts   int           // attempts in all, the first included; default 6
	BaseDelay     time.Duration // default 1s
	MaxDelay      time.Duration // default 1m
	MaxRetryAfter time.Duration // a longer Retry-After gives up at once; default 10m
}

// DefaultTimeout is the default time one call may take: the API says a call
// is "as a rule not over five minutes".
const DefaultTimeout = 6 * time.Minute

// maxBody bounds a response body; a full page of 1000 operations is about 1 MB.
const maxBody = 256 << 20

// Client calls the Data API. It is safe for concurrent use.
type Client struct {
	base     string
	token    string
	secret   []byte
	pageSize int
	fields   []string
	asked    ParamSet
	timeout  time.Duration
	retry    Retry
	http     *http.Client
	log      *slog.Logger
	// arraysInOrder: the server checks request signatures with long
	// arrays in index order (order.go); learnt from a refused request.
	arraysInOrder atomic.Bool
}

// New checks o and returns a Client.
func New(o Options) (*Client, error) {
	if o.BaseURL == "" {
		return nil, errors.New("dataapi: no base URL")
	}
	if o.Token == "" || len(o.Secret) == 0 {
		return nil, errors.New("dataapi: token and secret are required")
	}
	if o.PageSize == 0 {
		o.PageSize = MaxPageSize
	}
	if o.PageSize < 1 || o.PageSize > MaxPageSize {
		return nil, fmt.Errorf("dataapi: page size %d is not in 1..%d", o.PageSize, MaxPageSize)
	}
	if o.Fields == nil {
		o.Fields = DefaultFields()
	}
	asked, err := ParseFields(o.Fields)
	if err != nil {
		return nil, fmt.Errorf("dataapi: fields: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Retry.MaxAttempts <= 0 {
		o.Retry.MaxAttempts = 6
	}
	if o.Retry.BaseDelay <= 0 {
		o.Retry.BaseDelay = time.Second
	}
	if o.Retry.MaxDelay <= 0 {
		o.Retry.MaxDelay = time.Minute
	}
	if o.Retry.MaxRetryAfter <= 0 {
		o.Retry.MaxRetryAfter = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		o.HTTPClient = &http.Client{Transport: tr}
	}
	return &Client{
		base:     strings.TrimRight(o.BaseURL, "/"),
		token:    o.Token,
		secret:   o.Secret,
		pageSize: o.PageSize,
		fields:   slices.Clone(o.Fields),
		asked:    asked,
		timeout:  o.Timeout,
		retry:    o.Retry,
		http:     o.HTTPClient,
		log:      o.Logger,
	}, nil
}

// Query selects operations for Operations.
type Query struct {
	Projects      []int64 // at least one; split into requests of MaxSignedArray
	From, To      time.Time
	OperationType string // optional filter
}

// Page is one verified page of operations.
type Page struct {
	Projects   []int64 // the project ids of the request
	Offset     int
	Operations []domain.Operation
	Bytes      int // size of the response body
	Last       bool
	// Missing counts the records that lack a parameter that was asked
	// for and is not needed (it is stored empty), by field path.
	Missing map[string]int
	// Chargebacks are a page of /chargeback/list (Operations stays empty).
	Chargebacks []domain.Chargeback
}

// Operations pages through /operations/get for q and calls fn with every
// page, in order. A page reaches fn only after its signature is verified. It
// stops at the first error, from the API or from fn.
//
// The next page is requested as soon as a page has arrived, before that
// page is verified and handed to fn: the server prepares page n+1 while we
// check and store page n. When page n turns out to be the last (short),
// the request for n+1 is cancelled; it is the only request that can be
// wasted, one per call.
func (c *Client) Operations(ctx context.Context, q Query, fn func(*Page) error) error {
	return c.operations(ctx, PathOperations, c.fields, c.asked, q, fn)
}

// FinancialOperations is Operations through /financial-reporting/operations,
// asking for the fee alone: each record holds the required parameters
// (project, ids, times) and the fee charged (Operation.Fee), nothing else
// (the operations sync has the rest; half the bytes of a whole record). A
// record without a fee has none (no currency) and is counted in
// Page.Missing.
func (c *Client) FinancialOperations(ctx context.Context, q Query, fn func(*Page) error) error {
	return c.operations(ctx, PathFinancialOperations, FinancialFields(), RequiredParams|financialParams, q, fn)
}

func (c *Client) operations(ctx context.Context, path string, fields []string, asked ParamSet, q Query, fn func(*Page) error) error {
	if len(q.Projects) == 0 {
		return errors.New("dataapi: no project ids")
	}
	for start := 0; start < len(q.Projects); start += MaxSignedArray {
		group := q.Projects[start:min(start+MaxSignedArray, len(q.Projects))]
		req := OperationsRequest{
			Token:         c.token,
			ProjectID:     group,
			Interval:      &Interval{From: q.From.UTC().Format(TimeLayout), To: q.To.UTC().Format(TimeLayout)},
			TZ:            WireTZ,
			Limit:         c.pageSize,
			OperationType: q.OperationType,
			Fields:        fields,
		}
		decode := func(body []byte, p *Page) (int, error) {
			ops, missing, err := c.decode(path, asked, body)
			if err == nil {
				err = checkProjects(ops, req.ProjectID)
			}
			p.Operations, p.Missing = ops, missing
			return len(ops), err
		}
		if err := c.pages(ctx, path, req, decode, fn); err != nil {
			return fmt.Errorf("projects %v: %w", group, err)
		}
	}
	return nil
}

// pages requests the pages of req from path and hands each to fn once
// decode has read it (verified its signature, filled the page) and said
// how many records it held.
func (c *Client) pages(ctx context.Context, path string, req OperationsRequest, decode func(body []byte, p *Page) (int, error), fn func(*Page) error) error {
	ctx, cancel := context.WithCancel(ctx)
	var inflight sync.WaitGroup
	defer inflight.Wait() // a request made for a page after the last is over when we return
	defer cancel()        // … because it is cancelled first
	type response struct {
		body []byte
		err  error
	}
	request := func(offset int) <-chan response {
		ch := make(chan response, 1)
		r := req
		r.Offset = offset
		inflight.Go(func() {
			body, err := c.send(ctx, path, r)
			ch <- response{body, err}
		})
		return ch
	}
	offset := 0
	cur := request(0)
	for {
		r := <-cur
		if r.err != nil {
			return fmt.Errorf("offset %d: %w", offset, r.err)
		}
		next := request(offset + c.pageSize)
		p := &Page{Projects: req.ProjectID, Offset: offset, Bytes: len(r.body)}
		n, err := decode(r.body, p)
		if err != nil {
			return fmt.Errorf("offset %d: %w", offset, err)
		}
		if n > c.pageSize {
			// Offsets would no longer line up with what was received.
			return fmt.Errorf("offset %d: %s sent %d records for a limit of %d", offset, path, n, c.pageSize)
		}
		p.Last = n < c.pageSize
		if err := fn(p); err != nil {
			return err
		}
		if p.Last {
			return nil
		}
		offset += c.pageSize
		cur = next
	}
}

// Chargebacks pages through /chargeback/list for q (its interval and
// projects) and calls fn with every page (Page.Chargebacks), in order, each
// only after its signature is verified.
func (c *Client) Chargebacks(ctx context.Context, q Query, fn func(*Page) error) error {
	if len(q.Projects) == 0 {
		return errors.New("dataapi: no project ids")
	}
	for start := 0; start < len(q.Projects); start += MaxSignedArray {
		group := q.Projects[start:min(start+MaxSignedArray, len(q.Projects))]
		req := OperationsRequest{
			Token:     c.token,
			ProjectID: group,
			Interval:  &Interval{From: q.From.UTC().Format(TimeLayout), To: q.To.UTC().Format(TimeLayout)},
			TZ:        WireTZ,
			Limit:     c.pageSize,
		}
		decode := func(body []byte, p *Page) (int, error) {
			cbs, err := c.decodeChargebacks(body)
			if err == nil {
				for i := range cbs {
					if !slices.Contains(group, cbs[i].ProjectID) {
						err = fmt.Errorf("the response holds chargeback %d of project %d, which was not asked for", cbs[i].ID, cbs[i].ProjectID)
						break
					}
				}
			}
			p.Chargebacks = cbs
			return len(cbs), err
		}
		if err := c.pages(ctx, PathChargebacks, req, decode, fn); err != nil {
			return fmt.Errorf("projects %v: %w", group, err)
		}
	}
	return nil
}

// decodeChargebacks verifies an answer of /chargeback/list and reads it.
func (c *Client) decodeChargebacks(resp []byte) ([]domain.Chargeback, error) {
	f := getFlat()
	defer putFlat(f)
	if err := f.flatten(resp); err != nil {
		return nil, fmt.Errorf("%s: malformed response: %w", PathChargebacks, err)
	}
	if err := verifyAnyArrayOrder(f, resp, c.secret); err != nil {
		return nil, fmt.Errorf("%s: response rejected, nothing from it is used: %w (check data_api.secret; if it is right, the response was changed on the way)", PathChargebacks, err)
	}
	cbs, err := decodeChargebacks(f)
	if err != nil {
		return nil, redact.Err(fmt.Errorf("%s: %w", PathChargebacks, err), c.credentials()...)
	}
	return cbs, nil
}

// checkProjects refuses operations of projects that were not asked for: a
// signed answer to another request.
func checkProjects(ops []domain.Operation, asked []int64) error {
	for i := range ops {
		if !slices.Contains(asked, ops[i].ProjectID) {
			return fmt.Errorf("the response holds operation %d of project %d, which was not asked for", ops[i].OperationID, ops[i].ProjectID)
		}
	}
	return nil
}

// OperationsByPayment returns every operation of one payment.
func (c *Client) OperationsByPayment(ctx context.Context, projectID int64, paymentID string) ([]domain.Operation, error) {
	req := PaymentRequest{Token: c.token, ProjectID: projectID, PaymentID: paymentID, TZ: WireTZ, Fields: c.fields}
	ops, _, err := c.call(ctx, PathOperationsByPayment, req)
	if err == nil {
		err = checkProjects(ops, []int64{projectID})
	}
	if err != nil {
		return nil, fmt.Errorf("payment %q of project %d: %w", paymentID, projectID, err)
	}
	return ops, nil
}

// call sends req and decodes the answer.
func (c *Client) call(ctx context.Context, path string, req any) ([]domain.Operation, int, error) {
	body, err := c.send(ctx, path, req)
	if err != nil {
		return nil, 0, err
	}
	ops, _, err := c.decode(path, c.asked, body)
	return ops, len(body), err
}

// send signs req and posts it with retries; it returns the raw answer.
func (c *Client) send(ctx context.Context, path string, req any) ([]byte, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	inOrder := c.arraysInOrder.Load()
	signed, err := c.signRequest(body, inOrder)
	if err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.post(ctx, path, signed)
	if err == nil || !refusedAsSigned(err) || !hasLongArray(body) {
		return resp, err
	}
	other, serr := c.signRequest(body, !inOrder)
	if serr != nil {
		return nil, err
	}
	resp, err2 := c.post(ctx, path, other)
	if err2 != nil {
		var a, b *APIError
		if errors.As(err, &a) && errors.As(err2, &b) && a.StatusCode == b.StatusCode && a.Code == b.Code {
			return nil, fmt.Errorf("%w (refused the same way when signed with array items in the other order)", err)
		}
		return nil, fmt.Errorf("%w (signed with array items in the other order: %v)", err, err2)
	}
	if c.arraysInOrder.CompareAndSwap(inOrder, !inOrder) {
		order := "index order (0, 1, 2, …, 10)"
		if inOrder {
			order = "path order (0, 1, 10, 2, …)"
		}
		c.log.Info("the Data API checks request signatures with array items in "+order+"; signing so from now on", "path", path)
	}
	return resp, nil
}

// decode verifies an answer's signature and reads its operations, with
// the count of records lacking each asked-for optional parameter. Nothing of
// an answer that fails verification, or lacks a needed parameter, is
// returned.
func (c *Client) decode(path string, asked ParamSet, resp []byte) ([]domain.Operation, map[string]int, error) {
	f := getFlat()
	defer putFlat(f)
	if err := f.flatten(resp); err != nil {
		return nil, nil, fmt.Errorf("%s: malformed response: %w", path, err)
	}
	if err := verifyAnyArrayOrder(f, resp, c.secret); err != nil {
		return nil, nil, fmt.Errorf("%s: response rejected, nothing from it is used: %w (check data_api.secret; if it is right, the response was changed on the way)", path, err)
	}
	d := opDecoder{loc: time.UTC, asked: asked, fees: path == PathFinancialOperations}
	ops, err := d.decodeOperations(f)
	if err != nil {
		// A value quoted from the answer: upstream text.
		return nil, nil, redact.Err(fmt.Errorf("%s: %w", path, err), c.credentials()...)
	}
	return ops, d.missing, nil
}

// post sends body to path, retrying what is worth retrying.
func (c *Client) post(ctx context.Context, path string, body []byte) ([]byte, error) {
	var lastErr error
	for attempt := 1; ; attempt++ {
		start := time.Now()
		resp, retryAfter, err := c.once(ctx, path, body)
		if err == nil {
			c.log.Debug("data api call", "path", path, "attempt", attempt, "bytes", len(resp), "elapsed", time.Since(start))
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lastErr = err
		if !retryable(err) {
			return nil, err
		}
		if attempt >= c.retry.MaxAttempts {
			hint := ""
			var api *APIError
			if !errors.As(lastErr, &api) {
				hint = "; check data_api.base_url and that this host reaches it"
			}
			return nil, fmt.Errorf("%w (gave up after %d attempts%s)", lastErr, attempt, hint)
		}
		if retryAfter > c.retry.MaxRetryAfter {
			return nil, fmt.Errorf("%w (server asks to wait %s, longer than %s: giving up)", lastErr, retryAfter, c.retry.MaxRetryAfter)
		}
		wait := max(backoff(c.retry, attempt), retryAfter)
		c.log.Warn("data api call failed, retrying", "path", path, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// once makes one HTTP call. A non-200 answer is an *APIError; the second
// result is the server's Retry-After, if any. Errors carry no credential
// (redact.go).
func (c *Client) once(ctx context.Context, path string, body []byte) ([]byte, time.Duration, error) {
	resp, retryAfter, err := c.onceRaw(ctx, path, body)
	if err != nil {
		creds := append(c.credentials(), signatureOf(body))
		if api, ok := err.(*APIError); ok {
			// Only the upstream's part: the hint is ours (and may name
			// data_api.secret, whatever the secret is).
			api.Code, api.Message = redact.Text(api.Code, creds...), shorten(redact.Text(api.Message, creds...))
		} else {
			err = redact.Err(err, creds...)
		}
	}
	return resp, retryAfter, err
}

func (c *Client) onceRaw(ctx context.Context, path string, body []byte) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, 0, &permanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + 1)
	}
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	data := buf.Bytes()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: read response: %w", path, err)
	}
	if len(data) > maxBody {
		return nil, 0, &permanentError{fmt.Errorf("%s: response larger than %d MiB", path, maxBody>>20)}
	}
	if resp.StatusCode == http.StatusOK {
		return data, 0, nil
	}
	return nil, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), newAPIError(path, resp.StatusCode, data)
}

// String names the client without its credentials, so that printing it
// (%v of a struct holding it) shows no token or secret.
func (c *Client) String() string { return "dataapi.Client(" + redactURL(c.base) + ")" }

// GoString is String for %#v.
func (c *Client) GoString() string { return c.String() }

// String shows the options without the token and secret.
func (o Options) String() string {
	return fmt.Sprintf("dataapi.Options{BaseURL:%s PageSize:%d Timeout:%s}", redactURL(o.BaseURL), o.PageSize, o.Timeout)
}

// GoString is String for %#v.
func (o Options) GoString() string { return o.String() }
