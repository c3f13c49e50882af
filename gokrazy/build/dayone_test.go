package build_test

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/documents/pdf"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/gokrazy/build"
	"github.com/danzen-gw/danzen/internal/sshdtest"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk/looptest"
)

// The guest's addresses under QEMU's user-mode network: DHCP hands out
// dhcpAddr; the commissioning sets staticAddr. Both are forwarded to host
// ports on 127.0.0.1, so the page is reached at each as a browser on the
// hospital LAN would.
const (
	dhcpAddr   = "10.0.2.15"
	staticAddr = "10.0.2.20"
	slirpGW    = "10.0.2.2"
)

var (
	consoleFP   = regexp.MustCompile(`fingerprint: ([0-9A-F:]{95})`)
	consoleCode = regexp.MustCompile(`setup code: ([A-Z2-9-]{24})`)
)

// dayOne is the state of TestDayOne: the VM, the browser on the host and
// the log of each step's duration.
type dayOne struct {
	t       *testing.T
	vm      *vm
	fp      string // the page certificate's SHA-256, as the console printed it
	base    string // the page's URL now (changes with the address)
	newPort int    // host port forwarded to staticAddr:8443
	// newGokrazyPort is forwarded to staticAddr:80 (gokrazy's page, where
	// danzend's log is read).
	newGokrazyPort int
	tab            context.Context
	steps          []string
	stepFrom       time.Time
}

// step logs how long the previous step took and starts the next.
func (d *dayOne) step(name string) {
	now := time.Now()
	if len(d.steps) > 0 {
		d.t.Logf("step %-28s %6.1fs", d.steps[len(d.steps)-1], now.Sub(d.stepFrom).Seconds())
	}
	d.steps = append(d.steps, name)
	d.stepFrom = now
}

// do runs actions in the browser tab, failing with what the VM said.
func (d *dayOne) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	// A step the page never finishes fails with what the page shows,
	// instead of waiting for the test's own timeout.
	ctx, cancel := context.WithTimeout(d.tab, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		hctx, hcancel := context.WithTimeout(d.tab, 10*time.Second)
		defer hcancel()
		html, _ := chromedp.Run(hctx, chromedp.OuterHTML(chromedp.CSS("main")))
		d.t.Fatalf("%s: %v\npage:\n%s\ndanzend log:\n%s", what, err, html, danzendLog(d.t, d.vm))
	}
}

// text returns the text of the element with id.
func (d *dayOne) text(id string) string {
	d.t.Helper()
	s, err := d.tryText(id)
	if err != nil {
		d.t.Fatalf("reading #%s: %v\ndanzend log:\n%s", id, err, danzendLog(d.t, d.vm))
	}
	return s
}

// tryText reads an element's text; while the page reloads the element can
// vanish between finding it and reading it, which callers that poll retry.
func (d *dayOne) tryText(id string) (string, error) {
	ctx, cancel := context.WithTimeout(d.tab, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	return strings.TrimSpace(s), err
}

// TestDayOne is issue 17's acceptance test: the real amd64 image boots
// with an empty /perm and no NTP server reachable, and a vendor engineer
// (headless Chromium on the host) commissions it from the page alone, to
// a first cycle whose snapshot stock restic restores on the host.
func TestDayOne(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the image in QEMU and drives its page in Chromium (root, minutes): make test runs it, -short skips it")
	}
	restic := os.Getenv("DANZEN_RESTIC")
	if restic == "" {
		t.Fatal("DANZEN_RESTIC is not set: run make test, which builds bin/restic")
	}
	d := &dayOne{t: t}
	begin := time.Now()
	d.step("build the image")
	ctx := context.Background()

	// The e-chart server on the host, with no key of the gateway yet.
	sshd := sshdtest.Run(t, sshdtest.Options{})
	want := map[string][]byte{
		"db/emr.sql":         []byte(strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎', 'HbA1c 7.2%');\n", 40000)),
		"カルテ/患者 一覧 2026.csv": []byte("患者ID,氏名\n1,山田 太郎\n2,佐藤 花子\n"),
	}
	for rel, b := range want {
		if err := sshd.WriteFile(rel, b, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sshd.Authorize(""); err != nil { // the gateway's key is not known yet
		t.Fatal(err)
	}
	// The medium: a disk freshly formatted ext4 on a PC, nothing else.
	medium, err := looptest.CreateExt4(filepath.Join(t.TempDir(), "medium.img"), 256<<20, looptest.ImageOptions{Label: "backup-1"})
	if err != nil {
		t.Fatal(err)
	}

	res, err := build.Build(ctx, testInstance(t, "danzen-amd64"), t.TempDir(), build.Options{ImageSize: 1536 << 20, Bench: true})
	if err != nil {
		t.Fatal(err)
	}
	writePerm(t, res.Image, nil) // an empty /perm, as a new installation has

	d.step("boot to the setup code")
	d.newPort, d.newGokrazyPort = freePort(t), freePort(t)
	d.vm = startVM(t, res.Image,
		guestFwd(sshd.Port)+fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-%s:8443,hostfwd=tcp:127.0.0.1:%d-%s:80",
			d.newPort, staticAddr, d.newGokrazyPort, staticAddr),
		"-drive", "file="+medium.Path+",format=raw,if=none,id=medium", "-device", "virtio-blk-pci,drive=medium,serial=DZ-DAYONE-1")
	code := d.console()
	d.base = fmt.Sprintf("https://127.0.0.1:%d", d.vm.appPort)
	d.openBrowser(ctx)

	d.step("first account")
	d.firstAccount(code)
	d.step("network: static address")
	d.network()
	d.step("source: key, host key, test")
	d.source(sshd)
	d.step("relay and medium")
	password := d.medium(medium.UUID)
	d.step("first cycle")
	d.firstCycle()
	d.step("dashboard")
	d.dashboard()
	d.step("ledger download and verify")
	d.verifyLedger(t.TempDir())

	d.step("restore with stock restic")
	d.vm.stop() // like pulling the plug: the cycle has detached the medium
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	restoreFromDisk(t, restic, medium.Path, pwFile, want)
	d.step("")
	total := time.Since(begin)
	t.Logf("TestDayOne took %s (budget 8 min under TCG)", total.Round(time.Second))
	if total > 8*time.Minute {
		t.Errorf("the day-one test took %s, over its 8-minute budget", total.Round(time.Second))
	}
}

// console waits for danzend's first-start lines on the serial console:
// the page certificate's fingerprint and the one-time setup code.
func (d *dayOne) console() (code string) {
	for deadline := time.Now().Add(4 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		s := d.vm.serial()
		fp, c := consoleFP.FindStringSubmatch(s), consoleCode.FindStringSubmatch(s)
		if fp != nil && c != nil {
			d.fp = fp[1]
			return c[1]
		}
	}
	d.t.Fatalf("no certificate fingerprint and setup code on the serial console:\n%s", d.vm.serial())
	return ""
}

// pinnedTLS trusts exactly the certificate whose fingerprint the console
// printed, as the vendor comparing it in the browser does.
func (d *dayOne) pinnedTLS() *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // self-signed: pinned by its fingerprint below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if got := fingerprint(cs.PeerCertificates[0]); got != d.fp {
				return fmt.Errorf("the page shows certificate %s, the console printed %s", got, d.fp)
			}
			return nil
		},
	}
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return strings.ToUpper(strings.Join(strings.Fields(fmt.Sprintf("% x", sum[:])), ":"))
}

// openBrowser checks the page's certificate against the console's
// fingerprint, then starts Chromium trusting that certificate's key only.
func (d *dayOne) openBrowser(ctx context.Context) {
	t := d.t
	var spki string
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		conn, err := tls.Dial("tcp", strings.TrimPrefix(d.base, "https://"), d.pinnedTLS())
		if err == nil {
			sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].RawSubjectPublicKeyInfo)
			spki = base64.StdEncoding.EncodeToString(sum[:])
			_ = conn.Close() // only the certificate was wanted
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page does not answer with the console's certificate: %v\n%s", err, d.vm.serial())
		}
	}
	opts := append(pdf.HeadlessChromium(chromium(t), t.TempDir()),
		chromedp.Flag("ignore-certificate-errors-spki-list", spki), chromedp.WindowSize(1280, 1024))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts Chromium and ties it to the context it is
	// given: the tab's own, not a step's shorter one.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	d.tab = tab
}

func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/lib/chromium/chromium", "/usr/bin/chromium"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: install Debian's chromium package (make test does)")
	return ""
}

// client is an HTTP client trusting the page's certificate only.
func (d *dayOne) client() *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: d.pinnedTLS()}}
}

// verifyLedger downloads the ledger from the page and verifies it on the
// host with the danzen CLI, as an auditor would.
func (d *dayOne) verifyLedger(dir string) {
	t := d.t
	req, err := http.NewRequest(http.MethodGet, d.base+"/ledger/export", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.cookies() {
		req.AddCookie(c)
	}
	resp, err := d.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read below; a short body fails the unpacking
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /ledger/export: %s", resp.Status)
	}
	folder := untar(t, resp.Body, dir)
	bin := filepath.Join(t.TempDir(), "danzen")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/danzen-gw/danzen/cmd/danzen").CombinedOutput(); err != nil {
		t.Fatalf("building the danzen CLI: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--lang", "en", "ledger", "verify", "--dir", filepath.Join(dir, folder)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ledger verification: OK") {
		t.Fatalf("danzen ledger verify on the downloaded ledger: %v\n%s", err, out)
	}
	t.Logf("the downloaded ledger verifies on the host: %s", strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]))
	d.ledgerSays(filepath.Join(dir, folder))
}

// ledgerSays checks what the downloaded ledger holds: every step of the
// commissioning, done by the vendor, and each entry dated by a clock that
// says it is the RTC's, not synchronised.
func (d *dayOne) ledgerSays(dir string) {
	t := d.t
	done := map[string]bool{}
	clocks := map[ledger.ClockState]int{}
	var n int
	for e, err := range ledger.Entries(dir, ledger.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		clocks[e.Clock]++
		if e.Kind != ledger.KindCommission {
			continue
		}
		c, err := ledger.Decode[ledger.CommissionData](e)
		if err != nil {
			t.Fatal(err)
		}
		if c.OK && e.Actor == "vendor" {
			done[c.Step] = true
		}
	}
	for _, step := range []string{gateway.StepNetwork, gateway.StepSource, gateway.StepMedium, gateway.StepFirstCycle} {
		if !done[step] {
			t.Errorf("the ledger records no completed %q step by the vendor (done: %v)", step, done)
		}
	}
	if clocks[ledger.ClockRTC] == 0 || clocks[ledger.ClockNTP] != 0 {
		t.Errorf("entries by clock state %v: want them on the RTC, none synchronised", clocks)
	}
	t.Logf("the ledger holds %d entries; by clock state %v; steps done %v", n, clocks, done)
}

// cookies are the browser's cookies for the page (its session).
func (d *dayOne) cookies() []*http.Cookie {
	res, err := chromedp.Call(d.tab, network.GetCookies, network.GetCookiesParams{URLs: []string{d.base}})
	if err != nil {
		d.t.Fatal(err)
	}
	var out []*http.Cookie
	for _, c := range res.Cookies {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

// untar unpacks a tar archive into dir and returns its top folder.
func untar(t *testing.T, r io.Reader, dir string) string {
	tr := tar.NewReader(r)
	var top string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.FromSlash(h.Name)
		if !filepath.IsLocal(name) {
			t.Fatalf("archive member %q leaves the folder", h.Name)
		}
		top = strings.SplitN(h.Name, "/", 2)[0]
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return top
}

// vendorPW is the first account's password, typed as on site.
const vendorPW = "vendor-dayone-pass-2026"

// firstAccount creates the first vendor admin with the console's setup
// code; the page then leads to the commissioning view.
func (d *dayOne) firstAccount(code string) {
	d.do("the setup page", chromedp.Navigate(d.base+"/setup"), chromedp.WaitVisible(chromedp.CSS(`input[name="code"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), code),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "vendor"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), vendorPW),
		chromedp.SendKeys(chromedp.CSS(`input[name="password2"]`), vendorPW),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("checklist")))
}

// fill sets form fields by name, as typing them would.
func fill(fields map[string]string) chromedp.Action[chromedp.Void] {
	var steps []chromedp.Action[chromedp.Void]
	for name, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(`[name="`+name+`"]`), v))
	}
	return chromedp.Steps(steps...)
}

// network sets the static address at the DHCP address, then confirms it
// from the new address within the rollback time.
func (d *dayOne) network() {
	d.do("the network step", chromedp.Navigate(d.base+"/commission/network"), chromedp.WaitVisible(chromedp.ID("network-form")),
		fill(map[string]string{"mode": "static", "address": staticAddr + "/24", "gateway": slirpGW}),
		chromedp.Click(chromedp.ID("save-network")), chromedp.WaitVisible(chromedp.ID("network-pending")))
	if u := d.text("new-url"); !strings.Contains(u, staticAddr) {
		d.t.Fatalf("the page sends the engineer to %q, not to %s", u, staticAddr)
	}
	d.base = fmt.Sprintf("https://127.0.0.1:%d", d.newPort)
	d.vm.port = d.newGokrazyPort
	// The new address answers once the change is in force (2 s, then the
	// link is reconfigured).
	deadline := time.Now().Add(time.Minute)
	for {
		err := chromedp.Do(d.tab, chromedp.Navigate(d.base+"/commission/network"), chromedp.WaitVisible(chromedp.ID("network-state")))
		if err == nil {
			if n, _ := chromedp.Run(d.tab, chromedp.Evaluate[int](`document.querySelectorAll("#at-new-address").length`)); n == 1 {
				break
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("the page is not reached at %s within a minute (%v)\nserial:\n%s", staticAddr, err, d.vm.serial())
		}
		time.Sleep(time.Second)
	}
	// The old address is gone from the interface, as the kernel says:
	// only the new one answers.
	old := &net.Dialer{Timeout: 5 * time.Second} // QEMU accepts, then cannot reach the old address
	if c, err := tls.DialWithDialer(old, "tcp", fmt.Sprintf("127.0.0.1:%d", d.vm.appPort), d.pinnedTLS()); err == nil {
		_ = c.Close() // answered: that is the failure
		d.t.Errorf("the page still answers at %s after the change to %s", dhcpAddr, staticAddr)
	}
	d.do("confirm from the new address", chromedp.Click(chromedp.ID("confirm-network")), chromedp.WaitNotPresent(chromedp.ID("network-pending")),
		chromedp.WaitVisible(chromedp.ID("addresses")))
	if a := d.text("addresses"); !strings.Contains(a, staticAddr+"/24") {
		d.t.Fatalf("after confirming, the gateway's addresses are %q", a)
	}
}

// source adds the e-chart server: first contact with its host key
// (compared with the one the host's sshd really has), the gateway's own
// key handed over as the authorized_keys line, and the test listing.
func (d *dayOne) source(sshd *sshdtest.Server) {
	d.do("the source step", chromedp.Navigate(d.base+"/commission/source"), chromedp.WaitVisible(chromedp.ID("source-form")),
		fill(map[string]string{"name": "karte", "host": guestSFTP, "port": "22", "user": sshdtest.User, "export_dir": "/export"}),
		chromedp.Click(chromedp.ID("fetch-hostkey")), chromedp.WaitVisible(chromedp.ID("pin-fp")))
	// The server's administrator reads out the fingerprint: here the
	// test's own copy of the host key.
	if shown, want := d.text("pin-fp"), hostKeyFP(d.t, sshd.KnownHosts); shown != want {
		d.t.Fatalf("the page shows host key %s, the server has %s", shown, want)
	}
	d.do("pin the host key and save", chromedp.Click(chromedp.ID("pin-confirm")), chromedp.Click(chromedp.ID("save-source")),
		chromedp.WaitVisible(chromedp.ID("authorized-keys")))
	line := d.text("authorized-keys")
	if !strings.HasPrefix(line, "restrict,") || !strings.Contains(line, `from="`+staticAddr+`"`) || !strings.Contains(line, "ssh-ed25519 ") {
		d.t.Fatalf("authorized_keys line %q: want restrict, from=%q and an ed25519 key", line, staticAddr)
	}
	// QEMU's user network carries the gateway's connection out from the
	// host's 127.0.0.1: the NAT case the page lets the engineer name.
	d.do("the address the server sees", chromedp.SetValue(chromedp.ID("from-address"), "127.0.0.1"), chromedp.Click(chromedp.ID("set-from")))
	// The click reloads the page: wait for the new line, not the old one.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		l, err := d.tryText("authorized-keys")
		if err == nil {
			line = l
		}
		if strings.Contains(line, `from="127.0.0.1"`) {
			break
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("after naming the NAT address the line is %q", line)
		}
	}
	if err := sshd.Authorize(line); err != nil {
		d.t.Fatal(err)
	}
	d.completion()
	d.do("the source test", chromedp.Click(chromedp.ID("test-source")), chromedp.WaitVisible(chromedp.ID("test-result")))
	pulled := d.text("test-pull")
	for _, f := range []string{"db/emr.sql", "患者 一覧 2026.csv"} {
		if !strings.Contains(pulled, f) {
			d.t.Fatalf("the test listing lacks %s:\n%s", f, pulled)
		}
	}
}

// hostKeyFP is the SHA256 fingerprint of a known_hosts line's key.
func hostKeyFP(t *testing.T, knownHosts string) string {
	_, _, key, _, _, err := ssh.ParseKnownHosts([]byte(knownHosts))
	if err != nil {
		t.Fatal(err)
	}
	return ssh.FingerprintSHA256(key)
}

// attr is the attribute name of the element matched by sel.
func (d *dayOne) attr(sel, name string) string {
	d.t.Helper()
	v, err := chromedp.Run(d.tab, chromedp.Evaluate[string](`(document.querySelector(`+strconv.Quote(sel)+`) || {getAttribute: () => ""}).getAttribute(`+strconv.Quote(name)+`) || ""`))
	if err != nil {
		d.t.Fatalf("attribute %s of %s: %v", name, sel, err)
	}
	return v
}

// completion shortens the source's "unchanged for" rule: the export was
// written an hour ago, and the default minute is for a live export.
func (d *dayOne) completion() {
	d.do("the completion rule", chromedp.Navigate(d.base+"/commission/source?name=karte"), chromedp.WaitVisible(chromedp.ID("edit-source")),
		chromedp.Click(chromedp.ID("edit-source")), chromedp.WaitVisible(chromedp.CSS(`[id="f-completion.stable_for"]`)),
		chromedp.SetValue(chromedp.CSS(`[id="f-completion.stable_for"]`), "1s"), chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("test-source")))
}

// medium adds a simulated relay, runs its wiring test (which offers the
// second virtual disk, connected all along), enrols that disk, and
// prepares it with the password shown once and its end typed back. It
// returns the password, as written on the sheet.
func (d *dayOne) medium(fsUUID string) string {
	d.do("add a simulated relay", chromedp.Navigate(d.base+"/commission"), chromedp.WaitVisible(chromedp.ID("add-relay")),
		chromedp.Click(chromedp.ID("add-relay")), chromedp.WaitVisible(chromedp.ID("config-form")),
		chromedp.SetValue(chromedp.ID("f-name"), "sim"), chromedp.SetValue(chromedp.ID("f-driver"), "simulated"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("step-relay-sim")))
	enrol := `button[data-fs-uuid="` + fsUUID + `"]`
	d.do("the wiring test", chromedp.Click(chromedp.ID("step-relay-sim")), chromedp.WaitVisible(chromedp.ID("wiring-test")),
		chromedp.Click(chromedp.ID("wiring-test")), chromedp.WaitVisible(chromedp.ID("job-done")), chromedp.WaitVisible(chromedp.CSS(enrol)))
	if ok := d.attr("#job-done", "data-ok"); ok != "false" {
		d.t.Fatalf("a simulated relay's wiring test must not pass: data-ok=%q", ok)
	}
	if desc := d.text("appeared"); !strings.Contains(desc, "DZ-DAYONE-1") {
		d.t.Errorf("the disk offered lacks its serial number DZ-DAYONE-1: %q", desc)
	}
	d.do("enrol the disk", chromedp.SetValue(chromedp.CSS(`form:has(`+enrol+`) input[name="medium"]`), "vault-1"),
		chromedp.Click(chromedp.CSS(enrol)), chromedp.WaitVisible(chromedp.ID("create-password")))
	if id := d.text("medium-identity"); !strings.Contains(id, fsUUID) || !strings.Contains(id, "DZ-DAYONE-1") {
		d.t.Errorf("the enrolled medium's identity %q lacks the disk's serial or ext4 UUID", id)
	}
	d.do("the password sheet", chromedp.Click(chromedp.ID("create-password")), chromedp.WaitVisible(chromedp.ID("password-sheet")))
	pw := d.text("password")
	if len(pw) < 20 {
		d.t.Fatalf("the password shown is %q", pw)
	}
	d.do("a wrong ending is refused", chromedp.SetValue(chromedp.ID("typed"), "abcdefgh"), chromedp.Click(chromedp.ID("prepare")),
		chromedp.WaitVisible(chromedp.ID("prepare-error")))
	d.do("type back and prepare", chromedp.SetValue(chromedp.ID("typed"), pw[len(pw)-8:]), chromedp.Click(chromedp.ID("prepare")),
		chromedp.WaitVisible(chromedp.ID("job-done")))
	if ok := d.attr("#job-done", "data-ok"); ok != "true" {
		d.t.Fatalf("preparing the medium failed: %s\ndanzend log:\n%s", d.text("job"), danzendLog(d.t, d.vm))
	}
	return pw
}

// firstCycle runs step 5 to its end: written, and NOT offline (the relay
// is simulated, as designed).
func (d *dayOne) firstCycle() {
	d.do("the first cycle", chromedp.Navigate(d.base+"/commission/cycle"), chromedp.WaitVisible(chromedp.ID("start-first-cycle")),
		chromedp.Click(chromedp.ID("start-first-cycle")), chromedp.WaitVisible(chromedp.ID("job-done")))
	if ok := d.attr("#job-done", "data-ok"); ok != "true" {
		d.t.Fatalf("the first cycle failed: %s\ndanzend log:\n%s", d.text("job"), danzendLog(d.t, d.vm))
	}
	if st := d.attr(`.card[data-medium="vault-1"]`, "data-state"); st != "simulated" {
		d.t.Fatalf("after the first cycle the medium is %q, want simulated", st)
	}
}

// dashboard: the cycle is done, the medium shows simulated (red: never
// offline), and the clock says it is not synchronised (no NTP here).
func (d *dayOne) dashboard() {
	d.do("the dashboard", chromedp.Navigate(d.base+"/"), chromedp.WaitVisible(chromedp.ID("clock")))
	if st := d.attr(`.card[data-medium="vault-1"]`, "data-state"); st != "simulated" {
		d.t.Errorf("the dashboard shows the medium as %q, want simulated", st)
	}
	if cls, txt := d.attr("#clock", "class"), d.text("clock"); cls != "bad" ||
		!strings.Contains(txt, "time not synchronised") && !strings.Contains(txt, "時刻が同期されていません") {
		d.t.Errorf("the dashboard's clock: class %q, %q; want it to say the time is not synchronised", cls, txt)
	}
	d.t.Logf("dashboard clock: %s", d.text("clock"))
}
