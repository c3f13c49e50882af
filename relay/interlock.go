package relay

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// The hardware interlock: an optional independent timer (a DIN-rail digital timer switch, or a
// second relay driven by its own timer circuit) can sit in the + line of
// the relay coils' supply. It closes only during the backup window, so
// outside it no command, from this process or from a root someone else
// installed, can energise a coil: the medium stays unpowered. The gateway
// knows the window only as configured (Window) and checks from the sense
// input that the timer really holds power off outside it; it never trusts
// the timer to be there.

// Window is when an interlock timer lets the coils' supply through: from
// Start to End (minutes after midnight, local time of the configured zone)
// on each of Days. An End at or before Start crosses midnight, and the
// window then belongs to the day it opens.
type Window struct {
	Start, End int
	Days       [7]bool // by time.Weekday; all false means every day
}

// dayNames are the configuration's day names, by time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var dayJA = [7]string{"日", "月", "火", "水", "木", "金", "土"}

// ParseWindow reads a window as the timer is programmed: start and end
// "HH:MM", days "mon".."sun" (none: every day). Errors name the part.
func ParseWindow(start, end string, days []string) (Window, error) {
	var w Window
	var err error
	if w.Start, err = clockMinutes(start); err != nil {
		return Window{}, msg.Errorf("開始 %q: %w", "start %q: %w", start, err)
	}
	if w.End, err = clockMinutes(end); err != nil {
		return Window{}, msg.Errorf("終了 %q: %w", "end %q: %w", end, err)
	}
	if w.Start == w.End {
		return Window{}, msg.New("開始と終了が同じです(常時通電ならインターロックを設定しないでください)",
			"start and end are the same (a timer that is always on is no interlock: leave it unset)")
	}
	for _, d := range days {
		i := slices.Index(dayNames[:], strings.ToLower(strings.TrimSpace(d)))
		if i < 0 {
			return Window{}, msg.Errorf("曜日 %q は mon, tue, wed, thu, fri, sat, sun のいずれかで書いてください",
				"day %q: use mon, tue, wed, thu, fri, sat or sun", d)
		}
		w.Days[i] = true
	}
	return w, nil
}

func clockMinutes(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, msg.New("HH:MM で書いてください", "write it as HH:MM")
	}
	return t.Hour()*60 + t.Minute(), nil
}

// opensOn reports whether the window opens on weekday d.
func (w Window) opensOn(d time.Weekday) bool {
	return w.Days == [7]bool{} || w.Days[d]
}

// Contains reports whether the timer lets power through at t (t in the
// configured zone).
func (w Window) Contains(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	if w.Start < w.End {
		return w.opensOn(t.Weekday()) && m >= w.Start && m < w.End
	}
	return (w.opensOn(t.Weekday()) && m >= w.Start) || (w.opensOn(t.AddDate(0, 0, -1).Weekday()) && m < w.End)
}

// NextOpen is the first time at or after t at which the window is open:
// t itself when it is open now.
func (w Window) NextOpen(t time.Time) time.Time {
	if w.Contains(t) {
		return t
	}
	for d := range 8 {
		day := t.AddDate(0, 0, d)
		open := time.Date(day.Year(), day.Month(), day.Day(), w.Start/60, w.Start%60, 0, 0, t.Location())
		if open.After(t) && w.opensOn(open.Weekday()) {
			return open
		}
	}
	return time.Time{} // unreachable: every window opens within a week
}

// NextClose is when the window that is open at t closes; t itself when
// it is closed at t.
func (w Window) NextClose(t time.Time) time.Time {
	if !w.Contains(t) {
		return t
	}
	end := time.Date(t.Year(), t.Month(), t.Day(), w.End/60, w.End%60, 0, 0, t.Location())
	if !end.After(t) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

// Text says the window for people: "22:00–05:00 (毎日)", "01:00–04:00 (mon, sat)".
func (w Window) Text() msg.Text {
	span := fmt.Sprintf("%02d:%02d–%02d:%02d", w.Start/60, w.Start%60, w.End/60, w.End%60)
	days := msg.T("毎日", "every day")
	if w.Days != [7]bool{} {
		var ja, en []string
		for i := range 7 {
			if d := (i + 1) % 7; w.Days[d] { // Monday first
				ja, en = append(ja, dayJA[d]), append(en, dayNames[d])
			}
		}
		days = msg.T(strings.Join(ja, "・"), strings.Join(en, ", "))
	}
	return msg.Sprintf("%s(%s)", "%s (%s)", span, days)
}
