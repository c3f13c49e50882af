// Package when shows times to people in the hospital's zone: the one the
// configuration names (time_zone), never the process's own Local zone.
// The appliance has no TZ and no /etc/localtime, so Local is UTC there:
// a cycle due at 02:00 in Tokyo would read 17:00. Each formatted time
// carries its zone (JST, or the offset where the zone has no
// abbreviation), so a vendor reading it from elsewhere is not misled.
// Stored data (the ledger, reports on disk) keeps UTC and RFC 3339; this
// package is only for what a person reads.
package when

import (
	"time"
	_ "time/tzdata" // the appliance has no zoneinfo files
)

// Zone formats times in one location. The zero Zone is UTC, labelled so.
type Zone struct{ loc *time.Location }

// In is the zone of loc (nil is UTC).
func In(loc *time.Location) Zone { return Zone{loc: loc} }

// Of is the IANA zone name, as the configuration's time_zone holds it. A
// name that does not load (validation refuses one) is UTC, labelled so,
// rather than a local time that looks right and is not.
func Of(name string) Zone {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return Zone{}
	}
	return Zone{loc: loc}
}

// Location is the zone's location, to parse what a person types in it.
func (z Zone) Location() *time.Location {
	if z.loc == nil {
		return time.UTC
	}
	return z.loc
}

// Time is t in the zone, for a layout of the caller's own.
func (z Zone) Time(t time.Time) time.Time { return t.In(z.Location()) }

// Stamp is t to the second with its zone, "2026-12-07 02:00:00 JST"; "—"
// when t is unknown (zero).
func (z Zone) Stamp(t time.Time) string { return z.format(t, time.DateTime) }

// Minute is t to the minute with its zone, "2026-12-07 02:00 JST"; "—"
// when t is unknown (zero).
func (z Zone) Minute(t time.Time) string { return z.format(t, "2006-01-02 15:04") }

// Clock is t's time of day, "02:00:05", for lines that follow one another
// within minutes (progress), whose day and zone are plain from the rest.
func (z Zone) Clock(t time.Time) string { return z.Time(t).Format(time.TimeOnly) }

// Date is t's day in the zone, "2026-12-07".
func (z Zone) Date(t time.Time) string { return z.Time(t).Format(time.DateOnly) }

func (z Zone) format(t time.Time, layout string) string {
	if t.IsZero() {
		return "—"
	}
	t = z.Time(t)
	return t.Format(layout) + " " + Label(t)
}

// Label names t's zone: its abbreviation (JST, UTC, CET), or its offset
// ("+03:00") where the zone has none of its own (tzdata then gives
// "+03", which reads like a number).
func Label(t time.Time) string {
	name, _ := t.Zone()
	if name == "" || name[0] == '+' || name[0] == '-' {
		return t.Format("-07:00")
	}
	return name
}
