package reconcile

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// anAge is how a reason would state an age ("40d after", "1h after").
var anAge = regexp.MustCompile(`\d+(d|h|m|s|h\d+m) after`)

// The same data reconciled seconds or days later, with no deadline
// crossed in between, gives the same items byte for byte: reasons state
// dates and limits, never ages.
func TestVerdictsDoNotAgeWithTheClock(t *testing.T) {
	old := now.Add(-40 * day)
	recent := now.Add(-time.Hour)
	ops := []domain.Operation{
		op(1, "overdue-op", "sale", "processing", 100, "UAH", old),
		op(2, "overdue-rec", "sale", "success", 100, "UAH", old),
		op(3, "pending-op", "sale", "processing", 100, "UAH", recent),
		op(4, "matched", "sale", "success", 100, "UAH", old),
	}
	recs := []domain.Record{
		rec("overdue-op", "purchase", "paid", 100, "UAH", old),
		rec("overdue-rec", "purchase", "pending", 100, "UAH", old),
		rec("pending-op", "purchase", "paid", 100, "UAH", recent),
		rec("matched", "purchase", "paid", 100, "UAH", old),
		rec("gone", "purchase", "paid", 100, "UAH", old),
		rec("not-yet", "purchase", "paid", 100, "UAH", recent),
	}
	for seed := uint64(1); seed <= 5; seed++ {
		rops, rrecs := reviewData(rand.New(rand.NewPCG(seed, 7)), false)
		ops, recs = append(ops, rops...), append(recs, rrecs...)
	}
	run := func(at time.Time) ([]string, []string) {
		out := Run(Input{Operations: slices.Clone(ops), Records: slices.Clone(recs)}, Config{Now: at, AmountTolerance: 1})
		var results []string
		for i := range out.Items {
			results = append(results, out.Items[i].PaymentID+" "+out.Items[i].Part+" "+out.Items[i].Result)
		}
		return outputText(out), results
	}
	want, wantResults := run(now)
	for _, r := range wantResults {
		if strings.HasPrefix(r, "gone ") && !strings.HasSuffix(r, domain.ResultMissingAtProvider) ||
			strings.HasPrefix(r, "not-yet ") && !strings.HasSuffix(r, domain.ResultPending) {
			t.Fatalf("the data does not say what the test means: %s", r)
		}
	}
	for _, line := range want {
		if m := anAge.FindString(line); m != "" {
			t.Errorf("a reason states an age (%q): %s", m, line)
		}
	}
	for _, shift := range []time.Duration{time.Second, 7 * time.Second, time.Hour, 3 * day} {
		got, gotResults := run(now.Add(shift))
		if !slices.Equal(gotResults, wantResults) {
			t.Fatalf("+%v: a verdict changed: the test must cross no deadline", shift)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("+%v: line %d differs\n got %s\nwant %s", shift, i, got[i], want[i])
				break
			}
		}
	}
}

// A reason names the deadline and the limit it comes from.
func TestReasonsNameTheDeadline(t *testing.T) {
	old := now.Add(-40 * day)
	recent := now.Add(-time.Hour)
	tests := []struct {
		name   string
		ops    []domain.Operation
		recs   []domain.Record
		result string
		reason string
	}{
		{"missing_at_provider", nil, []domain.Record{rec("gone", "purchase", "paid", 100, "UAH", old)}, "missing_at_provider",
			"no ECommPay operation for the merchant's paid record of 1.00 UAH, created 2026-10-14 12:00 UTC, past the 35d limit for advcash purchase (ended 2026-11-18 12:00 UTC)"},
		{"pending record", nil, []domain.Record{rec("new", "purchase", "paid", 100, "UAH", recent)}, "pending",
			"no ECommPay operation for the merchant's paid record of 1.00 UAH, created 2026-11-23 11:00 UTC, within the 35d limit for advcash purchase (until 2026-12-28 11:00 UTC)"},
		{"pending operation", []domain.Operation{op(1, "p", "sale", "processing", 100, "UAH", recent)}, []domain.Record{rec("p", "purchase", "paid", 100, "UAH", recent)}, "pending",
			"ECommPay operation 1 is processing, created 2026-11-23 11:00 UTC, within the 35d limit for advcash purchase (until 2026-12-28 11:00 UTC)"},
		{"overdue operation", []domain.Operation{op(1, "p", "sale", "processing", 100, "UAH", old)}, []domain.Record{rec("p", "purchase", "paid", 100, "UAH", old)}, "overdue",
			"ECommPay operation 1 is processing, created 2026-10-14 12:00 UTC, past the 35d limit for advcash purchase (ended 2026-11-18 12:00 UTC)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Run(Input{Operations: tt.ops, Records: tt.recs}, Config{Now: now})
			if len(out.Items) != 1 {
				t.Fatalf("%d items", len(out.Items))
			}
			if it := out.Items[0]; it.Result != tt.result || it.Reason != tt.reason {
				t.Errorf("got  %s: %s\nwant %s: %s", it.Result, it.Reason, tt.result, tt.reason)
			}
		})
	}
}

// A limit is stated exactly: 60 hours is not "2d".
func TestLimitText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		35 * day: "35d", 24 * time.Hour: "24h", 60 * time.Hour: "2d12h", 36 * time.Hour: "36h", 90 * time.Minute: "1h30m",
		20 * time.Minute: "20m", 45 * time.Second: "45s", 3*day + 90*time.Second: "3d1m30s", 0: "0s",
	} {
		if got := limitText(d); got != want {
			t.Errorf("limitText(%v) = %q, want %q", d, got, want)
		}
	}
}
