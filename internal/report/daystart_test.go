package report

import (
	"testing"
	"time"
)

// The report of a day whose midnight does not exist (America/Santiago,
// 2024-09-08) spans that day, from 01:00 -03, not from 23:00 the day
// before.
func TestTheReportOfADayWithoutMidnight(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	r := Build(Input{Date: time.Date(2024, 9, 8, 12, 0, 0, 0, loc), Location: loc, Now: time.Date(2024, 9, 9, 6, 0, 0, 0, loc)})
	if want := time.Date(2024, 9, 8, 4, 0, 0, 0, time.UTC); !r.Date.Equal(want) {
		t.Errorf("starts %v, want %v", r.Date, want)
	}
	if want := time.Date(2024, 9, 9, 3, 0, 0, 0, time.UTC); !r.End.Equal(want) {
		t.Errorf("ends %v, want %v", r.End, want)
	}
}
