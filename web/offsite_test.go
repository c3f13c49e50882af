package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
)

// offsiteEnv is a page over two disks (never attached) on simulated
// relays.
func offsiteEnv(t *testing.T) *env {
	return newEnv(t, envOptions{configure: func(_ string, cfg *config.Config) {
		cfg.Rotation.PerCycle = 1
		for _, n := range []string{"a", "b"} {
			cfg.Relays = append(cfg.Relays, relay.Spec{Name: "sim-" + n, Driver: relay.DriverSimulated})
			cfg.Media = append(cfg.Media, config.Medium{Name: "disk-" + n, Type: config.MediumDisk, Relay: "sim-" + n, PasswordFile: "disk-" + n + ".restic-password",
				Disk: &disk.Spec{Name: "disk-" + n, Serial: "NO-SUCH-DISK-" + n, MediaID: "DANZEN-DISK-" + strings.ToUpper(n), GoneTimeout: disk.Duration(time.Second)}})
		}
	}})
}

// TestOffsitePageMarksByRole: hospital staff mark a disk taken off-site
// and brought back, recorded with who marked it, who carried it and from
// where; the page and the medium's card show it with its due date; the
// auditor sees the page without the forms and is refused the post; a
// refusal (the last disk at home) is said in the reader's language and
// keeps what was typed.
func TestOffsitePageMarksByRole(t *testing.T) {
	e := offsiteEnv(t)
	staff := e.addUser("sato", auth.RoleStaff)
	aud := e.addUser("kansa", auth.RoleAuditor)

	page := staff.get("/offsite")
	if page.code != http.StatusOK || !strings.Contains(page.body, `id="away-disk-a"`) || !strings.Contains(page.body, "院外保管の輪番は設定されていません") {
		t.Fatalf("staff page: %d\n%s", page.code, page.body)
	}
	if r := aud.get("/offsite"); r.code != http.StatusOK || strings.Contains(r.body, `id="away-disk-a"`) || !strings.Contains(r.body, `id="offsite-disk-a"`) {
		t.Fatalf("auditor page: %d", r.code)
	}
	if r := aud.post("/offsite", url.Values{"medium": {"disk-a"}, "action": {"away"}}); r.code != http.StatusForbidden {
		t.Fatalf("auditor post: %d", r.code)
	}
	if n := len(e.entries(ledger.KindOffsite)); n != 0 {
		t.Fatalf("the auditor's post recorded %d marks", n)
	}

	r := staff.post("/offsite", url.Values{"medium": {"disk-a"}, "action": {"away"}, "by": {"田中 一郎"}, "note": {"別棟金庫"}})
	if r.code != http.StatusSeeOther || r.location != "/offsite?done=away" {
		t.Fatalf("take away: %d %s\n%s", r.code, r.location, r.body)
	}
	marks := e.entries(ledger.KindOffsite)
	if len(marks) != 1 || marks[0].Actor != "sato" || marks[0].Medium != "disk-a" {
		t.Fatalf("marks %+v", marks)
	}
	d, err := ledger.Decode[ledger.OffsiteData](marks[0])
	if err != nil || d.Action != ledger.OffsiteAway || d.By != "田中 一郎" || d.Note != "別棟金庫" || d.Client != "127.0.0.1" || d.Due.IsZero() {
		t.Fatalf("mark %+v, %v", d, err)
	}
	page = staff.get("/offsite")
	body := html.UnescapeString(page.body)
	if !strings.Contains(body, "院外保管中(別棟金庫)") || !strings.Contains(body, `id="return-disk-a"`) || !strings.Contains(body, "(田中 一郎)") {
		t.Fatalf("page after taking disk-a away:\n%s", body)
	}
	dash := html.UnescapeString(staff.get("/").body)
	if !strings.Contains(dash, `<p class="offsite"><a href="/offsite">院外保管中(別棟金庫)`) || !strings.Contains(dash, "戻す期限") {
		t.Fatalf("the dashboard's card of disk-a says nothing off-site:\n%s", dash)
	}

	// The last disk at home: refused, in English for an English reader,
	// with what was typed kept.
	r = staff.post(withLang("/offsite", "en"), url.Values{"medium": {"disk-b"}, "action": {"away"}, "by": {"鈴木"}, "note": {"倉庫B"}})
	body = html.UnescapeString(r.body)
	if r.code != http.StatusOK || !strings.Contains(body, "taking medium disk-b away would leave no medium to write") || strings.Contains(body, "書き込める媒体") || !strings.Contains(body, `value="倉庫B"`) || !strings.Contains(body, `value="鈴木"`) {
		t.Fatalf("the last disk taken: %d\n%s", r.code, body)
	}
	if n := len(e.entries(ledger.KindOffsite)); n != 1 {
		t.Fatalf("a refused mark was recorded: %d marks", n)
	}

	r = staff.post("/offsite", url.Values{"medium": {"disk-a"}, "action": {"returned"}, "by": {""}})
	if r.code != http.StatusSeeOther || r.location != "/offsite?done=returned" {
		t.Fatalf("return: %d %s\n%s", r.code, r.location, r.body)
	}
	marks = e.entries(ledger.KindOffsite)
	if d, err := ledger.Decode[ledger.OffsiteData](marks[len(marks)-1]); err != nil || d.Action != ledger.OffsiteReturned || d.By != "sato" {
		t.Fatalf("return mark %+v, %v", d, err)
	}
	if strings.Contains(staff.get("/").body, `class="offsite`) {
		t.Fatal("the card still says off-site after the return")
	}
}
