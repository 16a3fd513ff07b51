package app

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/report"
	"reconciled/internal/syncer"
)

// The balances of /balance/get as status, the sync's line, the demo and
// the report show them: every balance by its name, the payout (OUT) ones
// first, with the time read, never a total (balances of different names
// or projects may hold the same money, or mean what only ECommPay knows).

// balancesNote is what SyncLine says of a sync's balance reads: "" when
// none was made.
func balancesNote(r syncer.BalanceResult) string {
	if len(r.Read)+len(r.Failed) == 0 {
		return ""
	}
	if len(r.Failed) == 0 {
		return "; balances of " + projectsText(len(r.Read)) + " read"
	}
	ids := make([]string, len(r.Failed))
	for i, p := range r.Failed {
		ids[i] = strconv.FormatInt(p, 10)
	}
	s := "; balances"
	if len(r.Read) > 0 {
		s += " of " + projectsText(len(r.Read)) + " read,"
	}
	return s + fmt.Sprintf(" not read for %s (the last reading stays; status shows why)", strings.Join(ids, ", "))
}

func projectsText(n int) string {
	if n == 1 {
		return "1 project"
	}
	return strconv.Itoa(n) + " projects"
}

// writeBalancesStatus is status's balances section: the readings, or,
// with balances.sync on and none yet, that the next sync reads them.
func writeBalancesStatus(w io.Writer, readings []ledger.BalanceReading, on bool) error {
	if len(readings) == 0 {
		if on {
			fmt.Fprintln(w, "\nbalances  none read yet: the next sync reads them (balances.sync)")
		}
		return nil
	}
	head := "\nbalances (/balance/get, each as ECommPay names it; never added together)"
	if !on {
		head = "\nbalances (/balance/get; balances.sync is off: the last readings, as old as they say)"
	}
	fmt.Fprintln(w, head)
	return WriteBalances(w, readings)
}

// WriteBalances writes the readings as a table, a row per balance (a
// project whose reading holds none, one row), amounts in major units
// with their currency, times in UTC; then the errors of the last reads
// that failed: the balances shown for those projects are of the read
// before.
func WriteBalances(w io.Writer, readings []ledger.BalanceReading) error {
	type line struct{ project, name, kind, amount, readAt string }
	var lines []line
	var failing []string
	width := len("amount")
	for _, r := range readings {
		p := strconv.FormatInt(r.Project, 10)
		readAt := orDash(r.ReadAt)
		if r.ReadAt.IsZero() {
			readAt = "never"
		}
		if r.Failing() {
			readAt += " (below)"
			failing = append(failing, fmt.Sprintf("  %d, %s: %s", r.Project, orDash(r.LastErrorAt), domain.CleanName(r.LastError)))
		}
		if len(r.Balances) == 0 {
			lines = append(lines, line{p, "-", "", "", readAt})
		}
		for _, b := range r.Balances {
			a := GroupThousands(b.Money.String())
			width = max(width, utf8.RuneCountInString(a))
			lines = append(lines, line{p, domain.Shorten(b.Name), report.BalanceKind(b), a, readAt})
		}
	}
	right := func(s string) string { return strings.Repeat(" ", width-utf8.RuneCountInString(s)) + s }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "project\tbalance\tkind\t%s\tread at (UTC)\n", right("amount"))
	for _, l := range lines {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.project, l.name, l.kind, right(l.amount), l.readAt)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(failing) > 0 {
		fmt.Fprintf(w, "last balance read errors (the balances above are of the read before):\n%s\n", strings.Join(failing, "\n"))
	}
	return nil
}

// reportBalances is what a report shows of the ledger's readings.
func reportBalances(rs []ledger.BalanceReading) []report.BalanceReading {
	out := make([]report.BalanceReading, len(rs))
	for i, r := range rs {
		out[i] = report.BalanceReading{Project: r.Project, ReadAt: r.ReadAt, Balances: r.Balances,
			LastError: r.LastError, LastErrorAt: r.LastErrorAt, Failing: r.Failing()}
	}
	return out
}
