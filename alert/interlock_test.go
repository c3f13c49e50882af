package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// TestInterlockOpenSaysWhatThePageSays: the alert is critical, names the
// relay and the window, and carries its guide's advice in both languages.
func TestInterlockOpenSaysWhatThePageSays(t *testing.T) {
	a := InterlockOpen("gw1", "relay-rdx", "rdx", time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), msg.Plain("01:00–05:00"), msg.Text{})
	g := Explain(CauseInterlock)
	if a.Severity != SeverityCritical || g.Alert != a.Kind || g.Severity != a.Severity {
		t.Fatalf("alert %+v, guide %+v", a, g)
	}
	for _, l := range []msg.Lang{msg.JA, msg.EN} {
		body, title := a.Body.Localize(l), a.Title.Localize(l)
		if !strings.Contains(title, "relay-rdx") || !strings.Contains(title, "01:00–05:00") {
			t.Errorf("%s title: %q", l, title)
		}
		for _, part := range []msg.Text{g.Staff, g.Vendor} {
			if !strings.Contains(body, part.Localize(l)) {
				t.Errorf("%s body does not say %q", l, part.Localize(l))
			}
		}
	}
}
