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
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/report"
)

func parseStatus(f flagOut, args []string) (request, error) {
	fs := newFlagSet(f, "status", "", "  reconciled status\n")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return statusRequest{}, nil
}

// statusRequest is a status's command line: it has nothing to say.
type statusRequest struct{}

func (statusRequest) run(ctx context.Context, e env) error {
	a, err := openApp(e, true)
	if err != nil {
		return err
	}
	st, err := a.Status(ctx)
	if err != nil {
		return err
	}
	return printStatus(e.stdout(), st)
}

// printStatus writes st as status shows it.
func printStatus(w io.Writer, st *app.Status) error {
	fmt.Fprintf(w, "database  %s (%.1f MiB)\n\n", st.Database, float64(st.Size)/(1<<20))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "project\twatermark (UTC)\tlast success\tlast error\toperations\tnot final")
	var failing []string
	for _, s := range st.Projects {
		lastErr := "-"
		if s.Failing() {
			lastErr = orDash(s.LastErrorAt) + " (below)"
			failing = append(failing, fmt.Sprintf("  %d, %s: %s", s.Project, orDash(s.LastErrorAt), s.LastError))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\n", s.Project, orDash(s.Watermark), orDash(s.LastSuccess), lastErr, s.Operations, s.NotFinal)
	}
	fmt.Fprintf(tw, "total\t\t\t\t%d\t%d\n", st.Operations, st.NotFinal)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(failing) > 0 {
		fmt.Fprintf(w, "\nlast sync errors (not followed by a success):\n%s\n", strings.Join(failing, "\n"))
	}
	printUnknownWords(w, st.Unknown)
	printBooksStatus(w, st)
	return printDaemonStatus(w, st)
}

// printUnknownWords names the types and statuses of stored operations that
// the vocabulary (with the config's meanings) does not know.
func printUnknownWords(w io.Writer, words []domain.WordCount) {
	unknown, more := report.TopUnknown(words)
	if len(unknown) == 0 {
		return
	}
	fmt.Fprintln(w, "\nECommPay words reconciled does not know (stored as they came, read as not final):")
	for _, u := range unknown {
		fmt.Fprintf(w, "  %s: give it a meaning in %s\n", report.DescribeUnknown(u), report.UnknownKey(u.Field))
	}
	if more > 0 {
		fmt.Fprintf(w, "  and %d more words, each on fewer operations\n", more)
	}
}

// printDaemonStatus shows the schedules' last runs and the mail outbox.
func printDaemonStatus(w io.Writer, st *app.Status) error {
	if len(st.Schedules) > 0 {
		fmt.Fprintln(w, "\nschedules (last run, UTC)")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, k := range slices.Sorted(maps.Keys(st.Schedules)) {
			r := st.Schedules[k]
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
	var pending, gaveUp []ledger.Mail
	sent := 0
	for _, ml := range st.Mail {
		switch ml.State() {
		case ledger.MailSent:
			sent++
		case ledger.MailGivenUp:
			gaveUp = append(gaveUp, ml)
		default:
			pending = append(pending, ml)
		}
	}
	if len(st.Mail) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nmail  %d sent, %d pending, %d given up\n", sent, len(pending), len(gaveUp))
	for _, ml := range pending {
		fmt.Fprintf(w, "  pending   %q to %s, queued %s, %d attempts, next %s, last error: %s\n",
			ml.Subject, strings.Join(ml.To, ", "), orDash(ml.Queued), ml.Attempts, orDash(ml.NextAttempt), orText(ml.LastError))
	}
	for _, ml := range gaveUp {
		fmt.Fprintf(w, "  GAVE UP   %q to %s, queued %s, %d attempts until %s, last error: %s\n",
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
func printBooksStatus(w io.Writer, st *app.Status) {
	fmt.Fprintf(w, "\nmerchant records  %d", st.Records)
	if last := st.Import; last != nil {
		fmt.Fprintf(w, " (last import %s at %s by %s: %d new, %d updated, %d unchanged, %d removed)",
			domain.CleanName(last.File), orDash(last.At), last.User, last.New, last.Updated, last.Unchanged, last.Removed)
	}
	fmt.Fprintln(w)
	if run := st.LastRun; run != nil {
		fmt.Fprintf(w, "last reconcile    %s: %d items, %d exceptions, %d pending, %d resolved\n",
			orDash(run.At), run.Items, st.Exceptions, run.Counts[domain.ResultPending], run.Counts[domain.ResultResolved])
	}
}

func orDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}
