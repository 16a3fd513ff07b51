package config

import (
	"strings"
	"testing"

	"reconciled/internal/domain"
)

// [fees]: each bad tariff is named by its key and line, all at once; a
// good contract is built and finds its tariffs.
func TestFeesTariffsAreChecked(t *testing.T) {
	for _, tt := range []struct{ name, text, want string }{
		{"negative tolerance", "[fees]\ntolerance = -1\n", "test.toml:9: fees.tolerance: -1 is negative"},
		{"no method", "[[fees.tariff]]\ntype = \"purchase\"\npercent = \"2.5\"\n", "fees.tariff[1].method: is empty"},
		{"bad type", "[[fees.tariff]]\nmethod = \"advcash\"\ntype = \"sale\"\n", "test.toml:10: fees.tariff[1].type: \"sale\": use purchase, payout or refund"},
		{"a float percent", "[[fees.tariff]]\nmethod = \"advcash\"\ntype = \"purchase\"\npercent = 2.5\n", "fees.tariff[1].percent"},
		{"a comma", "[[fees.tariff]]\nmethod = \"advcash\"\ntype = \"purchase\"\npercent = \"2,5\"\n", "test.toml:11: fees.tariff[1].percent: \"2,5\" is not a decimal number"},
		{"over 100", "[[fees.tariff]]\nmethod = \"advcash\"\ntype = \"purchase\"\npercent = \"250\"\n", "more than 100 percent"},
		{"currency", "[[fees.tariff]]\nmethod = \"advcash\"\ntype = \"purchase\"\ncurrency = \"EURO\"\n", "fees.tariff[1].currency: \"EURO\" is not an ISO 4217 code"},
		{"negative min", "[[fees.tariff]]\nmethod = \"advcash\"\ntype = \"purchase\"\nmin = -5\n", "fees.tariff[1].min: -5 is negative"},
		{"max below min", "[[fees.tariff]]\nmethod = \"advcash\"\ntype = \"purchase\"\nmin = 50\nmax = 10\n", "fees.tariff[1].max: 10 is below min 50"},
		{"twice", "[[fees.tariff]]\nmethod = \"advcash\"\ntype = \"purchase\"\n[[fees.tariff]]\nmethod = \"ADVCash\"\ntype = \"purchase\"\n",
			"test.toml:11: fees.tariff[2]: two tariffs for the same method, type and currency: as tariff 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parse(t, minimal+tt.text)
			if ps == nil || !strings.Contains(ps.Error(), tt.want) {
				t.Fatalf("got\n%v\nwant a line containing %q", ps, tt.want)
			}
		})
	}
	c, ps := parse(t, minimal+`[fees]
tolerance = 1
[[fees.tariff]]
method = "advcash"
type = "purchase"
percent = "2.5"
min = 50
[[fees.tariff]]
method = "advcash"
type = "purchase"
currency = "eur"
percent = "2"
fixed = 10
`)
	if ps != nil {
		t.Fatal(ps)
	}
	if c.Fees.Tolerance != 1 || c.Contract().Len() != 2 {
		t.Fatalf("fees %+v, %d tariffs", c.Fees, c.Contract().Len())
	}
	if fee, _, ok := c.Contract().Expected("advcash", domain.RecordPurchase, domain.Money{Amount: 10000, Currency: "EUR"}); !ok || fee.Amount != 210 {
		t.Errorf("EUR: %+v %v", fee, ok)
	}
	if fee, _, ok := c.Contract().Expected("advcash", domain.RecordPurchase, domain.Money{Amount: 1000, Currency: "USD"}); !ok || fee.Amount != 50 {
		t.Errorf("USD: %+v %v", fee, ok)
	}
}
