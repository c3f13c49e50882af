package alert

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// TestPullAlertsNameTheSourceAndTheFiles: each pull alert is keyed by
// gateway and source (so the next pull can clear it), says what happened
// with the files concerned, and what staff and the vendor do in its
// guide's words.
func TestPullAlertsNameTheSourceAndTheFiles(t *testing.T) {
	at := time.Date(2026, 5, 1, 17, 0, 0, 0, time.UTC)
	var many []string
	for i := range 25 {
		many = append(many, fmt.Sprintf("f%02d.dmp", i))
	}
	cases := []struct {
		a     Alert
		cause Cause
		sev   Severity
		says  []string
	}{
		{PullRefused("gw1", "emr", at, []string{`"bad\x1bname.dmp"`, "link.dmp"}), CausePullRefused, SeverityWarning, []string{`"bad\x1bname.dmp"`, "link.dmp"}},
		{PullPending("gw1", "emr", at, many), CausePullPending, SeverityError, []string{"f00.dmp", "f19.dmp", "… ほか 5 件"}},
		{PullEmpty("gw1", "emr", at), CausePullEmpty, SeverityError, []string{"emr"}},
		{PullDropped("gw1", "emr", at, 20, 451, 200, 2e9, 1e9), CausePullDropped, SeverityError, []string{"451", "200", "2.0 GB", "1.0 GB", "20%"}},
	}
	for _, c := range cases {
		a := c.a
		if err := a.check(); err != nil {
			t.Errorf("%s: %v", a.Kind, err)
		}
		if a.Severity != c.sev || a.Severity != a.Kind.DefaultSeverity() || a.Key != string(a.Kind)+"/gw1/emr" {
			t.Errorf("%s: severity %s, key %q", a.Kind, a.Severity, a.Key)
		}
		g := Explain(c.cause)
		if g.Alert != a.Kind || g.Severity != a.Severity {
			t.Errorf("%s: guide %+v", a.Kind, g)
		}
		for _, l := range []msg.Lang{msg.JA, msg.EN} {
			body := a.Body.Localize(l)
			for _, want := range append([]string{g.Staff.Localize(l), g.Vendor.Localize(l)}, c.says...) {
				if l == msg.EN && strings.Contains(want, "ほか") {
					want = "… 5 more"
				}
				if !strings.Contains(body, want) {
					t.Errorf("%s (%s): the body does not say %q:\n%s", a.Kind, l, want, body)
				}
			}
		}
		if strings.Contains(a.Body.JA, " more") || strings.Contains(a.Body.EN, "ほか") {
			t.Errorf("%s: the languages are mixed:\n%s", a.Kind, a.Body)
		}
		if r := a.Resolve(at); r.Key != a.Key || !r.Resolved {
			t.Errorf("%s: resolve %+v", a.Kind, r)
		}
	}
}
