package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// A resolution made before parts had keys, for a payment's one refund item
// has no Part. It holds for the refund part "operation:ID" (reconcile's
// finish), and `unresolve operation:ID`, the name the tools give the part,
// must find it.
func TestUnresolveALegacyRefundResolutionByItsPart(t *testing.T) {
	w := newWorld(t, 400, 5*time.Minute, "")
	w.now = w.now.Add(30 * 24 * time.Hour)
	w.mustRun(t, "sync", "--from", start.Format(time.DateOnly))
	ops := w.fake.Operations(w.now)
	refunds := map[string]int{}
	for _, op := range ops {
		if domain.Builtin.Type(op.OperationType).Kind == domain.KindRefund || op.OperationType == domain.OpRefundReverse {
			refunds[op.PaymentID]++
		}
	}
	var part domain.Operation
	for _, op := range ops {
		if op.OperationType == domain.OpRefund && op.OperationStatus == domain.StatusSuccess && refunds[op.PaymentID] == 1 {
			part = op
			break
		}
	}
	if part.OperationID == 0 {
		t.Fatal("no payment with one refund in the fake's data")
	}
	w.mustRun(t, "import", w.recordsFor(t, "books.csv", func(i int, op domain.Operation, f []string) []string {
		if op.OperationID == part.OperationID {
			return nil
		}
		return f
	}))
	ref := fmt.Sprintf("operation:%d", part.OperationID)
	w.mustRun(t, "resolve", ref, "--reason", "booked-later")
	// Make it what was stored before parts had keys: the same resolution, no part.
	l, err := ledger.Open(w.db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := l.Resolutions()
	if err != nil {
		t.Fatal(err)
	}
	var keys []domain.ResolutionKey
	var legacy []domain.Resolution
	for k, r := range all {
		if k.Part == ref {
			keys = append(keys, k)
			r.Part = ""
			legacy = append(legacy, r)
		}
	}
	if len(legacy) != 1 {
		t.Fatalf("%d resolutions of %s", len(legacy), ref)
	}
	if err := l.DeleteResolutions(keys, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.SaveResolutions(legacy, nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	w.mustRun(t, "reconcile", "--no-recheck")
	shown := ""
	for _, r := range exportRows(t, w, "--type", "refund") {
		if r[10] == fmt.Sprint(part.OperationID) {
			shown = r[0]
		}
	}
	if shown != domain.ResultResolved {
		t.Fatalf("the legacy resolution does not hold: %q", shown)
	}
	code, out, errOut := w.run(t, "unresolve", ref)
	if code != 0 || !strings.Contains(out, "unresolved") {
		t.Errorf("unresolve %s of an item shown resolved: exit %d\n%s%s", ref, code, out, errOut)
	}
}
