package when_test

import (
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/internal/when/whentest"
)

func TestTimesReadInTheConfiguredZoneWithItsLabel(t *testing.T) {
	whentest.LocalUTC(t)
	at := time.Date(2026, 12, 6, 17, 0, 5, 0, time.UTC) // 02:00:05 the next day in Tokyo
	for _, c := range []struct {
		zone, stamp, minute, clock, date string
	}{
		{"Asia/Tokyo", "2026-12-07 02:00:05 JST", "2026-12-07 02:00 JST", "02:00:05", "2026-12-07"},
		{"Europe/Berlin", "2026-12-06 18:00:05 CET", "2026-12-06 18:00 CET", "18:00:05", "2026-12-06"},
		{"Asia/Dubai", "2026-12-06 21:00:05 +04:00", "2026-12-06 21:00 +04:00", "21:00:05", "2026-12-06"}, // tzdata has no abbreviation: "+04"
		{"UTC", "2026-12-06 17:00:05 UTC", "2026-12-06 17:00 UTC", "17:00:05", "2026-12-06"},
		{"Mars/Olympus", "2026-12-06 17:00:05 UTC", "2026-12-06 17:00 UTC", "17:00:05", "2026-12-06"}, // unloadable: UTC, said so
	} {
		z := when.Of(c.zone)
		if got := z.Stamp(at); got != c.stamp {
			t.Errorf("%s: Stamp = %q, want %q", c.zone, got, c.stamp)
		}
		if got := z.Minute(at); got != c.minute {
			t.Errorf("%s: Minute = %q, want %q", c.zone, got, c.minute)
		}
		if got := z.Clock(at); got != c.clock {
			t.Errorf("%s: Clock = %q, want %q", c.zone, got, c.clock)
		}
		if got := z.Date(at); got != c.date {
			t.Errorf("%s: Date = %q, want %q", c.zone, got, c.date)
		}
	}
	if got := when.Of("Asia/Tokyo").Stamp(time.Time{}); got != "—" {
		t.Errorf("an unknown time reads %q, want —", got)
	}
	var zero when.Zone
	if zero.Location() != time.UTC || zero.Stamp(at) != "2026-12-06 17:00:05 UTC" {
		t.Errorf("the zero Zone is not UTC: %s", zero.Stamp(at))
	}
	if in := when.In(nil); in.Location() != time.UTC {
		t.Error("In(nil) is not UTC")
	}
}
