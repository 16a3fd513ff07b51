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

// reconcileRequest is a reconcile's command line.
type reconcileRequest struct {
	from, to  timeFlag
	noRecheck bool
}

func parseReconcile(f flagOut, args []string) (request, error) {
	fs := newFlagSet(f, "reconcile", "[--from D --to D] [--no-recheck]", `  reconciled reconcile
  reconciled reconcile --from 2026-11-01 --to 2026-12-01
`)
	var r reconcileRequest
	fs.Var(&r.from, "from", "summarise items created at or after (in data_api.tz); all data is still matched")
	fs.Var(&r.to, "to", "summarise items created before")
	fs.BoolVar(&r.noRecheck, "no-recheck", false, "do not ask the Data API about overdue or missing payments first")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *reconcileRequest) run(ctx context.Context, e env) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if !r.noRecheck && cfg.Reconcile.Recheck {
		// The re-checks ask the Data API.
		if cfg, err = cfg.WithSecrets(config.NeedDataAPI); err != nil {
			return err
		}
	}
	if err := resolveWindow(cfg, &r.from, &r.to); err != nil {
		return err
	}
	a, err := e.open(cfg, false)
	if err != nil {
		return err
	}
	res, err := a.RunReconcile(ctx, app.RunRequest{Recheck: !r.noRecheck, From: r.from.t, To: r.to.t, User: e.user()})
	if err != nil {
		return err
	}
	printRun(e.stdout(), res)
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
