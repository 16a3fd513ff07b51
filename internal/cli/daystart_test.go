package cli

import (
	"testing"
	"time"
)

// --from 2024-09-08 in America/Santiago is that day's first instant,
// 01:00 -03 (the day has no midnight), not 23:00 of the 7th.
func TestADateFlagOfADayWithoutMidnight(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	f := Time{Raw: "2024-09-08"}
	if err := f.Resolve("from", loc); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 9, 8, 4, 0, 0, 0, time.UTC); !f.T.Equal(want) {
		t.Errorf("--from 2024-09-08 = %v, want %v", f.T, want)
	}
}
