package app

import (
	"context"
	"testing"
	"time"

	"reconciled/internal/domain"
)

func TestCheckFindsNoProblemInAWholeLedger(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := testApp(t, []domain.Operation{sale(1, "p-ok", at, 1000)}, []domain.Record{paid("p-ok", at, 1000)})
	for _, quick := range []bool{true, false} {
		rep, err := a.Check(context.Background(), quick)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || len(rep.Checked) == 0 {
			t.Fatalf("quick %v: report %+v, want checks and no problem", quick, rep)
		}
	}
}
