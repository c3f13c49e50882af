package web_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// settingsBrowser is the page of a gateway with a source, in headless
// Chromium, logged in as admin.
type settingsBrowser struct {
	*browserPage
	e      *env
	origin string // the page's scheme, host and port
	config string // config.json
}

func (s *settingsBrowser) value(sel string) string {
	s.t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		s.t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}

func (s *settingsBrowser) text(sel string) string {
	s.t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		s.t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// open shows path and waits for the element with ID ready.
func (s *settingsBrowser) open(path, ready string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{chromedp.Navigate(s.origin + path), chromedp.WaitVisible(chromedp.ID(ready))}
}

// TestSettingsFormsInBrowser: in headless Chromium, a refused form keeps
// everything typed and lists every error at the top, a save without a
// change says so and writes nothing, and durations and schedules are
// typed and shown in words. Any console error fails.
func TestSettingsFormsInBrowser(t *testing.T) {
	e := newEnv(t, envOptions{configure: withSource})
	s := &settingsBrowser{browserPage: e.browser("/config/general", "config-form"), e: e, config: filepath.Join(e.dir, "config.json")}
	var err error
	if s.origin, err = chromedp.Run(s.ctx, chromedp.Evaluate[string]("location.origin")); err != nil {
		t.Fatal(err)
	}
	before := fileOf(t, s.config)
	s.refusedGeneralSettingsKeepWhatWasTyped()
	s.savingWithoutAChangeSaysSo()
	if fileOf(t, s.config) != before {
		t.Fatal("a refused form or a save without a change wrote config.json")
	}
	s.durationsTypedAndShownInWords()
	s.documentFieldsKeepWhatWasTyped()
	s.usersFormKeepsWhatWasTyped()
}

// refusedGeneralSettingsKeepWhatWasTyped: a value that does not parse
// and two that validation refuses are all listed at once.
func (s *settingsBrowser) refusedGeneralSettingsKeepWhatWasTyped() {
	t := s.t
	s.step("bad general settings",
		chromedp.SetValue(chromedp.CSS(`[name="bandwidth_limit"]`), "fast"),
		chromedp.SetValue(chromedp.CSS(`[name="check_read_data_subset"]`), "150%"),
		chromedp.SetValue(chromedp.CSS(`[name="retention.keep_last"]`), "0"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("error-summary")))
	if sum := s.text("#error-summary"); !strings.Contains(sum, "入力に誤りが 3 件あります") || !strings.Contains(sum, "検査で読むデータの割合") {
		t.Errorf("summary: %q", sum)
	}
	for sel, want := range map[string]string{`[name="bandwidth_limit"]`: "fast", `[name="check_read_data_subset"]`: "150%", `[name="retention.keep_last"]`: "0"} {
		if got := s.value(sel); got != want {
			t.Errorf("%s shows %q, want %q as typed", sel, got, want)
		}
	}
	s.shot("settings-refused")
}

func (s *settingsBrowser) savingWithoutAChangeSaysSo() {
	s.step("unchanged", append(s.open("/config/general", "config-form"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("flash")))...)
	if f := s.text("#flash"); !strings.Contains(f, "変更はありませんでした") {
		s.t.Errorf("after saving without a change: %q", f)
	}
}

func (s *settingsBrowser) durationsTypedAndShownInWords() {
	t := s.t
	s.step("restore window", append(s.open("/config/restore", "config-form"),
		chromedp.SetValue(chromedp.CSS(`[name="restore.window"]`), "4時間30分"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("flash")))...)
	if main := s.text("main"); !strings.Contains(main, "4時間30分") || !strings.Contains(main, "毎日 02:00") {
		t.Errorf("the overview does not say the window and schedule in words:\n%s", main)
	}
	s.step("restore form", s.open("/config/restore", "config-form")...)
	if v := s.value(`[name="restore.window"]`); v != "4時間30分" {
		t.Errorf("restore window shown as %q", v)
	}
}

func (s *settingsBrowser) documentFieldsKeepWhatWasTyped() {
	s.step("documents", append(s.open("/documents", "document-fields"),
		chromedp.SendKeys(chromedp.ID("doc-hospital_name"), "さくら総合病院"),
		chromedp.SendKeys(chromedp.ID("doc-gateway_address"), "not-an-ip"),
		chromedp.SendKeys(chromedp.ID("doc-rpo"), "1日"),
		chromedp.Click(chromedp.ID("save-fields")), chromedp.WaitVisible(chromedp.ID("error-summary")))...)
	if v := s.value("#doc-hospital_name"); v != "さくら総合病院" || s.value("#doc-rpo") != "1日" {
		s.t.Errorf("document fields after a refusal: %q", v)
	}
	s.shot("documents-refused")
}

func (s *settingsBrowser) usersFormKeepsWhatWasTyped() {
	s.step("users", append(s.open("/users", "add-user"),
		chromedp.SendKeys(chromedp.ID("u-name"), "Bad Name"),
		chromedp.SetValue(chromedp.ID("u-role"), "auditor"),
		chromedp.SendKeys(chromedp.ID("u-pw"), "short-pw"),
		chromedp.SendKeys(chromedp.ID("u-pw2"), "other-pw"),
		chromedp.Submit(chromedp.ID("u-name")), chromedp.WaitVisible(chromedp.ID("error-summary")))...)
	if v := s.value("#u-name"); v != "Bad Name" || s.value("#u-role") != "auditor" {
		s.t.Errorf("users form after a refusal: %q %q", v, s.value("#u-role"))
	}
	if sum := s.text("#error-summary"); !strings.Contains(sum, "3 件") {
		s.t.Errorf("users summary: %q", sum)
	}
	s.shot("users-refused")
}
