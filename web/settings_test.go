package web_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/fake"
)

// withSource configures a gateway that has a source (its server is never
// contacted), as one is after commissioning.
func withSource(_ string, cfg *config.Config) {
	s := config.DefaultSource()
	s.Name, s.Host, s.User, s.KeyFile, s.ExportDir = "emr", "127.0.0.1", "danzen-pull", "emr.key", "/export"
	s.KnownHosts = []string{"[127.0.0.1]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}
	cfg.Sources = []config.Source{s}
}

// fileOf is a file's content ("" when it does not exist).
func fileOf(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// summaryItems are the lines of a refused form's summary at its top.
func summaryItems(body string) []string {
	i := strings.Index(body, `id="error-summary"`)
	if i < 0 {
		return nil
	}
	end := strings.Index(body[i:], "</div>")
	if end < 0 {
		end = strings.Index(body[i:], "</ul>")
	}
	return regexp.MustCompile(`<li>`).FindAllString(body[i:i+end], -1)
}

func TestCheckPercentageOver100IsRefusedOnThePage(t *testing.T) {
	e := newEnv(t, envOptions{configure: withSource})
	c := e.login("admin", adminPW)
	r := c.post("/config/general", generalForm(t, c, map[string]string{"check_read_data_subset": "150%"}))
	if errs := fieldErrors(htmlUnescape(r.body), "check_read_data_subset"); r.code != http.StatusOK || len(errs) != 1 || !strings.Contains(errs[0], "100% まで") {
		t.Fatalf("150%%: %d %q", r.code, errs)
	}
	if e.g.Config().CheckSubset != "5%" {
		t.Fatal("150% was applied")
	}
}

func TestFormWithErrorsKeepsEverythingTypedAndListsEveryError(t *testing.T) {
	e := newEnv(t, envOptions{configure: withSource})
	c := e.login("admin", adminPW)
	before := fileOf(t, filepath.Join(e.dir, "config.json"))
	// A value that does not parse (the rate) and values that parse but are
	// wrong (the rest): every one is said at once.
	r := c.post("/config/general", generalForm(t, c, map[string]string{
		"bandwidth_limit": "fast", "check_read_data_subset": "150%", "schedule": "whenever", "retention.keep_last": "0", "gateway_id": "gw-7",
	}))
	body := htmlUnescape(r.body)
	if r.code != http.StatusOK {
		t.Fatalf("refused form: %d", r.code)
	}
	for _, f := range []string{"bandwidth_limit", "check_read_data_subset", "schedule", "retention.keep_last"} {
		if len(fieldErrors(body, f)) == 0 {
			t.Errorf("no message beside %s", f)
		}
	}
	if n := len(summaryItems(body)); n != 4 || !strings.Contains(body, "入力に誤りが 4 件あります") || !strings.Contains(body, `href="#field-schedule"`) {
		t.Errorf("summary at the top: %d items\n%s", n, body)
	}
	for _, typed := range []string{`value="fast"`, `value="150%"`, `value="whenever"`, `value="0"`, `value="gw-7"`} {
		if !strings.Contains(body, typed) {
			t.Errorf("not kept as typed: %s", typed)
		}
	}
	if fileOf(t, filepath.Join(e.dir, "config.json")) != before || e.g.Config().GatewayID == "gw-7" {
		t.Fatal("a refused form changed the configuration")
	}
}

func TestTwoRelaysOnOneLineAreRefusedOnThePage(t *testing.T) {
	diskA := relay.Spec{Name: "relay-disk-a", Driver: relay.DriverFake, Chip: "gpiochip0", Line: 17, Sense: &relay.SenseSpec{Chip: "gpiochip0", Line: 27}}
	board := fake.NewBoard(diskA)
	e := newEnv(t, envOptions{relays: map[string]relay.PinSource{relay.DriverFake: board}, configure: func(dir string, cfg *config.Config) {
		withSource(dir, cfg)
		cfg.Relays = []relay.Spec{diskA}
	}})
	c := e.login("admin", adminPW)
	p := filepath.Join(e.dir, "config.json")
	before := fileOf(t, p)
	// relay-disk-b wired onto relay-disk-a's lines.
	r := c.postWithBase("/config/relay", url.Values{"orig": {""}, "name": {"relay-disk-b"}, "driver": {"fake"}, "chip": {"gpiochip0"}, "line": {"17"},
		"sense": {"on"}, "sense.chip": {"gpiochip0"}, "sense.line": {"27"}})
	for _, f := range []string{"line", "sense.line"} {
		if errs := fieldErrors(r.body, f); r.code != http.StatusOK || len(errs) != 1 || !strings.Contains(errs[0], "リレー relay-disk-a がすでに使っています") {
			t.Errorf("%s: %d %q", f, r.code, errs)
		}
	}
	if fileOf(t, p) != before || len(e.g.Config().Relays) != 1 {
		t.Fatal("two relays on one line were saved")
	}
	if len(e.entries(ledger.KindConfigChange)) != 0 {
		t.Fatal("recorded as a change")
	}
}

func TestChangeThatCannotBeAppliedIsRolledBackOnThePage(t *testing.T) {
	e := newEnv(t, envOptions{configure: withSource})
	c := e.login("admin", adminPW)
	p := filepath.Join(e.dir, "config.json")
	before, prev := fileOf(t, p), fileOf(t, p+".prev")
	// A fake relay with no fake pins: valid, but its hardware cannot be
	// opened.
	r := c.postWithBase("/config/relay", url.Values{"orig": {""}, "name": {"relay-disk-a"}, "driver": {"fake"}, "chip": {"gpiochip0"}, "line": {"17"}, "sense.line": {"0"}})
	body := htmlUnescape(r.body)
	if r.code != http.StatusOK || !strings.Contains(body, `id="form-error"`) || !strings.Contains(body, "変更を取り消しました") || !strings.Contains(body, `"fake"`) {
		t.Fatalf("the page does not say it rolled back, and why: %d\n%s", r.code, body)
	}
	if !strings.Contains(body, `value="relay-disk-a"`) {
		t.Error("the form lost what was typed")
	}
	if fileOf(t, p) != before || fileOf(t, p+".prev") != prev || len(e.g.Config().Relays) != 0 {
		t.Fatal("the file on disk is not what runs")
	}
	errs := e.entries(ledger.KindError)
	if len(errs) != 1 || errs[0].Actor != "admin" || !strings.Contains(errs[0].Message.EN, "rolled back") {
		t.Fatalf("the refusal is not in the ledger: %+v", errs)
	}
}

func TestSavingWithoutAChangeWritesNothingOnThePage(t *testing.T) {
	e := newEnv(t, envOptions{configure: withSource})
	c := e.login("admin", adminPW)
	if r := c.post("/config/general", generalForm(t, c, map[string]string{"schedule": "daily 03:00"})); r.location != "/config?done=saved" {
		t.Fatalf("a change: %d %s", r.code, r.location)
	}
	p := filepath.Join(e.dir, "config.json")
	before, prev := fileOf(t, p), fileOf(t, p+".prev")
	r := c.post("/config/general", generalForm(t, c, nil))
	if r.code != http.StatusSeeOther || r.location != "/config?done=nochange" {
		t.Fatalf("a save without a change: %d %s", r.code, r.location)
	}
	if !strings.Contains(c.get(r.location).body, "変更はありませんでした") {
		t.Error("the page does not say nothing changed")
	}
	if fileOf(t, p) != before || fileOf(t, p+".prev") != prev {
		t.Fatal("a save without a change wrote the file or replaced the undo")
	}
	if n := len(e.entries(ledger.KindConfigChange)); n != 1 {
		t.Fatalf("%d configuration changes recorded, want 1", n)
	}
	if r := c.post("/config/undo", url.Values{}); r.location != "/config?done=undone" || e.g.Config().Schedule != "daily 02:00" {
		t.Fatalf("undo after it: %s, schedule %q", r.location, e.g.Config().Schedule)
	}
}

func TestKeyFileOutsideSecretsIsRefusedOnThePage(t *testing.T) {
	e := newEnv(t, envOptions{configure: withSource})
	c := e.login("admin", adminPW)
	f := formFor(t, c, "/config/source?name=emr", map[string]string{"key_file": "../../../etc/ssh/ssh_host_ed25519_key"})
	f.Set("orig", "emr")
	f.Set("op", "save")
	r := c.post("/config/source", f)
	if errs := fieldErrors(r.body, "key_file"); r.code != http.StatusOK || len(errs) != 1 || !strings.Contains(errs[0], "直下のファイル名") {
		t.Fatalf("key file outside secrets/: %d %q", r.code, errs)
	}
	if src, _ := e.g.Config().Source("emr"); src.KeyFile != "emr.key" {
		t.Fatal("saved")
	}
}

func TestRemovingTheLastSourceIsRefusedOnThePage(t *testing.T) {
	e := newEnv(t, envOptions{configure: withSource})
	c := e.login("admin", adminPW)
	r := c.postWithBase("/config/source/delete", url.Values{"orig": {"emr"}})
	if body := htmlUnescape(r.body); r.code != http.StatusOK || !strings.Contains(body, "取得元を1つ以上追加してください") {
		t.Fatalf("deleting the last source: %d %s\n%s", r.code, r.location, body)
	}
	if len(e.g.Config().Sources) != 1 {
		t.Fatal("the last source was deleted")
	}
}

func TestDurationsAndSchedulesShownInWordsOnThePage(t *testing.T) {
	e := newEnv(t, envOptions{configure: withSource})
	c := e.login("admin", adminPW)
	for lang, want := range map[string][]string{
		"ja": {"毎日 02:00", "4時間"},
		"en": {"daily at 02:00", "4 hours"},
	} {
		page := htmlUnescape(c.get("/config?lang=" + lang).body)
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s overview lacks %q", lang, w)
			}
		}
		if strings.Contains(page, "4h0m0s") {
			t.Errorf("%s overview shows Go's form", lang)
		}
	}
	c.get("/?lang=ja")
	if form := htmlUnescape(c.get("/config/source?name=emr").body); !strings.Contains(form, `name="completion.stable_for" id="f-completion.stable_for" value="1分"`) {
		t.Error("the source form does not show 1分")
	}
	if form := htmlUnescape(c.get("/config/general").body); !strings.Contains(form, "= 毎日 02:00") {
		t.Error("the general form does not explain the schedule")
	}
	// What a person types is read.
	if r := c.postWithBase("/config/restore", url.Values{"restore.window": {"4時間30分"}, "restore.drill_schedule": {"0 10 1 4 *"}}); r.code != http.StatusSeeOther {
		t.Fatalf("restore window 4時間30分: %d\n%s", r.code, r.body)
	}
	if got := e.g.Config().Restore.Window.Std(); got != 4*time.Hour+30*time.Minute {
		t.Fatalf("window %v", got)
	}
	ov := htmlUnescape(c.get("/config").body)
	if !strings.Contains(ov, "4時間30分") || !strings.Contains(ov, "毎年4月1日 10:00(0 10 1 4 *)") {
		t.Errorf("overview after the change:\n%s", ov)
	}
	c.get("/?lang=en")
	if form := htmlUnescape(c.get("/config/restore").body); !strings.Contains(form, `value="4 hours 30 minutes"`) || !strings.Contains(form, "= every year on 1 April at 10:00") {
		t.Error("the restore form in English")
	}
}

func TestDocumentFieldsKeepWhatWasTypedAndListEveryError(t *testing.T) {
	e := newEnv(t, envOptions{configure: withSource})
	c := e.login("admin", adminPW)
	r := c.post("/documents/fields", url.Values{"hospital_name": {"さくら総合病院"}, "responsible": {"山田 花子"},
		"gateway_address": {"not-an-ip"}, "rpo": {"a fortnight"}, "rto": {"4時間"}})
	body := htmlUnescape(r.body)
	if r.code != http.StatusOK || len(fieldErrors(body, "gateway_address")) != 1 || len(fieldErrors(body, "rpo")) != 1 {
		t.Fatalf("every error at once: %d\n%s", r.code, body)
	}
	for _, typed := range []string{`value="さくら総合病院"`, `value="山田 花子"`, `value="not-an-ip"`, `value="a fortnight"`, `value="4時間"`} {
		if !strings.Contains(body, typed) {
			t.Errorf("not kept as typed: %s", typed)
		}
	}
	if n := len(summaryItems(body)); n != 2 {
		t.Errorf("summary: %d items", n)
	}
	if e.g.Config().Documents.HospitalName != "" {
		t.Fatal("a refused form was applied")
	}
	if r := c.post("/documents/fields", url.Values{"hospital_name": {"さくら総合病院"}, "rpo": {"1日"}, "rto": {"4時間"}}); r.code != http.StatusSeeOther {
		t.Fatalf("save: %d", r.code)
	}
	if d := e.g.Config().Documents; d.RPO.Std() != 24*time.Hour || d.RTO.Std() != 4*time.Hour {
		t.Fatalf("durations %v %v", d.RPO, d.RTO)
	}
	if page := htmlUnescape(c.get("/documents").body); !strings.Contains(page, `id="doc-rpo" value="1日"`) {
		t.Error("RPO not shown in words")
	}
}

func TestUsersFormKeepsWhatWasTypedAndListsEveryError(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	r := c.post("/users/add", url.Values{"name": {"Bad Name"}, "role": {"auditor"}, "password": {"short"}, "password2": {"other"}})
	body := htmlUnescape(r.body)
	if r.code != http.StatusOK {
		t.Fatalf("status %d", r.code)
	}
	for _, want := range []string{`value="Bad Name"`, `<option value="auditor" selected>`, "ユーザー名は英小文字", "12文字以上", "一致しません"} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %s", want)
		}
	}
	if n := len(summaryItems(body)); n != 3 {
		t.Errorf("summary: %d items\n%s", n, body)
	}
	if strings.Contains(body, `value="short"`) {
		t.Error("a password was sent back")
	}
	if len(e.a.Users()) != 1 {
		t.Fatal("a refused form added a user")
	}
}

// TestSourceFormKeepsHostKeyTicksAfterAFetch: a source's form that comes
// back (after "Fetch host key", or refused for another field) keeps the
// host keys ticked for removal and the ticked confirmation, instead of
// dropping them so that the next save silently keeps the old key.
func TestSourceFormKeepsHostKeyTicksAfterAFetch(t *testing.T) {
	p := pinSourceOnPage(t)
	ticked := regexp.MustCompile(`name="kh_remove" value="0" checked`)
	f := p.form("fetch")
	f.Set("kh_remove", "0")
	f.Set("export_dir", "/export/emr")
	r := p.post(f)
	if !ticked.MatchString(r.body) || !strings.Contains(r.body, `value="/export/emr"`) {
		t.Fatalf("after a fetch, the removal tick or a typed field is lost:\n%s", r.body)
	}
	// Refused for another field: the tick stays, the key is still pinned.
	f = p.form("save")
	f.Set("kh_remove", "0")
	f.Set("export_dir", "relative")
	r = p.post(f)
	if len(fieldErrors(r.body, "export_dir")) != 1 || !ticked.MatchString(r.body) {
		t.Fatalf("a refused form lost the removal tick:\n%s", r.body)
	}
	if src, _ := p.e.g.Config().Source("emr"); len(src.KnownHosts) != 1 {
		t.Fatal("a refused form removed the key")
	}
	// The server's key changes; the person confirms the new one, but the
	// form is refused for another field: the confirmation stays ticked.
	k := newSSHKey(t)
	p.srv.key.Store(&k)
	f = p.form("save")
	f.Set("pin_fp", p.srv.fingerprint())
	f.Set("pin_confirm", "on")
	f.Set("export_dir", "relative")
	r = p.post(f)
	if len(fieldErrors(r.body, "export_dir")) != 1 || !strings.Contains(r.body, `id="pin-confirm" checked`) {
		t.Fatalf("a refused form lost the confirmation tick:\n%s", r.body)
	}
}

// TestUnfinishedConfigurationSaysToAddASource: a gateway being
// commissioned runs without a source, and its page says to add one.
func TestUnfinishedConfigurationSaysToAddASource(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	if page := c.get("/config").body; !strings.Contains(page, `id="config-problems"`) || !strings.Contains(page, "取得元を1つ以上追加してください") {
		t.Fatalf("the overview does not say to add a source:\n%s", page)
	}
	// A commissioning step that adds no source yet is saved.
	if r := c.post("/config/general", generalForm(t, c, map[string]string{"schedule": "daily 01:00"})); r.location != "/config?done=saved" {
		t.Fatalf("a step before the source: %d %s\n%s", r.code, r.location, r.body)
	}
	e2 := newEnv(t, envOptions{configure: withSource})
	if page := e2.login("admin", adminPW).get("/config").body; strings.Contains(page, "取得元を1つ以上追加してください") {
		t.Fatal("a finished configuration is said to lack a source")
	}
}
