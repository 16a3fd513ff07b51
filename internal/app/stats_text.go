package app

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"reconciled/internal/analytics"
	"reconciled/internal/domain"
	"reconciled/internal/export"
)

// WriteStats writes the analytics as `stats` shows them: the totals, then
// aligned tables (the grouped one by by).
func WriteStats(w io.Writer, s *analytics.Summary, by string) {
	t := s.Total
	fmt.Fprintf(w, "%d operations: %d successful, %d declined, %d not final; approval %s\n",
		t.Operations, t.Success, t.Decline, t.Pending, percent(t))
	curs := export.Currencies(s)

	if by == StatsSettlement {
		table(w, "net settlement by day, project and currency", export.SettlementColumns, func(add func(...string)) {
			for i := range s.Settlement {
				r := &s.Settlement[i]
				cells := export.SettlementCells(r)
				add(cells...)
			}
		})
	} else {
		rows, _ := export.SummaryRows(s, by)
		table(w, "by "+by, []string{by, "operations", "success", "declined", "pending", "approval", "successful volume"}, func(add func(...string)) {
			for _, r := range rows {
				add(r.Key, itoa(r.Operations), itoa(r.Success), itoa(r.Decline), itoa(r.Pending), percent(r.Totals), volumes(r.Volume, curs))
			}
		})
	}
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
				return GroupThousands(domain.Money{Amount: a, Currency: v.Currency}.String())
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
		for i, c := range cells {
			// Codes, messages, methods are the sender's text (a page, a
			// callback): no escape reaches the terminal, no tab moves a
			// column.
			cells[i] = domain.CleanName(c)
		}
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
			parts = append(parts, GroupThousands(domain.Money{Amount: a, Currency: c}.String()))
		}
	}
	return strings.Join(parts, ", ")
}
