package schedule

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	from := time.Date(2026, 11, 23, 6, 30, 0, 0, time.UTC)
	tests := []struct {
		spec string
		next time.Time // zero: invalid
	}{
		{"*/10 * * * *", time.Date(2026, 11, 23, 6, 40, 0, 0, time.UTC)},
		{"CRON_TZ=Europe/Moscow 0 7 * * *", time.Date(2026, 11, 24, 4, 0, 0, 0, time.UTC)},
		{"TZ=Asia/Tashkent 0 12 * * *", time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)},
		{"*/1 * * * * *", from.Add(time.Second)},
		{"@every 1s", from.Add(time.Second)},
		{"@daily", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		{"", time.Time{}},
		{"CRON_TZ=Europe/Moscow", time.Time{}}, // robfig/cron panics on this one
		{"CRON_TZ=Mars/Olympus 0 7 * * *", time.Time{}},
		{"CRON_TZ= 0 7 * * *", time.Time{}},
		{"61 * * * *", time.Time{}},
		{"* * *", time.Time{}},
		{"0 0 30 2 *", time.Time{}},
		{"@sometimes", time.Time{}},
	}
	for _, tt := range tests {
		s, err := Parse(tt.spec)
		if tt.next.IsZero() {
			if err == nil {
				t.Errorf("Parse(%q) succeeded, want an error", tt.spec)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.spec, err)
			continue
		}
		if got := s.Next(from); !got.Equal(tt.next) {
			t.Errorf("Parse(%q).Next = %v, want %v", tt.spec, got.UTC(), tt.next)
		}
	}
}
