package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// BalanceReading is one project's latest balances from ECommPay's
// /balance/get and how reading them went. The report reads no database:
// the caller converts the ledger's reading.
type BalanceReading struct {
	Project int64
	// ReadAt is when Balances were read; zero: never.
	ReadAt time.Time
	// Balances are those read then, payout (OUT) ones first.
	Balances []domain.Balance
	// The last read's error, when Failing (an error newer than the last
	// success: the caller applies the ledger's rule).
	LastError   string
	LastErrorAt time.Time
	Failing     bool
}

// BalanceKind names what a balance is: "payout" for an OUT balance,
// "other" for any other name (shown by its name, never added to another).
func BalanceKind(b domain.Balance) string {
	if b.Out {
		return "payout"
	}
	return "other"
}

// sortedBalances orders readings by project.
func sortedBalances(rs []BalanceReading) []BalanceReading {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b BalanceReading) int { return cmp.Compare(a.Project, b.Project) })
	return out
}

// balancesTable shows every balance of every project as read, with the
// time read; a project whose last read failed is shown in red with the
// error under the table: its balances are those of the read before.
func (r *Report) balancesTable(sep string) table {
	t := table{
		Title: "Balances, as ECommPay reports them",
		Cols: []column{{"project", true}, {"balance", false}, {"kind", false}, {"currency", false}, {"amount", true},
			{"read at", false}},
	}
	var failed []string
	for _, b := range r.Balances {
		project := numCell(strconv.FormatInt(b.Project, 10))
		readAt := cell{Text: r.when(b.ReadAt, "never"), Alert: b.Failing}
		if len(b.Balances) == 0 {
			t.Rows = append(t.Rows, row{project, {Text: "—"}, {}, {}, numCell(""), readAt})
		}
		for _, x := range b.Balances {
			t.Rows = append(t.Rows, row{project, {Text: domain.Shorten(x.Name)}, {Text: BalanceKind(x)}, {Text: x.Currency},
				{Text: amount(x.Amount, x.Currency, sep), Num: true, Alert: x.Amount < 0}, readAt})
		}
		if b.Failing {
			was := "none was read before"
			if !b.ReadAt.IsZero() {
				was = "the balances shown are those read at " + r.when(b.ReadAt, "")
			}
			failed = append(failed, fmt.Sprintf("project %d: the last read failed at %s (%s); %s", b.Project, r.when(b.LastErrorAt, "—"), b.LastError, was))
		}
	}
	if len(failed) > 0 {
		t.More = strings.Join(failed, ".\n") + "." // one a line in the text; run together in the HTML
	}
	return t
}
