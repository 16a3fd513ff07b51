package app

import (
	"strings"
	"testing"
	"time"

	"reconciled/internal/ledger"
)

// The day before 2024-09-09 in America/Santiago starts at 01:00 -03: it
// has no midnight.
func TestThePreviousDayWithoutMidnight(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	got := PreviousDay(time.Date(2024, 9, 9, 8, 0, 0, 0, loc), loc)
	if want := time.Date(2024, 9, 8, 4, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("PreviousDay = %v, want %v", got, want)
	}
	if d := got.In(loc).Format(time.DateOnly); d != "2024-09-08" {
		t.Errorf("its date %s", d)
	}
}

// The days a job catches up on across that day are each day once, each
// at its own first instant.
func TestCatchUpDaysAcrossADayWithoutMidnight(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	a := testApp(t, nil, nil)
	if err := a.Ledger.SaveProduced(ledger.Produced{Key: "report:daily:2024-09-06"}, nil); err != nil {
		t.Fatal(err)
	}
	days, err := a.dueDays("report:daily:", PreviousDay(time.Date(2024, 9, 10, 8, 0, 0, 0, loc), loc), loc)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range days {
		got = append(got, d.In(loc).Format("2006-01-02 15:04"))
	}
	if want := "2024-09-07 00:00 2024-09-08 01:00 2024-09-09 00:00"; strings.Join(got, " ") != want {
		t.Errorf("days %q, want %s", got, want)
	}
}
