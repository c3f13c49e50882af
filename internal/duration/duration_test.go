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
	if err != nil || string(b) != `"1h30m0s"` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
}

func TestBadDurationInEachLanguage(t *testing.T) {
	var d Duration
	err := json.Unmarshal([]byte(`"soon"`), &d)
	ja, en := msg.In(err, msg.JA), msg.In(err, msg.EN)
	if !strings.HasPrefix(ja, `時間の書式が不正です: "soon"`) || strings.Contains(ja, "invalid duration \"soon\" (") {
		t.Errorf("Japanese: %q", ja)
	}
	if !strings.HasPrefix(en, `invalid duration "soon" (examples: "90s", "5m")`) || strings.Contains(en, "時間") {
		t.Errorf("English: %q", en)
	}
}
