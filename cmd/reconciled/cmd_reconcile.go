package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

func (m *Main) runReconcileCmd(ctx context.Context, args []string) error {
	fs := m.newFlagSet("reconcile", "[--from D --to D] [--no-recheck]", `  reconciled reconcile
  reconciled reconcile --from 2026-11-01 --to 2026-12-01
`)
	var from, to timeFlag
	fs.Var(&from, "from", "summarise items created at or after (in data_api.tz); all data is still matched")
	fs.Var(&to, "to", "summarise items created before")
	noRecheck := fs.Bool("no-recheck", false, "do not ask the Data API about overdue or missing payments first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	if !*noRecheck && cfg.Reconcile.Recheck {
		// The re-checks ask the Data API.
		if cfg, err = cfg.WithSecrets(config.NeedDataAPI); err != nil {
			return err
		}
	}
	if err := resolveWindow(cfg, &from, &to); err != nil {
		return err
	}
	l, err := m.openLedger(cfg, false)
	if err != nil {
		return err
	}
	defer l.Close()
	run, err := m.runReconcile(ctx, cfg, l, !*noRecheck)
	if err != nil {
		return err
	}
	summary, reopened, err := m.recordRun(l, run, from.t, to.t)
	if err != nil {
		return err
	}
	printSummary(m.Stdout, summary)
	if run.recheck.Asked > 0 {
		fmt.Fprintf(m.Stdout, "\nre-checked %d payments at the Data API: %d found, %d new and %d updated operations stored, %d failed\n",
			run.recheck.Asked, run.recheck.Found, run.recheck.New, run.recheck.Updated, run.recheck.Failed)
	}
	for _, r := range reopened {
		fmt.Fprintf(m.Stdout, "re-opened: %s %s, resolved by %s at %s: the data changed\n", r.ID, r.Type, r.User, r.At.Format(time.DateTime))
	}
	return nil
}

// recordRun stores a run's summary and the resolutions it found re-opened
// (each logged once in the audit trail), in one transaction.
func (m *Main) recordRun(l *ledger.Ledger, run reconcileRun, from, to time.Time) (ledger.Run, []domain.Resolution, error) {
	summary := summarise(inWindow(run.out.Items, from, to), m.Now(), from, to)
	summary.Rechecked = run.recheck.Asked
	var events []domain.AuditEvent
	var reopened []domain.Resolution
	for _, r := range run.out.Reopened {
		if !r.ReopenedAt.IsZero() {
			continue // reported already
		}
		r.ReopenedAt = m.Now().UTC()
		reopened = append(reopened, r)
		events = append(events, domain.AuditEvent{At: r.ReopenedAt, User: m.user(), Action: domain.AuditReopen,
			ProjectID: r.ProjectID, ID: r.ID, Type: r.Type, Part: r.Part, Code: r.Code, Reason: r.Reason, Detail: "the data changed since it was resolved"})
	}
	return summary, reopened, l.SaveRun(summary, reopened, events)
}

func inWindow(items []domain.Item, from, to time.Time) []domain.Item {
	if from.IsZero() && to.IsZero() {
		return items
	}
	var out []domain.Item
	for _, it := range items {
		if (!from.IsZero() && it.CreatedAt.Before(from)) || (!to.IsZero() && !it.CreatedAt.Before(to)) {
			continue
		}
		out = append(out, it)
	}
	return out
}

// summarise counts items and sums their amounts per result and currency:
// ECommPay's amount where there is one, else the merchant's.
func summarise(items []domain.Item, now, from, to time.Time) ledger.Run {
	run := ledger.Run{At: now.UTC(), From: from, To: to, Items: len(items), Counts: map[string]int{}, Amounts: map[string]map[string]int64{}}
	for _, it := range items {
		run.Counts[it.Result]++
		var m domain.Money
		switch {
		case it.Provider != nil:
			m = it.Provider.SumInitial
		case it.Merchant != nil:
			m = it.Merchant.Amount
		}
		if run.Amounts[it.Result] == nil {
			run.Amounts[it.Result] = map[string]int64{}
		}
		run.Amounts[it.Result][m.Currency] += m.Amount
	}
	return run
}

func printSummary(w io.Writer, run ledger.Run) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "reconciled %d items", run.Items)
	if !run.From.IsZero() || !run.To.IsZero() {
		fmt.Fprintf(w, " created in [%s, %s)", dateOrOpen(run.From), dateOrOpen(run.To))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "result\tcount\tamounts")
	for _, code := range domain.Results {
		n := run.Counts[code]
		if n == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", code, n, amounts(run.Amounts[code]))
	}
	tw.Flush()
}

func dateOrOpen(t time.Time) string {
	if t.IsZero() {
		return "…"
	}
	return t.UTC().Format(time.DateTime)
}

// amounts shows sums per currency: "1 234.00 UAH, 20.50 EUR".
func amounts(byCur map[string]int64) string {
	var parts []string
	for _, cur := range slices.Sorted(maps.Keys(byCur)) {
		parts = append(parts, groupThousands(domain.Money{Amount: byCur[cur], Currency: cur}.String()))
	}
	return strings.Join(parts, ", ")
}

// groupThousands puts a thin space between thousands of the leading
// number of s, for reading: "6057284690.32 UZS" → "6 057 284 690.32 UZS".
func groupThousands(s string) string {
	end := strings.IndexAny(s, ". ")
	if end < 0 {
		end = len(s)
	}
	start := 0
	if strings.HasPrefix(s, "-") {
		start = 1
	}
	digits := s[start:end]
	var b strings.Builder
	b.WriteString(s[:start])
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteRune('\u202F')
		}
		b.WriteRune(c)
	}
	b.WriteString(s[end:])
	return b.String()
}
