package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
	"reconciled/internal/syncer"
)

// The sync's summary line names the most frequent unknown words it met and
// counts the rest: a hostile upstream sending a new status with every
// operation must not make it endless.
func TestSyncSummaryIsBounded(t *testing.T) {
	r := syncer.Result{Unknown: map[ledger.WordKey]int{}}
	for i := range 5000 {
		r.Unknown[ledger.WordKey{Field: domain.FieldOperationStatus, Word: fmt.Sprintf("odd %d", i)}] = 1
	}
	s := app.SyncLine(r)
	if n := strings.Count(s, "unknown status"); n > 25 {
		t.Errorf("the sync summary names %d unknown words (%d bytes); want the most frequent and a count of the rest", n, len(s))
	}
}

// status and the report show hostile words: control characters escaped,
// thousands of distinct words capped, a very long word shortened.
func TestStatusWithHostileWords(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	l, err := ledger.Open(w.db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := start.Add(time.Hour)
	var ops []domain.Operation
	add := func(status string) {
		ops = append(ops, domain.Operation{ProjectID: 580, OperationID: uint64(10000000000000000 + len(ops)), PaymentID: fmt.Sprintf("p-%d", len(ops)),
			OperationType: "sale", OperationStatus: status, PaymentType: "purchase", PaymentStatus: "success", PaymentMethod: "card",
			CreatedAt: base, SumInitial: domain.Money{Amount: 100, Currency: "EUR"}})
	}
	add("evil\x1b[2J\x1b[31mred\nnext line")
	add(strings.Repeat("L", 20000))
	for i := range 2000 {
		add(fmt.Sprintf("odd %d", i))
	}
	if _, err := l.UpsertPage(ops, base); err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, out, errOut := w.run(t, "status")
	if strings.ContainsRune(out, '\x1b') {
		t.Errorf("status prints a raw escape sequence")
	}
	if n := strings.Count(out, "unknown status"); n > 21 {
		t.Errorf("status lists %d unknown words", n)
	}
	longest := 0
	for _, line := range strings.Split(out, "\n") {
		longest = max(longest, len(line))
	}
	if longest > 1000 {
		t.Errorf("status prints a line of %d bytes: a word is not shortened (stderr %s)", longest, errOut)
	}
	path := filepath.Join(w.dir, "report.txt")
	w.run(t, "report", "--date", base.Format(time.DateOnly), "-o", path)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(string(text), '\x1b') {
		t.Errorf("the report holds a raw escape sequence")
	}
	longest = 0
	for _, line := range strings.Split(string(text), "\n") {
		longest = max(longest, len(line))
	}
	if longest > 1000 {
		t.Errorf("the report has a line of %d bytes: a word is not shortened", longest)
	}
}
