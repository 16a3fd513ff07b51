package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// A resolution's note that quotes a card number is stored masked: in the
// resolution, the audit trail, and the reason of the resolved item.
func TestAResolutionNoteIsStoredMasked(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(2, "p-short", at, 1000)}, []domain.Record{paid("p-short", at, 900)})
	ctx := context.Background()
	rs, err := a.Resolve(ctx, ResolveRequest{ID: "p-short", Reason: "bank-fee", Note: "refunded to card 4111 1111 1111 1111", User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	const want = "refunded to card 4111 11** **** 1111"
	if len(rs) != 1 || rs[0].Note != want {
		t.Fatalf("resolved %+v", rs)
	}
	audit, err := a.Ledger.Audit()
	if err != nil || len(audit) != 1 || audit[0].Note != want {
		t.Fatalf("audit %+v %v", audit, err)
	}
	out, err := a.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Items {
		if strings.Contains(it.Reason, "4111 1111 1111 1111") {
			t.Errorf("the item's reason quotes the card: %s", it.Reason)
		}
	}
}
