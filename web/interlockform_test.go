package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestInterlockOnTheGeneralForm: the timer's window is set on the page
// (the appliance has no other way); a schedule that would start outside
// it is refused beside the schedule; clearing the four fields removes the
// interlock.
func TestInterlockOnTheGeneralForm(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	window := map[string]string{"interlock.start": "01:00", "interlock.end": "05:00", "interlock.days": "mon tue wed thu fri sat sun", "schedule": "daily 23:30"}
	r := c.post("/config/general?lang=en", generalForm(t, c, window))
	if errs := strings.Join(fieldErrors(r.body, "schedule"), "\n"); r.code != http.StatusOK || !strings.Contains(errs, "interlock") {
		t.Fatalf("a schedule outside the window: %d, beside schedule %q", r.code, errs)
	}
	if e.g.Config().Interlock != nil {
		t.Fatal("a refused form set the interlock")
	}
	window["schedule"] = "daily 02:00"
	if r := c.post("/config/general", generalForm(t, c, window)); r.code != http.StatusSeeOther {
		t.Fatalf("inside the window: %d\n%s", r.code, r.body)
	}
	il := e.g.Config().Interlock
	if il == nil || il.Start != "01:00" || il.End != "05:00" || len(il.Days) != 7 || len(il.Relays) != 0 {
		t.Fatalf("interlock saved as %+v", il)
	}
	if page := c.get("/config/general").body; !strings.Contains(page, `value="mon tue wed thu fri sat sun"`) {
		t.Error("the saved days are not shown again")
	}
	clear := map[string]string{"interlock.start": "", "interlock.end": "", "interlock.days": "", "interlock.relays": ""}
	if r := c.post("/config/general", generalForm(t, c, clear)); r.code != http.StatusSeeOther || r.location != "/config?done=saved" {
		t.Fatalf("clearing: %d %s\n%s", r.code, r.location, r.body)
	}
	if e.g.Config().Interlock != nil {
		t.Fatalf("clearing every field kept the interlock: %+v", e.g.Config().Interlock)
	}
}
