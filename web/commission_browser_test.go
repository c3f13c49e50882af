package web_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/internal/sshdtest"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk/looptest"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/status"
)

// TestBrowserCommissioning walks a new gateway's commissioning in headless
// Chromium as a vendor engineer does on site, clicking only what the page
// shows: the first account with the setup code; the e-chart source (a real
// sshd) with the gateway's key line installed, first contact and the test
// listing; a simulated relay whose wiring test offers the disk connected
// now (an ext4 loop disk); enrolling it, the password sheet and its last
// characters typed back; the first cycle, to the medium's state. It is the
// sequence the QEMU acceptance test follows (notes: dayone-sequence.md).
func TestBrowserCommissioning(t *testing.T) {
	chromiumPath(t) // skips under -short before anything is built
	restic := rig.Restic(t)
	sshd := sshdtest.Run(t, sshdtest.Options{})
	for rel, data := range map[string]string{"db/emr.dmp": strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎');\n", 20000), "カルテ/患者 一覧.csv": "患者ID,氏名\n1,山田 太郎\n"} {
		if err := sshd.WriteFile(rel, []byte(data), time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sshd.Authorize(""); err != nil { // the gateway's key is not known yet
		t.Fatal(err)
	}
	img, err := looptest.CreateExt4(filepath.Join(t.TempDir(), "medium.img"), 64<<20, looptest.ImageOptions{Label: "backup-1"})
	if err != nil {
		t.Fatal(err)
	}
	loop, err := looptest.Attach(img.Path) // formatted on a PC and plugged in: no relay switches it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := loop.Detach(); err != nil {
			t.Errorf("detach the test disk: %v", err)
		}
	})
	e := newEnv(t, envOptions{noAdmin: true, configure: func(_ string, cfg *config.Config) { cfg.ResticBinary = restic }})
	b := &commissionBrowser{browserPage: e.tab(), e: e}

	b.firstAccount()
	line := b.source(sshd)
	if !strings.HasPrefix(line, `restrict,from="127.0.0.1" ssh-ed25519 `) {
		t.Fatalf("authorized_keys line: %q", line)
	}
	medium := b.relayAndMedium(img.UUID)
	b.firstCycle(medium)
}

// commissionBrowser is the vendor engineer's browser on a new gateway.
type commissionBrowser struct {
	*browserPage
	e *env
}

// step runs actions in the tab and logs how long they took.
func (b *commissionBrowser) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	start := time.Now()
	b.browserPage.step(name, actions...)
	b.t.Logf("%-24s %5.1fs", name, time.Since(start).Seconds())
}

// text is the trimmed text of the element matched by sel.
func (b *commissionBrowser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// attr is the attribute name of the element matched by sel.
func (b *commissionBrowser) attr(sel, name string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote(sel)+`).getAttribute(`+strconv.Quote(name)+`) || ""`))
	if err != nil {
		b.t.Fatalf("attribute %s of %s: %v", name, sel, err)
	}
	return v
}

// firstAccount sets up the first account with the setup code and follows
// the dashboard's checklist to the commissioning view.
func (b *commissionBrowser) firstAccount() {
	b.t.Helper()
	b.step("setup form", chromedp.Navigate(b.url+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name="code"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), b.e.code),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "vendor"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "vendor-password-1"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password2"]`), "vendor-password-1"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("checklist")))
	b.shot("commission-01-checklist")
	b.step("open the steps", chromedp.Click(chromedp.ID("checklist-open")), chromedp.WaitVisible(chromedp.ID("commission-steps")))
	if ls, _ := chromedp.Run(b.ctx, chromedp.Location()); !strings.HasSuffix(ls, "/commission") {
		b.t.Fatalf("the checklist led to %s", ls)
	}
}

// source adds the e-chart source in step 2 and returns the authorized_keys
// line the page shows, after installing it on the server.
func (b *commissionBrowser) source(sshd *sshdtest.Server) string {
	b.t.Helper()
	b.step("add the source", chromedp.Click(chromedp.ID("add-source")), chromedp.WaitVisible(chromedp.ID("source-form")),
		chromedp.SetValue(chromedp.ID("f-name"), "emr"), chromedp.SetValue(chromedp.ID("f-host"), "127.0.0.1"),
		chromedp.SetValue(chromedp.ID("f-port"), strconv.Itoa(sshd.Port)), chromedp.SetValue(chromedp.ID("f-user"), sshdtest.User),
		chromedp.SetValue(chromedp.ID("f-export_dir"), "/export"),
		chromedp.Click(chromedp.ID("fetch-hostkey")), chromedp.WaitVisible(chromedp.ID("pin-fp")))
	if fp := b.text("#pin-fp"); fp != hostFingerprint(b.t, sshd.KnownHosts) {
		b.t.Fatalf("first contact shows %q, the server's key is %s", fp, hostFingerprint(b.t, sshd.KnownHosts))
	}
	b.shot("commission-02-first-contact")
	b.step("pin and save", chromedp.Click(chromedp.ID("pin-confirm")), chromedp.Click(chromedp.ID("save-source")),
		chromedp.WaitVisible(chromedp.ID("authorized-keys")))
	line := b.text("#authorized-keys")
	if err := sshd.Authorize(line); err != nil {
		b.t.Fatal(err)
	}
	b.shot("commission-03-key-line")
	// The source's files were written an hour ago: a second is enough to
	// see them hold still (the default minute is for a live export).
	b.step("completion rule", chromedp.Click(chromedp.ID("edit-source")), chromedp.WaitVisible(chromedp.CSS(`[id="f-completion.stable_for"]`)),
		chromedp.SetValue(chromedp.CSS(`[id="f-completion.stable_for"]`), "1s"), chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("test-source")))
	b.step("test listing", chromedp.Click(chromedp.ID("test-source")), chromedp.WaitVisible(chromedp.ID("test-result")))
	if l := b.text("#test-pull"); !strings.Contains(l, "db/emr.dmp") || !strings.Contains(l, "カルテ/患者 一覧.csv") {
		b.t.Fatalf("the test listing: %q", l)
	}
	b.shot("commission-04-test-listing")
	return line
}

// relayAndMedium adds a simulated relay, runs its wiring test, enrols
// the disk with the ext4 UUID uuid and prepares it; it returns the
// medium's name.
func (b *commissionBrowser) relayAndMedium(uuid string) string {
	b.t.Helper()
	b.step("add the relay", chromedp.Navigate(b.url+"/commission"), chromedp.WaitVisible(chromedp.ID("add-relay")),
		chromedp.Click(chromedp.ID("add-relay")), chromedp.WaitVisible(chromedp.ID("config-form")),
		chromedp.SetValue(chromedp.ID("f-name"), "sim"), chromedp.SetValue(chromedp.ID("f-driver"), relay.DriverSimulated),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("step-relay-sim")))
	b.step("wiring test", chromedp.Click(chromedp.ID("step-relay-sim")), chromedp.WaitVisible(chromedp.ID("wiring-test")),
		chromedp.Click(chromedp.ID("wiring-test")), chromedp.WaitVisible(chromedp.ID("job-done")))
	enrol := `button[data-fs-uuid="` + uuid + `"]`
	b.step("the disk connected now", chromedp.WaitVisible(chromedp.CSS(enrol)))
	if ok := b.attr("#job-done", "data-ok"); ok != "false" || b.text("#relay-simulated") == "" {
		b.t.Fatalf("a simulated relay's wiring test passed (%s)", ok)
	}
	b.shot("commission-05-wiring")
	form := `form:has(` + enrol + `) input[name="medium"]`
	b.step("enrol", chromedp.SetValue(chromedp.CSS(form), "vault-1"), chromedp.Click(chromedp.CSS(enrol)),
		chromedp.WaitVisible(chromedp.ID("create-password")))
	// The test keeps its mounts under its own directory, not /run.
	next, err := cloneConfig(b.e.g.Config())
	if err != nil {
		b.t.Fatal(err)
	}
	next.Media[0].Disk.MountDir = filepath.Join(b.t.TempDir(), "mnt")
	if err := b.e.g.Reconfigure(context.Background(), "test", next); err != nil {
		b.t.Fatal(err)
	}
	b.step("password sheet", chromedp.Click(chromedp.ID("create-password")), chromedp.WaitVisible(chromedp.ID("password-sheet")))
	pw := b.text("#password")
	b.shot("commission-06-password-sheet")
	b.step("wrong ending", chromedp.SetValue(chromedp.ID("typed"), "abcdefgh"), chromedp.Click(chromedp.ID("prepare")),
		chromedp.WaitVisible(chromedp.ID("prepare-error")))
	b.step("type back and prepare", chromedp.SetValue(chromedp.ID("typed"), pw[len(pw)-gateway.TypedBackLen:]), chromedp.Click(chromedp.ID("prepare")),
		chromedp.WaitVisible(chromedp.ID("job-done")))
	if ok := b.attr("#job-done", "data-ok"); ok != "true" {
		b.t.Fatalf("preparing: %s %s", ok, b.text("#job"))
	}
	b.shot("commission-07-prepared")
	return "vault-1"
}

// firstCycle runs the first cycle from step 5 and reads its end: each
// phase done, the medium written but NOT offline (a simulated relay).
func (b *commissionBrowser) firstCycle(medium string) {
	b.t.Helper()
	b.step("first cycle", chromedp.Navigate(b.url+"/commission/cycle"), chromedp.WaitVisible(chromedp.ID("start-first-cycle")),
		chromedp.Click(chromedp.ID("start-first-cycle")), chromedp.WaitVisible(chromedp.ID("job-done")))
	if ok := b.attr("#job-done", "data-ok"); ok != "true" {
		b.t.Fatalf("the first cycle: %s", b.text("#job"))
	}
	card := `.card[data-medium="` + medium + `"]`
	if st := b.attr(card, "data-state"); st != string(status.Simulated) {
		b.t.Fatalf("after the first cycle the medium is %q", st)
	}
	if done := b.attr("#step-state", "data-done"); done != "true" {
		b.t.Fatalf("the first-cycle step: %s", b.text("#step-state"))
	}
	b.shot("commission-08-first-cycle")
	steps := b.e.commissionSteps()
	if steps[gateway.StepFirstCycle] != "true" || steps[gateway.StepMedium] != "true" || steps[gateway.StepSource] != "true" || steps[gateway.StepRelay] != "false" {
		b.t.Fatalf("steps recorded: %v", steps)
	}
	b.step("dashboard", chromedp.Navigate(b.url+"/"), chromedp.WaitVisible(chromedp.ID("checklist")))
	for _, en := range b.e.entries(ledger.KindCommission) {
		if en.Actor != "vendor" {
			b.t.Errorf("a step recorded by %q, not the vendor who did it", en.Actor)
		}
	}
	if u := b.e.a.Users(); len(u) != 1 || u[0].Role != auth.RoleVendorAdmin {
		b.t.Errorf("users after setup: %+v", u)
	}
}

// commissionSteps is the latest OK of each step, by step.
func (e *env) commissionSteps() map[string]string {
	out := map[string]string{}
	for _, en := range e.entries(ledger.KindCommission) {
		d, err := ledger.Decode[ledger.CommissionData](en)
		if err != nil {
			e.t.Fatal(err)
		}
		out[d.Step] = strconv.FormatBool(d.OK)
	}
	return out
}
