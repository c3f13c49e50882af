package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/schedule"
)

// Interlock is the optional hardware interlock: an independent timer
// switch in the + line of the relay coils' supply, programmed for the
// backup window, so that outside it no command from the gateway (nor
// from anyone who took the gateway over) can power a medium. It is
// configured as the timer is programmed; the wiring test checks that the
// timer really holds the power off outside the window. A restore or drill
// outside the window needs the timer overridden by hand (its manual on).
type Interlock struct {
	// Start is when the timer closes the coils' supply, "HH:MM" in
	// TimeZone.
	Start string `json:"start"`
	// End is when it opens it again; at or before Start the window
	// crosses midnight.
	End string `json:"end"`
	// Days are the days the window opens ("mon" … "sun"); empty is
	// every day.
	Days []string `json:"days,omitempty"`
	// Relays are the relays whose coils the timer feeds; empty is all.
	Relays []string `json:"relays,omitempty"`
}

// InterlockWindow returns the interlock's window and the zone it is read
// in; false when no interlock is configured (or it does not parse, which
// Validate refuses).
func (c *Config) InterlockWindow() (relay.Window, *time.Location, bool) {
	if c.Interlock == nil {
		return relay.Window{}, nil, false
	}
	w, err := relay.ParseWindow(c.Interlock.Start, c.Interlock.End, c.Interlock.Days)
	if err != nil {
		return relay.Window{}, nil, false
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return relay.Window{}, nil, false
	}
	return w, loc, true
}

// Interlocked reports whether the interlock timer feeds the coil of the
// relay called name.
func (c *Config) Interlocked(name string) bool {
	return c.Interlock != nil && (len(c.Interlock.Relays) == 0 || slices.Contains(c.Interlock.Relays, name))
}

// interlock checks the window and that every scheduled run that powers a
// medium (cycles, drills) starts inside it. Such a schedule is refused,
// not warned of: every run outside the window would fail at power-on,
// night after night, which the rule "a setting that would fail later is
// refused when saved" forbids.
func (v *checker) interlock(c *Config) {
	il := c.Interlock
	if il == nil {
		return
	}
	w, err := relay.ParseWindow(il.Start, il.End, il.Days)
	if err != nil {
		v.AddText("interlock", msg.TextOf(err))
		return
	}
	for i, name := range il.Relays {
		if !slices.ContainsFunc(c.Relays, func(s relay.Spec) bool { return s.Name == name }) {
			v.AddText(fmt.Sprintf("interlock.relays[%d]", i), msg.Sprintf("リレー %q は設定にありません", "relay %q is not in the configuration", name))
		}
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return // time_zone is reported by itself
	}
	v.runsInside("schedule", c.Schedule, w, loc, msg.T("サイクル", "cycles"))
	v.runsInside("restore.drill_schedule", c.Restore.DrillSchedule, w, loc, msg.T("復元訓練", "restore drills"))
}

// runsInside refuses field's schedule when one of its runs within a year
// starts outside w.
func (v *checker) runsInside(field, expr string, w relay.Window, loc *time.Location, what msg.Text) {
	s, err := schedule.Parse(expr)
	if expr == "" || err != nil {
		return // empty is on demand only; a bad one is reported by itself
	}
	if t, ok := OutsideWindow(s, w, loc); ok {
		v.AddText(field, msg.Sprintf("%s が %s にインターロックの時間帯 %s の外で始まります。タイマーの時間帯の中に収めるか、タイマーの設定を変えてください",
			"%s would start at %s, outside the interlock window %s: move the schedule inside the timer's window or reprogram the timer",
			what, msg.Plain(t.Format("Mon 15:04")), w.Text()))
	}
}

// OutsideWindow returns a run of s within a year (from a fixed date,
// so the answer does not change with the day it is asked) that starts
// outside w, if any.
func OutsideWindow(s *schedule.Schedule, w relay.Window, loc *time.Location) (time.Time, bool) {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Add(-time.Minute)
	end := t.AddDate(1, 0, 0)
	for n := 0; n < 20000; n++ {
		if t = s.Next(t); t.IsZero() || t.After(end) {
			break
		}
		if !w.Contains(t) {
			return t, true
		}
	}
	return time.Time{}, false
}
