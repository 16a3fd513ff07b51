package config

import (
	"testing"
	"time"
)

// The zones are resolved when the config is validated, once: Zone and
// RecordsZone give them without another lookup, records.tz falls back to
// data_api.tz, and a config changed after validation is read as it is now.
func TestZonesAreResolvedWithTheConfig(t *testing.T) {
	c := Default()
	c.DataAPI.TZ = "Europe/Moscow"
	c.DataAPI.Projects = []int64{580}
	c.Records.TZ = ""
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.zones.data == nil || c.zones.data.String() != "Europe/Moscow" {
		t.Fatalf("Validate did not resolve data_api.tz: %v", c.zones.data)
	}
	if got := c.Zone(); got != c.zones.data {
		t.Errorf("Zone() = %v, not the zone Validate resolved", got)
	}
	if got := c.RecordsZone(); got.String() != "Europe/Moscow" {
		t.Errorf("RecordsZone() without records.tz = %v, want data_api.tz", got)
	}
	c.Records.TZ = "America/New_York"
	if got := c.RecordsZone(); got.String() != "America/New_York" {
		t.Errorf("RecordsZone() after records.tz changed = %v", got)
	}
	hand := Default() // a config made in code, never validated
	hand.DataAPI.TZ = "Asia/Tashkent"
	if got := hand.Zone(); got.String() != "Asia/Tashkent" {
		t.Errorf("Zone() of an unvalidated config = %v", got)
	}
	if got := hand.Zone(); got == time.Local {
		t.Error("Zone() fell back to the machine's zone")
	}
}
