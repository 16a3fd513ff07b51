package syncer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// A broken or hostile upstream that sends a new status with every
// operation: the sync warns of the most frequent words and says how many
// more there were, instead of a warning per word every ten minutes.
func TestUnknownWordWarningsAreBounded(t *testing.T) {
	const n = 150
	base := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	ops := make([]domain.Operation, n)
	for i := range ops {
		ops[i] = domain.Operation{ProjectID: 580, OperationID: uint64(10000000000000000 + i), PaymentID: fmt.Sprintf("p-%d", i),
			OperationType: "sale", OperationStatus: fmt.Sprintf("odd status %d", i), PaymentType: "purchase", PaymentStatus: "success",
			PaymentMethod: "card", CreatedAt: base.Add(time.Duration(i) * time.Second), SumInitial: domain.Money{Amount: 100, Currency: "EUR"}}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Offset int `json:"offset"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		page := ops
		if req.Offset > 0 {
			page = nil
		}
		w.Write(dataapi.AppendSignedOperationsResponse(nil, []byte(secret), page, func(int) dataapi.EncodeOptions { return dataapi.EncodeOptions{} }))
	}))
	defer srv.Close()
	client, err := dataapi.New(dataapi.Options{BaseURL: srv.URL, Token: token, Secret: []byte(secret), PageSize: 200,
		Retry: dataapi.Retry{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(filepath.Join(t.TempDir(), "sync.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var logs bytes.Buffer
	s := &Syncer{Client: client, Ledger: l, Projects: []int64{580}, Lookback: time.Hour, Start: base.Add(-time.Hour),
		Now: func() time.Time { return base.Add(time.Hour) }, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	res, err := s.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unknown) != n {
		t.Fatalf("%d unknown words counted, want %d", len(res.Unknown), n)
	}
	if got := strings.Count(logs.String(), "does not know"); got > 25 {
		t.Errorf("one sync logged %d warnings about unknown words; want a bounded number (the most frequent, and how many more)", got)
	}
}
