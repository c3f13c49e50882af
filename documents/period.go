package documents

import (
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// DefaultDays is the evidence period when none is given.
const DefaultDays = 30

// errPeriodOrder is a period that ends before it starts.
var errPeriodOrder = msg.New("期間の終わりは始まりより後にしてください", "the period must end after it starts")

// Period reads an evidence period given as dates (YYYY-MM-DD) in the
// gateway's time zone: from is included, to is not. An empty to is
// tomorrow (so today counts), an empty from DefaultDays before to.
func Period(timeZone, from, to string, now time.Time) (time.Time, time.Time, error) {
	loc, err := time.LoadLocation(timeZone)
	if err != nil {
		return time.Time{}, time.Time{}, msg.Errorf("タイムゾーン %q: %w", "time zone %q: %w", timeZone, err)
	}
	day := func(s string) (time.Time, error) {
		t, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			return t, msg.Errorf("日付 %q は YYYY-MM-DD で指定してください", "date %q must be YYYY-MM-DD", s)
		}
		return t, nil
	}
	n := now.In(loc)
	end := time.Date(n.Year(), n.Month(), n.Day()+1, 0, 0, 0, 0, loc)
	if to != "" {
		if end, err = day(to); err != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	start := end.AddDate(0, 0, -DefaultDays)
	if from != "" {
		if start, err = day(from); err != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	if !end.After(start) {
		return time.Time{}, time.Time{}, errPeriodOrder
	}
	return start, end, nil
}
