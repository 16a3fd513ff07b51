package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A report's baseline is stored with its record, replaces the schedule's
// previous one whole, is left alone by a day produced already, and the
// latest of every schedule is found.
func TestReportBaselines(t *testing.T) {
	l := openTemp(t)
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	seen := func(id, code string, amount int64) ReportSeen {
		return ReportSeen{ProjectID: 7, ID: id, Type: "purchase", Code: code, Amount: amount, Currency: "EUR", CreatedAt: now.Add(-time.Hour)}
	}
	if b, err := l.ReportBaselineOf("report|x|"); err != nil || b != nil {
		t.Fatalf("before any report: %v %v", b, err)
	}
	if b, err := l.LatestReportBaseline(); err != nil || b != nil {
		t.Fatalf("before any report, the latest: %v %v", b, err)
	}
	first := &ReportBaseline{Schedule: "report|x|", Day: "2026-11-22", At: now,
		Open: []ReportSeen{seen("a", "amount_mismatch", 100), seen("b", "overdue", 200), {ProjectID: 7, ID: "b", Type: "refund", Part: "operation:9", Code: "duplicate"}}}
	if err := l.SaveProduced(Produced{Key: "report|x|2026-11-22", At: now, Baseline: first}, nil); err != nil {
		t.Fatal(err)
	}
	second := &ReportBaseline{Schedule: "report|x|", Day: "2026-11-23", At: now.Add(24 * time.Hour), Open: []ReportSeen{seen("c", "duplicate", 300)}}
	if err := l.SaveProduced(Produced{Key: "report|x|2026-11-22", At: now, Baseline: second}, nil); !errors.Is(err, ErrProduced) {
		t.Fatalf("the same day again: %v", err)
	}
	b, err := l.ReportBaselineOf("report|x|")
	if err != nil || b == nil || b.Day != "2026-11-22" || len(b.Open) != 3 || b.Count != 3 {
		t.Fatalf("a day produced already changed the baseline: %+v %v", b, err)
	}
	if err := l.SaveProduced(Produced{Key: "report|x|2026-11-23", At: now, Baseline: second}, nil); err != nil {
		t.Fatal(err)
	}
	other := &ReportBaseline{Schedule: "report|y|", Day: "2026-11-23", At: now.Add(time.Hour), Open: []ReportSeen{seen("d", "overdue", 1)}}
	if err := l.SaveProduced(Produced{Key: "report|y|2026-11-23", At: now, Baseline: other}, nil); err != nil {
		t.Fatal(err)
	}
	b, err = l.ReportBaselineOf("report|x|")
	if err != nil || len(b.Open) != 1 || b.Open[0] != second.Open[0] {
		t.Fatalf("replaced: %+v %v", b, err)
	}
	latest, err := l.LatestReportBaseline()
	if err != nil || latest.Schedule != "report|x|" || len(latest.Open) != 1 || latest.Open[0].ID != "c" {
		t.Fatalf("latest %+v %v", latest, err)
	}
	rep, err := l.Verify(context.Background(), false)
	if err != nil || !rep.OK() || !strings.Contains(strings.Join(rep.Checked, "\n"), "report baselines: 2 schedules, 2 open exceptions seen") {
		t.Fatalf("check: %v %+v", err, rep)
	}

	// An entry that does not decode is damage the check names.
	if err := l.db.Update(func(tx *bolt.Tx) error {
		return root(tx).Bucket(bucketReportSeen).Bucket([]byte("report|y|")).Bucket(reportSeenOpen).Put([]byte("x"), []byte("{"))
	}); err != nil {
		t.Fatal(err)
	}
	rep, err = l.Verify(context.Background(), false)
	if err != nil || rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "report_seen/report|y|") {
		t.Fatalf("check of a damaged baseline: %v %+v", err, rep)
	}
	if _, err := l.ReportBaselineOf("report|y|"); !errors.Is(err, ErrDamaged) {
		t.Errorf("reading it: %v, want damage", err)
	}
}
