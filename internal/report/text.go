package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"reconciled/internal/domain"
)

// Text writes the report as plain text with aligned tables: the
// text/plain part of the mail, and what a terminal shows.
func (r *Report) Text(w io.Writer) error {
	bw := bufio.NewWriter(w)
	title := "Reconciliation report for " + r.Day()
	fmt.Fprintf(bw, "%s\n%s\n%s\n", title, strings.Repeat("=", utf8.RuneCountInString(title)), r.lead())
	// A plain space between thousands: a text/plain mail may be shown in
	// any font, and the cells are separated by tabwriter, not by spaces.
	for _, t := range r.tables(" ") {
		fmt.Fprintf(bw, "\n%s\n%s\n", t.Title, strings.Repeat("-", utf8.RuneCountInString(t.Title)))
		if len(t.Rows) == 0 {
			fmt.Fprintln(bw, "none")
			continue
		}
		writeTable(bw, t)
		if t.More != "" {
			fmt.Fprintln(bw, t.More)
		}
	}
	return bw.Flush()
}

// writeTable aligns a table with tabwriter. tabwriter aligns cells to the
// left; numeric columns are padded to their width first, so that they
// line up on the right.
func writeTable(w io.Writer, t table) {
	cells := make([][]string, 0, len(t.Rows)+1)
	head := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		head[i] = c.Name
	}
	cells = append(cells, head)
	for _, row := range t.Rows {
		line := make([]string, len(row))
		for i, c := range row {
			line[i] = plain(c.Text)
		}
		cells = append(cells, line)
	}
	for i, c := range t.Cols {
		if !c.Num {
			continue
		}
		width := 0
		for _, line := range cells {
			width = max(width, utf8.RuneCountInString(line[i]))
		}
		for _, line := range cells {
			line[i] = strings.Repeat(" ", width-utf8.RuneCountInString(line[i])) + line[i]
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, line := range cells {
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	tw.Flush()
}

// plain makes a cell one line of valid UTF-8 without tabs or other
// control characters, which would break the table, and without escape
// sequences and bidirectional overrides, which a terminal would obey (a
// reason, a payment id or a chargeback's words come from outside):
// domain.CleanName.
func plain(s string) string { return domain.CleanName(s) }
