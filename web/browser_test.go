package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents/pdf"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/web"
)

// chromiumPath finds Debian's chromium (make test installs it). The real
// binary is preferred to the wrapper script, which adds flags of its own.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("drives headless Chromium: make test runs it, -short skips it")
	}
	if _, err := os.Stat("/usr/lib/chromium/chromium"); err == nil {
		return "/usr/lib/chromium/chromium"
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: install Debian's chromium package (make test does)")
	}
	return p
}

// browserPage is an env's page in headless Chromium, logged in as admin.
// Any console error fails the test when it ends.
type browserPage struct {
	t   *testing.T
	ctx context.Context // the tab
	url string          // the page's address, http://127.0.0.1:port
}

// browser opens e's page over plain HTTP on 127.0.0.1 (as in the demo)
// in headless Chromium and logs in as admin at path, which must show the
// element with ID ready.
func (e *env) browser(path, ready string) *browserPage {
	e.t.Helper()
	b := e.tab()
	b.step("login", chromedp.Navigate(b.url+path), chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), adminPW),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID(ready)))
	return b
}

// tab serves e's page over plain HTTP on 127.0.0.1 and opens a headless
// Chromium tab, not logged in.
func (e *env) tab() *browserPage {
	t := e.t
	t.Helper()
	page, err := web.New(web.Options{Core: e.g, Auth: e.a, Recorder: e.g, Certs: e.certs})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(page)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // the commissioning walk runs a cycle
	t.Cleanup(cancel)
	p, err := pdf.NewPrinter(ctx, chromiumPath(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	// Registered after Close, so it runs before it.
	t.Cleanup(func() {
		if errs := p.ConsoleErrors(); len(errs) > 0 {
			t.Errorf("browser console errors:\n%s", strings.Join(errs, "\n"))
		}
	})
	return &browserPage{t: t, ctx: p.Context(), url: srv.URL}
}

// step runs actions in the tab, failing the test with name.
func (b *browserPage) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
}

// shot saves the whole page as name.png in $DANZEN_SCREENSHOTS, if set.
func (b *browserPage) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if dir := os.Getenv("DANZEN_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// pageRig is a gateway like the demo's (a real sshd as the e-chart server,
// a file-backed disk behind a fake relay) with the page in front of it on
// 127.0.0.1, over plain HTTP as in the demo.
type pageRig struct {
	g    *gateway.Gateway
	code string
	url  string
}

func newPageRig(t *testing.T) *pageRig {
	t.Helper()
	ctx := context.Background()
	x := rig.New(t, map[string]string{
		"db/emr.dmp":    strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎');\n", 200000),
		"カルテ/患者 一覧.csv": "患者ID,氏名\n1,山田 太郎\n",
	}, []string{"disk-a"}, 128<<20)
	cfg, hw, cfgPath := x.Cfg, x.HW, x.CfgPath
	cfg.GatewayID = "gw-browser"
	if err := config.Save(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	g, err := gateway.Open(ctx, cfg, gateway.Options{RelaySources: hw.Sources(), ConfigPath: cfgPath})
	if err != nil {
		t.Fatal(err)
	}
	closeLater(t, g)
	if _, _, err := g.NewPassword("disk-a"); err != nil {
		t.Fatal(err)
	}
	if mr, err := g.PrepareMedium(ctx, "disk-a", false, nil); err != nil || !mr.CutVerified {
		t.Fatalf("prepare: %v", err)
	}
	rec := g
	a, err := auth.New(auth.Options{Dir: cfg.SecretsDir, Params: tinyParams(), Audit: web.AuditTo(rec, log)})
	if err != nil {
		t.Fatal(err)
	}
	code, _, err := a.EnsureSetupCode()
	if err != nil {
		t.Fatal(err)
	}
	page, err := web.New(web.Options{Core: g, Auth: a, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(page) // http://127.0.0.1:port
	t.Cleanup(srv.Close)
	return &pageRig{g: g, code: code, url: srv.URL}
}

// TestBrowserEndToEnd drives headless Chromium through the vendor's first
// visit: set up the admin with the setup code, log in, change a setting,
// see a validation message, run a cycle and watch the medium go from
// 接続中 to 切断中. Any console error fails the test.
func TestBrowserEndToEnd(t *testing.T) {
	chromium := chromiumPath(t)
	rig := newPageRig(t)
	shots := os.Getenv("DANZEN_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(pdf.HeadlessChromium(chromium, t.TempDir()), chromedp.WindowSize(820, 1180))...) // a tablet, portrait
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var mu sync.Mutex
	var consoleErrors []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				consoleErrors = append(consoleErrors, fmt.Sprintf("%s %s:%d %s", m.Type, m.URL, m.Line+1, m.Text))
				mu.Unlock()
			}
		}
	}()
	tctx, tcancel := context.WithTimeout(ctx, 4*time.Minute)
	defer tcancel()
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(tctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	// First visit: the page sends an unknown browser to the setup form.
	step("open", chromedp.Navigate(rig.url+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name="code"]`)))
	if loc, _ := chromedp.Run(tctx, chromedp.Location()); !strings.HasSuffix(loc, auth.SetupPath) {
		t.Fatalf("first visit landed on %s", loc)
	}
	step("fill setup",
		chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), rig.code),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "vendor"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "vendor-password-1"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password2"]`), "vendor-password-1"))
	shot("01-setup")
	step("submit setup", chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`.cards`)))
	// The __Host- session cookie is Secure; Chromium keeps and sends it on
	// http://127.0.0.1, which it treats as a potentially trustworthy origin.
	cookies, err := chromedp.Call(tctx, network.GetCookies, network.GetCookiesParams{URLs: []string{rig.url}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == auth.SessionCookie {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HTTPOnly {
		t.Fatalf("session cookie on http://127.0.0.1: %+v", session)
	}
	shot("02-dashboard")

	// Log out and in again.
	step("logout", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)))
	step("login",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "vendor"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "vendor-password-1"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.cards`)))

	// Change a setting.
	step("edit schedule", chromedp.Navigate(rig.url+"/config/general"), chromedp.WaitVisible(chromedp.ID("f-schedule")),
		chromedp.SetValue(chromedp.ID("f-schedule"), "30 1 * * 1-5"), chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("flash")))
	if f := text("#flash"); !strings.Contains(f, "再起動せずに適用") {
		t.Fatalf("after saving: %q", f)
	}
	if got := rig.g.Config().Schedule; got != "30 1 * * 1-5" {
		t.Fatalf("schedule is %q", got)
	}
	shot("03-saved")

	// A bad value: the message appears beside the field.
	step("bad value", chromedp.Navigate(rig.url+"/config/general"), chromedp.WaitVisible(chromedp.CSS(`[id="f-retention.keep_last"]`)),
		chromedp.SetValue(chromedp.CSS(`[id="f-retention.keep_last"]`), "0"), chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.CSS(`#field-retention\.keep_last .field-error`)))
	if msg := text(`#field-retention\.keep_last .field-error`); !strings.Contains(msg, "保持する世代数は1以上") {
		t.Fatalf("message beside keep_last: %q", msg)
	}
	if rig.g.Config().Retention.KeepLast != 5 {
		t.Fatal("a refused value was applied")
	}
	shot("04-validation")

	// Run a cycle and watch the card.
	step("dashboard", chromedp.Navigate(rig.url+"/"), chromedp.WaitVisible(chromedp.CSS(`.card[data-medium="disk-a"]`)))
	stateJS := `(() => { const c = document.querySelector('.card[data-medium="disk-a"]'); return c ? c.dataset.state + "|" + c.querySelector(".state").textContent : ""; })()`
	if s, _ := chromedp.Run(tctx, chromedp.Evaluate[string](stateJS)); !strings.HasPrefix(s, "cut|切断中") {
		t.Fatalf("before the cycle: %q", s)
	}
	step("run now", chromedp.Click(chromedp.ID("run-now")), chromedp.WaitVisible(chromedp.ID("flash")))
	var seen []string
	connectedShot, sawConnected := false, false
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the card never went connected then cut: %v", seen)
		}
		s, err := chromedp.Run(tctx, chromedp.Evaluate[string](stateJS))
		if err != nil || s == "" {
			continue // the page reloads when the cycle ends
		}
		if len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
		if strings.HasPrefix(s, "connected|") {
			sawConnected = true
			if !strings.Contains(s, "接続中") {
				t.Fatalf("connected card label: %q", s)
			}
			if !connectedShot {
				connectedShot = true
				shot("05-connected")
				if p := text("#live-phase"); p == "" {
					t.Error("the live panel shows no phase while connected")
				}
			}
		}
		if sawConnected && strings.HasPrefix(s, "cut|切断中") {
			if busy, _ := rig.g.Running(); !busy {
				break
			}
		}
	}
	step("after the cycle", chromedp.Navigate(rig.url+"/"), chromedp.WaitVisible(chromedp.CSS(`.card[data-medium="disk-a"][data-state="cut"]`)))
	if lc := text("#last-cycle"); !strings.Contains(lc, "成功") {
		t.Fatalf("last cycle: %q (states seen %v)", lc, seen)
	}
	shot("06-cut")

	step("english", chromedp.Click(chromedp.ID("lang-switch")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)))
	if h := text("h2"); h != "Status" {
		t.Fatalf("English heading: %q", h)
	}
	shot("07-english")
	step("history", chromedp.Navigate(rig.url+"/history"), chromedp.WaitVisible(chromedp.ID("cycles")))
	if h := text("#cycles tbody"); !strings.Contains(h, "vendor") || !strings.Contains(h, "cut verified") {
		t.Fatalf("history: %q", h)
	}
	shot("08-history")
	step("ledger", chromedp.Navigate(rig.url+"/ledger"), chromedp.WaitVisible(chromedp.ID("verify")))
	if v := text("#verify h3"); !strings.Contains(v, "OK") {
		t.Fatalf("ledger verification: %q", v)
	}
	shot("09-ledger")
	step("scan page", chromedp.Navigate(rig.url+"/scan?lang=ja"), chromedp.WaitVisible(chromedp.ID("point-form")))
	shot("09-scan")

	// A restore drill from the page: the record appears when it ends.
	step("restore page", chromedp.Navigate(rig.url+"/restore?lang=ja"), chromedp.WaitVisible(chromedp.ID("start-drill")))
	shot("10-restore")
	step("start drill", chromedp.Click(chromedp.ID("start-drill")), chromedp.WaitVisible(chromedp.ID("flash")))
	// The page reloads itself when the drill ends; a drill under load can
	// outlast one step's 30 s.
	dctx, dcancel := context.WithTimeout(tctx, 2*time.Minute)
	defer dcancel()
	if err := chromedp.Do(dctx, chromedp.WaitVisible(chromedp.CSS(`#drills tr[data-drill]`))); err != nil {
		t.Fatalf("drill record: %v", err)
	}
	if d := text(`#drills tr[data-drill]`); !strings.Contains(d, "成功") || !strings.Contains(d, "切断を確認") {
		t.Fatalf("drill record: %q", d)
	}
	shot("11-drill")

	mu.Lock()
	defer mu.Unlock()
	if len(consoleErrors) > 0 {
		t.Fatalf("browser console errors:\n%s", strings.Join(consoleErrors, "\n"))
	}
	t.Logf("states seen: %v; screenshots in %s", seen, shots)
}
