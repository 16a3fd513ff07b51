package export

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
)

// referenceRow is how a register row was made before issue 13 (a string
// per cell, t.In(loc).Format, domain.FormatMajor): the meaning the faster
// registerRow must keep, cell for cell.
func referenceRow(op *domain.Operation, loc *time.Location) []string {
	major := func(m domain.Money) string {
		if m.Currency == "" {
			return ""
		}
		s, err := domain.FormatMajor(m.Amount, m.Currency)
		if err != nil {
			return strconv.FormatInt(m.Amount, 10)
		}
		return s
	}
	optionalInt := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	formatTime := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(TimeLayout)
	}
	return []string{
		strconv.FormatInt(op.ProjectID, 10), Neutralize(op.PaymentID), Neutralize(op.PaymentType), Neutralize(op.PaymentStatus),
		strconv.FormatUint(op.OperationID, 10), Neutralize(op.OperationType), Neutralize(op.OperationStatus), Neutralize(op.PaymentMethod),
		major(op.SumInitial), op.SumInitial.Currency, major(op.SumConverted), op.SumConverted.Currency,
		Neutralize(domain.MaskAccount(op.AccountNumber)), Neutralize(op.CustomerID), optionalInt(op.ProviderID),
		Neutralize(op.ProviderPaymentID), Neutralize(op.Code), Neutralize(domain.MaskCardNumbers(op.Message)),
		formatTime(op.CreatedAt), formatTime(op.CompletedAt),
	}
}

// zones have offsets of every kind: none, whole and odd hours, half and
// quarter hours, daylight saving north and south, a zone that skipped a
// day (Pacific/Apia, 2011-12-30), historic local mean time.
var zones = []string{"UTC", "Asia/Tashkent", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu",
	"Pacific/Apia", "America/St_Johns", "Europe/Kyiv", "America/Sao_Paulo", "Pacific/Chatham", "Africa/Casablanca"}

// randomTime is a time near a zone change, a day boundary, or anywhere
// from year 1 to 9999 and beyond; sometimes zero.
func randomTime(rng *rand.Rand, loc *time.Location) time.Time {
	switch rng.IntN(8) {
	case 0:
		return time.Time{}
	case 1: // around a change of the zone's offset in some year
		y := 1900 + rng.IntN(200)
		t := time.Date(y, time.Month(1+rng.IntN(12)), 1, 0, 0, 0, 0, loc)
		_, end := t.ZoneBounds()
		if !end.IsZero() {
			t = end
		}
		return t.Add(time.Duration(rng.IntN(7200)-3600) * time.Second).Add(time.Duration(rng.IntN(1e9)))
	case 2: // around midnight, in the zone
		t := time.Date(1970+rng.IntN(100), time.Month(1+rng.IntN(12)), 1+rng.IntN(31), 0, 0, 0, 0, loc)
		return t.Add(time.Duration(rng.IntN(20)-10) * time.Second)
	case 3: // any time of any year of four digits or fewer, or more
		return time.Unix(rng.Int64N(2*320_000_000_000)-320_000_000_000, rng.Int64N(1e9))
	case 4: // the extremes
		return []time.Time{time.Unix(math.MaxInt64/2, 0), time.Unix(math.MinInt64/2, 0), time.Unix(-1, 999_999_999),
			time.Unix(0, 1), time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(999, 12, 31, 23, 59, 59, 0, time.UTC),
			time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}[rng.IntN(8)]
	default: // a register's times: a few days of 2026, in order or near it
		return time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(10 * 24 * 3600 * 1e9)))
	}
}

var words = []string{"", "a", "=1+1", "+7", "-", "@x", "\tx", "\rx", "\x00x", "'x", "sale", "Банковская карта", "a,b", `q"uote`,
	"line\nbreak", " lead", "4111111111111111", "4111 1111 1111 1111", "4111111111111111*", "6836-88228A0F21...0008A0F21826144",
	"q***@gmail.com", "user@mail.example", "Иван Петров", "card ４１１１１１１１１１１１１１１１ ok", "\xff\xfe", "12345678901234567890"}

var currencies = []string{"", "EUR", "JPY", "KWD", "BHD", "CLF", "UZS", "ZZZ", "eur", "XXX", "USD"}

func randomOp(rng *rand.Rand, loc *time.Location) domain.Operation {
	w := func() string {
		if rng.IntN(4) == 0 { // a word of random bytes from those that matter
			const alphabet = "=+-@\t\r\n\x00'\",; 0123456789*.…abcЖ"
			var b strings.Builder
			for range rng.IntN(24) {
				b.WriteString(string([]rune(alphabet)[rng.IntN(len([]rune(alphabet)))]))
			}
			return b.String()
		}
		return words[rng.IntN(len(words))]
	}
	n := func() int64 {
		return []int64{0, 1, -1, math.MaxInt64, math.MinInt64, rng.Int64(), rng.Int64N(1e6) - 5e5}[rng.IntN(7)]
	}
	return domain.Operation{ProjectID: n(), OperationID: rng.Uint64() >> rng.IntN(64), PaymentID: w(), PaymentType: w(),
		PaymentStatus: w(), OperationType: w(), OperationStatus: w(), PaymentMethod: w(), AccountNumber: w(), CustomerID: w(),
		CreatedAt: randomTime(rng, loc), CompletedAt: randomTime(rng, loc),
		SumInitial:   domain.Money{Amount: n(), Currency: currencies[rng.IntN(len(currencies))]},
		SumConverted: domain.Money{Amount: n(), Currency: currencies[rng.IntN(len(currencies))]},
		ProviderID:   n(), ProviderPaymentID: w(), Code: w(), Message: w()}
}

func TestRegisterRowIsTheReferenceRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 5))
	for _, name := range zones {
		loc := zone(t, name)
		row := newRegisterRow(loc) // one formatter for all: its caches must never serve a wrong row
		for i := range 20_000 {
			op := randomOp(rng, loc)
			want := referenceRow(&op, loc)
			if got := row.format(&op); !slices.Equal(got, want) {
				for c := range want {
					if got[c] != want[c] {
						t.Fatalf("%s, operation %d: %s = %q, want %q (%+v)", name, i, OperationColumns[c], got[c], want[c], op)
					}
				}
			}
		}
	}
}

// A wall clock's caches follow the times wherever they jump: around every
// change of a zone's offset in a century.
func TestWallClockAcrossZoneChanges(t *testing.T) {
	for _, name := range zones {
		loc := zone(t, name)
		c := wallClock{loc: loc}
		for tm := time.Date(1950, 1, 1, 0, 0, 0, 0, loc); tm.Year() < 2050; {
			_, end := tm.ZoneBounds()
			if end.IsZero() {
				break
			}
			if !end.After(tm) { // Go's bounds of a zone's rule-made years can end where they start (2041 in New York)
				tm = tm.Add(time.Hour)
				continue
			}
			for d := -3 * time.Hour; d <= 3*time.Hour; d += 15 * time.Minute {
				for _, s := range []time.Time{end.Add(d), end.Add(d - time.Second), end.Add(-d)} {
					if got, want := string(c.append(nil, s)), s.In(loc).Format(TimeLayout); got != want {
						t.Fatalf("%s: %v written %q, want %q", name, s.UTC(), got, want)
					}
				}
			}
			tm = end
		}
	}
}

// referenceMoney is how an amount cell was made before issue 13: through
// the decimal text, always.
func referenceMoney(b *book, m domain.Money) any {
	if m.Currency == "" {
		return nil
	}
	exp, err := domain.Exponent(m.Currency)
	if err != nil {
		return strconv.FormatInt(m.Amount, 10)
	}
	text := string(domain.AppendMajor(nil, m.Amount, exp))
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || strconv.FormatFloat(v, 'f', -1, 64) != trimZeros(text) {
		return text
	}
	return excelize.Cell{StyleID: b.moneyByExp[min(exp, len(b.moneyByExp)-1)], Value: v}
}

func TestMoneyCellIsTheReferenceCell(t *testing.T) {
	b, err := newBook(XLSXOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.f.Close()
	rng := rand.New(rand.NewPCG(13, 4))
	amounts := []int64{0, 1, -1, 5, -5, 99, 100, 101, 1e15 - 1, -(1e15 - 1), 1e15, -1e15, 1e15 + 1, 1 << 53, -(1 << 53),
		1<<53 + 1, math.MaxInt64, math.MinInt64, 123456789012345, 999999999999999, 100000000000000}
	for range 20_000 {
		amounts = append(amounts, rng.Int64N(2e15)-1e15, rng.Int64N(1e6), rng.Int64()>>rng.IntN(63), -rng.Int64()>>rng.IntN(63))
	}
	for _, cur := range currencies {
		for _, a := range amounts {
			m := domain.Money{Amount: a, Currency: cur}
			if got, want := b.money(m), referenceMoney(b, m); got != want {
				t.Fatalf("%v: cell %#v, want %#v", m, got, want)
			}
		}
	}
}

func TestWallIsTheReferenceWall(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 13))
	for _, name := range zones {
		loc := zone(t, name)
		c := wallClock{loc: loc}
		for range 50_000 {
			tm := randomTime(rng, loc)
			l := tm.In(loc)
			want := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
			if got := c.wall(tm); got != want {
				t.Fatalf("%s: %v: wall %v, want %v", name, tm, got, want)
			}
		}
	}
}
