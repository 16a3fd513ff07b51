package receiver

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A flood of forged callbacks does not flood the log: the first
// refusalBurst of a window are logged one by one, the rest counted in one
// line when the window ends (by status); the next window logs one by one
// again. Anyone who can reach the listener can send forgeries.
func TestAFloodOfRefusalsIsSummed(t *testing.T) {
	defer func(w time.Duration) { refusalWindow = w }(refusalWindow)
	refusalWindow = 300 * time.Millisecond
	g := newRig(t, ServerOptions{})
	body := signed(t, op(10000000000000011, "order-11", "success"))
	forged := bytes.Replace(body, []byte(`"amount":100000`), []byte(`"amount":1`), 1)
	for range 100 {
		if status, _ := post(t, g.url, forged); status != 403 {
			t.Fatalf("a forged callback: %d, want 403", status)
		}
	}
	for range 7 {
		if status, _ := post(t, g.url, []byte(`{"project_id":580,`)); status != 400 {
			t.Fatalf("a malformed callback: %d, want 400", status)
		}
	}
	if n := strings.Count(g.log.String(), `msg="callback refused"`); n != refusalBurst {
		t.Errorf("%d refusals logged one by one during the flood, want %d:\n%s", n, refusalBurst, g.log.String())
	}
	summary := `msg="callbacks refused, not logged one by one" count=87 by_status="400: 7, 403: 80"`
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(g.log.String(), summary); {
		if time.Now().After(deadline) {
			t.Fatalf("no summary %s at the window's end:\n%s", summary, g.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A new window: logged one by one again.
	post(t, g.url, forged)
	if n := strings.Count(g.log.String(), `msg="callback refused"`); n != refusalBurst+1 {
		t.Errorf("after the window: %d refusals logged, want %d", n, refusalBurst+1)
	}
	// A real callback is still taken and logged.
	if status, _ := post(t, g.url, body); status != 200 {
		t.Errorf("the real callback: %d, want 200", status)
	}
}

// Refusals held when the receiver closes are summed then, not lost.
func TestRefusalsHeldAtCloseAreSummed(t *testing.T) {
	g := newRig(t, ServerOptions{})
	for range refusalBurst + 3 {
		post(t, g.url, []byte(`{"project_id":580,`))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	g.srv.Shutdown(ctx)
	g.r.Close()
	if !strings.Contains(g.log.String(), `msg="callbacks refused, not logged one by one" count=3 by_status="400: 3"`) {
		t.Errorf("no summary at close:\n%s", g.log.String())
	}
}

// The receiver counts what it answered, by status, and what storing did,
// by outcome (the daemon's /metrics).
func TestCounts(t *testing.T) {
	g := newRig(t, ServerOptions{})
	body := signed(t, op(10000000000000012, "order-12", "success"))
	post(t, g.url, body)
	post(t, g.url, body) // ECommPay's retry: nothing changes
	post(t, g.url, bytes.Replace(body, []byte(`"amount":100000`), []byte(`"amount":1`), 1))
	post(t, g.url, []byte(`{"project_id":580,`))
	if resp, _ := get(t, g.url); resp != 405 {
		t.Errorf("GET: %d, want 405", resp)
	}
	c := g.r.Counts()
	want := Counts{Answered: map[int]int64{200: 2, 400: 1, 403: 1, 405: 1}, Stored: map[string]int64{"new": 1, "unchanged": 1}}
	if !maps.Equal(c.Answered, want.Answered) || !maps.Equal(c.Stored, want.Stored) {
		t.Errorf("counts %v, want %v", c, want)
	}
}

func get(t *testing.T, url string) (int, error) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
