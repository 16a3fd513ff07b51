package app

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"reconciled/internal/domain"
)

// WritePayment writes p as `payment` shows it: the stored verdicts, then
// what they were made from (ECommPay's operations with every status and
// who reported it, the merchant's records with theirs), then the
// chargebacks, resolutions and audit trail. Times in loc. Every text an
// upstream or a book brought is cleaned of control characters and its card
// numbers masked: the web view's payment page, for a terminal.
func WritePayment(w io.Writer, p *Payment, loc *time.Location) error {
	when := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("2006-01-02 15:04:05 MST")
	}
	text := func(s string) string {
		if s = domain.MaskCardNumbers(domain.CleanName(s)); s == "" {
			return "-"
		}
		return s
	}
	money := func(m domain.Money) string {
		if m.Currency == "" {
			return "-"
		}
		return GroupThousands(m.String())
	}
	note := p.Stored.Note(loc)
	if p.Stored.None { // Payment computes no verdict: it shows what is stored
		note = "no reconciliation is stored yet: run reconcile for its verdicts"
	}
	fmt.Fprintf(w, "payment %s (%s)\n", text(p.ID), note)
	table := func(title, head string, rows func(tw *tabwriter.Writer), empty string, n int) error {
		fmt.Fprintf(w, "\n%s\n", title)
		if n == 0 {
			fmt.Fprintf(w, "  %s\n", empty)
			return nil
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  "+head)
		rows(tw)
		return tw.Flush()
	}
	row := func(tw *tabwriter.Writer, cells ...string) { fmt.Fprintln(tw, "  "+strings.Join(cells, "\t")) }

	err := table("verdicts", "result\tcode\ttype\tpart\tmatched by\tmerchant\tECommPay\treason", func(tw *tabwriter.Writer) {
		for _, it := range p.Items {
			merchant, provider := "-", "-"
			if r := it.Merchant; r != nil {
				merchant = money(r.Amount) + " " + text(r.Status)
			}
			if o := it.Provider; o != nil {
				provider = money(o.SumInitial) + " " + text(o.OperationStatus)
			}
			row(tw, it.Result, text(it.Code), text(it.Type), text(it.Part), text(it.MatchedBy), merchant, provider, text(it.Reason))
		}
	}, "none stored (no reconciliation stored, or none since these data came)", len(p.Items))
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "\nECommPay's operations\n")
	if len(p.Operations) == 0 {
		fmt.Fprintf(w, "  none stored\n")
	}
	for i := range p.Operations {
		o := &p.Operations[i]
		fmt.Fprintf(w, "  operation %d · %s · project %d · %s · %s · created %s · first seen %s\n", o.OperationID, text(o.OperationType),
			o.ProjectID, money(o.SumInitial), text(o.PaymentMethod), when(o.CreatedAt), when(o.FirstSeen))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "    seen\toperation status\tpayment status\tcode\tmessage\tsource")
		for _, h := range o.History() {
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\n", when(h.SeenAt), text(h.OperationStatus), text(h.PaymentStatus), text(h.Code), text(h.Message), h.Sources)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	err = table("the merchant's records", "source\ttype\tamount\tstatus (history)\tcreated\tmethod\tread from\tfirst seen", func(tw *tabwriter.Writer) {
		for _, r := range p.Records {
			var hist strings.Builder
			for _, e := range r.Earlier {
				fmt.Fprintf(&hist, "%s (seen %s) → ", text(e.Status), when(e.SeenAt))
			}
			fmt.Fprintf(&hist, "%s (since %s)", text(r.Status), when(r.StatusSince))
			created := "not given"
			if !r.CreatedAt.IsZero() {
				created = when(r.CreatedAt)
			}
			row(tw, text(r.Source), text(r.Type), money(r.Amount), hist.String(), created, text(r.Method), text(r.Origin), when(r.FirstSeen))
		}
	}, "none stored", len(p.Records))
	if err != nil {
		return err
	}

	if len(p.Chargebacks) > 0 {
		err = table("chargebacks", "id\tamount\tstatus\treason code\tcreated\tdeadline", func(tw *tabwriter.Writer) {
			for _, c := range p.Chargebacks {
				row(tw, fmt.Sprint(c.ID), money(c.Amount), text(c.Status), text(c.ReasonCode), when(c.CreatedAt), when(c.Deadline))
			}
		}, "", len(p.Chargebacks))
		if err != nil {
			return err
		}
	}

	err = table("resolutions", "at\tby\ttype\tpart\tcode accepted\treason\tnote\tre-opened", func(tw *tabwriter.Writer) {
		for _, r := range p.Resolutions {
			row(tw, when(r.At), text(r.User), text(r.Type), text(r.Part), text(r.Code), text(r.Reason), text(r.Note), when(r.ReopenedAt))
		}
	}, "none", len(p.Resolutions))
	if err != nil {
		return err
	}
	return table("audit trail", "at\tuser\taction\ttype\tcode\treason\tnote\tdetail", func(tw *tabwriter.Writer) {
		for _, e := range p.Audit {
			row(tw, when(e.At), text(e.User), text(e.Action), text(e.Type), text(e.Code), text(e.Reason), text(e.Note), text(e.Detail))
		}
	}, "no event", len(p.Audit))
}
