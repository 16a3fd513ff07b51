package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/callback"
	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/receiver"
)

// callbacks is the demo's step 6: the receiver `run` serves with
// [callbacks], on loopback, with the demo's database; a callback declines
// a payment the sync saw processing and the books call paid, ECommPay
// sends it again, one signed with another key is refused, and the
// payment is reconciled at once: a status_mismatch before any sync.
func (d *demo) callbacks(ctx context.Context, a *app.App, l *ledger.Ledger) error {
	out := d.Out
	items, _, err := a.Items(ctx)
	if err != nil {
		return err
	}
	var it *domain.Item
	for i := range items {
		c := &items[i]
		if c.Result == domain.ResultPending && c.Type == domain.RecordPurchase && c.Merchant != nil && c.Merchant.Status == domain.RecordPaid &&
			c.Provider != nil && c.Provider.OperationStatus == domain.StatusProcessing && c.Part == "" {
			it = c
			break
		}
	}
	if it == nil {
		fmt.Fprintln(out, "6. callbacks: no pending payment the books call paid to show one on (more --operations)")
		return nil
	}
	rec, ok, err := l.Get(it.Provider.OperationID)
	if err != nil || !ok {
		return fmt.Errorf("demo: operation %d of %s: %v", it.Provider.OperationID, it.PaymentID, err)
	}
	// Each project's own key, new every run (not the Data API's secret).
	keys := map[int64][]byte{}
	for _, p := range a.Config.DataAPI.Projects {
		k := make([]byte, 16)
		rand.Read(k)
		keys[p] = []byte(hex.EncodeToString(k))
	}
	// The payments the callbacks changed, as the daemon collects them
	// (told before each answer).
	var mu sync.Mutex
	changes := ledger.Changes{}
	r := receiver.New(receiver.Options{Ledger: l, MaxBody: config.DefaultCallbackMaxBodyBytes, Now: d.Now,
		SecretOf: func(p int64) ([]byte, bool) { k, ok := keys[p]; return k, ok },
		Log:      func() *slog.Logger { return d.Logger },
		Stored:   func(ch ledger.Changes) { mu.Lock(); changes.Add(ch); mu.Unlock() }})
	srv, err := receiver.Listen(r, receiver.ServerOptions{Listen: "127.0.0.1:0", Path: config.DefaultCallbackPath, MaxConnections: 8, Log: d.Logger})
	if err != nil {
		r.Close()
		return err
	}
	go srv.Serve()
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(stop)
		r.Close()
	}()
	url := "http://" + srv.Addr().String() + config.DefaultCallbackPath
	fmt.Fprintf(out, "6. callbacks: the receiver `run` serves with [callbacks], on %s,\n   each callback checked with its project's own key before it is read\n", url)

	declined := rec.Operation
	declined.OperationStatus, declined.PaymentStatus = domain.StatusDecline, domain.StatusDecline
	declined.Code, declined.Message = "100", "General decline"
	declined.CompletedAt = d.Now().UTC()
	body := callback.Signed(keys[declined.ProjectID], &declined)
	status, err := postCallback(ctx, url, body)
	if err != nil {
		return err
	}
	first, _, err := l.Get(declined.OperationID)
	if err != nil {
		return err
	}
	stored := "stored"
	if first.OperationStatus != declined.OperationStatus {
		stored = "not stored" // never: a test holds the demo's output
	}
	fmt.Fprintf(out, "   %s %s was %s at the last sync; its callback says %s (code %s %s): %d, %s\n",
		it.PaymentID, it.Type, rec.OperationStatus, declined.OperationStatus, declined.Code, declined.Message, status, stored)
	if status, err = postCallback(ctx, url, body); err != nil {
		return err
	}
	again, _, err := l.Get(declined.OperationID)
	if err != nil {
		return err
	}
	changed := "nothing changed"
	if again.Operation != first.Operation || len(again.History()) != len(first.History()) || !again.StatusSince.Equal(first.StatusSince) {
		changed = "changed it" // never: a test holds the demo's output
	}
	fmt.Fprintf(out, "   the same callback again, as ECommPay retries until it hears 200: %d, %s\n", status, changed)
	forged := callback.Signed([]byte("not the project's key"), &declined)
	if status, err = postCallback(ctx, url, forged); err != nil {
		return err
	}
	fmt.Fprintf(out, "   the same signed with another key: %d, nothing stored\n", status)

	mu.Lock()
	units := changes
	mu.Unlock()
	res, ok, err := a.ReconcileUnits(ctx, units, d.User)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("demo: no stored reconciliation to bring up to date")
	}
	items, _, err = a.Items(ctx)
	if err != nil {
		return err
	}
	for i := range items {
		if now := &items[i]; now.PaymentID == it.PaymentID && now.Type == it.Type && now.Part == it.Part {
			payments := "payments"
			if res.Units == 1 {
				payments = "payment"
			}
			fmt.Fprintf(out, "   reconciled at once, before any sync (%d %s recomputed): %s %s %s → %s\n     %s\n",
				res.Units, payments, it.PaymentID, it.Type, it.Result, now.Result, now.Reason)
		}
	}
	var hist []string
	for _, h := range again.History() {
		hist = append(hist, fmt.Sprintf("%s (%s)", h.OperationStatus, h.Sources))
	}
	fmt.Fprintf(out, "   its status history, each status with who reported it: %s; the next sync that disagrees wins\n", strings.Join(hist, " → "))
	return nil
}

// postCallback posts one callback body and returns the status.
func postCallback(ctx context.Context, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("demo: post a callback: %w", err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
