package reconcile

import (
	"flag"
	"testing"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/fakeapi"
)

var benchOps = flag.Int("run.ops", 300_000, "operations in BenchmarkRun")

// BenchmarkRun is the engine alone on the fake's operations and records
// that agree with them (one per purchase, payout and refund operation):
// what `reconcile` spends after loading.
func BenchmarkRun(b *testing.B) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	f, err := fakeapi.New(fakeapi.Config{Token: "t", Secret: []byte("s"), Seed: 5, Start: start, Count: *benchOps, Step: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	now := start.Add(time.Duration(*benchOps)*time.Second + 40*24*time.Hour)
	ops := f.Operations(now)
	recs := make([]domain.Record, 0, len(ops))
	for i := range ops {
		op := &ops[i]
		kind := domain.Builtin.Type(op.OperationType).Kind
		if kind != domain.KindPurchase && kind != domain.KindPayout && kind != domain.KindRefund {
			continue
		}
		status := domain.RecordPaid
		if domain.Builtin.Outcome(op) == domain.OutcomeFailure {
			status = domain.RecordFailed
		}
		recs = append(recs, domain.Record{Source: "records", PaymentID: op.PaymentID, Type: kind.Record(), Amount: op.SumInitial,
			Status: status, CreatedAt: op.CreatedAt, ProjectID: op.ProjectID, Method: op.PaymentMethod, Origin: "b.csv"})
	}
	in := Input{Operations: ops, Records: recs}
	b.ResetTimer()
	for b.Loop() {
		out := Run(in, Config{Now: now})
		if len(out.Items) < len(recs)*9/10 {
			b.Fatalf("%d items for %d records", len(out.Items), len(recs))
		}
	}
	b.ReportMetric(float64(len(ops))*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
