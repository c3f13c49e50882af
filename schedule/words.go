package schedule

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Words says when the schedule is due, for a person who does not read
// cron: "毎日 02:00" / "daily at 02:00", "月〜金曜 01:30" / "Monday to
// Friday at 01:30", "毎年4月1日 10:00" / "every year on 1 April at 10:00".
func (s *Schedule) Words() msg.Text {
	days := s.dayWords()
	at := s.timeWords()
	return msg.T(days.JA+" "+at.JA, days.EN+" "+at.EN)
}

// Describe is Words of expr, or expr itself when it does not parse.
func Describe(expr string) msg.Text {
	s, err := Parse(expr)
	if err != nil {
		return msg.Plain(expr)
	}
	return s.Words()
}

// members lists the values set in s between lo and hi.
func members(s *set, lo, hi int) []int {
	var out []int
	for v := lo; v <= hi; v++ {
		if s[v] {
			out = append(out, v)
		}
	}
	return out
}

// runs groups sorted values into runs of consecutive ones.
func runs(vals []int) [][2]int {
	var out [][2]int
	for _, v := range vals {
		if n := len(out); n > 0 && out[n-1][1] == v-1 {
			out[n-1][1] = v
			continue
		}
		out = append(out, [2]int{v, v})
	}
	return out
}

// list says values as runs: "1〜5、7" / "1 to 5 and 7"; name gives each
// value's word in each language.
func list(vals []int, name func(int) msg.Text) msg.Text {
	var ja, en []string
	for _, r := range runs(vals) {
		a, b := name(r[0]), name(r[1])
		switch {
		case r[0] == r[1]:
			ja, en = append(ja, a.JA), append(en, a.EN)
		case r[1] == r[0]+1:
			ja, en = append(ja, a.JA, b.JA), append(en, a.EN, b.EN)
		default:
			ja, en = append(ja, a.JA+"〜"+b.JA), append(en, a.EN+" to "+b.EN)
		}
	}
	return msg.T(strings.Join(ja, "・"), joinEN(en))
}

// joinEN joins "a, b and c".
func joinEN(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

var weekdays = [7][2]string{{"日", "Sunday"}, {"月", "Monday"}, {"火", "Tuesday"}, {"水", "Wednesday"}, {"木", "Thursday"}, {"金", "Friday"}, {"土", "Saturday"}}

var months = [13]string{"", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

func weekday(d int) msg.Text { return msg.T(weekdays[d][0], weekdays[d][1]) }
func month(m int) msg.Text   { return msg.T(strconv.Itoa(m)+"月", months[m]) }
func number(n int) msg.Text  { return msg.Plain(strconv.Itoa(n)) }

// dayWords says on which days: "毎日" / "daily", "毎週月曜" / "every
// Monday", "毎月1日" / "on day 1 of each month", "毎年4月1日" / "every
// year on 1 April".
func (s *Schedule) dayWords() msg.Text {
	ms := members(&s.month, 1, 12)
	allMonths := len(ms) == 12
	doms := list(members(&s.dom, 1, 31), number)
	dows := list(members(&s.dow, 0, 6), weekday)
	var dom msg.Text
	switch {
	case !allMonths && !s.domStar:
		mon := list(ms, month)
		dom = msg.T("毎年"+mon.JA+doms.JA+"日", "every year on "+doms.EN+" "+mon.EN)
	case !allMonths:
		mon := list(ms, month)
		dom = msg.T(mon.JA+"の毎日", "every day in "+mon.EN)
	case !s.domStar:
		dom = msg.T("毎月"+doms.JA+"日", "on day "+doms.EN+" of each month")
	}
	switch {
	case s.domStar && s.dowStar:
		if dom.IsZero() {
			return msg.T("毎日", "daily")
		}
		return dom
	case s.dowStar:
		return dom
	case s.domStar && allMonths:
		return msg.T("毎週"+dows.JA+"曜", "every "+dows.EN)
	case s.domStar:
		mon := list(ms, month)
		return msg.T(mon.JA+"の毎週"+dows.JA+"曜", "every "+dows.EN+" in "+mon.EN)
	}
	// cron: when both day fields are restricted, either matches.
	return msg.T(dom.JA+"と毎週"+dows.JA+"曜", dom.EN+" and every "+dows.EN)
}

// timeWords says at what times: "02:00" / "at 02:00", "0:00・6:00" /
// "at 00:00 and 06:00", "毎時 15分" / "every hour at 15 past".
func (s *Schedule) timeWords() msg.Text {
	mins, hours := members(&s.minute, 0, 59), members(&s.hour, 0, 23)
	if len(mins)*len(hours) <= 6 {
		var at []string
		for _, h := range hours {
			for _, m := range mins {
				at = append(at, fmt.Sprintf("%02d:%02d", h, m))
			}
		}
		return msg.T(strings.Join(at, "・"), "at "+joinEN(at))
	}
	hw := list(hours, number)
	switch m := list(mins, number); {
	case len(mins) == 60 && len(hours) == 24:
		return msg.T("毎分", "every minute")
	case len(mins) == 60:
		return msg.T(hw.JA+"時台の毎分", "every minute of hours "+hw.EN)
	case len(hours) == 24:
		return msg.T("毎時 "+m.JA+"分", "every hour at minute "+m.EN)
	default:
		return msg.T(hw.JA+"時台の"+m.JA+"分", "at minute "+m.EN+" of hours "+hw.EN)
	}
}
