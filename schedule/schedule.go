// Package schedule says when the next cycle is due: "daily HH:MM" or a
// five-field cron expression (minute hour day-of-month month day-of-week),
// in the gateway's local time.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Schedule is a parsed expression.
type Schedule struct {
	expr                          string
	minute, hour, dom, month, dow set
	domStar, dowStar              bool
}

type set [64]bool

// Parse reads "daily 02:00" or "M H DoM Mon DoW" (with *, lists, ranges
// and steps, e.g. "30 1 * * 1-5" or "0 */6 * * *").
func Parse(expr string) (*Schedule, error) {
	e := strings.TrimSpace(expr)
	if t, ok := strings.CutPrefix(e, "daily "); ok {
		hm, err := time.Parse("15:04", strings.TrimSpace(t))
		if err != nil {
			return nil, parseErr(expr, msg.T("時刻は HH:MM で書いてください", "the time is HH:MM"))
		}
		e = fmt.Sprintf("%d %d * * *", hm.Minute(), hm.Hour())
	}
	f := strings.Fields(e)
	if len(f) != 5 {
		return nil, parseErr(expr, msg.T("\"daily 02:00\" か5項目のcron式にしてください", "use \"daily 02:00\" or five cron fields"))
	}
	s := &Schedule{expr: expr}
	for i, spec := range []struct {
		dst      *set
		lo, hi   int
		name     msg.Text
		wildcard *bool
	}{
		{&s.minute, 0, 59, msg.T("分", "minute"), nil}, {&s.hour, 0, 23, msg.T("時", "hour"), nil},
		{&s.dom, 1, 31, msg.T("日", "day of month"), &s.domStar}, {&s.month, 1, 12, msg.T("月", "month"), nil},
		{&s.dow, 0, 7, msg.T("曜日", "day of week"), &s.dowStar},
	} {
		if err := parseField(f[i], spec.lo, spec.hi, spec.dst); err != nil {
			return nil, parseErr(expr, msg.Sprintf("%s: %s", "%s: %s", spec.name, err))
		}
		if spec.wildcard != nil {
			*spec.wildcard = f[i] == "*"
		}
	}
	if s.dow[7] {
		s.dow[0] = true // 7 is Sunday too
	}
	return s, nil
}

func parseErr(expr string, why msg.Text) error {
	return msg.Errorf("スケジュール %q を読めません: %s", "cannot read schedule %q: %s", expr, why)
}

func parseField(f string, lo, hi int, dst *set) error {
	for _, part := range strings.Split(f, ",") {
		rng, stepS, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepS)
			if err != nil || n < 1 {
				return msg.Errorf("間隔 %q が正しくありません", "bad step %q", stepS)
			}
			step = n
		}
		a, b := lo, hi
		if rng != "*" {
			as, bs, isRange := strings.Cut(rng, "-")
			var err error
			if a, err = strconv.Atoi(as); err != nil {
				return msg.Errorf("値 %q が正しくありません", "bad value %q", as)
			}
			b = a
			if isRange {
				if b, err = strconv.Atoi(bs); err != nil {
					return msg.Errorf("値 %q が正しくありません", "bad value %q", bs)
				}
			} else if hasStep {
				b = hi
			}
		}
		if a < lo || b > hi || a > b {
			return msg.Errorf("%q は %d〜%d の範囲外です", "%q is outside %d-%d", part, lo, hi)
		}
		for v := a; v <= b; v += step {
			dst[v] = true
		}
	}
	return nil
}

// String is the expression as written.
func (s *Schedule) String() string { return s.expr }

// Next returns the first due minute strictly after t.
func (s *Schedule) Next(t time.Time) time.Time {
	t = t.Truncate(time.Minute).Add(time.Minute)
	// Four years cover every day-of-month/day-of-week combination.
	for limit := t.AddDate(4, 0, 0); t.Before(limit); {
		switch {
		case !s.month[int(t.Month())]:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
		case !s.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
		case !s.hour[t.Hour()]:
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, t.Location())
		case !s.minute[t.Minute()]:
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

// dayMatches follows cron: when both day fields are restricted, either
// may match.
func (s *Schedule) dayMatches(t time.Time) bool {
	d, w := s.dom[t.Day()], s.dow[int(t.Weekday())]
	switch {
	case s.domStar && s.dowStar:
		return true
	case s.domStar:
		return w
	case s.dowStar:
		return d
	}
	return d || w
}
