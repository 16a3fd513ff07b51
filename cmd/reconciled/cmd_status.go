package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

func (m *Main) runStatus(ctx context.Context, args []string) error {
	fs := m.newFlagSet("status", "", "  reconciled status\n")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	l, err := m.openLedger(cfg, true)
	if err != nil {
		return err
	}
	defer l.Close()
	states, err := l.SyncStates()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "database  %s (%.1f MiB)\n\n", l.Path(), float64(l.Size())/(1<<20))
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "project\twatermark (UTC)\tlast success\tlast error\toperations\tnot final")
	var total, open int64
	for _, s := range states {
		lastErr := "-"
		if s.LastError != "" && s.LastErrorAt.After(s.LastSuccess) {
			lastErr = s.LastErrorAt.Format(time.DateTime) + " " + truncate(s.LastError, 60)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\n", s.Project, orDash(s.Watermark), orDash(s.LastSuccess), lastErr, s.Operations, s.NotFinal)
		total += s.Operations
		open += s.NotFinal
	}
	fmt.Fprintf(tw, "total\t\t\t\t%d\t%d\n", total, open)
	return tw.Flush()
}

func orDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
