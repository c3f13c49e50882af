package web_test

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/backup/restic"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/status"
	"github.com/danzen-gw/danzen/web"
)

func TestSetupCodeCreatesTheFirstAdminOnce(t *testing.T) {
	e := newEnv(t, envOptions{noAdmin: true})
	c := e.client()
	if r := c.get("/"); r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, auth.LoginPath) {
		t.Fatalf("anonymous dashboard: %d %s", r.code, r.location)
	}
	if r := c.get(auth.LoginPath); r.code != http.StatusSeeOther || r.location != auth.SetupPath {
		t.Fatalf("login before setup should lead to setup: %d %s", r.code, r.location)
	}
	form := c.get(auth.SetupPath)
	tok := formToken(t, form.body)
	setup := func(c *client, code, tok string) resp {
		return c.do("POST", auth.SetupPath, url.Values{"code": {code}, "username": {"vendor"}, "password": {"vendor-password-1"},
			"password2": {"vendor-password-1"}, auth.CSRFField: {tok}})
	}
	if r := setup(c, "AAAA-BBBB-CCCC-DDDD-EEEE", tok); r.code != http.StatusForbidden || !strings.Contains(r.body, "セットアップコードが違う") {
		t.Fatalf("wrong code: %d", r.code)
	}
	if r := setup(c, strings.ToLower(e.code), tok); r.code != http.StatusSeeOther || r.location != "/" {
		t.Fatalf("setup with the printed code: %d %s %s", r.code, r.location, r.body)
	}
	if r := c.get("/"); r.code != http.StatusOK || !strings.Contains(r.body, "vendor") {
		t.Fatalf("dashboard after setup: %d", r.code)
	}
	// Single use: the code is gone and the page is closed.
	other := e.client()
	if r := other.get(auth.SetupPath); r.code != http.StatusNotFound {
		t.Fatalf("setup page after use: %d", r.code)
	}
	if r := setup(other, e.code, "x"); r.code == http.StatusSeeOther {
		t.Fatal("the setup code worked twice")
	}
	if _, err := os.Stat(filepath.Join(e.cfg.SecretsDir, auth.SetupCodeFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("setup code file still there: %v", err)
	}
	used := e.entries(auth.AuditSetupUsed)
	if len(used) != 1 || used[0].Actor != "vendor" {
		t.Fatalf("setup not in the ledger: %+v", used)
	}
	if strings.Contains(e.ledgerText(), e.code) || strings.Contains(e.logs.String(), e.code) {
		t.Fatal("the setup code was recorded")
	}
}

func TestCSRFIsRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	before := e.g.Config().Schedule
	form := url.Values{"schedule": {"30 1 * * *"}}
	if r := c.do("POST", "/config/general", form); r.code != http.StatusForbidden {
		t.Fatalf("no token: %d", r.code)
	}
	form.Set(auth.CSRFField, "forged")
	if r := c.do("POST", "/config/general", form); r.code != http.StatusForbidden {
		t.Fatalf("wrong token: %d", r.code)
	}
	if r := c.do("POST", "/cycle", url.Values{}); r.code != http.StatusForbidden {
		t.Fatalf("run now without token: %d", r.code)
	}
	// A right token from another site is still refused.
	req, _ := http.NewRequest("POST", e.srv.URL+"/cycle", strings.NewReader(auth.CSRFField+"="+formToken(t, c.get("/account").body)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := c.send(req); r.code != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", r.code)
	}
	if e.g.Config().Schedule != before || len(e.entries("job.start")) != 0 {
		t.Fatal("a refused request changed something")
	}
}

// TestRoleLimits checks every route for every role against auth.Allowed.
func TestRoleLimits(t *testing.T) {
	e := newEnv(t, envOptions{})
	routes := []struct {
		method, path string
		form         url.Values
		need         auth.Action
	}{
		{"GET", "/", nil, auth.ViewStatus},
		{"GET", "/account", nil, auth.ViewStatus},
		{"GET", "/history", nil, auth.ViewEvidence},
		{"GET", "/ledger", nil, auth.ViewEvidence},
		{"GET", "/config", nil, auth.EditConfig},
		{"GET", "/config/general", nil, auth.EditConfig},
		{"GET", "/config/source", nil, auth.EditConfig},
		{"GET", "/config/relay", nil, auth.EditConfig},
		{"GET", "/config/medium", nil, auth.EditConfig},
		{"GET", "/tls", nil, auth.EditConfig},
		{"GET", "/users", nil, auth.ManageUsers},
		{"POST", "/config/general", url.Values{}, auth.EditConfig},
		{"POST", "/config/undo", url.Values{}, auth.EditConfig},
		{"POST", "/config/relay/delete", url.Values{"orig": {"x"}}, auth.EditConfig},
		{"POST", "/config/source/key", url.Values{"orig": {"x"}}, auth.EditConfig},
		{"POST", "/tls", url.Values{}, auth.EditConfig},
		{"POST", "/users/add", url.Values{"name": {""}}, auth.ManageUsers},
		{"POST", "/users/delete", url.Values{"name": {"nobody"}}, auth.ManageUsers},
		{"POST", "/account/password", url.Values{"password": {"a"}, "password2": {"b"}}, auth.ViewStatus},
		{"POST", "/cycle", url.Values{}, auth.RunCycle},
	}
	users := map[auth.Role]*client{
		auth.RoleVendorAdmin: e.login("admin", adminPW),
		auth.RoleStaff:       e.addUser("staff", auth.RoleStaff),
		auth.RoleAuditor:     e.addUser("auditor", auth.RoleAuditor),
	}
	for role, c := range users {
		for _, rt := range routes {
			var r resp
			if rt.method == "GET" {
				r = c.get(rt.path)
			} else {
				r = c.post(rt.path, rt.form)
			}
			allowed := auth.Allowed(role, rt.need)
			if allowed && (r.code == http.StatusForbidden || r.code == http.StatusUnauthorized || r.code >= 500) {
				t.Errorf("%s %s %s: %d, want allowed", role, rt.method, rt.path, r.code)
			}
			if !allowed && r.code != http.StatusForbidden {
				t.Errorf("%s %s %s: %d, want 403", role, rt.method, rt.path, r.code)
			}
		}
	}
	anon := e.client()
	for _, rt := range routes {
		if rt.method != "GET" {
			continue
		}
		if r := anon.get(rt.path); r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, auth.LoginPath) {
			t.Errorf("anonymous GET %s: %d %s", rt.path, r.code, r.location)
		}
	}
	// /metrics is for Prometheus: it answers without a login and carries
	// no user name.
	if r := anon.get("/metrics"); r.code != http.StatusOK || !strings.Contains(r.body, "danzen_ledger_ok") ||
		strings.Contains(r.body, "admin") || strings.Contains(r.body, "staff") {
		t.Errorf("anonymous /metrics: %d\n%s", r.code, r.body)
	}
	// The menu offers only what the role may open.
	staff := users[auth.RoleStaff].get("/").body
	if strings.Contains(staff, `href="/config"`) || strings.Contains(staff, `href="/users"`) || strings.Contains(staff, `id="run-now"`) {
		t.Error("staff sees configuration, users or run-now")
	}
	if admin := users[auth.RoleVendorAdmin].get("/").body; !strings.Contains(admin, `href="/users"`) || !strings.Contains(admin, `id="run-now"`) {
		t.Error("admin lacks the users page or run-now")
	}
}

// generalForm is the general settings form as a browser submits it.
func generalForm(t *testing.T, c *client, change map[string]string) url.Values {
	t.Helper()
	return formFor(t, c, "/config/general", change)
}

// formFor is the form at path as a browser submits it, with changes.
func formFor(t *testing.T, c *client, path string, change map[string]string) url.Values {
	t.Helper()
	page := c.get(path).body
	f := url.Values{}
	for _, m := range regexp.MustCompile(`<input name="([^"]+)" id="[^"]*" value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		f.Set(m[1], htmlUnescape(m[2]))
	}
	f.Set("base", regexp.MustCompile(`name="base" value="([^"]+)"`).FindStringSubmatch(page)[1])
	f.Set("orig", "")
	for k, v := range change {
		f.Set(k, v)
	}
	return f
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#43;", "+").Replace(s)
}

func TestGeneralSettingsAreValidatedAppliedAndUndone(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	r := c.post("/config/general", generalForm(t, c, map[string]string{"retention.keep_last": "0", "retention.keep_daily": "abc"}))
	if r.code != http.StatusOK {
		t.Fatalf("invalid form: %d", r.code)
	}
	if errs := fieldErrors(r.body, "retention.keep_last"); len(errs) != 1 || !strings.Contains(errs[0], "保持する世代数は1以上") {
		t.Fatalf("keep_last messages: %q\n%s", errs, r.body)
	}
	if errs := fieldErrors(r.body, "retention.keep_daily"); len(errs) != 1 || !strings.Contains(errs[0], "整数") {
		t.Fatalf("keep_daily messages: %q", errs)
	}
	if !strings.Contains(r.body, `value="abc"`) {
		t.Fatal("the typed value is not shown beside its message")
	}
	if e.g.Config().Retention.KeepLast != 5 {
		t.Fatal("an invalid form changed the configuration")
	}
	// English messages in English.
	r = c.post("/config/general?lang=en", generalForm(t, c, map[string]string{"schedule": "whenever"}))
	if errs := fieldErrors(r.body, "schedule"); len(errs) != 1 || !strings.Contains(errs[0], "five-field cron") {
		t.Fatalf("schedule message in English: %q", errs)
	}
	c.get("/?lang=ja")

	r = c.post("/config/general", generalForm(t, c, map[string]string{"schedule": "30 1 * * 1-5", "retention.keep_last": "7"}))
	if r.code != http.StatusSeeOther || r.location != "/config?done=saved" {
		t.Fatalf("valid form: %d %s\n%s", r.code, r.location, r.body)
	}
	if cfg := e.g.Config(); cfg.Schedule != "30 1 * * 1-5" || cfg.Retention.KeepLast != 7 {
		t.Fatalf("not applied: %q %d", cfg.Schedule, cfg.Retention.KeepLast)
	}
	if onDisk, _, err := config.LoadUnfinished(filepath.Join(e.dir, "config.json")); err != nil || onDisk.Schedule != "30 1 * * 1-5" {
		t.Fatalf("not saved: %v", err)
	}
	ch := e.entries(ledger.KindConfigChange)
	if len(ch) != 1 || ch[0].Actor != "admin" {
		t.Fatalf("change not recorded with its user: %+v", ch)
	}
	if page := c.get("/config?done=saved").body; !strings.Contains(page, "再起動せずに適用") || !strings.Contains(page, "retention") {
		t.Fatal("overview lacks the message or the change list")
	}
	// A form made before that change is refused rather than overwriting it.
	stale := generalForm(t, c, map[string]string{"gateway_id": "other"})
	if err := e.g.Reconfigure(context.Background(), "someone", withSchedule(e.g.Config(), "daily 03:00")); err != nil {
		t.Fatal(err)
	}
	if r := c.post("/config/general", stale); r.code != http.StatusOK || !strings.Contains(r.body, "別の画面で変更されました") {
		t.Fatalf("stale form: %d", r.code)
	}
	if e.g.Config().GatewayID == "other" {
		t.Fatal("a stale form was applied")
	}
	if r := c.post("/config/undo", url.Values{}); r.code != http.StatusSeeOther {
		t.Fatalf("undo: %d %s", r.code, r.body)
	}
	if e.g.Config().Schedule != "30 1 * * 1-5" {
		t.Fatalf("undo gave %q", e.g.Config().Schedule)
	}
}

func withSchedule(c *config.Config, s string) *config.Config {
	n := *c
	n.Schedule = s
	return &n
}

// sourceForm is a complete source as typed into the page.
func sourceForm(port int, op string) url.Values {
	return url.Values{"orig": {""}, "name": {"emr"}, "host": {"127.0.0.1"}, "port": {strconv.Itoa(port)}, "user": {"danzen-pull"},
		"key_file": {"emr.key"}, "export_dir": {"/export"}, "include": {"**"}, "completion.mode": {"stable"},
		"completion.stable_for": {"60s"}, "mirror": {"on"}, "connections": {"2"}, "workers": {"16"}, "attempts": {"3"}, "op": {op}}
}

func (c *client) base() string {
	return regexp.MustCompile(`name="base" value="([^"]+)"`).FindStringSubmatch(c.get("/config/general").body)[1]
}

func TestHostKeyIsPinnedOnlyAfterConfirmation(t *testing.T) {
	srv := startSSH(t)
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	post := func(f url.Values) resp {
		f.Set("base", c.base())
		return c.post("/config/source", f)
	}
	r := post(sourceForm(srv.port, "save"))
	if errs := fieldErrors(r.body, "known_hosts"); r.code != http.StatusOK || len(errs) == 0 || !strings.Contains(errs[0], "ホスト鍵が登録されていません") {
		t.Fatalf("a source without a host key: %d %q", r.code, errs)
	}
	first := srv.fingerprint()
	r = post(sourceForm(srv.port, "fetch"))
	if !strings.Contains(htmlUnescape(r.body), first) || !strings.Contains(r.body, `id="pin-confirm"`) {
		t.Fatalf("fetch does not show the fingerprint:\n%s", r.body)
	}
	if len(e.g.Config().Sources) != 0 {
		t.Fatal("fetching saved the source")
	}
	f := sourceForm(srv.port, "save")
	f.Set("pin_fp", first)
	if r := post(f); !strings.Contains(r.body, `id="pin-error"`) || len(e.g.Config().Sources) != 0 {
		t.Fatal("pinned without the confirmation tick")
	}
	// The server's key changes between fetch and confirmation.
	k := newSSHKey(t)
	srv.key.Store(&k)
	f.Set("pin_confirm", "on")
	if r := post(f); !strings.Contains(r.body, "違います") || !strings.Contains(htmlUnescape(r.body), srv.fingerprint()) || len(e.g.Config().Sources) != 0 {
		t.Fatalf("a changed key was pinned or not reported:\n%s", r.body)
	}
	f.Set("pin_fp", srv.fingerprint())
	if r := post(f); r.code != http.StatusSeeOther || r.location != "/config?done=pinned" {
		t.Fatalf("confirmed pin: %d %s\n%s", r.code, r.location, r.body)
	}
	src, err := e.g.Config().Source("emr")
	if err != nil || len(src.KnownHosts) != 1 {
		t.Fatalf("source not saved with its key: %v", err)
	}
	if !strings.Contains(htmlUnescape(c.get("/config/source?name=emr").body), srv.fingerprint()) {
		t.Fatal("the pinned key's fingerprint is not listed")
	}
	pins := e.entries(ledger.KindHostKeyPinned)
	if len(pins) != 1 || pins[0].Actor != "admin" {
		t.Fatalf("pin not recorded: %+v", pins)
	}
	if d, err := ledger.Decode[ledger.HostKeyPinnedData](pins[0]); err != nil || d.Fingerprint != srv.fingerprint() {
		t.Fatalf("pin not recorded: %+v", pins)
	}
	// Removing the pin through the form.
	f = sourceForm(srv.port, "save")
	f.Set("orig", "emr")
	f.Set("kh_remove", "0")
	if r := post(f); r.code != http.StatusOK || len(fieldErrors(r.body, "known_hosts")) == 0 {
		t.Fatalf("removing the only key should be refused by validation: %d", r.code)
	}
}

func TestRelaysAndMedia(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	post := func(path string, f url.Values) resp {
		f.Set("base", c.base())
		return c.post(path, f)
	}
	relayForm := url.Values{"orig": {""}, "name": {"r1"}, "driver": {"simulated"}, "line": {"0"}, "sense.line": {"1"}, "sense": {"on"}}
	if r := post("/config/relay", relayForm); r.code != http.StatusSeeOther {
		t.Fatalf("add relay: %d\n%s", r.code, r.body)
	}
	medium := url.Values{"orig": {""}, "name": {"disk-a"}, "type": {"disk"}, "relay": {"r1"}, "disk.fs_uuid": {"not-a-uuid"}, "disk.media_id": {"DANZEN-A"}}
	r := post("/config/medium", medium)
	if errs := fieldErrors(r.body, "disk.fs_uuid"); len(errs) != 1 || !strings.Contains(errs[0], "UUID") {
		t.Fatalf("bad UUID: %q", errs)
	}
	medium.Set("disk.fs_uuid", "0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d")
	if r := post("/config/medium", medium); r.code != http.StatusSeeOther {
		t.Fatalf("add medium: %d\n%s", r.code, r.body)
	}
	m, err := e.g.Config().Medium("disk-a")
	if err != nil || m.PasswordFile != "disk-a.restic-password" || m.Disk.Name != "disk-a" {
		t.Fatalf("medium: %+v %v", m, err)
	}
	if page := c.get("/config/medium?name=disk-a").body; !strings.Contains(page, "未設定") {
		t.Fatal("missing password not shown as such")
	}
	// Renaming the relay keeps the medium on it.
	relayForm.Set("orig", "r1")
	relayForm.Set("name", "r2")
	if r := post("/config/relay", relayForm); r.code != http.StatusSeeOther {
		t.Fatalf("rename relay: %d\n%s", r.code, r.body)
	}
	if m, _ := e.g.Config().Medium("disk-a"); m.Relay != "r2" {
		t.Fatalf("medium follows the renamed relay: %q", m.Relay)
	}
	r = post("/config/relay/delete", url.Values{"orig": {"r2"}})
	if r.code != http.StatusOK || !strings.Contains(r.body, "media[0].relay") || len(e.g.Config().Relays) != 1 {
		t.Fatalf("deleting a relay in use: %d\n%s", r.code, r.body)
	}
	// Deleting a medium keeps less: it waits for its waiting period
	// (gateway/pending.go), and its relay stays in use until then.
	if r := post("/config/medium/delete", url.Values{"orig": {"disk-a"}}); r.code != http.StatusSeeOther || r.location != "/config?done=held" {
		t.Fatalf("delete medium: %d %s", r.code, r.location)
	}
	if _, err := e.g.Config().Medium("disk-a"); err != nil {
		t.Fatal("a deleted medium went before its waiting period")
	}
	if r := post("/config/relay/delete", url.Values{"orig": {"r2"}}); r.code != http.StatusOK || len(e.g.Config().Relays) != 1 {
		t.Fatalf("deleted the relay of a medium whose removal waits: %d", r.code)
	}
}

// busyCore is the gateway while another job runs.
type busyCore struct{ *gateway.Gateway }

func (busyCore) StartCycle(context.Context, string) error { return gateway.ErrBusy }
func (busyCore) Running() (bool, *backup.CycleEvent) {
	return true, &backup.CycleEvent{Phase: "backup", Medium: "disk-a"}
}

func TestRunNowAndBusy(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	if r := c.post("/cycle", nil); r.code != http.StatusSeeOther || r.location != "/?done=started" {
		t.Fatalf("run now: %d %s", r.code, r.location)
	}
	if js := e.entries("job.start"); len(js) != 1 || js[0].Actor != "admin" {
		t.Fatalf("run now not recorded with its user: %+v", js)
	}
	waitCycleEnd(t, e)
	if page := c.get("/history").body; !strings.Contains(page, "<td>admin</td>") || !strings.Contains(page, "成功") {
		t.Fatalf("history lacks the manual cycle:\n%s", page)
	}

	b := newEnv(t, envOptions{wrap: func(g *gateway.Gateway) web.Core { return busyCore{g} }})
	bc := b.login("admin", adminPW)
	r := bc.post("/cycle", nil)
	if r.location != "/?err=busy" {
		t.Fatalf("busy: %d %s", r.code, r.location)
	}
	if page := bc.get(r.location).body; !strings.Contains(page, "別の処理を実行中です") {
		t.Fatal("busy message not shown")
	}
	// Changes wait for no cycle: the page says so at once.
	if r := bc.post("/config/general", generalForm(t, bc, nil)); !strings.Contains(r.body, "サイクル実行中は設定を変更できません") {
		t.Fatalf("reconfigure while busy: %d", r.code)
	}
}

func waitCycleEnd(t *testing.T, e *env) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if busy, _ := e.g.Running(); !busy && len(e.entries(ledger.KindCycleEnd)) > 0 {
			return
		}
	}
	t.Fatal("the cycle did not end")
}

// eventsCore feeds the page events a test controls.
type eventsCore struct {
	*gateway.Gateway
	ch      chan backup.CycleEvent
	running chan bool
	busy    bool
}

func (c *eventsCore) Subscribe() (<-chan backup.CycleEvent, func()) { return c.ch, func() {} }
func (c *eventsCore) Running() (bool, *backup.CycleEvent) {
	select {
	case b := <-c.running:
		c.busy = b
	default:
	}
	return c.busy, nil
}

func TestLiveProgressOverServerSentEvents(t *testing.T) {
	core := &eventsCore{ch: make(chan backup.CycleEvent, 8), running: make(chan bool, 1)}
	e := newEnv(t, envOptions{wrap: func(g *gateway.Gateway) web.Core { core.Gateway = g; return core }})
	c := e.login("admin", adminPW)
	req, _ := http.NewRequest("GET", e.srv.URL+"/events", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := c.c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	next := func(event string) string {
		t.Helper()
		for sc.Scan() {
			if sc.Text() == "event: "+event && sc.Scan() {
				return strings.TrimPrefix(sc.Text(), "data: ")
			}
		}
		t.Fatalf("stream ended before %q: %v", event, sc.Err())
		return ""
	}
	next("idle")
	core.running <- true
	core.ch <- backup.CycleEvent{Phase: "pull", Pull: &pull.Event{Kind: pull.EventProgress, Source: "emr",
		BytesDone: 50e6, BytesTotal: 100e6, Rate: 10e6, FilesDone: 3, FilesTotal: 10}}
	d := next("progress")
	for _, want := range []string{`"percent":50`, `"bytes":"50.0 MB / 100 MB"`, `"rate":"10.0 MB/s"`, `"eta":"5秒"`, `"medium":"emr"`, `"phase":"電子カルテの取得"`} {
		if !strings.Contains(d, want) {
			t.Errorf("pull progress lacks %s: %s", want, d)
		}
	}
	core.ch <- backup.CycleEvent{Phase: "backup", Medium: "disk-a", Restic: &restic.Event{Op: "backup", Kind: restic.KindStatus,
		Status: &restic.Status{PercentDone: 0.25, TotalBytes: 4e9, BytesDone: 1e9, SecondsElapsed: 10, SecondsRemaining: 125}}}
	d = next("progress")
	for _, want := range []string{`"percent":25`, `"medium":"disk-a"`, `"eta":"2分"`, `"rate":"100 MB/s"`} {
		if !strings.Contains(d, want) {
			t.Errorf("restic progress lacks %s: %s", want, d)
		}
	}
	next("status") // a phase change re-reads the states
	core.running <- false
	next("idle")
}

// statusCore shows a status computed from a ledger the test writes.
type statusCore struct {
	*gateway.Gateway
	st *status.Status
}

func (c statusCore) Status(context.Context) (*status.Status, error) { return c.st, nil }

// TestDashboardShowsEachMediumAndTheTimeline: the page, behind a login,
// can never claim more than the ledger proves: only a verified cut shows
// as cut; an unverified or simulated one is red, on the page and in
// /metrics.
func TestDashboardShowsEachMediumAndTheTimeline(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	clock := now.Add(-3 * time.Hour)
	l, err := ledger.OpenWith(dir, ledger.Options{Now: func() time.Time { clock = clock.Add(10 * time.Minute); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	add := func(kind ledger.Kind, medium string, data any) {
		if _, err := l.Append(context.Background(), ledger.Entry{Kind: kind, Medium: medium, Payload: data}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []string{"cut", "conn", "fault", "sim"} {
		add(ledger.KindPowerOn, m, ledger.PowerOnData{})
	}
	add(ledger.KindPowerOffVerified, "cut", ledger.CutData{SenseOff: true, DeviceGone: true})
	add(ledger.KindPowerOffUnverified, "fault", ledger.CutData{Reason: msg.Legacy("sense still ON")})
	add(ledger.KindPowerOffUnverified, "sim", ledger.CutData{Reason: msg.Plain("simulated"), Simulated: true})
	add(ledger.KindCycleEnd, "", ledger.CycleEndData{Cycle: "c1", OK: true})
	add(ledger.KindLedgerVerified, "", ledger.LedgerVerifiedData{OK: true, Entries: 7, DurationMS: 120})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := status.Compute(dir, []string{"cut", "conn", "fault", "sim"}, now)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{wrap: func(g *gateway.Gateway) web.Core { return statusCore{g, st} }})
	c := e.login("admin", adminPW)
	page := c.get("/").body
	for _, want := range []string{
		`data-medium="cut" data-state="cut"`, "切断中(確認済み)",
		`data-medium="conn" data-state="connected"`, "接続中",
		`data-medium="fault" data-state="fault"`, "異常: 切断を確認できません", "sense still ON",
		`data-medium="sim" data-state="simulated"`, "オフラインではありません",
		`class="tl-cut"`, `class="tl-connected"`, "成功 — c1", `<a href="/scan">まだ実施されていません</a>`, "空き ", "予定なし",
		"証跡台帳の全件検証", "正常(7件、0.1秒)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if !strings.Contains(page, `<html lang="ja">`) {
		t.Error("not Japanese by default")
	}
	en := c.get("/?lang=en").body
	if !strings.Contains(en, `<html lang="en">`) || !strings.Contains(en, "cut, verified") || !strings.Contains(en, "FAULT: cut not verified") {
		t.Error("English page lacks the English labels")
	}
	if again := c.get("/").body; !strings.Contains(again, `<html lang="en">`) {
		t.Error("the language choice is not remembered")
	}
	// /metrics claims no more than the ledger proves either.
	m := c.get("/metrics").body
	for _, want := range []string{`danzen_medium_offline_verified{medium="cut"} 1`, `danzen_medium_offline_verified{medium="fault"} 0`,
		`danzen_medium_offline_verified{medium="sim"} 0`, `danzen_medium_state{medium="sim",state="simulated"} 1`,
		`danzen_medium_state{medium="conn",state="connected"} 1`, "danzen_last_cycle_ok 1", "danzen_ledger_ok 1", "process_resident_memory_bytes ",
		"danzen_ledger_last_full_verify_timestamp_seconds "} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
}

func TestLedgerPageShowsVerification(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	c.post("/cycle", nil)
	waitCycleEnd(t, e)
	page := c.get("/ledger").body
	if !strings.Contains(page, "ハッシュチェーンの検証: 正常") || !strings.Contains(page, "cycle.end") || !strings.Contains(page, "job.start") {
		t.Fatalf("ledger page:\n%s", page)
	}
	p := filepath.Join(e.g.Config().LedgerDir, ledger.FileName)
	raw, _ := os.ReadFile(p)
	if err := os.WriteFile(p, []byte(strings.Replace(string(raw), `"kind":"cycle.start"`, `"kind":"cycle.Start"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if page := c.get("/ledger").body; !strings.Contains(page, "ハッシュチェーンの検証: 異常あり") {
		t.Fatal("a tampered ledger is not shown as failed")
	}
}

func TestUserManagement(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	add := url.Values{"name": {"Tanaka"}, "role": {"hospital_staff"}, "password": {"tanaka-password-1"}, "password2": {"tanaka-password-1"}}
	if r := c.post("/users/add", add); r.code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.code, r.body)
	}
	e.login("tanaka", "tanaka-password-1")
	add.Set("password2", "different-password")
	if r := c.post("/users/add", add); !strings.Contains(r.body, "一致しません") {
		t.Fatal("mismatched passwords accepted")
	}
	if r := c.post("/users/role", url.Values{"name": {"tanaka"}, "role": {"auditor"}}); r.code != http.StatusSeeOther {
		t.Fatalf("role: %d", r.code)
	}
	if u, _ := e.a.User("tanaka"); u.Role != auth.RoleAuditor {
		t.Fatalf("role is %s", u.Role)
	}
	if r := c.post("/users/password", url.Values{"name": {"tanaka"}, "password": {"short"}, "password2": {"short"}}); !strings.Contains(r.body, "12文字以上") {
		t.Fatal("short password accepted")
	}
	if r := c.post("/users/password", url.Values{"name": {"tanaka"}, "password": {"new-tanaka-pass-2"}, "password2": {"new-tanaka-pass-2"}}); r.code != http.StatusSeeOther {
		t.Fatalf("reset: %d", r.code)
	}
	e.login("tanaka", "new-tanaka-pass-2")
	if r := c.post("/users/delete", url.Values{"name": {"admin"}}); !strings.Contains(r.body, "最後の保守ベンダ管理者") {
		t.Fatal("the last admin could be removed")
	}
	if r := c.post("/users/delete", url.Values{"name": {"tanaka"}}); r.code != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.code)
	}
	for _, k := range []ledger.Kind{auth.AuditUserAdd, auth.AuditUserRole, auth.AuditUserPassword, auth.AuditUserRemove} {
		if es := e.entries(k); len(es) == 0 || es[len(es)-1].Actor != "admin" {
			t.Errorf("%s not recorded with the admin: %+v", k, es)
		}
	}
}

func TestOwnPasswordChange(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.addUser("suzuki", auth.RoleStaff)
	if r := c.post("/account/password", url.Values{"current": {"wrong-password-000"}, "password": {"suzuki-new-pass-1"}, "password2": {"suzuki-new-pass-1"}}); !strings.Contains(r.body, `id="account-error"`) {
		t.Fatal("wrong current password accepted")
	}
	r := c.post("/account/password", url.Values{"current": {"suzuki-password-0123"}, "password": {"suzuki-new-pass-1"}, "password2": {"suzuki-new-pass-1"}})
	if r.code != http.StatusSeeOther || r.location != auth.LoginPath {
		t.Fatalf("change: %d %s %s", r.code, r.location, r.body)
	}
	if r := c.get("/"); r.code != http.StatusSeeOther {
		t.Fatal("the old session still works")
	}
	e.login("suzuki", "suzuki-new-pass-1")
}

func TestAlertSettings(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	r := c.post("/config/alerts", formFor(t, c, "/config/alerts", map[string]string{"webhook.url": "ftp://example.invalid/hook"}))
	if errs := fieldErrors(r.body, "webhook.url"); r.code != http.StatusOK || len(errs) == 0 {
		t.Fatalf("bad webhook URL not shown beside its field: %d %q", r.code, errs)
	}
	if e.g.Config().Alerts.Webhook != nil {
		t.Fatal("an invalid alert setting was applied")
	}
	r = c.post("/config/alerts", formFor(t, c, "/config/alerts", map[string]string{
		"webhook.url": "http://127.0.0.1:9/hook", "email.server": "mail.hospital.example", "email.from": "danzen@hospital.example",
		"email.to": "it@hospital.example\nvendor@example.co.jp"}))
	if r.code != http.StatusSeeOther {
		t.Fatalf("valid alert settings: %d\n%s", r.code, r.body)
	}
	a := e.g.Config().Alerts
	if a.Webhook == nil || a.Webhook.URL != "http://127.0.0.1:9/hook" || a.Email == nil || len(a.Email.To) != 2 {
		t.Fatalf("not applied: %+v", a)
	}
	// Clearing the address turns the channel off.
	r = c.post("/config/alerts", formFor(t, c, "/config/alerts", map[string]string{"webhook.url": "", "email.to": "it@hospital.example"}))
	if a := e.g.Config().Alerts; r.code != http.StatusSeeOther || a.Webhook != nil || a.Email == nil {
		t.Fatalf("clearing the webhook: %d %+v", r.code, a)
	}
}
