package records

import (
	"fmt"
	"strings"
	"testing"
)

// bigMixed is a file of n lines where every 997th line has too few fields
// (a problem the reader finds) and every 1009th a bad status (one the row
// check finds), with a quoted field spanning two lines every 501st: the two
// kinds come from different goroutines and must still be listed in line
// order, each with its own line.
func bigMixed(n int) (text string, want []string, good int) {
	var b strings.Builder
	b.WriteString("payment_id;type;amount;currency;status;customer_id\n")
	line := 2
	for i := 0; i < n; i++ {
		switch {
		case i%997 == 996:
			b.WriteString("o;purchase;1\n")
			want = append(want, fmt.Sprintf("mixed.csv:%d: 3 fields, the header has 6", line))
		case i%1009 == 1008:
			fmt.Fprintf(&b, "o-%d;purchase;1,00;UAH;nope;c\n", i)
			want = append(want, fmt.Sprintf("mixed.csv:%d column status: \"nope\" is none of paid, failed, pending, refunded (map other words in [records])", line))
		case i%501 == 500:
			fmt.Fprintf(&b, "o-%d;purchase;1,00;UAH;paid;\"two\nlines\"\n", i)
			line++
			good++
		default:
			fmt.Fprintf(&b, "o-%d;purchase;1,00;UAH;paid;c\n", i)
			good++
		}
		line++
	}
	return b.String(), want, good
}

func TestProblemsOfBothKindsComeInLineOrder(t *testing.T) {
	text, want, _ := bigMixed(20_000)
	_, fe := read(t, "mixed.csv", text, Options{})
	if fe == nil {
		t.Fatal("a file with bad lines was read")
	}
	got := strings.Split(fe.Error(), "\n  ")
	if head := fmt.Sprintf("mixed.csv: rejected, nothing imported: %d problem(s)", len(want)); !strings.HasSuffix(got[0], head) {
		t.Errorf("first line %q, want %q", got[0], head)
	}
	if strings.Join(got[1:], "\n") != strings.Join(want, "\n") {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got[1:], "\n"), strings.Join(want, "\n"))
	}

	// Capped, the list keeps the file's first problems, of both kinds.
	_, fe = read(t, "mixed.csv", text, Options{MaxErrors: 5})
	if fe == nil || len(fe.Problems) != 5 || fe.More != len(want)-5 {
		t.Fatalf("capped: %v", fe)
	}
	for i, p := range fe.Problems {
		if s := fe.describe(p); s != want[i] {
			t.Errorf("capped problem %d: %q, want %q", i, s, want[i])
		}
	}
}

func TestAGoodBigFileKeepsItsOrderAndLines(t *testing.T) {
	var b strings.Builder
	b.WriteString("payment_id;type;amount;currency;status;customer_id\n")
	line, lines := 2, []int{}
	for i := 0; i < 20_000; i++ {
		if i%501 == 500 {
			fmt.Fprintf(&b, "o-%d;purchase;1,00;UAH;paid;\"two\nlines\"\n", i)
			lines = append(lines, line)
			line += 2
			continue
		}
		fmt.Fprintf(&b, "o-%d;purchase;1,00;UAH;paid;c\n", i)
		lines = append(lines, line)
		line++
		if i%3000 == 0 {
			b.WriteString("\n") // an empty line is skipped, not a record
			line++
		}
	}
	res, fe := read(t, "good.csv", b.String(), Options{})
	if fe != nil {
		t.Fatal(fe)
	}
	if res.Lines != 20_000 || len(res.Records) != 20_000 {
		t.Fatalf("%d lines, %d records", res.Lines, len(res.Records))
	}
	for i, r := range res.Records {
		if r.PaymentID != fmt.Sprintf("o-%d", i) || r.Origin != fmt.Sprintf("good.csv:%d", lines[i]) {
			t.Fatalf("record %d: %s from %s", i, r.PaymentID, r.Origin)
		}
	}
}
