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

	"reconciled/internal/app"
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
	res, err := m.app(cfg, l).RunReconcile(ctx, app.RunRequest{Recheck: !*noRecheck, From: from.t, To: to.t, User: m.user()})
	if err != nil {
		return err
	}
	printRun(m.Stdout, res)
	return nil
}

// printRun is what `reconcile` prints of a saved run.
func printRun(w io.Writer, res app.RunResult) {
	printSummary(w, res.Summary)
	if rc := res.Recheck; rc.Asked > 0 {
		fmt.Fprintf(w, "\nre-checked %d payments at the Data API: %d found, %d new and %d updated operations stored, %d failed\n",
			rc.Asked, rc.Found, rc.New, rc.Updated, rc.Failed)
	}
	for _, r := range res.Reopened {
		fmt.Fprintf(w, "re-opened: %s %s, resolved by %s at %s: the data changed\n", r.ID, r.Type, r.User, r.At.Format(time.DateTime))
	}
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
