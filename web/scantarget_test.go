package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netprobe"
)

// A global address is scanned only after a vendor admin typed it again;
// the confirmation names who and the contract ID in the ledger, and a
// changed address needs a new one. Nothing here is ever scanned.
func TestConfirmGlobalAddress(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.login("admin", adminPW)
	p := pointForm("CAF00001", "192.168.1.1")
	p.Set("global_ip", "203.0.113.7") // documentation range: written down, never scanned
	if r := admin.post("/scan/register", p); r.code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.code, r.body)
	}
	page := admin.get("/scan/confirm?lang=en")
	if page.code != http.StatusOK || !strings.Contains(page.body, `data-addr="203.0.113.7"`) || !strings.Contains(page.body, "Not confirmed (not scanned)") {
		t.Fatalf("confirm page: %d %s", page.code, page.body)
	}
	reg, err := e.g.Register()
	if err != nil {
		t.Fatal(err)
	}
	if err := netprobe.CheckTargets(reg, e.g.Config().Scan); err == nil {
		t.Fatal("an unconfirmed global address may be scanned")
	}

	// Staff may look but not confirm.
	staff := e.addUser("staff1", auth.RoleStaff)
	if r := staff.post("/scan/confirm", url.Values{"id": {"CAF00001"}, "typed": {"203.0.113.7"}}); r.code != http.StatusForbidden {
		t.Fatalf("staff confirmed: %d", r.code)
	}

	// A typo is refused and changes nothing.
	r := admin.post("/scan/confirm", url.Values{"id": {"CAF00001"}, "typed": {"203.0.113.70"}, "contract": {"COP-1234"}})
	if r.code != http.StatusOK || !strings.Contains(r.body, "does not match the register") || !strings.Contains(r.body, `value="COP-1234"`) {
		t.Fatalf("typo: %d %s", r.code, r.body)
	}
	if len(e.g.Config().Scan.Confirmed) != 0 || len(e.entries(ledger.KindTargetConfirm)) != 0 {
		t.Fatal("a mistyped confirmation was kept")
	}

	confirm := func(addr, contract string) {
		t.Helper()
		if r := admin.post("/scan/confirm", url.Values{"id": {"CAF00001"}, "typed": {" " + addr + " "}, "contract": {contract}}); r.code != http.StatusSeeOther {
			t.Fatalf("confirm %s: %d %s", addr, r.code, r.body)
		}
		reg, err := e.g.Register()
		if err != nil {
			t.Fatal(err)
		}
		if err := netprobe.CheckTargets(reg, e.g.Config().Scan); err != nil {
			t.Fatalf("confirmed %s, still refused: %v", addr, err)
		}
	}
	confirm("203.0.113.7", "COP-1234")
	got := e.g.Config().Scan.Confirmed
	if len(got) != 1 || got[0] != (config.ScanConfirmation{Point: "CAF00001", Addr: "203.0.113.7", By: "admin", At: got[0].At, Contract: "COP-1234"}) || got[0].At.IsZero() {
		t.Fatalf("kept confirmation: %+v", got)
	}
	es := e.entries(ledger.KindTargetConfirm)
	if len(es) != 1 || es[0].Actor != "admin" {
		t.Fatalf("ledger: %+v", es)
	}
	if d, err := ledger.Decode[ledger.TargetConfirmData](es[0]); err != nil || d != (ledger.TargetConfirmData{Point: "CAF00001", Addr: "203.0.113.7", Contract: "COP-1234"}) {
		t.Fatalf("ledger data: %+v %v", d, err)
	}
	if body := admin.get("/scan/confirm?lang=en").body; !strings.Contains(body, "COP-1234") || strings.Contains(body, "Not confirmed") {
		t.Fatalf("confirmed page: %s", body)
	}

	// The line's address changed: refused again until confirmed again.
	p.Set("orig", "CAF00001")
	p.Set("global_ip", "203.0.113.8")
	if r := admin.post("/scan/register", p); r.code != http.StatusSeeOther {
		t.Fatalf("edit: %d", r.code)
	}
	reg, err = e.g.Register()
	if err != nil {
		t.Fatal(err)
	}
	if err := netprobe.CheckTargets(reg, e.g.Config().Scan); err == nil {
		t.Fatal("a changed global address may be scanned on the old confirmation")
	}
	if body := admin.get("/scan/confirm?lang=en").body; !strings.Contains(body, "Confirmed before") || !strings.Contains(body, "203.0.113.7") {
		t.Fatalf("changed address page: %s", body)
	}
	confirm("203.0.113.8", "")
	if got := e.g.Config().Scan.Confirmed; len(got) != 1 || got[0].Addr != "203.0.113.8" {
		t.Fatalf("old confirmation kept beside the new one: %+v", got)
	}
	es = e.entries(ledger.KindTargetConfirm)
	if d, err := ledger.Decode[ledger.TargetConfirmData](es[len(es)-1]); err != nil || d.Previous != "203.0.113.7" || d.Addr != "203.0.113.8" {
		t.Fatalf("re-confirmation: %+v %v", d, err)
	}
}
