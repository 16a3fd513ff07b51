package domain

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/ecommpay-words.md from the table")

// The project's own page on ECommPay's words is the table of
// vocabulary.go, written out: this test keeps the two the same.
func TestWordsDocIsTheTable(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`# ECommPay's words and what reconciled reads in them

Written from the table in ` + "`internal/domain/vocabulary.go`" + ` by
` + "`go test ./internal/domain -run WordsDoc -update`" + `; do not edit by hand.

Every operation type, operation status and payment status of ECommPay's own published lists. A
word that is not here is stored as it came, counted, shown by ` + "`reconciled status`" + ` and in the daily
report, and read as **not final** (so an item holding it is pending, then overdue) until the config
gives it a meaning: ` + "`[reconcile.operation_types]`, `[reconcile.operation_statuses]`, `[reconcile.payment_statuses]`" + `
(see ` + "`config.example.toml`" + `). The config may also change the meaning of a word listed here.

## Operation types

The kind says which merchant record an operation stands for and whether money moves.

| type | kind | record | moves money | what it is |
| --- | --- | --- | --- | --- |
`)
	types, ops, pays := Table()
	yes := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	for _, ti := range types {
		rec := ti.Kind.Record()
		if rec == "" {
			rec = "—"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", ti.Name, ti.Kind, rec, yes(ti.Kind.MovesMoney()), ti.Note)
	}
	b.WriteString(`
Kinds: ` + "`purchase`" + ` charges the customer; ` + "`hold`" + ` authorises without charging (the purchase is not
final until a capture); ` + "`release`" + ` ends an authorisation, nothing charged (a merchant's ` + "`failed`" + `
agrees); ` + "`payout`" + `; ` + "`refund`" + ` (each successful refund is an item of its own, paired with its own
record); ` + "`refund_reverse`" + ` takes the refund before it back; ` + "`fee`" + ` is a fee, never a purchase or a
missing record; ` + "`none`" + ` moves nothing and stands for no record.

## Operation statuses

| status | outcome | final | what it is |
| --- | --- | --- | --- |
`)
	for _, si := range ops {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", si.Name, si.Outcome, yes(si.Outcome.Final()), si.Note)
	}
	b.WriteString(`
A merchant's ` + "`paid`" + ` (and ` + "`refunded`" + `) agrees with ` + "`success`" + `, ` + "`failed`" + ` with every failure,
unless ` + "`[reconcile.status_map]`" + ` says otherwise.

## Payment statuses

Read where a merchant record says a purchase was refunded: the payment must be refunded (in whole
or in part).

| status | outcome | final | what it is |
| --- | --- | --- | --- |
`)
	for _, si := range pays {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", si.Name, si.Outcome, yes(si.Outcome.Final()), si.Note)
	}
	path := filepath.Join("..", "..", "docs", "ecommpay-words.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("%s is not the table of vocabulary.go; run go test ./internal/domain -run WordsDoc -update", path)
	}
}
