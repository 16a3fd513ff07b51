package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"reconciled/internal/analytics"
	"reconciled/internal/app"
	"reconciled/internal/domain"
	"reconciled/internal/export"
)

// statsRequest is a stats' command line.
type statsRequest struct {
	from, to timeFlag
	by       string
	filter   export.Filter
}

func parseStats(f flagOut, args []string) (request, error) {
	fs := newFlagSet(f, "stats", "[--from T --to T] [--by day|method|status|currency|project] [filters]", `  reconciled stats
  reconciled stats --from 2026-11-01 --to 2026-12-01 --by method
  reconciled stats --by currency --method advcash
`)
	var r statsRequest
	var projects int64ListFlag
	var methods, currencies listFlag
	fs.StringVar(&r.by, "by", "day", "the grouped table: day, method, status, currency or project")
	fs.Var(&r.from, "from", "operations created at or after (in data_api.tz)")
	fs.Var(&r.to, "to", "operations created before")
	fs.Var(&projects, "project", "project id(s)")
	fs.Var(&methods, "method", "payment method(s)")
	fs.Var(&currencies, "currency", "currency code(s)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if !slices.Contains(export.SummaryTables, r.by) {
		return nil, usagef("--by %q: use %s", r.by, strings.Join(export.SummaryTables, ", "))
	}
	r.filter = export.Filter{Projects: projects, Methods: methods, Currencies: currencies}
	return &r, nil
}

func (r *statsRequest) run(ctx context.Context, e env) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if err := resolveWindow(cfg, &r.from, &r.to); err != nil {
		return err
	}
	a, err := e.open(cfg, true)
	if err != nil {
		return err
	}
	s, err := a.Summary(ctx, app.SummaryRequest{From: r.from.t, To: r.to.t, Filter: r.filter, Progress: newProgress(e.stderr(), "stats")})
	if err != nil {
		return err
	}
	printStats(e.stdout(), s, r.by)
	return nil
}

// printStats prints the analytics as aligned tables.
func printStats(w io.Writer, s *analytics.Summary, by string) {
	t := s.Total
	fmt.Fprintf(w, "%d operations: %d successful, %d declined, %d not final; approval %s\n",
		t.Operations, t.Success, t.Decline, t.Pending, percent(t))
	curs := export.Currencies(s)

	rows, _ := export.SummaryRows(s, by)
	table(w, "by "+by, []string{by, "operations", "success", "declined", "pending", "approval", "successful volume"}, func(add func(...string)) {
		for _, r := range rows {
			add(r.Key, itoa(r.Operations), itoa(r.Success), itoa(r.Decline), itoa(r.Pending), percent(r.Totals), volumes(r.Volume, curs))
		}
	})
	table(w, "approval by method and day", []string{"method", "day", "success", "declined", "approval"}, func(add func(...string)) {
		for _, a := range s.Approval {
			add(a.Method, a.Day, itoa(a.Success), itoa(a.Decline), percent(a.Totals))
		}
	})
	total := 0
	for _, d := range s.Declines {
		total += d.Count
	}
	table(w, "top decline codes", []string{"code", "message", "count", "share"}, func(add func(...string)) {
		for i, d := range s.Declines {
			if i == 10 {
				break
			}
			add(d.Code, d.Message, itoa(d.Count), fmt.Sprintf("%.1f%%", 100*float64(d.Count)/float64(total)))
		}
	})
	table(w, "successful volume per currency", []string{"currency", "purchases", "volume", "payouts", "volume", "refunds", "volume"}, func(add func(...string)) {
		for _, v := range s.Volume {
			m := func(a int64) string {
				return app.GroupThousands(domain.Money{Amount: a, Currency: v.Currency}.String())
			}
			add(v.Currency, itoa(v.NPurchases), m(v.Purchases), itoa(v.NPayouts), m(v.Payouts), itoa(v.NRefunds), m(v.Refunds))
		}
	})
	table(w, "time to final status", []string{"method", "final operations", "median", "p95"}, func(add func(...string)) {
		for _, t := range s.TimeToFinal {
			add(t.Method, itoa(t.Count), t.Median.String(), t.P95.String())
		}
	})
}

func table(w io.Writer, title string, header []string, rows func(add func(...string))) {
	fmt.Fprintf(w, "\n%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	n := 0
	rows(func(cells ...string) {
		n++
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	})
	if n == 0 {
		fmt.Fprintln(tw, "(none)")
	}
	tw.Flush()
}

func itoa(n int) string { return strconv.Itoa(n) }

func percent(t analytics.Totals) string {
	r, ok := t.ApprovalRate()
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*r)
}

func volumes(v map[string]int64, curs []string) string {
	var parts []string
	for _, c := range curs {
		if a, ok := v[c]; ok {
			parts = append(parts, app.GroupThousands(domain.Money{Amount: a, Currency: c}.String()))
		}
	}
	return strings.Join(parts, ", ")
}
