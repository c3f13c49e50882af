package build_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gokrazy/build"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/sshdtest"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/disk/looptest"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/rtu"
	"github.com/danzen-gw/danzen/relay/rtu/rtusim"
)

// The hardware the harness plays: a Modbus RTU relay module (address 1)
// behind a USB–RS-485 adapter, whose coil 0 powers the medium's USB disk.
const (
	hilAdapter   = "DZRS485A"     // the adapter's USB serial number
	hilDiskA     = "DZ-HIL-DISKA" // the enrolled medium's USB serial number
	hilDiskB     = "DZ-HIL-DISKB" // another disk, not this medium
	hilModule    = "din-relay"
	hilRelay     = "relay-a"
	hilMedium    = "disk-a"
	hilVendor    = "vendor"
	hilVendorPW  = "hil-vendor-password-2026"
	hilAppear    = 20 * time.Second // the medium's appear_timeout: cases 3 and 4 wait it out
	hilCycleWait = 4 * time.Minute
	// hilWebhook is where the guest posts its alerts: QEMU's guestfwd
	// carries it to a receiver on the host's 127.0.0.1.
	hilWebhook = "10.0.2.101"
)

// TestHIL is issue 18's hardware in the loop: the real amd64 image under
// QEMU, whose kernel does the real work, against a host-side harness
// that plays the relay module and the disk it powers.
//
// Design (decided):
//   - The guest sees the module's bus as a real USB–RS-485 adapter, not a
//     serial line: QEMU's usb-serial (an FTDI FT232 model) on an xHCI
//     controller, backed by a unix socket chardev. The guest's ftdi_sio binds
//     it as /dev/ttyUSB0 with the adapter's USB serial number in sysfs, so the
//     driver's lookup by adapter serial, real termios, and a real USB unplug
//     of the adapter are all exercised. The test serves rtusim.Module on the
//     socket (reconnecting if it drops). always-plugged keeps the adapter on
//     the guest's bus whether or not the harness is connected, as a real
//     adapter stays plugged when its module is silent.
//   - The module's contact drives QMP: when it closes, the harness hot-plugs
//     a usb-storage device (from a -blockdev node, so it can be plugged again
//     after device_del) with a fixed serial number; when it opens, it unplugs
//     it and waits for DEVICE_DELETED. The disk's power follows the contact,
//     and the module's discrete input 0 senses it (it follows the coil unless
//     a fault is injected: rtusim.Weld).
//   - The guest's configuration names the module by its adapter's serial, a
//     relay of driver "modbus" on coil 0 with sense input 0, and the disk
//     medium by its USB serial (read from sysfs: the usb-storage device's
//     serial) and ext4 UUID. Cycles are started from the page (POST /cycle,
//     logged in as the vendor); what is asserted is what a person sees: the
//     metrics, the dashboard's medium card and the ledger download.
//   - Alerts go to a webhook: a receiver on the host's 127.0.0.1 that the
//     guest reaches through QEMU's guestfwd, like its SFTP source.
//   - Everything stays inside QEMU's user network (restrict=on) and 127.0.0.1;
//     the sockets are in the test's temporary directory.
//
// One boot runs the cases in the order that needs no repair in between:
// a verified cut; a disk that does not come on; a different disk; the
// adapter unplugged mid-cycle (and the next cut proven after re-plugging
// it); a welded relay. Stock restic on the host then restores the medium.
func TestHIL(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the image in QEMU with a simulated relay module and hot-plugged USB disks (root, minutes): make test runs it, -short skips it")
	}
	restic := os.Getenv("DANZEN_RESTIC")
	if restic == "" {
		t.Fatal("DANZEN_RESTIC is not set: run make test, which builds bin/restic")
	}
	begin := time.Now()
	h := startHIL(t, restic)
	t.Logf("image built and booted, harness and page ready in %s", time.Since(begin).Round(time.Second))

	cases := []struct {
		name string
		run  func(*testing.T)
	}{
		{"verified cut", h.verifiedCut},
		{"disk does not come on", h.diskDoesNotComeOn},
		{"different disk", h.differentDisk},
		{"adapter unplugged mid-cycle", h.adapterUnplugged},
		{"welded relay", h.weldedRelay},
	}
	for _, c := range cases {
		start := time.Now()
		ok := t.Run(c.name, func(t *testing.T) { h.t = t; c.run(t) })
		h.t = t
		t.Logf("case %-28s %5.1fs", c.name, time.Since(start).Seconds())
		if !ok && c.name == "verified cut" {
			t.Fatalf("the basic cycle failed: not running the fault cases\nharness:\n%s", h.story())
		}
	}

	// Every cycle detached the medium before its cut; stop the VM like a
	// power cut and restore with stock restic on the host.
	h.vm.stop()
	restoreFromDisk(t, restic, h.diskA.Path, h.pwFile, h.want)
	total := time.Since(begin)
	t.Logf("TestHIL took %s", total.Round(time.Second))
}

// hil is the running harness: the VM, its QMP connection, the simulated
// module, and the page's session.
type hil struct {
	t      *testing.T
	vm     *vm
	q      *qmp
	mod    *rtusim.Module
	diskA  *looptest.Image
	diskB  *looptest.Image
	pwFile string
	want   map[string][]byte
	client *http.Client
	base   string
	seq    uint64 // the newest ledger entry already looked at
	begin  time.Time

	mu      sync.Mutex
	powers  string // the block node the contact powers: "medA", "medB", or "" (a disk that never comes on)
	plugged string // the node plugged now
	log     []string
	alerts  []hilAlert // what the webhook received
	changes chan struct{}
}

// hilAlert is the part of a webhook alert the cases look at.
type hilAlert struct {
	Kind     string `json:"kind"`
	Medium   string `json:"medium"`
	Resolved bool   `json:"resolved"`
	TitleEN  string `json:"title_en"`
	Detail   string `json:"detail"`
}

// startHIL prepares the media and the image, boots the VM with the
// adapter and the disks' block nodes, starts the module and logs in.
func startHIL(t *testing.T, restic string) *hil {
	ctx := context.Background()
	dir := t.TempDir()
	h := &hil{t: t, begin: time.Now(), powers: "medA", changes: make(chan struct{}, 1)}

	sshd := sshdtest.Run(t, sshdtest.Options{})
	h.want = map[string][]byte{
		"db/emr.sql": []byte(strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎', 'HbA1c 7.2%');\n", 2000)),
		"カルテ/一覧.csv": []byte("患者ID,氏名\n1,山田 太郎\n"),
	}
	for rel, b := range h.want {
		if err := sshd.WriteFile(rel, b, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}

	const mediaID = "DANZEN-HIL-A"
	password := "hil-medium-password-0123456789abcdef"
	h.pwFile = filepath.Join(dir, "pw")
	if err := os.WriteFile(h.pwFile, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if h.diskA, err = looptest.CreateExt4(filepath.Join(dir, "disk-a.img"), 128<<20, looptest.ImageOptions{Label: "disk-a"}); err != nil {
		t.Fatal(err)
	}
	withMounted(t, h.diskA.Path, false, func(mnt string) {
		if err := os.WriteFile(filepath.Join(mnt, disk.MediaIDFile), []byte(mediaID+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(restic, "-r", filepath.Join(mnt, disk.RepoDir), "--password-file", h.pwFile, "init").CombinedOutput(); err != nil {
			t.Fatalf("restic init: %v\n%s", err, out)
		}
	})
	// Another hospital's disk, or last week's: a valid ext4 of its own.
	if h.diskB, err = looptest.CreateExt4(filepath.Join(dir, "disk-b.img"), 32<<20, looptest.ImageOptions{Label: "other"}); err != nil {
		t.Fatal(err)
	}

	res, err := build.Build(ctx, testInstance(t, "danzen-amd64"), t.TempDir(), build.Options{ImageSize: 1536 << 20, Bench: true})
	if err != nil {
		t.Fatal(err)
	}
	writePerm(t, res.Image, hilPerm(t, sshd, h.diskA.UUID, mediaID, password))
	hook := h.webhook()

	qmpSock, busSock := filepath.Join(dir, "qmp.sock"), filepath.Join(dir, "rs485.sock")
	h.vm = startVM(t, res.Image, guestFwd(sshd.Port)+fmt.Sprintf(",guestfwd=tcp:%s:8080-cmd:env %s=%s %s", hilWebhook, guestFwdEnv, hook, os.Args[0]),
		"-qmp", "unix:"+qmpSock+",server=on,wait=off",
		"-device", "qemu-xhci,id=xhci",
		"-chardev", "socket,id=rs485,path="+busSock+",server=on,wait=off",
		"-device", "usb-serial,bus=xhci.0,chardev=rs485,id=rs485dev,always-plugged=on,serial="+hilAdapter,
		"-blockdev", "driver=file,filename="+h.diskA.Path+",node-name=medA-file",
		"-blockdev", "driver=raw,file=medA-file,node-name=medA",
		"-blockdev", "driver=file,filename="+h.diskB.Path+",node-name=medB-file",
		"-blockdev", "driver=raw,file=medB-file,node-name=medB")
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if h.q, err = dialQMP(qctx, qmpSock); err != nil {
		t.Fatalf("%v\nserial:\n%s", err, h.vm.serial())
	}
	t.Cleanup(func() { _ = h.q.close() }) // QEMU is killed with the VM

	h.mod = rtusim.New(1, 4)
	h.mod.OnCoil(func(int, bool) { h.poke() })
	mctx, stop := context.WithCancel(ctx)
	var served sync.WaitGroup
	served.Add(2)
	go func() { defer served.Done(); h.serveBus(mctx, busSock) }()
	go func() { defer served.Done(); h.followContact(mctx) }()
	t.Cleanup(func() { stop(); served.Wait() })

	h.base = fmt.Sprintf("https://127.0.0.1:%d", h.vm.appPort)
	waitForMetric(t, h.vm, `danzen_medium_state{medium="`+hilMedium+`"`, 4*time.Minute)
	h.login()
	return h
}

// hilPerm is /perm as the installation leaves it for this rig: the
// acceptance test's configuration with the relay module, its relay and
// the medium identified by its USB serial number, and the vendor's account.
func hilPerm(t *testing.T, sshd *sshdtest.Server, fsUUID, mediaID, password string) map[string][]byte {
	files := permConfig(t, sshd, fsUUID, mediaID, password)
	cfg, err := config.Parse(files["danzen/config.json"])
	if err != nil {
		t.Fatal(err)
	}
	cfg.RelayModules = []rtu.ModuleSpec{{Name: hilModule, Adapter: hilAdapter, Address: 1, Timeout: rtu.Duration(2 * time.Second)}}
	cfg.Relays = []relay.Spec{{Name: hilRelay, Driver: relay.DriverModbus, Chip: hilModule, Line: 0,
		Sense:     &relay.SenseSpec{Chip: hilModule, Line: 0},
		OnTimeout: relay.Duration(10 * time.Second), OffTimeout: relay.Duration(5 * time.Second)}}
	cfg.Media = []config.Medium{{Name: hilMedium, Type: config.MediumDisk, Relay: hilRelay, PasswordFile: "disk-a.restic-password",
		Disk: &disk.Spec{Name: hilMedium, Serial: hilDiskA, FSUUID: fsUUID, MediaID: mediaID,
			AppearTimeout: disk.Duration(hilAppear), GoneTimeout: disk.Duration(6 * time.Second)}}}
	cfg.Alerts = alert.Spec{Webhook: &alert.WebhookSpec{URL: "http://" + hilWebhook + ":8080/alert"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	files["danzen/config.json"] = b

	// The vendor's account, made with the appliance's own user store.
	adir := t.TempDir()
	a, err := auth.New(auth.Options{Dir: adir})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddUser(context.Background(), "installer", hilVendor, auth.RoleVendorAdmin, hilVendorPW); err != nil {
		t.Fatal(err)
	}
	users, err := os.ReadFile(filepath.Join(adir, auth.UsersFile))
	if err != nil {
		t.Fatal(err)
	}
	files["danzen/secrets/"+auth.UsersFile] = users
	return files
}

// webhook starts the alert receiver on 127.0.0.1 and returns its address.
func (h *hil) webhook() string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a hilAlert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.alerts = append(h.alerts, a)
		h.mu.Unlock()
		h.note("alert received: %s %s resolved=%v", a.Kind, a.Medium, a.Resolved)
	}))
	h.t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// alertCount is how many alerts arrived so far.
func (h *hil) alertCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.alerts)
}

// wantAlert waits for an unresolved alert of kind for the medium, among
// those that arrived after the first from; alerts are sent in the
// background after the cycle.
func (h *hil) wantAlert(from int, kind alert.Kind) {
	h.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		h.mu.Lock()
		for _, a := range h.alerts[from:] {
			if a.Kind == string(kind) && a.Medium == hilMedium && !a.Resolved {
				h.mu.Unlock()
				h.t.Logf("alert: %s (%s)", a.TitleEN, a.Detail)
				return
			}
		}
		h.mu.Unlock()
		if time.Now().After(deadline) {
			h.t.Errorf("no %s alert for %s arrived\nharness:\n%s", kind, hilMedium, h.story())
			return
		}
	}
}

// serveBus connects to the adapter's socket and serves the module on it,
// reconnecting when the connection drops, until ctx ends.
func (h *hil) serveBus(ctx context.Context, sock string) {
	for ctx.Err() == nil {
		c, err := net.Dial("unix", sock)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		err = h.mod.Serve(ctx, c) // closes c when ctx ends
		_ = c.Close()             // the connection failed or the test is over
		if ctx.Err() == nil {
			h.note("the bus connection ended (%v): reconnecting", err)
		}
	}
}

// poke asks followContact to look at the contact again.
func (h *hil) poke() {
	select {
	case h.changes <- struct{}{}:
	default: // a look is pending already
	}
}

// followContact plugs and unplugs the disk as the module's contact
// closes and opens. The module's input 0 is the contact's sense, so it is
// what the disk's power follows (a welded contact keeps it on).
func (h *hil) followContact(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.changes:
		}
		h.mu.Lock()
		want := ""
		if h.mod.Input(0) {
			want = h.powers
		}
		have := h.plugged
		h.mu.Unlock()
		if want == have {
			continue
		}
		if have != "" {
			if err := h.q.deviceDel(ctx, have); err != nil {
				h.note("unplugging %s: %v", have, err)
				continue
			}
			h.setPlugged("")
			h.note("contact open: %s unplugged", have)
		}
		if want != "" {
			serial := map[string]string{"medA": hilDiskA, "medB": hilDiskB}[want]
			err := h.q.deviceAdd(ctx, map[string]any{"driver": "usb-storage", "bus": "xhci.0", "drive": want, "id": want,
				"serial": serial, "removable": false})
			if err != nil {
				h.note("plugging %s: %v", want, err)
				continue
			}
			h.setPlugged(want)
			h.note("contact closed: %s plugged (USB serial %s)", want, serial)
		}
	}
}

func (h *hil) setPlugged(node string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.plugged = node
}

func (h *hil) pluggedNow() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.plugged
}

// power sets what the contact powers from now on ("" for nothing).
func (h *hil) power(node string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.powers = node
}

// note keeps what the harness did, for failure messages.
func (h *hil) note(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, fmt.Sprintf("%6.1fs ", time.Since(h.begin).Seconds())+fmt.Sprintf(format, args...))
}

func (h *hil) story() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.log, "\n")
}

// login signs in as the vendor with a cookie jar, as a browser would.
func (h *hil) login() {
	t := h.t
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(h.base)
	if err != nil {
		t.Fatal(err)
	}
	jar.SetCookies(base, []*http.Cookie{{Name: auth.LangCookie, Value: "en", Path: "/"}})
	h.client = &http.Client{
		Timeout: time.Minute, Jar: jar,
		// The certificate is the VM's own, self-signed; day one checks it.
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	page := h.get("/login")
	resp, err := h.client.PostForm(h.base+auth.LoginPath, url.Values{"username": {hilVendor}, "password": {hilVendorPW},
		auth.CSRFField: {csrfToken(t, page)}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // the redirect is the answer
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: %s\ndanzend log:\n%s", hilVendor, resp.Status, danzendLog(t, h.vm))
	}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfToken(t *testing.T, page string) string {
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

// get fetches a page of the session and returns its body.
func (h *hil) get(path string) string {
	resp, err := h.client.Get(h.base + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read below
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s: %s %v", path, resp.Status, err)
	}
	return string(b)
}

// metrics reads /metrics once ("" if it does not answer).
func (h *hil) metrics() string {
	resp, err := h.client.Get(h.base + "/metrics")
	if err != nil {
		return ""
	}
	defer func() { _ = resp.Body.Close() }() // read below
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// hilCycle is what one cycle left for a person to see.
type hilCycle struct {
	metrics string
	entries []ledger.Entry // the ledger entries the cycle added
	state   string         // the dashboard card's data-state
	reason  string         // the card's reason line
	last    string         // the dashboard's "last cycle" line
}

// cycle starts a cycle from the dashboard's "run a cycle now" and waits
// for its end in the metrics; during is called while it runs.
func (h *hil) cycle(during func()) hilCycle {
	t := h.t
	before := metricValue(h.metrics(), "danzen_last_cycle_timestamp_seconds")
	page := h.get("/")
	resp, err := h.client.PostForm(h.base+"/cycle", url.Values{auth.CSRFField: {csrfToken(t, page)}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // the redirect is the answer
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "done=started") {
		t.Fatalf("POST /cycle: %s → %q", resp.Status, loc)
	}
	h.note("cycle started from the page")
	if during != nil {
		during()
	}
	var c hilCycle
	for deadline := time.Now().Add(hilCycleWait); ; time.Sleep(time.Second) {
		c.metrics = h.metrics()
		if v := metricValue(c.metrics, "danzen_last_cycle_timestamp_seconds"); v != 0 && v != before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cycle did not end within %s\nharness:\n%s\ndanzend log:\n%s", hilCycleWait, h.story(), danzendLog(t, h.vm))
		}
	}
	h.note("cycle ended")
	c.entries = h.newEntries()
	c.state, c.reason, c.last = h.card()
	t.Logf("dashboard: %s is %q (%s); last cycle: %s", hilMedium, c.state, c.reason, c.last)
	return c
}

var (
	cardRE   = regexp.MustCompile(`(?s)<article class="card[^"]*" data-medium="` + hilMedium + `" data-state="([^"]*)">(.*?)</article>`)
	reasonRE = regexp.MustCompile(`(?s)<p class="reason">(.*?)</p>`)
	lastRE   = regexp.MustCompile(`(?s)<dd id="last-cycle">(.*?)</dd>`)
	tagRE    = regexp.MustCompile(`<[^>]*>`)
)

// card reads the dashboard's medium card and last-cycle line as text.
func (h *hil) card() (state, reason, last string) {
	page := h.get("/")
	text := func(s string) string {
		return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(s, " "))), " ")
	}
	m := cardRE.FindStringSubmatch(page)
	if m == nil {
		h.t.Fatalf("the dashboard has no card for %s:\n%s", hilMedium, page)
	}
	if r := reasonRE.FindStringSubmatch(m[2]); r != nil {
		reason = text(r[1])
	}
	if l := lastRE.FindStringSubmatch(page); l != nil {
		last = text(l[1])
	}
	return m[1], reason, last
}

// newEntries downloads the ledger from the page and returns the entries
// added since the last call.
func (h *hil) newEntries() []ledger.Entry {
	t := h.t
	resp, err := h.client.Get(h.base + "/ledger/export")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read below; a short body fails the unpacking
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /ledger/export: %s", resp.Status)
	}
	dir := t.TempDir()
	top := untar(t, resp.Body, dir)
	all, err := ledger.Read(filepath.Join(dir, top), ledger.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.Entry
	for _, e := range all {
		if e.Seq > h.seq {
			out = append(out, e)
		}
	}
	if len(all) > 0 {
		h.seq = all[len(all)-1].Seq
	}
	return out
}

// of returns the cycle's entries of kind for the medium.
func (c hilCycle) of(kind ledger.Kind) []ledger.Entry {
	var out []ledger.Entry
	for _, e := range c.entries {
		if e.Kind == kind && (e.Medium == "" || e.Medium == hilMedium) {
			out = append(out, e)
		}
	}
	return out
}

// ledgerText lists the cycle's entries, for failure messages.
func (c hilCycle) ledgerText() string {
	var b strings.Builder
	for _, e := range c.entries {
		fmt.Fprintf(&b, "%d %s %s %s %s\n", e.Seq, e.Kind, e.Medium, e.Message.Localize(msg.EN), e.Data)
	}
	return b.String()
}

// cut returns the cycle's one cut record and whether it was verified.
func (h *hil) cut(c hilCycle) (ledger.CutData, bool) {
	h.t.Helper()
	ok, bad := c.of(ledger.KindPowerOffVerified), c.of(ledger.KindPowerOffUnverified)
	if len(ok)+len(bad) != 1 {
		h.t.Fatalf("the cycle recorded %d verified and %d unverified cuts, want one:\n%s", len(ok), len(bad), c.ledgerText())
	}
	e := append(ok, bad...)[0]
	cd, err := ledger.Decode[ledger.CutData](e)
	if err != nil {
		h.t.Fatal(err)
	}
	return cd, len(ok) == 1
}

// wantState checks the medium's state in the metrics and on the page.
func (h *hil) wantState(c hilCycle, state string) {
	h.t.Helper()
	if !strings.Contains(c.metrics, fmt.Sprintf("danzen_medium_state{medium=%q,state=%q} 1", hilMedium, state)) {
		h.t.Errorf("the metrics do not show %s as %s:\n%s", hilMedium, state, grepLines(c.metrics, "danzen_medium"))
	}
	offline := "0"
	if state == "cut" {
		offline = "1"
	}
	if !strings.Contains(c.metrics, fmt.Sprintf("danzen_medium_offline_verified{medium=%q} %s", hilMedium, offline)) {
		h.t.Errorf("danzen_medium_offline_verified is not %s:\n%s", offline, grepLines(c.metrics, "danzen_medium"))
	}
	if c.state != state {
		h.t.Errorf("the dashboard shows %s as %q, want %q (%s)", hilMedium, c.state, state, c.reason)
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// fileHash is the SHA-256 of a disk image, to show nothing wrote to it.
func fileHash(t *testing.T, p string) [32]byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// verifiedCut: the disk appears over USB with its serial, restic writes,
// the detach's SCSI commands go through usb-storage, the cut is proven by
// the sense input and the USB device is really gone.
func (h *hil) verifiedCut(t *testing.T) {
	c := h.cycle(nil)
	if v := metricValue(c.metrics, "danzen_last_cycle_ok"); v != 1 {
		t.Errorf("the cycle failed: %s\n%s\ndanzend log:\n%s", c.last, c.ledgerText(), danzendLog(t, h.vm))
	}
	if len(c.of(ledger.KindSnapshot)) == 0 {
		t.Errorf("no snapshot was written:\n%s", c.ledgerText())
	}
	appeared := c.of(ledger.KindDiskAppeared)
	if len(appeared) != 1 {
		t.Errorf("the ledger does not say the disk appeared once:\n%s", c.ledgerText())
	}
	for _, e := range appeared {
		if d, err := ledger.Decode[ledger.DiskEvent](e); err != nil || !strings.HasPrefix(d.Device, "sd") {
			t.Errorf("the medium appeared as %q (%v), want a SCSI disk (sd*) from usb-storage", d.Device, err)
		}
		t.Logf("as recorded: %s", e.Message.Localize(msg.EN))
	}
	steps := map[string]ledger.DetachStatus{}
	for _, e := range c.of(ledger.KindDiskDetachStep) {
		d, err := ledger.Decode[ledger.DiskEvent](e)
		if err != nil {
			t.Fatal(err)
		}
		steps[d.Step] = d.Status
		if d.Status != disk.StepDone {
			t.Errorf("detach step %s: %s (%s); want done through usb-storage", d.Step, d.Status, d.Message.Localize(msg.EN))
		}
	}
	for _, s := range []string{disk.StepSyncCache, disk.StepStop, disk.StepDelete} {
		if _, ok := steps[s]; !ok {
			t.Errorf("the ledger has no detach step %s (steps %v)", s, steps)
		}
	}
	cd, verified := h.cut(c)
	if !verified || !cd.SenseOff || !cd.DeviceGone {
		t.Errorf("cut %+v verified=%v: want sense off, device gone, verified", cd, verified)
	}
	h.wantState(c, "cut")
	if p := h.pluggedNow(); p != "" {
		t.Errorf("QEMU still has %s plugged after the cut", p)
	}
	t.Logf("detach steps through usb-storage: %v; cut in %d ms", steps, cd.ElapsedMS)
}

// diskDoesNotComeOn: the coil closes but no disk appears → the cycle
// fails clearly and nothing is written anywhere.
func (h *hil) diskDoesNotComeOn(t *testing.T) {
	h.power("")
	defer h.power("medA")
	before := fileHash(t, h.diskA.Path)
	alerts := h.alertCount()
	c := h.cycle(nil)
	if v := metricValue(c.metrics, "danzen_last_cycle_ok"); v != 0 {
		t.Errorf("a cycle whose disk never appeared reports success")
	}
	if len(c.of(ledger.KindDiskNotAppeared)) != 1 {
		t.Errorf("the ledger does not record that the disk did not appear:\n%s", c.ledgerText())
	}
	for _, k := range []ledger.Kind{ledger.KindDiskMounted, ledger.KindSnapshot} {
		if n := len(c.of(k)); n != 0 {
			t.Errorf("%d %s entries in a cycle without its disk", n, k)
		}
	}
	if _, verified := h.cut(c); !verified {
		t.Errorf("the relay was cut and nothing is plugged: the cut must be verified:\n%s", c.ledgerText())
	}
	if !strings.Contains(c.last, "FAILED") && !strings.Contains(c.last, "失敗") {
		t.Errorf("the dashboard's last cycle line does not say it failed: %q", c.last)
	}
	if fileHash(t, h.diskA.Path) != before {
		t.Error("the medium's image changed in a cycle where it never appeared")
	}
	for _, e := range c.of(ledger.KindDiskNotAppeared) {
		t.Logf("the failure as recorded: %s", e.Message.Localize(msg.EN))
	}
	h.wantAlert(alerts, alert.KindCycleFailed)
}

// differentDisk: another disk comes on with the relay → it is refused and
// left untouched, and the cut is still proven.
func (h *hil) differentDisk(t *testing.T) {
	h.power("medB")
	defer h.power("medA")
	before := fileHash(t, h.diskB.Path)
	c := h.cycle(nil)
	if v := metricValue(c.metrics, "danzen_last_cycle_ok"); v != 0 {
		t.Errorf("a cycle that found another disk reports success")
	}
	mismatch := c.of(ledger.KindDiskMismatch)
	if len(mismatch) == 0 {
		t.Errorf("the ledger does not record the different disk:\n%s", c.ledgerText())
	}
	for _, e := range mismatch {
		t.Logf("the refusal as recorded: %s", e.Message.Localize(msg.EN))
	}
	for _, k := range []ledger.Kind{ledger.KindDiskMounted, ledger.KindSnapshot} {
		if n := len(c.of(k)); n != 0 {
			t.Errorf("%d %s entries in a cycle that found only another disk", n, k)
		}
	}
	if _, verified := h.cut(c); !verified {
		t.Errorf("the other disk is unplugged by the cut: it must be verified:\n%s", c.ledgerText())
	}
	if fileHash(t, h.diskB.Path) != before {
		t.Error("the other disk's image was changed")
	}
}

// adapterUnplugged: the adapter is pulled while the disk is powered → the
// cut cannot be commanded, the medium is NOT offline and the page says
// why; with the adapter back, the next cycle's cut is proven.
func (h *hil) adapterUnplugged(t *testing.T) {
	alerts := h.alertCount()
	c := h.cycle(func() {
		// Once the page shows the medium connected, the relay is on and
		// the disk is coming up: pull the adapter.
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
			if strings.Contains(h.metrics(), fmt.Sprintf("danzen_medium_state{medium=%q,state=\"connected\"} 1", hilMedium)) && h.pluggedNow() == "medA" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the medium was not connected within 2 minutes\nharness:\n%s", h.story())
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.q.deviceDel(ctx, "rs485dev"); err != nil {
			t.Fatal(err)
		}
		h.note("adapter %s unplugged", hilAdapter)
	})
	cd, verified := h.cut(c)
	if verified || cd.SenseOff {
		t.Errorf("with the adapter gone the cut was reported verified: %+v", cd)
	}
	h.wantState(c, "fault")
	if p := h.pluggedNow(); p != "medA" {
		t.Errorf("the disk should still be powered (plugged %q)", p)
	}
	if c.reason == "" || !strings.Contains(c.reason, hilAdapter) && !strings.Contains(strings.ToLower(c.reason), "adapter") {
		t.Errorf("the page does not say the adapter is missing: %q", c.reason)
	}
	t.Logf("the page says: %s", c.reason)
	h.wantAlert(alerts, alert.KindMediumNotOff)

	// The adapter is plugged back in. The medium's last cut is unverified,
	// so the next cycle cuts and proves it before its power-on (unless the
	// gateway's minutely retry has done so already), then proves its own.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.q.deviceAdd(ctx, map[string]any{"driver": "usb-serial", "bus": "xhci.0", "chardev": "rs485", "id": "rs485dev",
		"serial": hilAdapter, "always-plugged": true}); err != nil {
		t.Fatal(err)
	}
	h.note("adapter %s plugged back", hilAdapter)
	c = h.cycle(nil)
	for _, e := range c.of(ledger.KindError) {
		t.Logf("the cycle after re-plugging: %s", e.Message.Localize(msg.EN))
	}
	ok, bad := c.of(ledger.KindPowerOffVerified), c.of(ledger.KindPowerOffUnverified)
	switch {
	case len(bad) != 0 || len(ok) == 0:
		t.Errorf("after re-plugging the adapter the cut is still not verified:\n%s", c.ledgerText())
	case len(ok) == 2 && !strings.Contains(ok[0].Message.Localize(msg.EN), "before the power-on"):
		t.Errorf("the first of two verified cuts is not the cut before the power-on:\n%s", c.ledgerText())
	case len(ok) > 2:
		t.Errorf("%d verified cuts in one cycle:\n%s", len(ok), c.ledgerText())
	default:
		t.Logf("after re-plugging: %d verified cuts (the stale one proven before the power-on: %t)", len(ok), len(ok) == 2)
	}
	h.wantState(c, "cut")
	if p := h.pluggedNow(); p != "" {
		t.Errorf("QEMU still has %s plugged after the cut", p)
	}
}

// weldedRelay: the contact stays closed when the coil is released → the
// disk stays powered and plugged, the sense input stays on, and the medium
// is reported NOT offline.
func (h *hil) weldedRelay(t *testing.T) {
	alerts := h.alertCount()
	c := h.cycle(func() {
		// The contact welds as it closes on the disk's inrush current.
		for deadline := time.Now().Add(2 * time.Minute); h.pluggedNow() != "medA"; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the relay did not power the disk within 2 minutes\nharness:\n%s", h.story())
			}
		}
		h.mod.Weld(0, true)
		h.note("contact welded")
	})
	cd, verified := h.cut(c)
	if verified || cd.SenseOff {
		t.Errorf("a welded relay's cut was reported verified: %+v", cd)
	}
	if cd.DeviceGone {
		t.Errorf("the disk is still plugged, yet the cut record says the device is gone: %+v", cd)
	}
	h.wantState(c, "fault")
	if p := h.pluggedNow(); p != "medA" {
		t.Errorf("the welded contact should keep the disk plugged (plugged %q)", p)
	}
	if v := metricValue(c.metrics, "danzen_last_cycle_ok"); v != 0 {
		t.Error("a cycle whose cut failed reports success")
	}
	t.Logf("the page says: %s", c.reason)
	h.wantAlert(alerts, alert.KindMediumNotOff)
}
