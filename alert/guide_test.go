package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// TestAlertsSayWhatThePageSays: every alert tells staff and the vendor
// what to do in the words of its cause's guide, the one text the page and
// the annex show too, and every alert kind has a guide.
func TestAlertsSayWhatThePageSays(t *testing.T) {
	at := time.Date(2026, 5, 1, 17, 0, 0, 0, time.UTC)
	cases := []struct {
		a     Alert
		cause Cause
	}{
		{CycleFailed("gw1", "", at, msg.Plain("x")), CausePull},
		{CycleFailed("gw1", "disk-a", at, msg.Plain("x")), CauseMedium},
		{MediumNotOff("gw1", "disk-a", at, msg.Text{}), CauseCut},
		{CycleMissed("gw1", at, at, tokyo), CauseMissed},
		{StagingLow("gw1", at, 1, 2), CauseStagingLow},
		{ScanFinding("gw1", at, "k", "203.0.113.5:443", msg.Plain("x")), CauseScanFinding},
		{LedgerFailed("gw1", at, msg.Text{}), CauseLedger},
		{LedgerFull("gw1", at, msg.Text{}), CauseLedgerFull},
		{DrillFailed("gw1", "disk-a", at, msg.Text{}), CauseDrill},
		{SourceAnomaly("gw1", "emr", "id", at, msg.Text{}), CauseAnomaly},
		{PullRefused("gw1", "emr", at, []string{"a\x01b"}), CausePullRefused},
		{PullPending("gw1", "emr", at, []string{"db/emr.dmp"}), CausePullPending},
		{PullEmpty("gw1", "emr", at), CausePullEmpty},
		{PullDropped("gw1", "emr", at, 20, 100, 10, 1000, 100), CausePullDropped},
		{ClockUnsynced("gw1", at, msg.Plain("x"), msg.Text{}), CauseClock},
		{OffsiteOverdue("gw1", "rdx", at, at, at, tokyo), CauseOffsiteOverdue},
		{OffsiteLapsed("gw1", at, at, 14*24*time.Hour, tokyo), CauseOffsiteLapsed},
	}
	guided := map[Kind]bool{}
	for _, g := range Guides() {
		guided[g.Alert] = true
	}
	for _, c := range cases {
		g := Explain(c.cause)
		if g.Cause != c.cause || g.Alert != c.a.Kind || g.Severity != c.a.Severity {
			t.Errorf("%s: guide %+v does not match the alert (%s, %s)", c.cause, g, c.a.Kind, c.a.Severity)
		}
		for _, l := range []msg.Lang{msg.JA, msg.EN} {
			body := c.a.Body.Localize(l)
			for _, part := range []msg.Text{g.Staff, g.Vendor} {
				if !strings.Contains(body, part.Localize(l)) {
					t.Errorf("%s (%s): the body does not say %q:\n%s", c.a.Kind, l, part.Localize(l), body)
				}
			}
		}
		if !guided[c.a.Kind] {
			t.Errorf("alert kind %s has no guide", c.a.Kind)
		}
	}
	for _, g := range Guides() {
		if g.What.JA == "" || g.What.EN == "" || g.Staff.JA == "" || g.Staff.EN == "" || g.Vendor.JA == "" || g.Vendor.EN == "" || g.Severity.rank() < 1 {
			t.Errorf("guide %s is incomplete: %+v", g.Cause, g)
		}
		if g.Alert != "" && g.Alert.DefaultSeverity() != g.Severity {
			t.Errorf("guide %s: severity %s, its alert's is %s", g.Cause, g.Severity, g.Alert.DefaultSeverity())
		}
	}
	if Explain("no-such-cause").Cause != CauseOther {
		t.Error("an unknown cause is not explained as another failure")
	}
}
