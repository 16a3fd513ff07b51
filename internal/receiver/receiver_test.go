package receiver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reconciled/internal/callback"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

var (
	secret = []byte("the-project's-own-callback-key")
	t0     = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
)

func secrets(project int64) ([]byte, bool) {
	if project == 580 {
		return secret, true
	}
	return nil, false
}

// logBuffer is a slog handler's output, safe to read while requests log.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// rig is a receiver on a real ledger, served on loopback.
type rig struct {
	l      *ledger.Ledger
	r      *Receiver
	srv    *Server
	url    string
	log    *logBuffer
	stored atomic.Int32 // calls of Stored
}

func newRig(t *testing.T, so ServerOptions) *rig {
	t.Helper()
	l, err := ledger.Open(filepath.Join(t.TempDir(), "test.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := &rig{l: l, log: &logBuffer{}}
	log := slog.New(slog.NewTextHandler(g.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g.r = New(Options{Ledger: l, SecretOf: secrets, MaxBody: 64 << 10, Now: func() time.Time { return t0 }, Log: func() *slog.Logger { return log },
		Stored: func(ch ledger.Changes) { g.stored.Add(int32(len(ch))) }})
	if so.Listen == "" {
		so.Listen = "127.0.0.1:0"
	}
	if so.Path == "" {
		so.Path = "/ecommpay/callback"
	}
	if so.MaxConnections == 0 {
		so.MaxConnections = 16
	}
	so.Log = log
	g.srv, err = Listen(g.r, so)
	if err != nil {
		t.Fatal(err)
	}
	go g.srv.Serve()
	scheme := "http"
	if so.Certificate != nil {
		scheme = "https"
	}
	g.url = scheme + "://" + g.srv.Addr().String() + so.Path
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		g.srv.Shutdown(ctx)
		g.r.Close()
		l.Close()
	})
	return g
}

func op(id uint64, payment, status string) domain.Operation {
	o := domain.Operation{ProjectID: 580, OperationID: id, PaymentID: payment, PaymentType: "purchase", PaymentStatus: status,
		OperationType: "sale", OperationStatus: status, PaymentMethod: "card", AccountNumber: "411111******1111",
		CreatedAt: t0.Add(-time.Minute), SumInitial: domain.Money{Amount: 100000, Currency: "UAH"},
		SumConverted: domain.Money{Amount: 100000, Currency: "UAH"}, ProviderID: 1203, Code: "0", Message: "Success"}
	if o.Final() {
		o.CompletedAt = t0
	}
	return o
}

func signed(t testing.TB, o domain.Operation) []byte {
	t.Helper()
	return callback.Signed(secret, &o)
}

func post(t testing.TB, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (g *rig) has(t *testing.T, id uint64) bool {
	t.Helper()
	_, ok, err := g.l.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestAnswers(t *testing.T) {
	g := newRig(t, ServerOptions{})
	good := signed(t, op(10000000000000001, "order-1", "success"))
	seedBody, err := os.ReadFile(filepath.Join("..", "callback", "testdata", "advcash-purchase-success.json"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(signed(t, op(10000000000000002, "order-2", "success")), []byte(`"amount":100000`), []byte(`"amount":1`), 1)
	unknown := bytes.Replace(signed(t, op(10000000000000003, "order-3", "success")), []byte(`"project_id":580`), []byte(`"project_id":999`), 1)
	noOp, _ := callback.Sign(secret, []byte(`{"project_id":580,"payment":{"id":"order-4"},"redirect_data":{"method":"GET"}}`))
	invalid, _ := callback.Sign(secret, []byte(`{"project_id":580,"payment":{"id":"order-5"},"operation":{"id":10000000000000005,"type":"sale"}}`))

	for _, c := range []struct {
		name   string
		body   []byte
		status int
		log    string
	}{
		{"a good one", good, 200, `msg=callback project=580 payment_id=order-1 operation_id=10000000000000001 type=sale status=success outcome=new`},
		{"the same again", good, 200, `outcome=unchanged`},
		{"a seed example as published", seedBody, 400, `msg="callback refused" status=400 remote=127.0.0.1:`},
		{"tampered", tampered, 403, `msg="callback refused" status=403 project=580 remote=127.0.0.1:`},
		{"an unknown project", unknown, 403, `project=999`},
		{"no operation", noOp, 200, `callback without an operation: nothing to store`},
		{"signed but unusable", invalid, 400, `level=ERROR msg="callback refused" status=400 project=580`},
		{"too large", append(good[:len(good)-1:len(good)-1], []byte(`,"pad":"`+strings.Repeat("x", 70<<10)+`"}`)...), 413, `status=413`},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := g.log.String()
			status, _ := post(t, g.url, c.body)
			if status != c.status {
				t.Errorf("status %d, want %d", status, c.status)
			}
			if got := strings.TrimPrefix(g.log.String(), before); !strings.Contains(got, c.log) {
				t.Errorf("logged\n%s\nwant a line with %s", got, c.log)
			}
		})
	}
	for _, id := range []uint64{10000000000000002, 10000000000000003, 10000000000000005} {
		if g.has(t, id) {
			t.Errorf("operation %d of a refused callback was stored", id)
		}
	}
	if !strings.Contains(g.log.String(), "reason=\"malformed callback: not valid JSON: invalid character 'x' at start of value at /operation/provider/id") {
		t.Errorf("the malformed seed's reason is not logged:\n%s", g.log.String())
	}
	if n := g.stored.Load(); n != 1 {
		t.Errorf("Stored told of %d payments, want one (the one new operation)", n)
	}

	// Only POST, only at the path.
	resp, err := http.Get(g.url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if status, _ := post(t, strings.TrimSuffix(g.url, "/callback")+"/other", good); status != 404 {
		t.Errorf("another path: %d", status)
	}
}

// A chunked body (no Content-Length to refuse it by) is cut at the
// limit: 413, nothing stored, whatever it would have said.
func TestAChunkedBodyPastTheLimitIs413(t *testing.T) {
	g := newRig(t, ServerOptions{})
	good := signed(t, op(10000000000000050, "order-50", "success"))
	body := append(good[:len(good)-1:len(good)-1], []byte(`,"pad":"`+strings.Repeat("x", 70<<10)+`"}`)...)
	resp, err := http.Post(g.url, "application/json", io.MultiReader(bytes.NewReader(body))) // not a bytes.Reader: sent chunked
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("status %d", resp.StatusCode)
	}
	if g.has(t, 10000000000000050) {
		t.Error("stored")
	}
}

// 200 means committed: every operation a 200 answered is in the ledger the
// moment the answer arrives, many callbacks at once (each group one
// transaction).
func TestAnsweredMeansStored(t *testing.T) {
	g := newRig(t, ServerOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := 10000000000100000 + uint64(i%300) // some twice
			resp, err := http.Post(g.url, "application/json", bytes.NewReader(signed(t, op(id, fmt.Sprintf("order-%d", id), "success"))))
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("operation %d: status %d", id, resp.StatusCode)
				return
			}
			if _, ok, err := g.l.Get(id); !ok || err != nil {
				errs <- fmt.Errorf("operation %d answered 200 and not stored (%v)", id, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c, _ := g.l.Counts(); c[580].Operations != 300 {
		t.Errorf("%d operations stored, want 300", c[580].Operations)
	}
	if err := g.l.Check(); err != nil {
		t.Error(err)
	}
	// Every callback counted as waiting was counted off once committed:
	// a count left above zero would hold every sync page back for good.
	if n := g.l.CallbacksPending(); n != 0 {
		t.Errorf("%d callbacks still counted as waiting", n)
	}
}

// A callback signed with one project's key that names an operation the
// ledger holds under another project is refused (400, at ERROR: signed,
// so it is ECommPay's or a key's holder's, and a person must look), and
// the other project's operation stays as the sync stored it.
func TestAnotherProjectsOperationIsRefused(t *testing.T) {
	g := newRig(t, ServerOptions{})
	theirs := op(10000000000000030, "order-of-581", "processing")
	theirs.ProjectID = 581
	if _, err := g.l.UpsertPage([]domain.Operation{theirs}, t0); err != nil {
		t.Fatal(err)
	}
	forged := op(10000000000000030, "order-30", "success") // project 580's key
	if status, _ := post(t, g.url, signed(t, forged)); status != 400 {
		t.Errorf("status %d, want 400", status)
	}
	rec, _, err := g.l.Get(theirs.OperationID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ProjectID != 581 || rec.PaymentID != "order-of-581" || rec.OperationStatus != "processing" {
		t.Errorf("the other project's operation became %d %s %s", rec.ProjectID, rec.PaymentID, rec.OperationStatus)
	}
	if want := `level=ERROR msg="callback refused" status=400 project=580`; !strings.Contains(g.log.String(), want) ||
		!strings.Contains(g.log.String(), "operation 10000000000000030 is stored under project 581") {
		t.Errorf("log:\n%s\nwant %s and the projects", g.log.String(), want)
	}
	if n := g.stored.Load(); n != 0 {
		t.Errorf("Stored told of %d units", n)
	}
}

// A store that fails answers 500, so that ECommPay sends the callback
// again; nothing is said to be stored.
func TestStoreFailureIs500(t *testing.T) {
	g := newRig(t, ServerOptions{})
	g.l.Close()
	if status, _ := post(t, g.url, signed(t, op(10000000000000009, "order-9", "success"))); status != 500 {
		t.Errorf("status %d, want 500", status)
	}
	if !strings.Contains(g.log.String(), `level=ERROR msg="callback not stored"`) || strings.Contains(g.log.String(), "outcome=") {
		t.Errorf("log:\n%s", g.log.String())
	}
}

// No log line of the receiver holds a secret or a full card number,
// whatever a callback carries.
func TestLogsHoldNoSecretOrCardNumber(t *testing.T) {
	g := newRig(t, ServerOptions{})
	const pan = "4111111111111111"
	o := op(10000000000000010, "order-10", "decline")
	o.AccountNumber, o.Message = pan, "card "+pan+" declined"
	body := signed(t, o)
	post(t, g.url, body)
	post(t, g.url, bytes.Replace(body, []byte(`"amount":100000`), []byte(`"amount":1`), 1)) // tampered
	post(t, g.url, []byte(`{"project_id":580,"`+pan+`":x}`))                                // malformed at a card number
	post(t, g.url, []byte(`{"project_id":"`+pan+`"}`))                                      // a card number for a project
	req, _ := http.NewRequest("POST", g.url, bytes.NewReader(bytes.Replace(body, []byte(`"amount":100000`), []byte(`"amount":2`), 1)))
	req.Header.Set("X-Forwarded-For", pan+", 10.0.0.1")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	log := g.log.String()
	if !strings.Contains(log, `forwarded_for="411111******1111, 10.0.0.1"`) {
		t.Errorf("the proxy's forwarded-for is not logged (masked):\n%s", log)
	}
	if strings.Contains(log, pan) || strings.Contains(log, string(secret)) {
		t.Errorf("the log holds a card number or the secret:\n%s", log)
	}
	rec, _, _ := g.l.Get(o.OperationID)
	if strings.Contains(rec.AccountNumber+rec.Message, pan) {
		t.Errorf("stored in full: %q %q", rec.AccountNumber, rec.Message)
	}
}

// Slow clients cannot hold the receiver: a connection that does not finish
// its headers, or its body, is closed by the server, and with every
// connection slot taken by such clients a real callback still gets in
// once they are cut.
func TestSlowClientsAreCut(t *testing.T) {
	g := newRig(t, ServerOptions{MaxConnections: 2, HeaderTimeout: 300 * time.Millisecond, BodyTimeout: 600 * time.Millisecond})
	addr := g.srv.Addr().String()
	headers, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer headers.Close()
	fmt.Fprintf(headers, "POST /ecommpay/callback HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	body, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	fmt.Fprintf(body, "POST /ecommpay/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"project_id\":") // and never the rest

	// Both slots are taken: a real callback waits, and gets in when the
	// slow ones are cut.
	done := make(chan int, 1)
	go func() { s, _ := post(t, g.url, signed(t, op(10000000000000011, "order-11", "success"))); done <- s }()
	for _, c := range []net.Conn{headers, body} {
		c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a guard for a failing test, not a measure
		b, err := io.ReadAll(bufio.NewReader(c))
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("the server kept a slow connection open (%q)", b)
		}
	}
	select {
	case s := <-done:
		if s != 200 {
			t.Errorf("the real callback: %d", s)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the real callback never got in")
	}
}

// Connections that hold a slot and send nothing cannot keep a callback
// out: with every slot taken by a client idle between requests
// (keep-alive) and one that connected and said nothing, and time limits
// far longer than the test, a real callback gets in at once — the
// connection that has waited longest for a request gives its slot up.
// Before, it waited for the idle limit (60 s by default), and 10,000
// such connections, renewed once a minute, kept ECommPay out for good.
func TestIdleConnectionsGiveTheirSlotToACallback(t *testing.T) {
	g := newRig(t, ServerOptions{MaxConnections: 2, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: time.Hour})
	addr := g.srv.Addr().String()
	idle := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer idle.CloseIdleConnections()
	resp, err := idle.Post(g.url, "application/json", bytes.NewReader(signed(t, op(10000000000000040, "order-40", "success"))))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close() // kept open, idle, by the transport
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	done := make(chan int, 1)
	go func() {
		fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := fresh.Post(g.url, "application/json", bytes.NewReader(signed(t, op(10000000000000041, "order-41", "success"))))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case s := <-done:
		if s != 200 {
			t.Errorf("the callback: %d", s)
		}
	case <-time.After(20 * time.Second): // a guard for a failing test, not a measure
		t.Fatal("two connections that send nothing kept a callback out")
	}
	if !g.has(t, 10000000000000041) {
		t.Error("not stored")
	}
}

// callbacks.path is a path, not a ServeMux pattern: braces are
// characters (a pattern's wildcard, or a panic at start for an unclosed
// one, which check-config let through), and only the path itself is
// served.
func TestThePathIsTakenAsWritten(t *testing.T) {
	g := newRig(t, ServerOptions{Path: "/cb/{project"})
	if s, _ := post(t, g.url, signed(t, op(10000000000000070, "order-70", "success"))); s != 200 {
		t.Errorf("at the path: %d", s)
	}
	g2 := newRig(t, ServerOptions{Path: "/cb/{project}/"})
	base := strings.TrimSuffix(g2.url, "/cb/{project}/")
	for _, other := range []string{"/cb/580/", "/cb/{project}/more", "/cb/%7Bproject%7D/x"} {
		if s, _ := post(t, base+other, signed(t, op(10000000000000071, "order-71", "success"))); s != 404 {
			t.Errorf("%s: %d, want 404", other, s)
		}
	}
	if g2.has(t, 10000000000000071) {
		t.Error("stored from another path")
	}
}

// Over TLS too: an idle TLS connection gives its slot up (its socket is
// closed, without waiting on a close_notify to a peer that reads
// nothing).
func TestAnIdleTLSConnectionGivesItsSlotUp(t *testing.T) {
	cert, pool := selfSigned(t)
	g := newRig(t, ServerOptions{MaxConnections: 1, IdleTimeout: time.Hour, Certificate: func() *tls.Certificate { return &cert }})
	tlsConf := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	idle := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}}
	defer idle.CloseIdleConnections()
	resp, err := idle.Post(g.url, "application/json", bytes.NewReader(signed(t, op(10000000000000080, "order-80", "success"))))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	done := make(chan int, 1)
	go func() {
		fresh := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf, DisableKeepAlives: true}}
		resp, err := fresh.Post(g.url, "application/json", bytes.NewReader(signed(t, op(10000000000000081, "order-81", "success"))))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case s := <-done:
		if s != 200 {
			t.Errorf("the callback: %d", s)
		}
	case <-time.After(20 * time.Second): // a guard for a failing test, not a measure
		t.Fatal("an idle TLS connection kept a callback out")
	}
}

// With a certificate the receiver speaks TLS only.
func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	g := newRig(t, ServerOptions{Certificate: func() *tls.Certificate { return &cert }})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	resp, err := client.Post(g.url, "application/json", bytes.NewReader(signed(t, op(10000000000000012, "order-12", "success"))))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !g.has(t, 10000000000000012) {
		t.Errorf("over TLS: %d", resp.StatusCode)
	}
	plain := signed(t, op(10000000000000013, "order-13", "success"))
	if resp, err := http.Post(strings.Replace(g.url, "https:", "http:", 1), "application/json", bytes.NewReader(plain)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 || g.has(t, 10000000000000013) {
			t.Errorf("plain HTTP to the TLS listener: %d", resp.StatusCode)
		}
	}
}

// Over TLS the receiver speaks HTTP/1.1 only, also to a client that
// offers HTTP/2: one HTTP/2 connection carries up to 250 requests at
// once, each a body of up to max_body_bytes read into memory, so
// max_connections would bound nothing (128 connections, 32,000 bodies);
// and the connection limit's idle rule reads HTTP/1's states.
func TestTLSIsHTTP1Only(t *testing.T) {
	cert, pool := selfSigned(t)
	g := newRig(t, ServerOptions{Certificate: func() *tls.Certificate { return &cert }})
	client := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	resp, err := client.Post(g.url, "application/json", bytes.NewReader(signed(t, op(10000000000000060, "order-60", "success"))))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 1 {
		t.Errorf("%d over %s, want 200 over HTTP/1.1", resp.StatusCode, resp.Proto)
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: c}, pool
}
