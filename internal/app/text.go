package app

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/records"
	"reconciled/internal/report"
	"reconciled/internal/syncer"
)

// The text of results: what every front door (a command, the daemon's log,
// the demo) shows of what a use case returned, so that each shows it the
// same way. A printer takes the result and a writer; it reads nothing.

// SyncLine is the one line `sync` prints of a sync (and the daemon logs of
// a scheduled one): the counts, the words no one gave a meaning, the
// fields asked for that did not come.
func SyncLine(r syncer.Result) string {
	s := fmt.Sprintf("sync: %d pages, %d operations: %d new, %d updated, %d unchanged",
		r.Pages, r.Operations, r.New, r.Updated, r.Unchanged)
	if f := r.Fees; f.Pages > 0 {
		s += fmt.Sprintf("; fees: %d pages, %d records: %d new, %d updated, %d unchanged", f.Pages, f.Records, f.New, f.Updated, f.Unchanged)
		if f.Unreported > 0 {
			s += fmt.Sprintf(", %d without a fee", f.Unreported)
		}
	}
	if c := r.Chargebacks; c.Pages > 0 {
		s += fmt.Sprintf("; chargebacks: %d pages, %d records: %d new, %d updated, %d unchanged", c.Pages, c.Records, c.New, c.Updated, c.Unchanged)
	}
	s += " in " + r.Elapsed.Round(time.Millisecond).String()
	s += balancesNote(r.Balances) // balances.go
	var notes []string
	var words []domain.WordCount
	for w, n := range r.Unknown {
		words = append(words, domain.WordCount{Field: w.Field, Word: w.Word, Count: int64(n)})
	}
	top, more := report.TopUnknown(words)
	for _, w := range top {
		notes = append(notes, report.DescribeUnknown(w))
	}
	if more > 0 {
		notes = append(notes, fmt.Sprintf("and %d more unknown words (reconciled status lists them)", more))
	}
	if r.UnknownOther > 0 {
		notes = append(notes, fmt.Sprintf("and %d operations with still more", r.UnknownOther))
	}
	for _, path := range slices.Sorted(maps.Keys(r.Missing)) {
		notes = append(notes, fmt.Sprintf("%d operations came without %s although data_api.fields asks for it (stored empty)", r.Missing[path], path))
	}
	if len(notes) > 0 {
		s += "; " + strings.Join(notes, "; ")
	}
	return s
}

// SyncProgress is a sync's totals so far as a progress bar shows them,
// page by page: what Sync tells its SyncRequest.Progress.
func SyncProgress(r syncer.Result) string {
	s := fmt.Sprintf("sync: %d pages, %d operations (new %d, updated %d)", r.Pages, r.Operations, r.New, r.Updated)
	if f := r.Fees; f.Pages > 0 {
		s += fmt.Sprintf("; fees: %d records (new %d, updated %d)", f.Records, f.New, f.Updated)
	}
	if c := r.Chargebacks; c.Pages > 0 {
		s += fmt.Sprintf("; chargebacks: %d records (new %d, updated %d)", c.Records, c.New, c.Updated)
	}
	return s
}

// WriteRun writes what `reconcile` prints of a saved run: its summary, the
// re-checks, the resolutions it re-opened.
func WriteRun(w io.Writer, res RunResult) {
	WriteSummary(w, res.Summary)
	if res.Full {
		fmt.Fprintf(w, "\nrecomputed every payment: %d items stored\n", res.State.Items)
	} else {
		fmt.Fprintf(w, "\nrecomputed %d payments changed since the last reconcile (%d marked changed, %d with a deadline passed): %d items\n",
			res.Units, res.Changed, res.Due, res.Items)
	}
	if res.FeesChecked+res.FeesUnchecked > 0 {
		fmt.Fprintf(w, "fees: %d charged fees compared with their tariffs, %d without a tariff (not checked)\n", res.FeesChecked, res.FeesUnchecked)
	}
	if rc := res.Recheck; rc.Asked > 0 {
		fmt.Fprintf(w, "\nre-checked %d payments at the Data API: %d found, %d new and %d updated operations stored, %d failed\n",
			rc.Asked, rc.Found, rc.New, rc.Updated, rc.Failed)
	}
	for _, r := range res.Reopened {
		fmt.Fprintf(w, "re-opened: %s %s, resolved by %s at %s: the data changed\n", r.ID, r.Type, r.User, r.At.Format(time.DateTime))
	}
}

// WriteSummary writes a run's counts and amounts per result code, as a
// table.
func WriteSummary(w io.Writer, run ledger.Run) {
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
		parts = append(parts, GroupThousands(domain.Money{Amount: byCur[cur], Currency: cur}.String()))
	}
	return strings.Join(parts, ", ")
}

// GroupThousands puts a thin space between thousands of the leading
// number of s, for reading: "6057284690.32 UZS" → "6 057 284 690.32 UZS".
func GroupThousands(s string) string {
	number, rest, spaced := strings.Cut(s, " ")
	if spaced {
		rest = " " + rest
	}
	return domain.GroupThousands(number, "\u202F") + rest
}

// DescribeFormat is how an import names the file's form: "xlsx", or
// "csv, windows-1251, ';'".
func DescribeFormat(r *records.Result) string {
	if r.Format != "csv" {
		return r.Format
	}
	sep := map[rune]string{',': "','", ';': "';'", '\t': "tab"}[r.Separator]
	return fmt.Sprintf("csv, %s, %s", r.Encoding, sep)
}

// WriteStatus writes st as `status` shows it.
func WriteStatus(w io.Writer, st *Status) error {
	fmt.Fprintf(w, "database  %s (%.1f MiB)\n\n", st.Database, float64(st.Size)/(1<<20))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "project\twatermark (UTC)\tlast success\tlast error\toperations\tnot final")
	var failing []string
	for _, s := range st.Projects {
		lastErr := "-"
		if s.Failing() {
			lastErr = orDash(s.LastErrorAt) + " (below)"
			failing = append(failing, fmt.Sprintf("  %d, %s: %s", s.Project, orDash(s.LastErrorAt), domain.CleanName(s.LastError)))
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
	if err := writeStreamSync(w, st.Projects, "fees (/financial-reporting/operations)", "fee", func(s ledger.SyncState) ledger.Stream { return s.Fees }); err != nil {
		return err
	}
	if err := writeStreamSync(w, st.Projects, "chargebacks (/chargeback/list)", "chargeback", func(s ledger.SyncState) ledger.Stream { return s.Chargebacks }); err != nil {
		return err
	}
	if err := writeChargebacks(w, st.Chargebacks); err != nil {
		return err
	}
	if err := writeBalancesStatus(w, st.Balances, st.BalancesSync); err != nil { // balances.go
		return err
	}
	writeUnknownWords(w, st.Unknown)
	writeBooksStatus(w, st)
	return writeDaemonStatus(w, st)
}

// writeStreamSync shows how far a stream of the sync other than the
// operations' is (fees.sync, chargebacks.sync), once it ran.
func writeStreamSync(w io.Writer, projects []ledger.SyncState, title, what string, of func(ledger.SyncState) ledger.Stream) error {
	ran := false
	for _, s := range projects {
		ran = ran || !of(s).LastAttempt.IsZero()
	}
	if !ran {
		return nil
	}
	fmt.Fprintln(w, "\n"+title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "project\twatermark (UTC)\tlast success\tlast error")
	var failing []string
	for _, s := range projects {
		f := of(s)
		lastErr := "-"
		if f.Failing() {
			lastErr = orDash(f.LastErrorAt) + " (below)"
			failing = append(failing, fmt.Sprintf("  %d, %s: %s", s.Project, orDash(f.LastErrorAt), domain.CleanName(f.LastError)))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", s.Project, orDash(f.Watermark), orDash(f.LastSuccess), lastErr)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(failing) > 0 {
		fmt.Fprintf(w, "last %s sync errors (not followed by a success):\n%s\n", what, strings.Join(failing, "\n"))
	}
	return nil
}

// statusDeadlines is how many open chargebacks status lists by deadline.
const statusDeadlines = 5

// writeChargebacks counts the chargebacks by state and currency and
// lists the open ones whose deadline comes first.
func writeChargebacks(w io.Writer, cbs []report.ChargebackRow) error {
	if len(cbs) == 0 {
		return nil
	}
	type key struct {
		state    domain.ChargebackState
		currency string
	}
	sums := map[key]report.Tally{}
	var open []report.ChargebackRow
	for _, c := range cbs {
		k := key{c.State, c.Amount.Currency}
		t := sums[k]
		t.Count++
		t.Amount = domain.AddAmounts(t.Amount, c.Amount.Amount)
		sums[k] = t
		if c.State == domain.ChargebackOpen {
			open = append(open, c)
		}
	}
	fmt.Fprintln(w, "\nchargebacks")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "state\tcurrency\tchargebacks\tamount")
	for _, k := range slices.SortedFunc(maps.Keys(sums), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.state, b.state), cmp.Compare(a.currency, b.currency))
	}) {
		t := sums[k]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", k.state, k.currency, t.Count, GroupThousands(domain.Money{Amount: t.Amount, Currency: k.currency}.String()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(open) == 0 {
		return nil
	}
	// Those with a deadline, the nearest first; then those without.
	slices.SortFunc(open, func(a, b report.ChargebackRow) int {
		if a.Deadline.IsZero() != b.Deadline.IsZero() {
			if a.Deadline.IsZero() {
				return 1
			}
			return -1
		}
		return cmp.Or(a.Deadline.Compare(b.Deadline), a.Opened.Compare(b.Opened), cmp.Compare(a.ID, b.ID))
	})
	fmt.Fprintf(w, "open, the nearest deadline first (reconciled export --what reconciliation --result chargeback lists them all):\n")
	for i, c := range open {
		if i == statusDeadlines {
			fmt.Fprintf(w, "  and %d more open\n", len(open)-i)
			break
		}
		by := "no deadline given"
		if !c.Deadline.IsZero() {
			by = "answer by " + c.Deadline.UTC().Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(w, "  %d  payment %s  %s  %s\n", c.ID, domain.CleanName(domain.Shorten(c.PaymentID)), GroupThousands(c.Amount.String()), by)
	}
	return nil
}

// writeUnknownWords names the types and statuses of stored operations that
// the vocabulary (with the config's meanings) does not know.
func writeUnknownWords(w io.Writer, words []domain.WordCount) {
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

// writeDaemonStatus shows the schedules' last runs and the mail outbox.
func writeDaemonStatus(w io.Writer, st *Status) error {
	if len(st.Schedules) > 0 {
		fmt.Fprintln(w, "\nschedules (last run, UTC)")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, k := range slices.Sorted(maps.Keys(st.Schedules)) {
			r := st.Schedules[k]
			outcome := "ok"
			if r.Error != "" {
				outcome = "failed: " + domain.CleanName(r.Error)
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

// orText is s, or "-" for none; an SMTP server's or another program's
// text, so cleaned of what a terminal would act on.
func orText(s string) string {
	if s == "" {
		return "-"
	}
	return domain.CleanName(s)
}

// writeBooksStatus shows the merchant records and the last reconciliation.
func writeBooksStatus(w io.Writer, st *Status) {
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
	if r := st.Result; r != nil {
		fmt.Fprintf(w, "stored result     %s: %d items (last full recompute %s)", orDash(r.At), r.Items, orDash(r.Full))
		if st.ResultOtherSettings {
			fmt.Fprint(w, "; made with other verdict settings than the config's (reconcile recomputes it)")
		} else if st.ResultAhead {
			fmt.Fprint(w, "; made later than the clock's now, which was set back since (reconcile recomputes it)")
		} else if b := st.Behind; b.Changed+b.Due > 0 || b.Bulk {
			fmt.Fprintf(w, "; behind the data: %s, %d deadlines passed (reconcile brings it up to date)", changedText(b), b.Due)
		} else {
			fmt.Fprint(w, "; up to date")
		}
		fmt.Fprintln(w)
	}
}

func orDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}

// rareCase picks the first item of one of ECommPay's rarer cases.
type rareCase struct {
	name string
	is   func(it *domain.Item, v *domain.Vocabulary) bool
}

// rareCases are the cases the demo shows one item of, in its order.
func rareCases() []rareCase {
	return []rareCase{
		{"two-step purchase", func(it *domain.Item, _ *domain.Vocabulary) bool {
			return it.Provider != nil && it.Provider.OperationType == domain.OpCapture
		}},
		{"authorisation cancelled", func(it *domain.Item, _ *domain.Vocabulary) bool {
			return it.Provider != nil && it.Provider.OperationType == domain.OpCancel
		}},
		{"refunded in parts", func(it *domain.Item, _ *domain.Vocabulary) bool {
			return it.Type == domain.RecordRefund && strings.HasPrefix(it.Reason, "refund 1 of 2:")
		}},
		{"a part not booked", func(it *domain.Item, _ *domain.Vocabulary) bool {
			return it.Type == domain.RecordRefund && it.Result == domain.ResultMissingInRecords && strings.HasPrefix(it.Reason, "refund ")
		}},
		{"refund taken back", func(it *domain.Item, _ *domain.Vocabulary) bool {
			return it.Type == domain.RecordRefund && it.Result == domain.ResultStatusMismatch && strings.Contains(it.Reason, "taken back")
		}},
		{"internal error", func(it *domain.Item, _ *domain.Vocabulary) bool {
			return it.Provider != nil && it.Provider.OperationStatus == domain.StatusInternalError
		}},
		{"external error", func(it *domain.Item, _ *domain.Vocabulary) bool {
			return it.Provider != nil && it.Provider.OperationStatus == domain.StatusExternalError
		}},
		{"expired", func(it *domain.Item, _ *domain.Vocabulary) bool {
			return it.Provider != nil && it.Provider.OperationStatus == domain.StatusExpired
		}},
		{"unknown status", func(it *domain.Item, v *domain.Vocabulary) bool {
			return it.Provider != nil && it.Code != domain.ResultChargeback && !v.Known(domain.FieldOperationStatus, it.Provider.OperationStatus)
		}},
		{"fee overcharged", func(it *domain.Item, _ *domain.Vocabulary) bool {
			return it.Code == domain.ResultFeeMismatch
		}},
		{"chargeback open", func(it *domain.Item, _ *domain.Vocabulary) bool {
			return it.Code == domain.ResultChargeback && strings.Contains(it.Reason, "answer by")
		}},
		{"chargeback lost", func(it *domain.Item, _ *domain.Vocabulary) bool {
			return it.Code == domain.ResultChargeback && strings.Contains(it.Reason, ", lost")
		}},
	}
}

// WriteRareCases writes one item of each of ECommPay's rarer cases found
// in items (the demo shows how reconciled reads them), and the commissions
// among words (the ledger's word counts), which are no item.
func WriteRareCases(w io.Writer, items []domain.Item, words []domain.WordCount) error {
	v := domain.Builtin
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range rareCases() {
		for i := range items {
			it := &items[i]
			if !c.is(it, v) {
				continue
			}
			reason := it.Reason
			if r := []rune(reason); len(r) > 110 {
				reason = string(r[:110]) + "…"
			}
			fmt.Fprintf(tw, "     %s\t%s %s\t%s\t%s\n", c.name, it.PaymentID, it.Type, it.Result, reason)
			break
		}
	}
	for _, wc := range words {
		if wc.Field == domain.FieldOperationType && v.Type(wc.Word).Kind == domain.KindFee {
			fmt.Fprintf(tw, "     commission\t%d %s operations\t(no item)\tfees ECommPay charged: never a purchase, never a missing record\n", wc.Count, wc.Word)
		}
	}
	return tw.Flush()
}

// WriteDaySettlement writes a day's net settlement (a report's) as a
// table, one row per project and currency.
func WriteDaySettlement(w io.Writer, rows []report.SettlementRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "project\tpurchases\trefunds\tpayouts\tfees\tchargebacks\tnet\t")
	for _, r := range rows {
		m := func(a int64) string { return GroupThousands(domain.Money{Amount: a, Currency: r.Currency}.String()) }
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Project, m(r.Purchases), m(r.Refunds), m(r.Payouts), m(r.Fees), m(r.Chargebacks), m(r.Net))
	}
	tw.Flush()
}
