//go:build linux

package receiver

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
)

// A database that cannot grow (the disk full, a file size limit) fails
// the commit: those callbacks are answered 500, never 200, and nothing of
// them is stored; those that fit are answered 200 and are stored; once
// there is room, ECommPay's retry stores the rest. The limit is this
// process's RLIMIT_FSIZE (writes past it fail with EFBIG; Go ignores
// SIGXFSZ), set to the file's size: bbolt's next growth fails. It runs
// in a child process (this test binary again): the limit is the whole
// process's, and the parent's test log must stay writable.
func TestACommitThatFailsIsNeverAnswered200(t *testing.T) {
	if os.Getenv("RECEIVER_FULL_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestACommitThatFailsIsNeverAnswered200$", "-test.v")
		cmd.Env = append(os.Environ(), "RECEIVER_FULL_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if !bytes.Contains(out, []byte("--- PASS: TestACommitThatFailsIsNeverAnswered200")) {
			t.Fatalf("the child did not run the test:\n%s", out)
		}
		return
	}
	g := newRig(t, ServerOptions{MaxConnections: 64})
	if s, _ := post(t, g.url, signed(t, op(10000000000200000, "order-first", "success"))); s != 200 {
		t.Fatalf("first: %d", s)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	full := syscall.Rlimit{Cur: uint64(g.l.Size()), Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &full); err != nil {
		t.Fatal(err)
	}
	restore := func() { syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) }
	defer restore()

	var mu sync.Mutex
	answers := map[uint64]int{}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				id := 10000000000200001 + uint64(w*100+i)
				resp, err := http.Post(g.url, "application/json", bytes.NewReader(signed(t, op(id, fmt.Sprintf("order-%d", id), "success"))))
				s := 0
				if err == nil {
					s = resp.StatusCode
					resp.Body.Close()
				}
				mu.Lock()
				answers[id] = s
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	restore()
	var refused []uint64
	for id, s := range answers {
		_, stored, err := g.l.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case s == 200 && !stored:
			t.Errorf("operation %d was answered 200 and is not stored", id)
		case s != 200 && stored:
			t.Errorf("operation %d was answered %d and is stored", id, s)
		case s != 200 && s != 500:
			t.Errorf("operation %d: %d", id, s)
		case s == 500:
			refused = append(refused, id)
		}
	}
	if len(refused) == 0 {
		t.Fatal("no commit failed: the test did not fill the file")
	}
	for _, id := range refused { // ECommPay sends them again
		if s, _ := post(t, g.url, signed(t, op(id, fmt.Sprintf("order-%d", id), "success"))); s != 200 || !g.has(t, id) {
			t.Errorf("operation %d again, with room: %d", id, s)
		}
	}
	if err := g.l.Check(); err != nil {
		t.Error(err)
	}
	if g.l.Err() != nil {
		t.Errorf("a full disk was taken for damage: %v", g.l.Err())
	}
}
