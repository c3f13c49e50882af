package duration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

func TestTextRoundTrip(t *testing.T) {
	var d Duration
	if err := json.Unmarshal([]byte(`"1h30m"`), &d); err != nil || d.Std() != 90*time.Minute {
		t.Fatalf("1h30m = %v, %v", d.Std(), err)
	}
	b, err := json.Marshal(d)
	if err != nil || string(b) != `"1h30m"` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
}

func TestBadDurationInEachLanguage(t *testing.T) {
	var d Duration
	err := json.Unmarshal([]byte(`"soon"`), &d)
	ja, en := msg.In(err, msg.JA), msg.In(err, msg.EN)
	if !strings.HasPrefix(ja, `時間の書式が正しくありません: "soon"(例: "30分"、"4時間"`) || strings.Contains(ja, "invalid duration") {
		t.Errorf("Japanese: %q", ja)
	}
	if !strings.HasPrefix(en, `invalid duration "soon" (examples: "90s", "30m", "4h", "1d"`) || strings.Contains(en, "時間") {
		t.Errorf("English: %q", en)
	}
}

// TestDurationsAsAPersonTypesThem: 30分, 4時間, 1日, 90s, 1h30m and 2d are
// all read (today only Go's form is).
func TestDurationsAsAPersonTypesThem(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30分": 30 * time.Minute, "4時間": 4 * time.Hour, "1日": 24 * time.Hour, "90s": 90 * time.Second,
		"1h30m": 90 * time.Minute, "2d": 48 * time.Hour, "1日12時間": 36 * time.Hour, "1時間30分": 90 * time.Minute,
		"90秒": 90 * time.Second, "４時間": 4 * time.Hour, " 1.5h ": 90 * time.Minute, "1.5時間": 90 * time.Minute,
		"1 hour 30 minutes": 90 * time.Minute, "2 days": 48 * time.Hour, "1d12h": 36 * time.Hour, "30 min": 30 * time.Minute,
		"4 Hours": 4 * time.Hour, "2 days and 3 hours": 51 * time.Hour, "1日 12時間": 36 * time.Hour, "30分間": 30 * time.Minute,
		"0": 0, "500ms": 500 * time.Millisecond,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
		var d Duration
		if err := json.Unmarshal([]byte(`"`+in+`"`), &d); err != nil || d.Std() != want {
			t.Errorf("JSON %q = %v, %v; want %v", in, d.Std(), err, want)
		}
	}
	for _, bad := range []string{"", "soon", "4", "4時", "1日半", "h", "1 hour and", "-1日", "1e400h", "1x"} {
		if d, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", bad, d)
		}
	}
}

// TestDurationsShownInWords: a value is shown as 1日 / 1 day, never as
// Go's 24h0m0s, and what is shown is read back in either language.
func TestDurationsShownInWords(t *testing.T) {
	for d, want := range map[time.Duration]msg.Text{
		24 * time.Hour:                msg.T("1日", "1 day"),
		48 * time.Hour:                msg.T("2日", "2 days"),
		4 * time.Hour:                 msg.T("4時間", "4 hours"),
		90 * time.Minute:              msg.T("1時間30分", "1 hour 30 minutes"),
		time.Minute:                   msg.T("1分", "1 minute"),
		90 * time.Second:              msg.T("1分30秒", "1 minute 30 seconds"),
		26*time.Hour + 5*time.Second:  msg.T("1日2時間5秒", "1 day 2 hours 5 seconds"),
		0:                             msg.T("0秒", "0 seconds"),
		1500 * time.Millisecond:       msg.Plain("1.5s"),
		72*time.Hour + 30*time.Minute: msg.T("3日30分", "3 days 30 minutes"),
	} {
		got := Words(d)
		if got != want {
			t.Errorf("Words(%v) = %+v, want %+v", d, got, want)
		}
		for _, s := range []string{got.JA, got.EN} {
			if back, err := Parse(s); err != nil || back != d {
				t.Errorf("Parse(Words(%v) = %q) = %v, %v", d, s, back, err)
			}
		}
	}
	if got := Duration(24 * time.Hour).Words(); got.EN != "1 day" {
		t.Errorf("Duration.Words = %+v", got)
	}
}

func TestCompactIsGoForm(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s", time.Hour + 30*time.Second: "1h30s",
		1500 * time.Millisecond: "1.5s", 0: "0s", -time.Minute: "-1m0s",
	} {
		got := Compact(d)
		if got != want {
			t.Errorf("Compact(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != d {
			t.Errorf("time.ParseDuration(%q) = %v, %v", got, back, err)
		}
	}
}
