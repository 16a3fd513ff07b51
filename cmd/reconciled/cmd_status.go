package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/report"
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
	var failing []string
	for _, s := range states {
		lastErr := "-"
		if s.Failing() {
			lastErr = orDash(s.LastErrorAt) + " (below)"
			failing = append(failing, fmt.Sprintf("  %d, %s: %s", s.Project, orDash(s.LastErrorAt), s.LastError))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\n", s.Project, orDash(s.Watermark), orDash(s.LastSuccess), lastErr, s.Operations, s.NotFinal)
		total += s.Operations
		open += s.NotFinal
	}
	fmt.Fprintf(tw, "total\t\t\t\t%d\t%d\n", total, open)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(failing) > 0 {
		fmt.Fprintf(m.Stdout, "\nlast sync errors (not followed by a success):\n%s\n", strings.Join(failing, "\n"))
	}
	if err := m.printUnknownWords(cfg, l); err != nil {
		return err
	}
	if err := m.printBooksStatus(l); err != nil {
		return err
	}
	return m.printDaemonStatus(l)
}

// printUnknownWords names the types and statuses of stored operations that
// the vocabulary (with the config's meanings) does not know.
func (m *Main) printUnknownWords(cfg *config.Config, l *ledger.Ledger) error {
	words, err := l.WordCounts()
	if err != nil {
		return err
	}
	unknown, more := report.TopUnknown(ledger.Unknown(words, cfg.Vocabulary()))
	if len(unknown) == 0 {
		return nil
	}
	fmt.Fprintln(m.Stdout, "\nECommPay words reconciled does not know (stored as they came, read as not final):")
	for _, w := range unknown {
		fmt.Fprintf(m.Stdout, "  %s: give it a meaning in %s\n", report.DescribeUnknown(w), report.UnknownKey(w.Field))
	}
	if more > 0 {
		fmt.Fprintf(m.Stdout, "  and %d more words, each on fewer operations\n", more)
	}
	return nil
}

// printDaemonStatus shows the schedules' last runs and the mail outbox.
func (m *Main) printDaemonStatus(l *ledger.Ledger) error {
	runs, err := l.JobRuns()
	if err != nil {
		return err
	}
	if len(runs) > 0 {
		fmt.Fprintln(m.Stdout, "\nschedules (last run, UTC)")
		tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		for _, k := range slices.Sorted(maps.Keys(runs)) {
			r := runs[k]
			outcome := "ok"
			if r.Error != "" {
				outcome = "failed: " + r.Error
			}
			fmt.Fprintf(tw, "  %s	%s	%s	%s\n", k, orDash(r.Started), r.Duration.Round(time.Millisecond), outcome)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	mails, err := l.Outbox(false)
	if err != nil {
		return err
	}
	var pending, gaveUp []ledger.Mail
	sent := 0
	for _, ml := range mails {
		switch ml.State() {
		case ledger.MailSent:
			sent++
		case ledger.MailGivenUp:
			gaveUp = append(gaveUp, ml)
		default:
			pending = append(pending, ml)
		}
	}
	if len(mails) == 0 {
		return nil
	}
	fmt.Fprintf(m.Stdout, "\nmail  %d sent, %d pending, %d given up\n", sent, len(pending), len(gaveUp))
	for _, ml := range pending {
		fmt.Fprintf(m.Stdout, "  pending   %q to %s, queued %s, %d attempts, next %s, last error: %s\n",
			ml.Subject, strings.Join(ml.To, ", "), orDash(ml.Queued), ml.Attempts, orDash(ml.NextAttempt), orText(ml.LastError))
	}
	for _, ml := range gaveUp {
		fmt.Fprintf(m.Stdout, "  GAVE UP   %q to %s, queued %s, %d attempts until %s, last error: %s\n",
			ml.Subject, strings.Join(ml.To, ", "), orDash(ml.Queued), ml.Attempts, orDash(ml.GaveUp), orText(ml.LastError))
	}
	return nil
}

func orText(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printBooksStatus shows the merchant records and the last reconciliation.
func (m *Main) printBooksStatus(l *ledger.Ledger) error {
	n, err := l.RecordCount()
	if err != nil {
		return err
	}
	imports, err := l.Imports()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "\nmerchant records  %d", n)
	if len(imports) > 0 {
		last := imports[len(imports)-1]
		fmt.Fprintf(m.Stdout, " (last import %s at %s by %s: %d new, %d updated, %d unchanged, %d removed)",
			domain.CleanName(last.File), orDash(last.At), last.User, last.New, last.Updated, last.Unchanged, last.Removed)
	}
	fmt.Fprintln(m.Stdout)
	run, ok, err := l.LastRun()
	if err != nil || !ok {
		return err
	}
	exceptions := 0
	for code, c := range run.Counts {
		if domain.IsException(code) {
			exceptions += c
		}
	}
	fmt.Fprintf(m.Stdout, "last reconcile    %s: %d items, %d exceptions, %d pending, %d resolved\n",
		orDash(run.At), run.Items, exceptions, run.Counts[domain.ResultPending], run.Counts[domain.ResultResolved])
	return nil
}

func orDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}
