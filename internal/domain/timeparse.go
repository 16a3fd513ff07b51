package domain

import "time"

// DateTimeLayout is "YYYY-MM-DD hh:mm:ss": the Data API's times, the
// Dashboard's exports, and the merchant records' usual form.
const DateTimeLayout = time.DateTime

// ParseDateTime reads a DateTimeLayout time in loc. The common form is read
// by hand, as it is parsed once per field of millions of rows
// (time.ParseInLocation cost a sixth of decoding a page); anything else,
// and a local time that time.Date would normalise (30 February, an hour
// skipped by daylight saving), goes through time.ParseInLocation.
func ParseDateTime[T ~string | ~[]byte](v T, loc *time.Location) (time.Time, error) {
	if len(v) == len(DateTimeLayout) && v[4] == '-' && v[7] == '-' && v[10] == ' ' && v[13] == ':' && v[16] == ':' {
		y, ok1 := digits(v[0:4])
		mo, ok2 := digits(v[5:7])
		d, ok3 := digits(v[8:10])
		h, ok4 := digits(v[11:13])
		mi, ok5 := digits(v[14:16])
		s, ok6 := digits(v[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 {
			t := time.Date(y, time.Month(mo), d, h, mi, s, 0, loc)
			if t.Year() == y && int(t.Month()) == mo && t.Day() == d && t.Hour() == h && t.Minute() == mi && t.Second() == s {
				return t, nil
			}
		}
	}
	return time.ParseInLocation(DateTimeLayout, string(v), loc)
}

func digits[T ~string | ~[]byte](b T) (int, bool) {
	n := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
