package schedule

import (
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

func TestNext(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, jst)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct{ expr, from, want string }{
		{"daily 02:00", "2026-11-26 01:59", "2026-11-26 02:00"},
		{"daily 02:00", "2026-11-26 02:00", "2026-11-27 02:00"},
		{"30 1 * * 1-5", "2026-11-27 02:00", "2026-11-30 01:30"}, // Fri after → Mon
		{"0 */6 * * *", "2026-11-26 07:10", "2026-11-26 12:00"},
		{"0 3 1 * *", "2026-11-26 00:00", "2026-12-01 03:00"},
		{"0 3 29 2 *", "2026-03-01 00:00", "2028-02-29 03:00"},
		{"15 2 * * 0", "2026-11-26 00:00", "2026-11-29 02:15"},
		{"15 2 * * 7", "2026-11-26 00:00", "2026-11-29 02:15"},
	} {
		s, err := Parse(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if got := s.Next(at(c.from)); !got.Equal(at(c.want)) {
			t.Errorf("%s from %s: %s, want %s", c.expr, c.from, got.Format("2006-01-02 15:04"), c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"", "daily", "daily 25:00", "every night", "61 * * * *", "* * 0 * *", "* * * 13 *", "*/0 * * * *", "5-1 * * * *"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseErrorInEachLanguage(t *testing.T) {
	_, err := Parse("61 * * * *")
	if err == nil {
		t.Fatal("61 minutes accepted")
	}
	ja, en := msg.In(err, msg.JA), msg.In(err, msg.EN)
	if want := `スケジュール "61 * * * *" を読めません: 分: "61" は 0〜59 の範囲外です`; ja != want {
		t.Errorf("Japanese: %q, want %q", ja, want)
	}
	if want := `cannot read schedule "61 * * * *": minute: "61" is outside 0-59`; en != want {
		t.Errorf("English: %q, want %q", en, want)
	}
}
