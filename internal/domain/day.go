package domain

import "time"

// Days in a zone. A calendar day begins at its midnight, except where the
// clocks jump over midnight (America/Santiago's spring: 23:59:59 -04 is
// followed by 01:00 -03): there it begins where the jump ends. time.Date,
// time.ParseInLocation and Time.AddDate give such a midnight as 23:00 of
// the day before, which made that day's report, export and window begin an
// hour early, on the wrong date.

// DayStart is the first instant of the day y-m-d (normalized as
// time.Date does) in loc.
func DayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	y, m, d = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	for range 3 { // a zone moving twice in a day's first hour: none does
		ty, tm, td := t.Date()
		if ty == y && tm == m && td == d {
			break
		}
		_, end := t.ZoneBounds() // the day before: the day begins where its zone ends
		if end.IsZero() {
			break
		}
		t = end
	}
	return t
}

// AddDays is the first instant of the day n days after t's day in loc.
func AddDays(t time.Time, n int, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return DayStart(y, m, d+n, loc)
}

// ParseDay reads a YYYY-MM-DD day as its first instant in loc.
func ParseDay(s string, loc *time.Location) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, err
	}
	return DayStart(t.Year(), t.Month(), t.Day(), loc), nil
}
