// Package duration is the one duration type of danzen's configuration.
// It reads what a person types ("90s", "1h30m", "30分", "4時間", "1日",
// "2 days") and shows a value in words ("1日" / "1 day"); the file keeps
// Go's form without zero parts ("24h", "1h30m"), which any Go program reads.
package duration

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Duration is a time.Duration that reads and writes as text.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalText implements encoding.TextMarshaler: "24h", "1h30m", "90s" is
// written "1m30s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(Compact(time.Duration(d))), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts what
// Parse does.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Words is d as a person reads it ("1日" / "1 day").
func (d Duration) Words() msg.Text { return Words(time.Duration(d)) }

// unit is one unit a person may type, with every spelling of it.
type unit struct {
	size     time.Duration
	spelling []string
	ja       string
	en       [2]string // singular, plural
}

const day = 24 * time.Hour

var units = []unit{
	{day, []string{"d", "day", "days", "日", "日間"}, "日", [2]string{"day", "days"}},
	{time.Hour, []string{"h", "hr", "hrs", "hour", "hours", "時間"}, "時間", [2]string{"hour", "hours"}},
	{time.Minute, []string{"m", "min", "mins", "minute", "minutes", "分", "分間"}, "分", [2]string{"minute", "minutes"}},
	{time.Second, []string{"s", "sec", "secs", "second", "seconds", "秒", "秒間"}, "秒", [2]string{"second", "seconds"}},
}

// Parse reads a duration as a person types it: Go's form ("90s", "1h30m",
// "500ms"), or numbers each followed by a unit in Japanese or English,
// with or without spaces ("30分", "4時間", "1日12時間", "2d", "1 hour 30
// minutes", "1.5h"). Full-width digits are read as digits. "0" is zero.
func Parse(s string) (time.Duration, error) {
	t := strings.TrimSpace(narrow(s))
	if t == "0" {
		return 0, nil
	}
	if d, err := time.ParseDuration(t); err == nil {
		return d, nil
	}
	if d, ok := parseWords(t); ok {
		return d, nil
	}
	return 0, msg.Errorf("時間の書式が正しくありません: %q(例: \"30分\"、\"4時間\"、\"1日\"、\"90s\"、\"1h30m\")",
		"invalid duration %q (examples: \"90s\", \"30m\", \"4h\", \"1d\", \"1h30m\")", s)
}

// narrow turns full-width digits, letters, the full stop and the
// ideographic space, which a Japanese input method types, into ASCII.
func narrow(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９', r >= 'Ａ' && r <= 'Ｚ', r >= 'ａ' && r <= 'ｚ', r == '．':
			return r - 0xFEE0 // the full-width forms sit at a fixed offset from ASCII
		case r == '　':
			return ' '
		}
		return r
	}, s)
}

// parseWords reads one or more "number unit" pairs, e.g. "1日 12時間" or
// "1 hour 30 minutes".
func parseWords(s string) (time.Duration, bool) {
	var total float64
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, false
	}
	for rest != "" {
		n := strings.IndexFunc(rest, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
		if n <= 0 {
			return 0, false
		}
		num, err := strconv.ParseFloat(rest[:n], 64)
		if err != nil {
			return 0, false
		}
		rest = strings.TrimLeft(rest[n:], " ")
		end := strings.IndexFunc(rest, func(r rune) bool { return r == ' ' || r >= '0' && r <= '9' || r == '.' })
		if end < 0 {
			end = len(rest)
		}
		size, ok := unitOf(strings.ToLower(rest[:end]))
		if !ok {
			return 0, false
		}
		total += num * float64(size)
		rest = strings.TrimLeft(rest[end:], " ,、")
		rest = strings.TrimPrefix(rest, "and ")
	}
	if total >= math.MaxInt64 {
		return 0, false
	}
	return time.Duration(math.Round(total)), true
}

func unitOf(word string) (time.Duration, bool) {
	for _, u := range units {
		for _, sp := range u.spelling {
			if word == sp {
				return u.size, true
			}
		}
	}
	return 0, false
}

// Compact is d in Go's form without zero parts: "24h", "1h30m", "1m30s",
// "1.5s"; every Go program's time.ParseDuration reads it.
func Compact(d time.Duration) string {
	if d <= 0 || d == math.MinInt64 {
		return d.String()
	}
	var b strings.Builder
	if h := d / time.Hour; h > 0 {
		b.WriteString(strconv.FormatInt(int64(h), 10) + "h")
	}
	if m := d % time.Hour / time.Minute; m > 0 {
		b.WriteString(strconv.FormatInt(int64(m), 10) + "m")
	}
	if rest := d % time.Minute; rest > 0 {
		b.WriteString(rest.String())
	}
	return b.String()
}

// Words is d in words, largest unit first: "1日" / "1 day", "1時間30分" /
// "1 hour 30 minutes". A part below a second is said in Go's form
// ("1.5s"). Parse reads back what Words writes, in either language.
func Words(d time.Duration) msg.Text {
	if d < 0 || d%time.Second != 0 {
		return msg.Plain(Compact(d))
	}
	if d == 0 {
		return msg.T("0秒", "0 seconds")
	}
	var ja, en []string
	for _, u := range units {
		n := int64(d / u.size)
		d %= u.size
		if n == 0 {
			continue
		}
		ja = append(ja, strconv.FormatInt(n, 10)+u.ja)
		word := u.en[1]
		if n == 1 {
			word = u.en[0]
		}
		en = append(en, strconv.FormatInt(n, 10)+" "+word)
	}
	return msg.T(strings.Join(ja, ""), strings.Join(en, " "))
}
