package web_test

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
)

// scanSettings is the scan form as a vendor fills it in.
func scanSettings(ports, rate, conc, schedule, communities string) url.Values {
	return url.Values{"orig": {""}, "tcp_ports": {ports}, "rate": {rate}, "concurrency": {conc}, "public_rate": {"0"}, "schedule": {schedule}, "snmp_communities": {communities}}
}

// TestScanSettingsForm: the vendor edits the self-scan's settings like
// the other settings (per-field messages in both languages, nothing
// changed by a refused form, the change in the ledger, undo); other
// roles and a form without the CSRF token are refused.
func TestScanSettingsForm(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.login("admin", adminPW)
	before := e.savedConfig().Scan

	if r := admin.get("/config"); !strings.Contains(r.body, `href="/config/scan" id="edit-scan"`) || !strings.Contains(r.body, "手動のみ") {
		t.Fatalf("the overview has no scan section:\n%s", r.body)
	}
	if r := admin.get("/scan"); !strings.Contains(r.body, `id="scan-settings-link"`) {
		t.Fatal("the self-scan page does not lead a vendor to its settings")
	}
	form := admin.get("/config/scan")
	for _, want := range []string{`name="tcp_ports"`, `name="rate" id="f-rate" value="0" type="number"`, `name="concurrency"`, `name="schedule"`, `<textarea name="snmp_communities"`, "暗号化されずネットワークを流れます"} {
		if form.code != http.StatusOK || !strings.Contains(form.body, want) {
			t.Fatalf("the scan form lacks %s (%d)", want, form.code)
		}
	}
	if en := admin.get("/config/scan?lang=en").body; !strings.Contains(en, "sends each community in clear") {
		t.Fatal("the English form lacks the SNMP warning")
	}
	admin.get("/?lang=ja")

	// Every field wrong at once: each message stands beside its field,
	// one that did not parse beside those that the configuration refused.
	bad := scanSettings("1-1024,99999", "5", "5000", "someday", "public\n\x01x\npublic")
	r := admin.postWithBase("/config/scan", bad)
	for field, want := range map[string]string{"tcp_ports": "ポート指定", "rate": "10〜100000", "concurrency": "1〜4096", "schedule": "cron式", "snmp_communities": "重複しています"} {
		if errs := fieldErrors(r.body, field); r.code != http.StatusOK || !contains(errs, want) {
			t.Errorf("%s: %d %q, want %q", field, r.code, errs, want)
		}
	}
	if errs := fieldErrors(r.body, "snmp_communities"); !contains(errs, "空でない1行") {
		t.Errorf("a community with a control character: %q", errs)
	}
	if strings.Contains(r.body, `id="other-errors"`) || !strings.Contains(r.body, `value="1-1024,99999"`) {
		t.Fatalf("a message without its field, or the typed ports are not shown:\n%s", r.body)
	}
	r = admin.postWithBase("/config/scan?lang=en", bad)
	for field, want := range map[string]string{"tcp_ports": "cannot read port spec", "rate": "10 to 100000", "concurrency": "1 to 4096", "schedule": "five-field cron", "snmp_communities": "listed twice"} {
		if errs := fieldErrors(r.body, field); !contains(errs, want) {
			t.Errorf("English %s: %q, want %q", field, errs, want)
		}
	}
	admin.get("/?lang=ja")
	r = admin.postWithBase("/config/scan", scanSettings("80", "abc", "0", "", ""))
	if errs := fieldErrors(r.body, "rate"); !contains(errs, "整数") {
		t.Fatalf("a rate that is not a number: %q", errs)
	}
	if got := e.savedConfig().Scan; !equalScan(got, before) || !equalScan(e.g.Config().Scan, before) || len(e.entries(ledger.KindConfigChange)) != 0 {
		t.Fatalf("a refused form changed something: %+v", got)
	}

	// Without the CSRF token, and by roles that may not configure.
	good := scanSettings("1-1024, 3389,8443", "500", "256", "daily 12:30", "public\n private \n")
	good.Set("base", admin.base())
	if r := admin.do("POST", "/config/scan", good); r.code != http.StatusForbidden {
		t.Fatalf("without the CSRF token: %d", r.code)
	}
	for _, c := range []*client{e.addUser("staff1", auth.RoleStaff), e.addUser("auditor1", auth.RoleAuditor)} {
		if r := c.get("/config/scan"); r.code != http.StatusForbidden {
			t.Errorf("GET /config/scan by a non-vendor: %d", r.code)
		}
		if r := c.post("/config/scan", good); r.code != http.StatusForbidden {
			t.Errorf("POST /config/scan by a non-vendor: %d", r.code)
		}
		if strings.Contains(c.get("/scan").body, `id="scan-settings-link"`) {
			t.Error("the self-scan page offers the settings to a non-vendor")
		}
	}
	if got := e.savedConfig().Scan; !equalScan(got, before) {
		t.Fatalf("a refused request changed the configuration: %+v", got)
	}

	r = admin.post("/config/scan", good)
	if r.code != http.StatusSeeOther || r.location != "/config?done=saved" {
		t.Fatalf("valid settings: %d %s\n%s", r.code, r.location, r.body)
	}
	want := config.Scan{TCPPorts: "1-1024, 3389,8443", Rate: 500, Concurrency: 256, Schedule: "daily 12:30", SNMPCommunities: []string{"public", "private"}}
	if got := e.savedConfig().Scan; !equalScan(got, want) || !equalScan(e.g.Config().Scan, want) {
		t.Fatalf("saved %+v, applied %+v, want %+v", got, e.g.Config().Scan, want)
	}
	ch := e.entries(ledger.KindConfigChange)
	if len(ch) != 1 || ch[0].Actor != "admin" || !strings.Contains(string(ch[0].Data), `"scan"`) {
		t.Fatalf("the change is not in the ledger with its user and setting: %+v", ch)
	}
	if page := admin.get("/config").body; !strings.Contains(page, "1-1024, 3389,8443") || !strings.Contains(page, "毎日 12:30") || !strings.Contains(page, "2 件") || strings.Contains(page, "private") {
		t.Fatal("the overview does not show the new settings, or shows a community name")
	}

	if r := admin.post("/config/undo", url.Values{}); r.code != http.StatusSeeOther {
		t.Fatalf("undo: %d %s", r.code, r.body)
	}
	if got := e.savedConfig().Scan; !equalScan(got, before) {
		t.Fatalf("undo left %+v", got)
	}
}

func equalScan(a, b config.Scan) bool {
	ac, bc := a.SNMPCommunities, b.SNMPCommunities
	a.SNMPCommunities, b.SNMPCommunities = nil, nil
	return reflect.DeepEqual(a, b) && slices.Equal(ac, bc)
}

// TestScanSettingsInBrowser fills the scan form in headless Chromium: a
// rate out of bounds is shown beside its field, the corrected form saves.
func TestScanSettingsInBrowser(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser("/config/scan", "config-form")
	b.step("fill", chromedp.SetValue(chromedp.ID("f-tcp_ports"), "1-1024,3389"), chromedp.SetValue(chromedp.ID("f-rate"), "5"),
		chromedp.SendKeys(chromedp.ID("f-snmp_communities"), "public"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.CSS(`.field-error[data-for="rate"]`)))
	if msg, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(`.field-error[data-for="rate"]`))); err != nil || !strings.Contains(msg, "10〜100000") {
		t.Fatalf("beside the rate: %q %v", msg, err)
	}
	if e.g.Config().Scan.TCPPorts != "" {
		t.Fatal("a refused form was applied")
	}
	b.step("fix", chromedp.SetValue(chromedp.ID("f-rate"), "500"), chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("flash")))
	want := config.Scan{TCPPorts: "1-1024,3389", Rate: 500, SNMPCommunities: []string{"public"}}
	if got := e.g.Config().Scan; !equalScan(got, want) {
		t.Fatalf("applied %+v, want %+v", got, want)
	}
}
