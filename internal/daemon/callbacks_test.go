package daemon

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/callback"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// freePort is a loopback address with a port free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// A callback that says a payment the books call paid was declined makes
// its item a status_mismatch within seconds, before any sync: the daemon
// reconciles what callbacks stored, so that status, export and the report
// see the new verdict.
func TestACallbackReconcilesItsPayment(t *testing.T) {
	_, path, db := daemonFolder(t)
	addr := freePort(t)
	cfg, l := openConfig(t, path, db, fmt.Sprintf("[callbacks]\nlisten = %q\n[[callbacks.project]]\nid = 580\nsecret = \"cb-key\"\n", addr))

	// The sync saw the payment processing; the books say paid; the stored
	// reconciliation says pending.
	now := time.Now().UTC().Truncate(time.Second)
	op := domain.Operation{ProjectID: 580, OperationID: 10000000000000001, PaymentID: "order-1", PaymentType: "purchase",
		PaymentStatus: "processing", OperationType: "sale", OperationStatus: "processing", PaymentMethod: "card",
		CreatedAt: now.Add(-time.Minute), SumInitial: domain.Money{Amount: 100000, Currency: "UAH"},
		SumConverted: domain.Money{Amount: 100000, Currency: "UAH"}}
	if _, err := l.UpsertPage([]domain.Operation{op}, now); err != nil {
		t.Fatal(err)
	}
	rec := domain.Record{Source: "records", PaymentID: "order-1", Type: "purchase", Amount: op.SumInitial, Status: "paid", CreatedAt: op.CreatedAt, Origin: "books.csv:2"}
	if _, err := l.ImportRecords([]domain.Record{rec}, ledger.Import{At: now, File: "books.csv", Source: "records"}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := app.New(app.App{Config: cfg, Ledger: l}).RunReconcile(t.Context(), app.RunRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := resultOf(t, l, "order-1"); got != domain.ResultPending {
		t.Fatalf("before the callback: %s", got)
	}

	log, stop := startDaemon(t, path, cfg, l)
	if !bytes.Contains([]byte(log.String()), []byte("callbacks="+addr)) {
		t.Errorf("the start line does not say where callbacks are received:\n%s", log.String())
	}

	declined := op
	declined.OperationStatus, declined.PaymentStatus, declined.Code, declined.Message = "decline", "decline", "100", "General decline"
	declined.CompletedAt = now
	resp, err := http.Post("http://"+addr+config.DefaultCallbackPath, "application/json", bytes.NewReader(callback.Signed([]byte("cb-key"), &declined)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("callback: %d\n%s", resp.StatusCode, log.String())
	}
	deadline := time.Now().Add(20 * time.Second)
	for resultOf(t, l, "order-1") != domain.ResultStatusMismatch {
		if time.Now().After(deadline) {
			t.Fatalf("20 s after the callback the item is %s; the daemon said:\n%s", resultOf(t, l, "order-1"), log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitLog(t, log, "reconciled what callbacks changed")

	// A reload takes a new secret at once; one that moves the listener is
	// refused, and the old one goes on.
	writeConfig(t, path, db, fmt.Sprintf("[callbacks]\nlisten = %q\n[[callbacks.project]]\nid = 580\nsecret = \"new-key\"\n", addr))
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLog(t, log, "config reloaded")
	later := declined
	later.OperationID, later.PaymentID = 10000000000000002, "order-2"
	if s := postCB(t, addr, callback.Signed([]byte("cb-key"), &later)); s != 403 {
		t.Errorf("with the old key after the reload: %d", s)
	}
	if s := postCB(t, addr, callback.Signed([]byte("new-key"), &later)); s != 200 {
		t.Errorf("with the new key after the reload: %d", s)
	}
	writeConfig(t, path, db, fmt.Sprintf("[callbacks]\nlisten = %q\npath = \"/elsewhere\"\n[[callbacks.project]]\nid = 580\nsecret = \"new-key\"\n", addr))
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLog(t, log, "reload refused: [callbacks]")

	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := http.Post("http://"+addr+config.DefaultCallbackPath, "application/json", nil); err == nil {
		t.Error("the receiver still answers after the daemon stopped")
	}
}

func postCB(t *testing.T, addr string, body []byte) int {
	t.Helper()
	resp, err := http.Post("http://"+addr+config.DefaultCallbackPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// resultOf is the stored result code of a payment's item.
func resultOf(t *testing.T, l *ledger.Ledger, payment string) string {
	t.Helper()
	got := ""
	if err := l.ForEachItem(func(it *domain.Item) error {
		if it.PaymentID == payment {
			got = it.Result
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}
