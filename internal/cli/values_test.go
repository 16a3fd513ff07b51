package cli

import (
	"flag"
	"io"
	"slices"
	"testing"
	"time"
)

func TestListTakesRepeatedAndCommaSeparatedValues(t *testing.T) {
	var l List
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Var(&l, "to", "")
	if err := fs.Parse([]string{"--to", "a@x, b@x", "--to", "c@x,,", "--to", " "}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a@x", "b@x", "c@x"}; !slices.Equal(l, want) || l.String() != "a@x,b@x,c@x" {
		t.Fatalf("%q (%s), want %q", []string(l), l.String(), want)
	}
}

func TestInt64sTakesPositiveNumbersAndNamesWhatIsWrong(t *testing.T) {
	ids := Int64s{Noun: "project id"}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&ids, "project", "")
	if err := fs.Parse([]string{"--project", "580, 579", "--project", "1"}); err != nil {
		t.Fatal(err)
	}
	if want := []int64{580, 579, 1}; !slices.Equal(ids.List, want) || ids.String() != "[580 579 1]" {
		t.Fatalf("%v (%s), want %v", ids.List, ids.String(), want)
	}
	for _, bad := range []string{"0", "-3", "x", "1.5"} {
		ids := Int64s{Noun: "project id"}
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Var(&ids, "project", "")
		err := fs.Parse([]string{"--project", bad})
		if want := `invalid value "` + bad + `" for flag -project: "` + bad + `" is not a project id`; err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", bad, err, want)
		}
	}
	if (&Int64s{}).String() != "[]" {
		t.Errorf("empty: %q", (&Int64s{}).String())
	}
}

func TestTimeIsReadInTheZoneItIsResolvedIn(t *testing.T) {
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string]time.Time{
		"2026-11-20":                time.Date(2026, 11, 20, 0, 0, 0, 0, kyiv),
		"2026-11-20 10:00":          time.Date(2026, 11, 20, 10, 0, 0, 0, kyiv),
		"2026-11-20 10:00:05":       time.Date(2026, 11, 20, 10, 0, 5, 0, kyiv),
		"2026-11-20T10:00:00Z":      time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
		"2026-11-20T10:00:00+05:00": time.Date(2026, 11, 20, 5, 0, 0, 0, time.UTC),
	} {
		var f Time
		f.Set(raw)
		if err := f.Resolve("from", kyiv); err != nil || !f.T.Equal(want) || f.String() != raw {
			t.Errorf("%q: %v, %v; want %v", raw, f.T, err, want)
		}
	}
	var f Time
	if err := f.Resolve("from", kyiv); err != nil || !f.T.IsZero() {
		t.Errorf("not given: %v, %v", f.T, err)
	}
	f.Set("yesterday")
	if got := usageText(t, f.Resolve("to", kyiv)); got != `--to "yesterday": use 2026-11-20, "2026-11-20 10:00:00" or RFC 3339` {
		t.Errorf("yesterday: %q", got)
	}
}

// Given stands for a time typed but not read yet: zero if none was typed.
func TestTimeGiven(t *testing.T) {
	stand := time.Unix(1, 0)
	var f Time
	if !f.Given(stand).IsZero() {
		t.Error("not given, yet a time")
	}
	f.Set("someday")
	if !f.Given(stand).Equal(stand) {
		t.Error("given, yet no time")
	}
}
