package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"reconciled/internal/callback"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

const callbackKey = "project-580-callback-key"

// callbackOp is the operation of callback number i of a stream.
func callbackOp(i int) domain.Operation {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return domain.Operation{ProjectID: 580, OperationID: 20000000000000000 + uint64(i), PaymentID: fmt.Sprintf("cb-order-%d", i),
		PaymentType: "purchase", PaymentStatus: "success", OperationType: "sale", OperationStatus: "success", PaymentMethod: "card",
		AccountNumber: "411111******1111", CreatedAt: at, CompletedAt: at.Add(time.Minute),
		SumInitial: domain.Money{Amount: int64(1000 + i), Currency: "EUR"}, SumConverted: domain.Money{Amount: int64(1000 + i), Currency: "EUR"},
		ProviderID: 1203, ProviderPaymentID: fmt.Sprintf("prov-%d", i), Code: "0", Message: "Success"}
}

// stream posts callbacks from ids on workers goroutines until ids is
// empty or a post fails (the daemon died), recording each answered 200.
type stream struct {
	mu    sync.Mutex
	acked map[int]bool
}

func (s *stream) ack(i int)      { s.mu.Lock(); s.acked[i] = true; s.mu.Unlock() }
func (s *stream) count() int     { s.mu.Lock(); defer s.mu.Unlock(); return len(s.acked) }
func (s *stream) has(i int) bool { s.mu.Lock(); defer s.mu.Unlock(); return s.acked[i] }

func (s *stream) post(url string, ids <-chan int, workers int) (failed int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	client := &http.Client{Timeout: 30 * time.Second}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				op := callbackOp(i)
				resp, err := client.Post(url, "application/json", bytes.NewReader(callback.Signed([]byte(callbackKey), &op)))
				if err == nil {
					resp.Body.Close()
				}
				if err == nil && resp.StatusCode == 200 {
					s.ack(i)
					continue
				}
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed
}

// TestDaemonKilledInACallbackStreamLosesNoAnsweredCallback streams signed
// callbacks at a real daemon and SIGKILLs it in the middle, several times:
// every callback that was answered 200 is in the database after the kill,
// the database checks out, and ECommPay's retries of the others (sent to
// the restarted daemon) store each exactly once.
func TestDaemonKilledInACallbackStreamLosesNoAnsweredCallback(t *testing.T) {
	addr := freeLoopbackAddr(t)
	w := newWorld(t, 10, time.Minute, fmt.Sprintf("[callbacks]\nlisten = %q\n[[callbacks.project]]\nid = 580\nsecret = %q\n", addr, callbackKey))
	url := "http://" + addr + "/ecommpay/callback"
	const total = 3000
	s := &stream{acked: map[int]bool{}}
	rng := rand.New(rand.NewPCG(15, 3))
	for kill := 1; kill <= 3; kill++ {
		sd := newNotifySocket(t)
		cmd, out := w.daemonChild(t, sd)
		waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
		// Every callback not answered yet (ECommPay's retries, and new
		// ones), until the kill; the kill lands after a random number of
		// answers, with posts under way.
		ids, stop, done := make(chan int), make(chan struct{}), make(chan int)
		go func() { done <- s.post(url, ids, 8) }()
		go func() {
			defer close(ids)
			for i := range total {
				if s.has(i) {
					continue
				}
				select {
				case ids <- i:
				case <-stop:
					return
				}
			}
		}()
		before, killAt := s.count(), 200+rng.IntN(600)
		for s.count()-before < killAt {
			select {
			case <-done:
				t.Fatalf("kill %d: the stream ended before %d answers:\n%s", kill, killAt, out.String())
			case <-time.After(time.Millisecond):
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(stop)
		failed := <-done
		l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("after kill %d: %v", kill, err)
		}
		if err := l.Check(); err != nil {
			t.Fatalf("after kill %d the database is inconsistent: %v", kill, err)
		}
		lost := 0
		for i := range total {
			if !s.has(i) {
				continue
			}
			if _, ok, err := l.Get(callbackOp(i).OperationID); err != nil || !ok {
				lost++
			}
		}
		l.Close()
		t.Logf("kill %d: %d answered in all, %d posts cut by the kill", kill, s.count(), failed)
		if lost > 0 {
			t.Fatalf("kill %d: %d callbacks answered 200 are not in the database", kill, lost)
		}
	}
	// ECommPay sends again every callback not answered: all are stored,
	// each once.
	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
	ids := make(chan int)
	go func() {
		defer close(ids)
		for i := range total {
			if !s.has(i) {
				ids <- i
			}
		}
	}()
	if failed := s.post(url, ids, 8); failed > 0 {
		t.Fatalf("%d retries failed:\n%s", failed, out.String())
	}
	stopDaemon(t, cmd, out)
	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	c, _ := l.Counts()
	if c[580].Operations != total {
		t.Errorf("%d operations stored, want %d", c[580].Operations, total)
	}
	if s.count() != total {
		t.Errorf("%d of %d answered", s.count(), total)
	}
	if log := out.String(); strings.Contains(log, "panic") || strings.Contains(log, callbackKey) {
		t.Errorf("the daemon's log:\n%s", log)
	}
}

// check-config shows where callbacks are received and for which projects,
// never a secret.
func TestCheckConfigShowsCallbacks(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "[callbacks]\nlisten = \"127.0.0.1:8089\"\n[[callbacks.project]]\nid = 580\nsecret = \""+callbackKey+"\"\n")
	code, out, errOut := w.run(t, "check-config")
	if code != 0 || !strings.Contains(out, "  callbacks  http://127.0.0.1:8089/ecommpay/callback, projects [580], secrets <redacted>\n") {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, callbackKey) {
		t.Errorf("check-config shows the callback secret:\n%s%s", out, errOut)
	}
}

// A stream of callbacks through reloads and a stop: each SIGHUP (the
// config written again, a second project's key added and taken away)
// answers every callback with the key in force on both sides of it
// (never a 403, a 500), and SIGTERM in the middle of the stream answers
// those under way, refuses the rest (503, or no connection: ECommPay
// sends them again) and exits 0 with every callback answered 200 stored.
func TestCallbackStreamThroughReloadsAndAStop(t *testing.T) {
	addr := freeLoopbackAddr(t)
	one := fmt.Sprintf("[callbacks]\nlisten = %q\n[[callbacks.project]]\nid = 580\nsecret = %q\n", addr, callbackKey)
	two := one + "[[callbacks.project]]\nid = 579\nsecret = \"project-579-callback-key\"\n"
	w := newWorld(t, 10, time.Minute, one)
	base, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + addr + "/ecommpay/callback"
	sd := newNotifySocket(t)
	cmd, out := w.daemonChild(t, sd)
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })

	var mu sync.Mutex
	answered := map[int]int{} // callback → its last status (0: no answer)
	ids := make(chan int)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				op := callbackOp(i)
				status := 0
				if resp, err := client.Post(url, "application/json", bytes.NewReader(callback.Signed([]byte(callbackKey), &op))); err == nil {
					status = resp.StatusCode
					resp.Body.Close()
				}
				mu.Lock()
				answered[i] = status
				mu.Unlock()
			}
		}()
	}
	acked := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, s := range answered {
			if s == 200 {
				n++
			}
		}
		return n
	}
	stop := make(chan struct{})
	go func() {
		defer close(ids)
		for i := 0; ; i++ {
			select {
			case ids <- i:
			case <-stop:
				return
			}
		}
	}()
	for reload := 1; reload <= 4; reload++ {
		at := acked() + 100
		waitFor(t, fmt.Sprintf("%d answers", at), out, func() bool { return acked() >= at })
		text := string(base)
		if reload%2 == 1 {
			text = strings.Replace(text, one, two, 1)
		}
		if err := os.WriteFile(w.config, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd.Process.Signal(syscall.SIGHUP)
		waitFor(t, "the reload", out, func() bool { return strings.Count(out.String(), "config reloaded") == reload })
	}
	at := acked() + 100
	waitFor(t, fmt.Sprintf("%d answers", at), out, func() bool { return acked() >= at })
	stopDaemon(t, cmd, out)
	close(stop)
	wg.Wait()

	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	statuses := map[int]int{}
	for i, s := range answered {
		statuses[s]++
		if s != 200 && s != 503 && s != 0 {
			t.Errorf("callback %d: %d", i, s)
		}
		if _, ok, err := l.Get(callbackOp(i).OperationID); s == 200 && (err != nil || !ok) {
			t.Errorf("callback %d was answered 200 and is not stored", i)
		}
	}
	t.Logf("answers %v", statuses)
	if log := out.String(); strings.Contains(log, "panic") || strings.Contains(log, callbackKey) || strings.Contains(log, "reload refused") {
		t.Errorf("the daemon's log:\n%s", log)
	}
}
