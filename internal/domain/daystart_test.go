package domain

import (
	"testing"
	"time"
)

// santiago's clocks jump from 23:59:59 -04 to 01:00 -03 on 2024-09-08:
// that day has no midnight.
func santiago(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestDayStartOfADayWithoutMidnight(t *testing.T) {
	loc := santiago(t)
	got := DayStart(2024, 9, 8, loc)
	if want := time.Date(2024, 9, 8, 4, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("DayStart = %v, want %v (01:00 -03)", got, want)
	}
	if y, m, d := got.In(loc).Date(); y != 2024 || m != 9 || d != 8 {
		t.Errorf("the day's start is on %d-%d-%d", y, m, d)
	}
	// An ordinary day, the day after, and a normalized date.
	if got := DayStart(2024, 9, 9, loc); !got.Equal(time.Date(2024, 9, 9, 0, 0, 0, 0, loc)) {
		t.Errorf("9 September: %v", got)
	}
	if got := DayStart(2024, 8, 39, loc); !got.Equal(DayStart(2024, 9, 8, loc)) {
		t.Errorf("8/39: %v", got)
	}
	if got := DayStart(2026, 11, 20, time.UTC); !got.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("UTC: %v", got)
	}
}
