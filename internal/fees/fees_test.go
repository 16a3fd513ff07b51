package fees

import (
	"errors"
	"math"
	"testing"

	"reconciled/internal/domain"
)

func TestParsePercent(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "2.5", want: 2_500_000}, {in: "0.125", want: 125_000}, {in: "100", want: 100_000_000}, {in: "0", want: 0},
		{in: ".5", want: 500_000}, {in: "007.000001", want: 7_000_001}, {in: " 1.8 ", want: 1_800_000},
		{in: "2.", bad: true}, {in: "", bad: true}, {in: ".", bad: true}, {in: "1e2", bad: true}, {in: "-1", bad: true},
		{in: "100.000001", bad: true}, {in: "1000", bad: true}, {in: "2,5", bad: true}, {in: "1.1234567", bad: true},
		{in: "1.2.3", bad: true}, {in: "+2", bad: true},
	} {
		got, err := ParsePercent(c.in)
		if c.bad != (err != nil) || !c.bad && got != c.want {
			t.Errorf("ParsePercent(%q) = %d, %v; want %d (bad %v)", c.in, got, err, c.want, c.bad)
		}
		if !c.bad {
			if back, err := ParsePercent(FormatPercent(got)); err != nil || back != got {
				t.Errorf("FormatPercent(%d) = %q does not read back", got, FormatPercent(got))
			}
		}
	}
}

// The tariff's arithmetic: the percent exact and rounded once, half away
// from zero; then the fixed part; then max, then min.
func TestTariffOf(t *testing.T) {
	pct := func(s string) int64 {
		p, err := ParsePercent(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name   string
		t      Tariff
		amount int64
		want   int64
	}{
		{"2.5 % of 100.00", Tariff{Percent: pct("2.5")}, 10000, 250},
		{"2.5 % of 100.20: 250.5 rounds up", Tariff{Percent: pct("2.5")}, 10020, 251},
		{"2.5 % of 100.19: 250.475 rounds down", Tariff{Percent: pct("2.5")}, 10019, 250},
		{"a refund's negative amount: half away from zero", Tariff{Percent: pct("2.5")}, -10020, -251},
		{"0.025 of a unit is none", Tariff{Percent: pct("2.5")}, 1, 0},
		{"plus fixed", Tariff{Percent: pct("1"), Fixed: 30}, 10000, 130},
		{"at least min", Tariff{Percent: pct("2.5"), Min: 50}, 100, 50},
		{"at most max", Tariff{Percent: pct("2.5"), Max: 1000}, 1_000_000, 1000},
		{"max before min", Tariff{Percent: pct("50"), Min: 700, Max: 500}, 10000, 700},
		{"fixed only", Tariff{Fixed: 50000}, 123, 50000},
		{"six decimals", Tariff{Percent: pct("0.000001")}, 100_000_000, 1},
		{"100 % of the largest amount: no overflow", Tariff{Percent: pct("100")}, math.MaxInt64, math.MaxInt64},
		{"99.999999 % of the largest amount", Tariff{Percent: pct("99.999999")}, math.MaxInt64, 9223371944621055438},
		{"100 % of the largest amount plus fixed: the largest, not wrapped below zero", Tariff{Percent: pct("100"), Fixed: 10}, math.MaxInt64, math.MaxInt64},
		{"the largest fixed on top of a percent: the largest", Tariff{Percent: pct("2.5"), Fixed: math.MaxInt64}, 10000, math.MaxInt64},
		{"100 % of the smallest amount", Tariff{Percent: pct("100")}, math.MinInt64, math.MinInt64},
	} {
		if got := c.t.Of(c.amount); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// The contract finds an operation's tariff by method (any case), record
// type and currency, the one for its currency before the one for any;
// two for the same scope are refused, naming the second.
func TestContract(t *testing.T) {
	c, _, err := NewContract([]Tariff{
		{Method: "advcash", Type: domain.RecordPurchase, Percent: 2_500_000},
		{Method: "advcash", Type: domain.RecordPurchase, Currency: "EUR", Percent: 2_000_000},
		{Method: "advcash", Type: domain.RecordPayout, Fixed: 30},
	})
	if err != nil {
		t.Fatal(err)
	}
	if fee, _, ok := c.Expected("ADVCASH", domain.RecordPurchase, domain.Money{Amount: 10000, Currency: "EUR"}); !ok || fee != (domain.Money{Amount: 200, Currency: "EUR"}) {
		t.Errorf("EUR purchase: %+v %v", fee, ok)
	}
	if fee, _, ok := c.Expected("advcash", domain.RecordPurchase, domain.Money{Amount: 10000, Currency: "USD"}); !ok || fee.Amount != 250 {
		t.Errorf("USD purchase: %+v %v", fee, ok)
	}
	if _, _, ok := c.Expected("advcash", domain.RecordRefund, domain.Money{Amount: 10000, Currency: "USD"}); ok {
		t.Error("a refund has a tariff it was not given")
	}
	if _, _, ok := c.Expected("card", domain.RecordPurchase, domain.Money{Amount: 10000, Currency: "USD"}); ok {
		t.Error("another method has a tariff")
	}
	_, at, err := NewContract([]Tariff{{Method: "a", Type: "purchase"}, {Method: "b", Type: "purchase"}, {Method: "A", Type: "purchase", Currency: ""}})
	if !errors.Is(err, ErrDuplicate) || at != 2 {
		t.Errorf("duplicate: at %d, %v", at, err)
	}
}
