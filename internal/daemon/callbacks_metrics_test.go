package daemon

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"reconciled/internal/callback"
	"reconciled/internal/config"
	"reconciled/internal/domain"
)

// /metrics counts the callbacks: answered by status, stored by outcome.
func TestMetricsCountCallbacks(t *testing.T) {
	_, path, db := daemonFolder(t)
	addr, metricsAddr := freePort(t), freePort(t)
	cfg, l := openConfig(t, path, db, fmt.Sprintf("[daemon]\nmetrics = %q\n[callbacks]\nlisten = %q\n[[callbacks.project]]\nid = 580\nsecret = \"cb-key\"\n", metricsAddr, addr))
	_, stop := startDaemon(t, path, cfg, l)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()

	now := time.Now().UTC().Truncate(time.Second)
	op := domain.Operation{ProjectID: 580, OperationID: 10000000000000021, PaymentID: "order-21", PaymentType: "purchase",
		PaymentStatus: "success", OperationType: "sale", OperationStatus: "success", PaymentMethod: "card",
		CreatedAt: now, CompletedAt: now, SumInitial: domain.Money{Amount: 100, Currency: "UAH"}, SumConverted: domain.Money{Amount: 100, Currency: "UAH"}}
	url := "http://" + addr + config.DefaultCallbackPath
	for _, key := range []string{"cb-key", "cb-key", "not-the-key"} {
		resp, err := http.Post(url, "application/json", bytes.NewReader(callback.Signed([]byte(key), &op)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`reconciled_callbacks_answered_total{status="200"} 2`,
		`reconciled_callbacks_answered_total{status="403"} 1`,
		`reconciled_callbacks_stored_total{outcome="new"} 1`,
		`reconciled_callbacks_stored_total{outcome="unchanged"} 1`,
	} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("/metrics has no %s:\n%s", want, b)
		}
	}
}
