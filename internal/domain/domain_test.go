package domain

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestFormatMajor(t *testing.T) {
	tests := []struct {
		amount   int64
		currency string
		want     string
	}{
		{100000, "UAH", "1000.00"},
		{45066, "GBP", "450.66"},
		{200, "JPY", "200"},
		{150155, "KWD", "150.155"},
		{100000, "UZS", "1000.00"},
		{5, "EUR", "0.05"},
		{-5, "EUR", "-0.05"},
		{0, "USD", "0.00"},
		{-150155, "KWD", "-150.155"},
		{1, "IQD", "0.001"}, // ISO says 3 decimals; CLDR would say 0
		{math.MinInt64, "JPY", "-9223372036854775808"},
		{math.MaxInt64, "EUR", "92233720368547758.07"},
	}
	for _, tt := range tests {
		got, err := FormatMajor(tt.amount, tt.currency)
		if err != nil {
			t.Fatalf("FormatMajor(%d, %s): %v", tt.amount, tt.currency, err)
		}
		if got != tt.want {
			t.Errorf("FormatMajor(%d, %s) = %q, want %q", tt.amount, tt.currency, got, tt.want)
		}
	}
}

func TestExponentRejectsNonCodes(t *testing.T) {
	for _, c := range []string{"", "uah", "978", "ZZZ", "EURO", "U H"} {
		if _, err := Exponent(c); !errors.Is(err, ErrUnknownCurrency) {
			t.Errorf("Exponent(%q) err = %v, want ErrUnknownCurrency", c, err)
		}
	}
}

func TestParseMajor(t *testing.T) {
	tests := []struct {
		in       string
		currency string
		want     int64
		wantErr  bool
	}{
		{"1000.00", "UAH", 100000, false},
		{"1000", "UAH", 100000, false},
		{"1000.5", "UAH", 100050, false},
		{".5", "UAH", 50, false},
		{"-0.05", "EUR", -5, false},
		{"+7", "EUR", 700, false},
		{"200", "JPY", 200, false},
		{"150.155", "KWD", 150155, false},
		{"10.001", "UAH", 0, true},
		{"200.5", "JPY", 0, true},
		{"", "UAH", 0, true},
		{".", "UAH", 0, true},
		{"1,5", "UAH", 0, true},
		{"1e3", "UAH", 0, true},
		{"1 000.00", "UAH", 0, true},
		{"99999999999999999999", "UAH", 0, true},
		{"92233720368547758.07", "EUR", math.MaxInt64, false},
		{"92233720368547758.08", "EUR", 0, true},
		{"-92233720368547758.08", "EUR", math.MinInt64, false},
	}
	for _, tt := range tests {
		got, err := ParseMajor(tt.in, tt.currency)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseMajor(%q, %s) err = %v, wantErr %v", tt.in, tt.currency, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseMajor(%q, %s) = %d, want %d", tt.in, tt.currency, got, tt.want)
		}
	}
}

func TestParseFormatRoundTrip(t *testing.T) {
	for _, c := range []string{"UAH", "JPY", "KWD", "UZS"} {
		for _, a := range []int64{0, 1, -1, 99, 100, 12345678, -40400} {
			s, err := FormatMajor(a, c)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseMajor(s, c)
			if err != nil || back != a {
				t.Errorf("%d %s -> %q -> %d, %v", a, c, s, back, err)
			}
		}
	}
}

func TestMaskAccount(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"411111******1111", "411111******1111"},
		{"1743-3223966A2D...514183B2584F543", "1743-3223966A2D...514183B2584F543"},
		{"qweqwe@gmail.com", "q***@gmail.com"},
		{"4242424242424242", "424242******4242"},
		{"4242 4242 4242 4242", "4242 42** **** 4242"},
		{"UA213223130000026007233566001", "UA21*********************6001"},
		{"abc", "***"},
		{"Жанна@почта.рф", "Ж***@почта.рф"},
	}
	for _, tt := range tests {
		if got := MaskAccount(tt.in); got != tt.want {
			t.Errorf("MaskAccount(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidateRejectsTimesAtTheEpoch(t *testing.T) {
	op := Operation{ProjectID: 1, OperationID: 1, PaymentID: "p", OperationType: "sale", OperationStatus: "success",
		CreatedAt: time.Unix(0, 0), SumInitial: Money{Amount: 1, Currency: "EUR"}}
	if err := op.Validate(); err == nil {
		t.Error("created at the epoch accepted")
	}
	op.CreatedAt = time.Unix(1e9, 0)
	op.CompletedAt = time.Unix(0, 0)
	if err := op.Validate(); err == nil {
		t.Error("completed at the epoch accepted")
	}
	op.CompletedAt = time.Unix(1e9+60, 0)
	if err := op.Validate(); err != nil {
		t.Error(err)
	}
}

func TestParseDateTime(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, tt := range []struct {
		in   string
		loc  *time.Location
		want time.Time
		ok   bool
	}{
		{"2026-11-20 10:00:05", time.UTC, time.Date(2026, 11, 20, 10, 0, 5, 0, time.UTC), true},
		{"2026-07-01 12:00:00", berlin, time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC), true},
		{"2026-02-30 10:00:00", time.UTC, time.Time{}, false},
		{"2026-13-01 10:00:00", time.UTC, time.Time{}, false},
		{"2026-11-20T10:00:00", time.UTC, time.Time{}, false},
		{"2026-11-20 1x:00:00", time.UTC, time.Time{}, false},
		{"2026-03-29 02:30:00", berlin, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), true}, // in the DST gap: ParseInLocation's answer
	} {
		got, err := ParseDateTime(tt.in, tt.loc)
		if (err == nil) != tt.ok || tt.ok && !got.Equal(tt.want) {
			t.Errorf("ParseDateTime(%q) = %v, %v; want %v ok=%v", tt.in, got.UTC(), err, tt.want, tt.ok)
		}
		if b, err2 := ParseDateTime([]byte(tt.in), tt.loc); !b.Equal(got) || (err2 == nil) != (err == nil) {
			t.Errorf("[]byte and string disagree on %q", tt.in)
		}
	}
}
