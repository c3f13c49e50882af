package web_test

import (
	"context"
	"errors"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/internal/sshdtest"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/media/s3/s3test"
	"github.com/danzen-gw/danzen/relay"
)

var stepRE = regexp.MustCompile(`<li class="citem [a-z]+" data-step="([^"]+)" data-item="([^"]*)" data-done="(true|false)" data-skipped="(true|false)">`)

// steps reads the commissioning view's steps: "+source/emr" when done,
// "-source/emr" when not, "~alerts/" when skipped.
func (c *client) steps() []string {
	c.e.t.Helper()
	r := c.get("/commission")
	if r.code != http.StatusOK {
		c.e.t.Fatalf("GET /commission: %d", r.code)
	}
	var out []string
	for _, m := range stepRE.FindAllStringSubmatch(r.body, -1) {
		mark := "-"
		switch {
		case m[4] == "true":
			mark = "~"
		case m[3] == "true":
			mark = "+"
		}
		out = append(out, mark+m[1]+"/"+m[2])
	}
	return out
}

func (e *env) commissionEntries(step, item string) []ledger.CommissionData {
	e.t.Helper()
	var out []ledger.CommissionData
	for _, en := range e.entries(ledger.KindCommission) {
		d, err := ledger.Decode[ledger.CommissionData](en)
		if err != nil {
			e.t.Fatal(err)
		}
		if d.Step == step && d.Item == item {
			out = append(out, d)
		}
	}
	return out
}

// TestCommissioningViewAndChecklist: a new gateway's view lists the five
// steps, none done; the dashboard shows the checklist until every step
// is, then it is gone; only those who may configure open the view.
func TestCommissioningViewAndChecklist(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	want := "-network/ -source/ -relay/ -medium/ -alerts/ -first-cycle/"
	if got := strings.Join(c.steps(), " "); got != want {
		t.Fatalf("steps of a new gateway: %s, want %s", got, want)
	}
	page := c.get("/commission").body
	for _, href := range []string{`href="/commission/network"`, `href="/commission/source"`, `href="/config/relay?next=/commission"`, `href="/commission/alerts"`, `href="/commission/cycle"`} {
		if !strings.Contains(page, href) {
			t.Errorf("the view lacks the link %s", href)
		}
	}
	if d := c.get("/").body; !strings.Contains(d, `id="checklist"`) || !strings.Contains(d, `data-step="network"`) {
		t.Fatalf("the dashboard shows no checklist:\n%s", d)
	}
	staff := e.addUser("staff", auth.RoleStaff)
	if r := staff.get("/commission"); r.code != http.StatusForbidden {
		t.Errorf("hospital staff opened the commissioning view: %d", r.code)
	}
	// Staff see that the gateway is not commissioned yet, without links
	// they cannot follow.
	if d := staff.get("/").body; !strings.Contains(d, `id="checklist-vendor"`) || strings.Contains(d, `href="/commission`) {
		t.Errorf("hospital staff's checklist:\n%s", d)
	}
	// Every step recorded as done (the network step by its own code):
	// the checklist goes, the view says so.
	for _, s := range []string{gateway.StepNetwork, gateway.StepSource, gateway.StepRelay, gateway.StepMedium, gateway.StepAlerts, gateway.StepFirstCycle} {
		if err := e.g.Record(context.Background(), ledger.Entry{Kind: ledger.KindCommission, Actor: "admin", Message: msg.T("テスト", "test"),
			Payload: ledger.CommissionData{Step: s, OK: true}}); err != nil {
			t.Fatal(err)
		}
	}
	if d := c.get("/").body; strings.Contains(d, `id="checklist"`) {
		t.Fatal("the checklist stays when every step is done")
	}
	if !strings.Contains(c.get("/commission").body, `id="commission-done"`) {
		t.Fatal("the view does not say every step is done")
	}
}

// TestConfigFormsReturnToTheView: a configuration form opened from the
// view returns to it once saved, and follows no other address.
func TestConfigFormsReturnToTheView(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	f := formIn(t, c.get("/config/relay?next=/commission").body, "config-form")
	if f.values.Get("next") != "/commission" {
		t.Fatalf("the relay form does not carry next: %v", f.values)
	}
	f.set("name", "sim").set("driver", relay.DriverSimulated)
	if r := c.submit(f, "save"); r.code != http.StatusSeeOther || r.location != "/commission?done=saved" {
		t.Fatalf("saving from the view: %d %q\n%s", r.code, r.location, r.body)
	}
	f = formIn(t, c.get("/config/relay?name=sim&next=/commission").body, "config-form")
	f.set("name", "sim2").set("next", "https://elsewhere.example/")
	if r := c.submit(f, "save"); r.code != http.StatusSeeOther || r.location != "/config?done=saved" {
		t.Fatalf("a foreign next was followed: %d %q", r.code, r.location)
	}
}

// waitJob reloads a step page until its job has ended, checking that the
// page reloads itself meanwhile, and returns the last page.
func (c *client) waitJob(path string) resp {
	c.e.t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r := c.get(path)
		if strings.Contains(r.body, `id="job-done"`) {
			if r.header.Get("Refresh") != "" {
				c.e.t.Errorf("%s reloads itself after its job ended", path)
			}
			return r
		}
		if strings.Contains(r.body, `id="job-running"`) && r.header.Get("Refresh") == "" {
			c.e.t.Errorf("%s does not reload itself while its job runs", path)
		}
	}
	c.e.t.Fatalf("the job of %s never ended", path)
	return resp{}
}

// TestSimulatedRelayOnThePage: a simulated relay's wiring test runs from
// the page, says it proves nothing (not offline), and is recorded as not
// passed.
func TestSimulatedRelayOnThePage(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(_ string, cfg *config.Config) {
		cfg.Relays = []relay.Spec{{Name: "sim", Driver: relay.DriverSimulated}}
	}})
	c := e.login("admin", adminPW)
	if r := c.post("/commission/relay/test", url.Values{"relay": {"sim"}}); r.code != http.StatusSeeOther {
		t.Fatalf("start the wiring test: %d %s", r.code, r.body)
	}
	r := c.waitJob("/commission/relay?name=sim")
	if !strings.Contains(r.body, `id="relay-simulated"`) || !strings.Contains(r.body, `data-ok="false"`) ||
		!strings.Contains(r.body, `data-step="sense-on" data-state="skipped"`) {
		t.Fatalf("the simulated relay's page:\n%s", r.body)
	}
	if d := e.commissionEntries(gateway.StepRelay, "sim"); len(d) != 1 || d[0].OK {
		t.Fatalf("recorded: %+v", d)
	}
}

// commissionWorld is a gateway on first start with one fake relay whose
// contact powers a loop disk, a real sshd as the e-chart server, a
// webhook receiver, and the page in front.
type commissionWorld struct {
	e    *env
	c    *client
	sshd *sshdtest.Server
	hw   *demo.Hardware
	hook chan string
	mail chan string // the messages the mail server received
}

func newCommissionWorld(t *testing.T) *commissionWorld {
	t.Helper()
	restic := rig.Restic(t)
	w := &commissionWorld{sshd: sshdtest.Run(t, sshdtest.Options{}), hook: make(chan string, 8), mail: make(chan string, 8)}
	past := time.Now().Add(-time.Hour)
	for rel, data := range map[string]string{"db/emr.dmp": strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎');\n", 20000), "カルテ/患者 一覧.csv": "患者ID,氏名\n1,山田 太郎\n"} {
		if err := w.sshd.WriteFile(rel, []byte(data), past); err != nil {
			t.Fatal(err)
		}
	}
	hw, err := demo.NewHardware(context.Background(), filepath.Join(t.TempDir(), "disks"), []string{"vault"}, 64<<20, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := hw.Close(); err != nil {
			t.Errorf("close the test disk: %v", err)
		}
	})
	w.hw = hw
	hook := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { w.hook <- r.URL.Path }))
	t.Cleanup(hook.Close)
	w.e = newEnv(t, envOptions{relays: hw.Sources(), configure: func(_ string, cfg *config.Config) {
		cfg.ResticBinary = restic
		cfg.Relays = hw.Relays
		cfg.Alerts = alert.Spec{Webhook: &alert.WebhookSpec{URL: hook.URL + "/danzen"},
			Email: &alert.EmailSpec{Server: "127.0.0.1", Port: startMailServer(t, w.mail), TLS: "none", From: "danzen@hospital.example", To: []string{"vendor@example.jp"}}}
	}})
	w.c = w.e.login("admin", adminPW)
	return w
}

// startMailServer runs a mail relay on 127.0.0.1 such as a hospital's own
// (no TLS, no login) and returns its port; each message's text goes to got.
func startMailServer(t *testing.T, got chan<- string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() }) // ends the accept loop
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveMail(conn, got)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// serveMail speaks just enough SMTP to take one message.
func serveMail(conn net.Conn, got chan<- string) {
	defer func() { _ = conn.Close() }() // the client is done either way
	tp := textproto.NewConn(conn)
	reply := func(code int, text string) bool { return tp.PrintfLine("%d %s", code, text) == nil }
	if !reply(220, "mail.hospital.example ESMTP") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		switch verb := strings.ToUpper(strings.Fields(line + " x")[0]); verb {
		case "EHLO", "HELO":
			reply(250, "mail.hospital.example")
		case "DATA":
			reply(354, "go ahead")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			got <- string(b)
			reply(250, "queued")
		case "QUIT":
			reply(221, "bye")
			return
		default: // MAIL, RCPT, RSET, NOOP
			reply(250, "ok")
		}
	}
}

// TestCommissioningThroughThePage walks steps 2 to 5 through the page as
// a vendor engineer would, against a real sshd, a loop disk behind a fake
// relay and restic: the source with the gateway's own key and the exact
// authorized_keys line, first contact, the test listing; the relay's
// wiring test, enrolling the disk that appeared, the password shown once
// and typed back; the alert test; the first cycle. Each step lands in the
// ledger.
func TestCommissioningThroughThePage(t *testing.T) {
	w := newCommissionWorld(t)
	e, c := w.e, w.c
	line := w.sourceStep(t)
	if !strings.HasPrefix(line, `restrict,from="127.0.0.1" ssh-ed25519 `) {
		t.Fatalf("authorized_keys line: %q", line)
	}
	medium := w.relayStep(t)
	w.mediumStep(t, medium)

	w.alertsStep(t)

	// The source waits a minute to see which files hold still; a test
	// has no minute to spare.
	next, err := cloneConfig(e.g.Config())
	if err != nil {
		t.Fatal(err)
	}
	next.Sources[0].Completion.StableFor = config.Duration(time.Second)
	if err := e.g.Reconfigure(context.Background(), "test", next); err != nil {
		t.Fatal(err)
	}
	w.cycleStep(t, medium)
	want := "-network/ +source/emr +relay/" + w.hw.Relays[0].Name + " +medium/" + medium + " +alerts/ +first-cycle/"
	if got := strings.Join(c.steps(), " "); got != want {
		t.Fatalf("steps: %s, want %s", got, want)
	}
	if !strings.Contains(c.get("/").body, `id="checklist"`) {
		t.Fatal("the checklist went while the network step is not done")
	}
}

func cloneConfig(c *config.Config) (*config.Config, error) {
	p := filepath.Join(os.TempDir(), "danzen-clone-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".json")
	defer func() { _ = os.Remove(p) }() // a scratch copy
	if err := config.Save(p, c); err != nil {
		return nil, err
	}
	loaded, _, err := config.LoadUnfinished(p)
	return loaded, err
}

var lineRE = regexp.MustCompile(`<pre id="authorized-keys">([^<]+)</pre>`)

// addSourceOnPage types a new source called emr into step 2's form and
// fetches its host key: it returns the form as the page shows it then,
// with the offered key waiting for confirmation.
func (c *client) addSourceOnPage(t *testing.T, host string, port int, user string) *pageForm {
	t.Helper()
	f := formIn(t, c.get("/commission/source").body, "source-form")
	f.set("name", "emr").set("host", host).set("port", strconv.Itoa(port)).set("user", user).set("export_dir", "/export")
	r := c.submit(f, "fetch-hostkey")
	f = formIn(t, r.body, "source-form")
	if f.values.Get("pin_fp") == "" || f.values.Get("export_dir") != "/export" {
		t.Fatalf("no offered key, or the typed fields were lost:\n%s", r.body)
	}
	return f
}

// hostFingerprint is the SHA256 fingerprint of a known_hosts line's key.
func hostFingerprint(t *testing.T, line string) string {
	t.Helper()
	_, _, key, _, _, err := ssh.ParseKnownHosts([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return ssh.FingerprintSHA256(key)
}

// sourceStep adds the source on the page, installs the line it shows on
// the server, pins the host key and runs the test listing. It returns the
// line.
func (w *commissionWorld) sourceStep(t *testing.T) string {
	t.Helper()
	e, c := w.e, w.c
	f := c.addSourceOnPage(t, "127.0.0.1", w.sshd.Port, sshdtest.User)
	if got := f.values.Get("pin_fp"); got != hostFingerprint(t, w.sshd.KnownHosts) {
		t.Fatalf("the page offers %q for confirmation, the server's key is %s", got, hostFingerprint(t, w.sshd.KnownHosts))
	}
	if r := c.submit(f, "save-source"); !strings.Contains(r.body, `id="pin-error"`) || len(e.g.Config().Sources) != 0 {
		t.Fatalf("saved without the fingerprint's confirmation:\n%s", r.body)
	}
	if r := c.submit(f.tick("pin_confirm"), "save-source"); r.code != http.StatusSeeOther || r.location != "/commission/source?name=emr&done=pinned" {
		t.Fatalf("save the source: %d %q\n%s", r.code, r.location, r.body)
	}
	if pins := e.entries(ledger.KindHostKeyPinned); len(pins) != 1 || pins[0].Actor != "admin" {
		t.Fatalf("pins recorded: %+v", pins)
	}
	key := filepath.Join(e.g.Config().SecretsDir, "emr.ssh-key")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the gateway's key: %v", err)
	}
	page := c.get("/commission/source?name=emr").body
	m := lineRE.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `id="from-how"`) || !strings.Contains(page, `id="from-nat"`) {
		t.Fatalf("no authorized_keys line, or it does not say which address it names and why NAT matters:\n%s", page)
	}
	line := html.UnescapeString(m[1])
	priv, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secretLines(string(priv)) {
		if strings.Contains(page, s) {
			t.Fatal("the page shows the private key")
		}
	}
	from := formIn(t, page, "from-form").set("from", "10.1.2.0/24")
	other := html.UnescapeString(lineRE.FindStringSubmatch(c.get(from.action + "?" + from.click("set-from").Encode()).body)[1])
	if !strings.HasPrefix(other, `restrict,from="10.1.2.0/24" `) {
		t.Fatalf("with the address typed: %q", other)
	}
	// Before the server's administrator installs the line, the test
	// says the server refuses the key.
	test := formIn(t, page, "test-form")
	if r := c.submit(test, "test-source"); !strings.Contains(r.body, `id="test-error"`) {
		t.Fatalf("a test before the key is installed:\n%s", r.body)
	}
	if err := w.sshd.Authorize(line); err != nil {
		t.Fatal(err)
	}
	r := c.submit(test, "test-source")
	for _, want := range []string{`id="test-result"`, "db/emr.dmp", "カルテ/患者 一覧.csv"} {
		if !strings.Contains(html.UnescapeString(r.body), want) {
			t.Fatalf("the test listing lacks %q:\n%s", want, r.body)
		}
	}
	if _, err := os.Stat(filepath.Join(e.g.Config().StagingDir, "sources")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the test listing wrote to staging: %v", err)
	}
	if d := e.commissionEntries(gateway.StepSource, "emr"); len(d) != 2 || d[0].OK || !d[1].OK {
		t.Fatalf("source steps recorded: %+v", d)
	}
	return line
}

// alertsStep sends a test notice through both channels from the page and
// sees each arrive and each recorded.
func (w *commissionWorld) alertsStep(t *testing.T) {
	t.Helper()
	c := w.c
	page := c.get("/commission/alerts").body
	if strings.Contains(page, `id="skip-alerts"`) {
		t.Fatal("the alerts step offers a skip although channels are configured")
	}
	r := c.submit(formIn(t, page, "alerts-form"), "test-alerts")
	for _, ch := range []string{alert.ChannelEmail, alert.ChannelWebhook} {
		if !strings.Contains(r.body, `data-channel="`+ch+`" data-ok="true"`) {
			t.Fatalf("alert test of %s:\n%s", ch, r.body)
		}
	}
	for _, ch := range []struct {
		got  chan string
		want string
	}{{w.hook, "/danzen"}, {w.mail, "vendor@example.jp"}} {
		select {
		case p := <-ch.got:
			if !strings.Contains(p, ch.want) {
				t.Fatalf("the test notice arrived as %q", p)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the test notice to %s never arrived", ch.want)
		}
	}
	var chans []string
	for _, en := range w.e.entries(ledger.KindAlertTest) {
		d, err := ledger.Decode[ledger.AlertTestData](en)
		if err != nil || !d.OK || en.Actor != "admin" {
			t.Fatalf("alert test recorded: %+v %v", d, err)
		}
		chans = append(chans, d.Channel)
	}
	if strings.Join(chans, " ") != "email webhook" {
		t.Fatalf("alert tests recorded for %v", chans)
	}
	if d := w.e.commissionEntries(gateway.StepAlerts, ""); len(d) != 1 || !d[0].OK {
		t.Fatalf("alerts step recorded: %+v", d)
	}
}

// cycleStep starts the first cycle on the page and follows it to its end:
// each medium's phases, then its state.
func (w *commissionWorld) cycleStep(t *testing.T, medium string) {
	t.Helper()
	c := w.c
	if r := c.submit(formIn(t, c.get("/commission/cycle").body, "cycle-form"), "start-first-cycle"); r.code != http.StatusSeeOther {
		t.Fatalf("start the first cycle: %d %s", r.code, r.body)
	}
	sawRunning := false
	var page string
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the first cycle never ended:\n%s", page)
		}
		r := c.get("/commission/cycle")
		page = r.body
		if strings.Contains(page, `id="job-done"`) {
			break
		}
		sawRunning = sawRunning || strings.Contains(page, `id="job-running"`)
		if strings.Contains(page, `id="start-first-cycle"`) {
			t.Fatal("the first cycle can be started again while it runs")
		}
	}
	if !sawRunning {
		t.Error("the page never showed the cycle running")
	}
	for _, want := range []string{`data-ok="true"`, `data-step="pull" data-state="ok"`, `data-step="` + medium + `/power-off" data-state="ok"`,
		`data-medium="` + medium + `" data-state="cut"`, `id="step-state" data-done="true"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("after the first cycle the page lacks %s:\n%s", want, page)
		}
	}
	if d := w.e.commissionEntries(gateway.StepFirstCycle, ""); len(d) != 1 || !d[0].OK || !strings.Contains(d[0].Detail.EN, medium+": 1 snapshots") {
		t.Fatalf("first cycle recorded: %+v", d)
	}
}

// enrolButton is the id of the enrol button of the ext4 volume uuid on
// a relay's page, or "".
func enrolButton(body, uuid string) string {
	m := regexp.MustCompile(`id="(enrol-[^"]+)" data-fs-uuid="` + regexp.QuoteMeta(uuid) + `"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// relayStep runs the wiring test on the page and enrols the disk that
// appeared; it returns the medium's name.
func (w *commissionWorld) relayStep(t *testing.T) string {
	t.Helper()
	e, c := w.e, w.c
	name := w.hw.Relays[0].Name
	page := "/commission/relay?name=" + name
	if r := c.submit(formIn(t, c.get(page).body, "wiring-form"), "wiring-test"); r.code != http.StatusSeeOther {
		t.Fatalf("start the wiring test: %d %s", r.code, r.body)
	}
	r := c.waitJob(page)
	for _, step := range []string{"relay-on", "sense-on", "device-appeared", "relay-off", "sense-off", "device-gone"} {
		if !strings.Contains(r.body, `data-step="`+step+`" data-state="ok"`) {
			t.Errorf("wiring step %s not ok", step)
		}
	}
	img := w.hw.Images["vault"]
	button := enrolButton(r.body, img.UUID)
	if button == "" || !strings.Contains(r.body, `data-ok="true"`) {
		t.Fatalf("the wiring test's page offers no enrolment of the disk that appeared (%s):\n%s", img.UUID, r.body)
	}
	enrol := formIn(t, r.body, button)
	if enrol.values.Get("medium") == "" {
		t.Fatalf("no medium name offered: %v", enrol.values)
	}
	r = c.submit(enrol.set("medium", "vault-a"), button)
	if r.code != http.StatusSeeOther || r.location != "/commission/medium?name=vault-a&done=enrolled" {
		t.Fatalf("enrol: %d %q\n%s", r.code, r.location, r.body)
	}
	m, err := e.g.Config().Medium("vault-a")
	if err != nil || m.Disk.FSUUID != img.UUID || m.Relay != name {
		t.Fatalf("enrolled: %+v %v", m, err)
	}
	// The test keeps its disks under its own directory, not /run.
	next, err := cloneConfig(e.g.Config())
	if err != nil {
		t.Fatal(err)
	}
	next.Media[0].Disk.MountDir = filepath.Join(t.TempDir(), "mnt")
	if err := e.g.Reconfigure(context.Background(), "test", next); err != nil {
		t.Fatal(err)
	}
	return "vault-a"
}

var passwordRE = regexp.MustCompile(`<code id="password">([^<]+)</code>`)

// mediumStep creates the password on the page, refuses a wrong ending,
// and prepares the medium once the right one is typed back.
func (w *commissionWorld) mediumStep(t *testing.T, medium string) {
	t.Helper()
	e, c := w.e, w.c
	page := "/commission/medium?name=" + medium
	create := formIn(t, c.get(page).body, "password-form")
	r := c.submit(create, "create-password")
	m := passwordRE.FindStringSubmatch(r.body)
	if m == nil || !strings.Contains(r.body, `src="/static/print.js"`) || !strings.Contains(r.body, `id="print-sheet"`) {
		t.Fatalf("the password sheet:\n%s", r.body)
	}
	pw := html.UnescapeString(m[1])
	sheet := formIn(t, r.body, "prepare-form")
	if p := c.get(page).body; strings.Contains(p, m[1]) {
		t.Fatal("the password is shown twice")
	}
	if r := c.submit(create, "create-password"); r.code != http.StatusSeeOther || strings.Contains(r.body, m[1]) {
		t.Fatalf("a second password request: %d", r.code)
	}
	r = c.submit(sheet.set("typed", "abcdefgh"), "prepare")
	if !strings.Contains(r.body, `id="prepare-error"`) {
		t.Fatalf("a wrong ending was not refused:\n%s", r.body)
	}
	for _, en := range e.entries(ledger.KindPowerOn, ledger.KindMount, ledger.KindDiskPrepared) {
		if en.Medium == medium {
			t.Fatalf("the medium was reached before the password was typed back: %+v", en)
		}
	}
	if r := c.submit(sheet.set("typed", pw[len(pw)-gateway.TypedBackLen:]), "prepare"); r.code != http.StatusSeeOther {
		t.Fatalf("prepare: %d\n%s", r.code, r.body)
	}
	r = c.waitJob(page)
	if !strings.Contains(r.body, `data-ok="true"`) || strings.Contains(r.body, `data-state="failed"`) || strings.Contains(r.body, `data-state="running"`) {
		t.Fatalf("preparing:\n%s", r.body)
	}
	if d := e.commissionEntries(gateway.StepMedium, medium); len(d) != 1 || !d[0].OK || !strings.Contains(d[0].Detail.EN, "cut verified") {
		t.Fatalf("medium step recorded: %+v", d)
	}
	if strings.Contains(e.ledgerText(), pw) {
		t.Fatal("the ledger holds the password")
	}
}

// keyWithPlus is a host key whose SHA256 fingerprint holds a '+', which
// the page escapes in HTML ("&#43;") and a browser unescapes.
func keyWithPlus(t *testing.T) ssh.Signer {
	t.Helper()
	for range 200 {
		if k := newSSHKey(t); strings.Contains(ssh.FingerprintSHA256(k.PublicKey()), "+") {
			return k
		}
	}
	t.Fatal("no key with a '+' in its fingerprint")
	return nil
}

// TestSourceStepFirstContactAndChangedKey: step 2's first contact pins
// exactly the key the server offers (whatever characters its fingerprint
// holds), and a server that later offers another key is shown as CHANGED
// and pinned only once that is confirmed, retiring the old key.
func TestSourceStepFirstContactAndChangedKey(t *testing.T) {
	srv := startSSH(t)
	first := keyWithPlus(t)
	srv.key.Store(&first)
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	f := c.addSourceOnPage(t, "127.0.0.1", srv.port, "danzen-pull")
	if got := f.values.Get("pin_fp"); got != srv.fingerprint() {
		t.Fatalf("the page offers %q for confirmation, the server's key is %s", got, srv.fingerprint())
	}
	if r := c.submit(f.tick("pin_confirm"), "save-source"); r.code != http.StatusSeeOther || r.location != "/commission/source?name=emr&done=pinned" {
		t.Fatalf("first contact: %d %q\n%s", r.code, r.location, r.body)
	}
	src, err := e.g.Config().Source("emr")
	if err != nil || len(src.KnownHosts) != 1 || hostFingerprint(t, src.KnownHosts[0]) != srv.fingerprint() {
		t.Fatalf("pinned: %v %q", err, src.KnownHosts)
	}
	oldFP := srv.fingerprint()

	// The server now offers another key.
	second := keyWithPlus(t)
	srv.key.Store(&second)
	r := c.submit(formIn(t, c.get("/commission/source?name=emr").body, "source-form"), "fetch-hostkey")
	box := html.UnescapeString(pinChangedRE.FindString(r.body))
	if box == "" || !strings.Contains(box, oldFP) || !strings.Contains(box, srv.fingerprint()) {
		t.Fatalf("the changed key is not shown as CHANGED with both fingerprints:\n%s", r.body)
	}
	f = formIn(t, r.body, "source-form")
	if r := c.submit(f, "save-source"); !strings.Contains(r.body, `id="pin-error"`) {
		t.Fatalf("a changed key was accepted without confirmation:\n%s", r.body)
	}
	if src, _ := e.g.Config().Source("emr"); hostFingerprint(t, src.KnownHosts[0]) != oldFP {
		t.Fatal("the pinned key changed without confirmation")
	}
	// Accepting it is guarded: the password typed again (the field is
	// beside the changed key), recorded with the client address.
	if !strings.Contains(r.body, `id="reauth-pin"`) {
		t.Fatal("no password field beside the changed key")
	}
	v := f.tick("pin_confirm").click("save-source")
	v.Set("reauth_password", "") // left empty, as a person may
	if r := c.post(f.action, v); r.code != http.StatusOK || !strings.Contains(r.body, "パスワードをもう一度入力") {
		t.Fatalf("accepting a changed key without the password: %d\n%s", r.code, r.body)
	}
	if src, _ := e.g.Config().Source("emr"); hostFingerprint(t, src.KnownHosts[0]) != oldFP {
		t.Fatal("the changed key was accepted without the password")
	}
	if r := c.submit(f, "save-source"); r.code != http.StatusSeeOther { // the password typed
		t.Fatalf("confirming the changed key: %d\n%s", r.code, r.body)
	}
	recordedFrom(t, e, "hostkey.accept")
	src, err = e.g.Config().Source("emr")
	if err != nil || len(src.KnownHosts) != 1 || hostFingerprint(t, src.KnownHosts[0]) != srv.fingerprint() {
		t.Fatalf("after confirming: %v %q", err, src.KnownHosts)
	}
	rep := e.entries(ledger.KindHostKeyReplaced)
	if len(rep) != 1 {
		t.Fatalf("replacements recorded: %+v", rep)
	}
	if d, err := ledger.Decode[ledger.HostKeyReplacedData](rep[0]); err != nil || d.Retired != oldFP || d.Fingerprint != srv.fingerprint() {
		t.Fatalf("replacement recorded: %+v %v", d, err)
	}
}

// TestAlertsStepSkippedWithoutAChannel: a gateway whose LAN reaches no
// mail server nor webhook skips the alerts step on the page; the view and
// the checklist mark it skipped, not done; configuring a channel later
// asks for a test again.
func TestAlertsStepSkippedWithoutAChannel(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	page := c.get("/commission/alerts").body
	if strings.Contains(page, `id="alerts-form"`) {
		t.Fatal("a test is offered with no channel configured")
	}
	r := c.submit(formIn(t, page, "alerts-skip-form"), "skip-alerts")
	if r.code != http.StatusSeeOther || r.location != "/commission/alerts?done=skipped" {
		t.Fatalf("skip: %d %q\n%s", r.code, r.location, r.body)
	}
	if p := c.get("/commission/alerts").body; !strings.Contains(p, `id="step-state" data-done="true" data-skipped="true"`) {
		t.Fatalf("the step page does not say skipped:\n%s", p)
	}
	if got := c.steps(); got[len(got)-2] != "~alerts/" {
		t.Fatalf("steps: %v", got)
	}
	if d := c.get("/").body; !strings.Contains(d, `data-step="alerts" data-item="" data-done="true" data-skipped="true"`) {
		t.Fatalf("the checklist does not mark the skip:\n%s", d)
	}
	if d := e.commissionEntries(gateway.StepAlerts, ""); len(d) != 1 || !d[0].OK || !strings.Contains(d[0].Detail.EN, "skipped") {
		t.Fatalf("recorded: %+v", d)
	}
	// A channel configured since: the skip no longer counts.
	next, err := cloneConfig(e.g.Config())
	if err != nil {
		t.Fatal(err)
	}
	next.Alerts.Webhook = &alert.WebhookSpec{URL: "http://127.0.0.1:1/hook"}
	if err := e.g.Reconfigure(context.Background(), "test", next); err != nil {
		t.Fatal(err)
	}
	if got := c.steps(); got[len(got)-2] != "-alerts/" {
		t.Fatalf("after a channel was configured: %v", got)
	}
	r = c.post("/commission/alerts/skip", url.Values{})
	if !strings.Contains(r.body, `id="alert-error"`) || len(e.commissionEntries(gateway.StepAlerts, "")) != 1 {
		t.Fatalf("skipped with a channel configured:\n%s", r.body)
	}
}

// TestS3MediumPreparedOnThePage: an S3 bucket needs no relay; preparing it
// on the page, once the password's end is typed back, checks its Object
// Lock and writes the canary, and says so.
func TestS3MediumPreparedOnThePage(t *testing.T) {
	restic := rig.Restic(t)
	srv := s3test.Run(t)
	if err := srv.MakeBucket(context.Background(), "hospital-backup", true, &s3test.Lock{Mode: minio.Compliance, Days: 30}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{configure: func(_ string, cfg *config.Config) {
		cfg.ResticBinary = restic
		cfg.Media = []config.Medium{{Name: "cloud", Type: config.MediumS3, PasswordFile: "cloud.restic-password",
			S3: &s3.Spec{Name: "cloud", Endpoint: srv.Endpoint, Bucket: "hospital-backup", Prefix: "danzen", AccessKeyID: srv.AccessKey,
				SecretKeyFile: "cloud.s3-secret", CAFile: srv.CAFile, MinRetentionDays: 14}}}
		if err := os.MkdirAll(cfg.SecretsDir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfg.SecretsDir, "cloud.s3-secret"), []byte(srv.SecretKey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}})
	c := e.login("admin", adminPW)
	if got := strings.Join(c.steps(), " "); got != "-network/ -source/ -medium/cloud -alerts/ -first-cycle/" {
		t.Fatalf("the steps of a gateway with a bucket only: %s", got)
	}
	page := "/commission/medium?name=cloud&lang=en"
	sheet := c.submit(formIn(t, c.get(page).body, "password-form"), "create-password")
	pw := html.UnescapeString(passwordRE.FindStringSubmatch(sheet.body)[1])
	if r := c.submit(formIn(t, sheet.body, "prepare-form").set("typed", pw[len(pw)-gateway.TypedBackLen:]), "prepare"); r.code != http.StatusSeeOther {
		t.Fatalf("prepare: %d\n%s", r.code, r.body)
	}
	r := c.waitJob(page)
	if !strings.Contains(r.body, `data-ok="true"`) || !strings.Contains(r.body, "checking the Object Lock and writing the canary") {
		t.Fatalf("preparing the bucket:\n%s", r.body)
	}
	if d := e.commissionEntries(gateway.StepMedium, "cloud"); len(d) != 1 || !d[0].OK || !strings.Contains(d[0].Detail.EN, "Object Lock (COMPLIANCE) verified") {
		t.Fatalf("medium step recorded: %+v", d)
	}
	if locks := e.entries(ledger.KindLockVerified); len(locks) != 1 {
		t.Fatalf("lock checks recorded: %+v", locks)
	}
}
