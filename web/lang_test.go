package web_test

import (
	"context"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/backup/restic"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/media/tape"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/register"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/web"
)

// The language check. A page is read in one language: an English page
// must show no Japanese, a Japanese page no English sentence of a
// message. User data is excepted by seeding it with ASCII words that
// never make a phrase of three (emr, disk-a, CAF00001 …).
var (
	japaneseRE = regexp.MustCompile(`[\p{Hiragana}\p{Katakana}\p{Han}]`)
	// phraseRE is three or more English words in a row: the shape of a
	// message, not of a name, a path or a code.
	phraseRE = regexp.MustCompile(`[A-Za-z][A-Za-z'’]*(?:[ ,]+[A-Za-z][A-Za-z'’]*){2,}`)
	tagRE    = regexp.MustCompile(`(?s)<script.*?</script>|<[^>]*>`)
	attrRE   = regexp.MustCompile(`\s(?:title|aria-label|placeholder)="([^"]*)"`)
	// switchRE is the link to the other language, written in that language.
	switchRE = regexp.MustCompile(`<a [^>]*id="lang-switch">[^<]*</a>`)
	// dataRE is an entry's data on the ledger page: the record as stored,
	// which keeps both languages (the evidence an auditor compares).
	dataRE = regexp.MustCompile(`(?s)<code class="data">.*?</code>`)
)

// neutral are English phrases that read the same on a Japanese page: the
// operating system's own words at the end of an error's chain (no message
// of danzen's, so shown as they are).
var neutral = []string{"no such file or directory"}

// visibleText is what a person reads on a page: the text between tags
// and the attributes a screen reader or a tooltip shows.
func visibleText(body string) []string {
	body = dataRE.ReplaceAllString(switchRE.ReplaceAllString(body, ""), "")
	var out []string
	for _, m := range attrRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	for _, s := range tagRE.Split(body, -1) {
		if s = strings.TrimSpace(html.UnescapeString(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// langCheck counts what it checked, so a test cannot pass by checking
// nothing.
type langCheck struct {
	t     *testing.T
	pages int
}

// pair checks one page fetched in each language by get.
func (lc *langCheck) pair(name string, get func(lang string) resp) {
	lc.t.Helper()
	ja, en := get("ja"), get("en")
	for lang, r := range map[string]resp{"ja": ja, "en": en} {
		if r.code == http.StatusSeeOther || !strings.Contains(r.body, `<html lang="`+lang+`">`) {
			lc.t.Errorf("%s (%s): not a page in its language: %d %s\n%.400s", name, lang, r.code, r.location, r.body)
			return
		}
	}
	lc.pages++
	for _, s := range visibleText(en.body) {
		if japaneseRE.MatchString(s) {
			lc.t.Errorf("%s: the English page shows Japanese: %q", name, s)
		}
	}
	jaText := strings.Join(visibleText(ja.body), "\n")
	for _, s := range visibleText(en.body) {
		for _, p := range phraseRE.FindAllString(s, -1) {
			if strings.Contains(jaText, p) && !isNeutral(p) {
				lc.t.Errorf("%s: the Japanese page shows the English %q (from %q)", name, p, s)
			}
		}
	}
}

func isNeutral(p string) bool {
	for _, n := range neutral {
		if strings.Contains(n, p) || strings.Contains(p, n) {
			return true
		}
	}
	return false
}

// withLang adds the language switch to a path.
func withLang(path, lang string) string {
	u, err := url.Parse(path)
	if err != nil {
		panic(err) // the paths are the test's own
	}
	q := u.Query()
	q.Set(auth.LangParam, lang)
	u.RawQuery = q.Encode()
	return u.String()
}

// getIn is a GET of path in the language it is given.
func (c *client) getIn(path string) func(lang string) resp {
	return func(lang string) resp { c.e.t.Helper(); return c.get(withLang(path, lang)) }
}

// postIn is a form posted to path in the language it is given; form is
// made afresh each time.
func (c *client) postIn(path string, form func() url.Values) func(lang string) resp {
	return func(lang string) resp { c.e.t.Helper(); return c.post(withLang(path, lang), form()) }
}

// testText is a message as the core would write one: each language whole.
func testText(ja, en string) msg.Text {
	return msg.T("テスト用の"+ja+"です", "this is the test's "+en)
}

// langCore is the gateway with records that every page shows, each with
// a message in both languages.
type langCore struct {
	*gateway.Gateway
	busy bool
}

func (c *langCore) Running() (bool, *backup.CycleEvent) {
	if !c.busy {
		return false, nil
	}
	return true, &backup.CycleEvent{Phase: "backup", Medium: "disk-a", Text: testText("段階", "phase"), Restic: &restic.Event{Op: "backup", Kind: restic.KindStatus,
		Status: &restic.Status{PercentDone: 0.25, TotalBytes: 4e9, BytesDone: 1e9, SecondsElapsed: 10, SecondsRemaining: 125, TotalFiles: 10, FilesDone: 3}}}
}

func (c *langCore) Drills() ([]ledger.RestoreData, error) {
	now := time.Now()
	ok := ledger.RestoreData{ID: "d1", Drill: true, Medium: "disk-a", Snapshot: "abcdef123456", SnapTime: now, Source: "emr", Dest: "scratch",
		Actor: "staff", Started: now, FirstByteMS: 1200, RestoreMS: 90_000, Files: 2, FilesVerified: 2, CheckRan: true, CheckOK: true, CutVerified: true, OK: true}
	failed := ok
	failed.ID, failed.OK, failed.CheckOK, failed.CutVerified, failed.Error = "d2", false, false, false, testText("訓練の失敗", "drill failure")
	return []ledger.RestoreData{ok, failed}, nil
}

func (c *langCore) Restores() ([]ledger.RestoreData, error) {
	d, _ := c.Drills()
	for i := range d {
		d[i].Drill, d[i].ID, d[i].Dest = false, "r"+d[i].ID, "gateway:r1"
	}
	return d, nil
}

func (c *langCore) KeptRestores() ([]gateway.KeptRestore, error) {
	d, _ := c.Restores()
	return []gateway.KeptRestore{{RestoreData: d[0], Files: []pull.FileEntry{{Path: "db/emr.dmp", Size: 1 << 20}}}}, nil
}

func (c *langCore) Snapshots(medium string) ([]gateway.SnapshotRecord, error) {
	return []gateway.SnapshotRecord{{Medium: medium, ID: "abcdef123456", Source: "emr", Time: time.Now(), Bytes: 1 << 30, Files: 2}}, nil
}

func (c *langCore) OpenAnomalies() ([]backup.Anomaly, error) {
	return []backup.Anomaly{{ID: "a1", Source: "emr", Detected: time.Now(), Sample: ledger.AnomalySample{ChangeRatio: 0.97, Entropy: 7.9},
		BaselineEntropy: 4.2, Reasons: []msg.Text{testText("異常の理由", "anomaly reason")}}}, nil
}

func (c *langCore) ScanReports() ([]gateway.ScanSummary, error) {
	return []gateway.ScanSummary{{ID: "20260101-120000", Started: time.Now(), Finished: time.Now(), FeedDate: "2026-01-01", Cautions: 1, New: 1}}, nil
}

func (c *langCore) ScanReport(string) (*netprobe.Report, error) {
	f := netprobe.Finding{Rule: netprobe.RuleRemote, Caution: true, Addr: "192.0.2.1", Proto: "tcp", Port: 3389, Text: testText("調査結果", "finding")}
	edge := register.Point{ID: "CAF00001", Purpose: "VPN", Scan: true, LineType: register.LineInternet, GlobalIP: "192.0.2.1", Maker: "ACME", Model: "R1"}
	return &netprobe.Report{Started: time.Now(), Finished: time.Now(), FeedDate: "2026-01-01", TCPPorts: "1-1024",
		Targets: []netprobe.Target{{No: 1, Point: edge, Findings: []netprobe.Finding{f}}, {No: 2, Point: register.Point{ID: "CAF00002", Scan: true}}},
		Changes: &netprobe.Diff{Previous: time.Now().Add(-24 * time.Hour), Opened: []string{"CAF00001 192.0.2.1 3389/tcp"},
			NewCautions: []netprobe.Noted{{ID: "CAF00001", Key: "k1", Finding: f}}, Resolved: []netprobe.Noted{{ID: "CAF00001", Key: "k2", Finding: f}}}}, nil
}

// seedForLanguages configures one of everything, with ASCII names.
func seedForLanguages(t *testing.T, srv *sshServer) func(string, *config.Config) {
	return func(dir string, cfg *config.Config) {
		for name, body := range map[string]string{"disk-a.restic-password": "pw", "emr.key": string(privateKeyPEM(t)), "back.key": string(privateKeyPEM(t))} {
			if err := os.WriteFile(filepath.Join(cfg.SecretsDir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		pin := []string{knownhosts.Line([]string{knownhosts.Normalize(srv.addr)}, (*srv.key.Load()).PublicKey())}
		src := config.DefaultSource()
		src.Name, src.Host, src.Port, src.User, src.KeyFile, src.ExportDir, src.KnownHosts = "emr", "127.0.0.1", srv.port, "pull", "emr.key", "/export", pin
		cfg.Sources = []config.Source{src}
		cfg.Relays = []relay.Spec{{Name: "r1", Driver: relay.DriverSimulated}, {Name: "r2", Driver: relay.DriverSimulated, Sense: &relay.SenseSpec{Line: 1}}}
		cfg.Media = []config.Medium{
			{Name: "disk-a", Type: config.MediumDisk, Relay: "r1", PasswordFile: "disk-a.restic-password",
				Disk: &disk.Spec{Name: "disk-a", FSUUID: "0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d", MediaID: "DANZEN-A", GoneTimeout: disk.Duration(time.Second)}},
			{Name: "cloud", Type: config.MediumS3, PasswordFile: "cloud.restic-password",
				S3: &s3.Spec{Name: "cloud", Endpoint: "127.0.0.1:9000", Bucket: "danzen-emr", AccessKeyID: "KEY", SecretKeyFile: "cloud.s3-secret-key", MinRetentionDays: 3650}},
			{Name: "lto", Type: config.MediumTape, Relay: "r2", PasswordFile: "lto.restic-password", Tape: &tape.Spec{Name: "lto", SpoolDir: filepath.Join(dir, "spool")}},
		}
		cfg.Restore.Targets = []config.RestoreTarget{{Name: "back", Host: "127.0.0.1", Port: srv.port, User: "write", KeyFile: "back.key", KnownHosts: pin, BaseDir: "/restored"}}
		cfg.Documents = config.Documents{HospitalName: "Example", SystemsCovered: []string{"EMR"}, Responsible: "Sato"}
		cfg.Scan.SNMPCommunities = []string{"public"}
	}
}

// TestEveryPageInOneLanguage renders every page a vendor admin, hospital
// staff and an auditor can open, and every form refused with errors, in
// Japanese and in English: no page mixes the two.
func TestEveryPageInOneLanguage(t *testing.T) {
	srv := startSSH(t)
	core := &langCore{}
	e := newEnv(t, envOptions{configure: seedForLanguages(t, srv), wrap: func(g *gateway.Gateway) web.Core { core.Gateway = g; return core }})
	seedLedger(t, e)
	admin := e.login("admin", adminPW)
	if err := e.g.UpdateRegister(context.Background(), "test", "add", func(r *register.Register) error {
		r.Points = append(r.Points, register.Point{ID: "CAF00001", Purpose: "VPN", EChart: true, Scan: true, LineType: register.LineInternetVPN,
			Carrier: "NTT", GlobalIP: "192.0.2.1", IPMode: register.IPFixed, FQDN: "vpn.example", Maker: "ACME", Model: "R1"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	lc := &langCheck{t: t}
	users := map[auth.Role]*client{auth.RoleVendorAdmin: admin, auth.RoleStaff: e.addUser("staff", auth.RoleStaff), auth.RoleAuditor: e.addUser("auditor", auth.RoleAuditor)}
	for role, c := range users {
		for _, p := range everyPage(role) {
			lc.pair(string(role)+" GET "+p, c.getIn(p))
		}
	}
	for _, p := range []string{"/config", "/users", "/tls", "/config/general"} {
		lc.pair("staff refused "+p, users[auth.RoleStaff].getIn(p))
	}
	everyFormRefused(t, lc, admin)
	core.busy = true
	for _, p := range []string{"/", "/restore", "/scan"} {
		lc.pair("busy GET "+p, admin.getIn(p))
	}
	lc.pair("busy POST /config/general", admin.postIn("/config/general", func() url.Values { return generalForm(t, admin, nil) }))
	lc.pair("busy POST /config/undo", admin.postIn("/config/undo", func() url.Values { return url.Values{} }))
	liveInBothLanguages(t, admin)
	core.busy = false

	anon := e.client()
	lc.pair("login", anon.getIn(auth.LoginPath+"?next=/history"))
	lc.pair("login refused", func(lang string) resp {
		tok := formToken(t, anon.get(withLang(auth.LoginPath, lang)).body)
		return anon.do("POST", withLang(auth.LoginPath, lang), url.Values{"username": {"admin"}, "password": {"wrong-password-0"}, auth.CSRFField: {tok}})
	})
	if lc.pages < 100 {
		t.Fatalf("only %d pages checked in both languages", lc.pages)
	}
}

// seedLedger writes entries the history, the ledger page and the
// dashboard show: a cycle with a cut that could not be verified.
func seedLedger(t *testing.T, e *env) {
	t.Helper()
	for _, en := range []ledger.Entry{
		{Kind: ledger.KindJobStart, Actor: "admin", Message: testText("実行", "job")},
		{Kind: ledger.KindCycleStart, Message: testText("開始", "cycle start"), Payload: ledger.CycleStartData{Cycle: "c1"}},
		{Kind: ledger.KindPowerOn, Medium: "disk-a", Message: testText("通電", "power on"), Payload: ledger.PowerOnData{Relay: "r1"}},
		{Kind: ledger.KindSnapshot, Medium: "disk-a", Message: testText("スナップショット", "snapshot"), Payload: ledger.SnapshotData{Cycle: "c1", Source: "emr", Snapshot: "abcdef123456"}},
		{Kind: ledger.KindPowerOffUnverified, Medium: "disk-a", Message: testText("切断", "cut"), Payload: ledger.CutData{Relay: "r1", Reason: testText("切断の理由", "cut reason")}},
		{Kind: ledger.KindCycleEnd, Message: testText("終了", "cycle end"), Payload: ledger.CycleEndData{Cycle: "c1", OK: false}},
	} {
		if err := e.g.Record(context.Background(), en); err != nil {
			t.Fatal(err)
		}
	}
}

// everyPage is every page role may open, with the notices (?done=) they
// show.
func everyPage(role auth.Role) []string {
	pages := []string{"/", "/history", "/ledger", "/restore", "/anomalies", "/documents", "/scan", "/account",
		"/?done=started", "/?err=busy", "/restore?done=drill", "/anomalies?done=ack", "/scan?done=register",
		"/scan/confirm", "/scan/confirm?done=confirmed", "/offsite", "/offsite?done=away", "/offsite?done=returned"}
	if role != auth.RoleVendorAdmin {
		return pages
	}
	pages = append(pages, "/scan?edit=CAF00001", "/users", "/users?done=user", "/tls", "/tls?done=cert",
		"/config", "/config?done=saved", "/config?done=undone", "/config?done=deleted", "/config?done=pinned",
		"/config/general", "/config/source", "/config/source?name=emr", "/config/relay", "/config/relay?name=r1", "/config/relay?name=r2",
		"/config/medium", "/config/medium?name=disk-a", "/config/medium?name=cloud", "/config/medium?name=lto&done=secret",
		"/config/alerts", "/config/restore", "/config/target", "/config/target?name=back&done=key", "/config/scan",
		"/config/nothing", "/config/source?name=missing",
		"/commission", "/commission/source", "/commission/source?name=emr", "/commission/source?name=emr&from=bad", "/commission/relay?name=r1",
		"/commission/medium?name=disk-a&done=enrolled", "/commission/medium?name=cloud&err=password-exists", "/commission/alerts?done=skipped", "/commission/cycle")
	return pages
}

// everyFormRefused posts every form of the page with something wrong.
func everyFormRefused(t *testing.T, lc *langCheck, c *client) {
	t.Helper()
	// Without the previous configuration, undo has nothing to go back to.
	if err := os.Remove(filepath.Join(c.e.dir, "config.json.prev")); err != nil {
		t.Fatal(err)
	}
	config := func(path string, change map[string]string) func() url.Values {
		return func() url.Values { return formFor(t, c, path, change) }
	}
	fixed := func(f url.Values) func() url.Values { return func() url.Values { return f } } // post copies it
	forms := []struct {
		path string
		form func() url.Values
	}{
		{"/config/general", config("/config/general", map[string]string{"retention.keep_last": "0", "retention.keep_daily": "abc",
			"schedule": "whenever", "bandwidth_limit": "fast", "rotation.per_cycle": "-1", "gateway_id": "a b"})},
		{"/config/source", config("/config/source?name=emr", map[string]string{"orig": "emr", "port": "x", "export_dir": "relative",
			"completion.stable_for": "soon", "connections": "99"})},
		{"/config/source", config("/config/source", map[string]string{"op": "fetch"})},
		{"/config/source", config("/config/source?name=emr", map[string]string{"orig": "emr", "pin_fp": "SHA256:x"})},
		{"/config/source", config("/config/source?name=emr", map[string]string{"orig": "emr", "pin_fp": "SHA256:x", "pin_confirm": "on"})},
		{"/config/source", config("/config/source?name=emr", map[string]string{"orig": "emr", "kh_remove": "0"})},
		{"/config/relay", config("/config/relay", map[string]string{"name": "", "line": "-1", "on_timeout": "x", "driver": "gpio", "sense": "on", "sense.line": "y"})},
		{"/config/medium", config("/config/medium", map[string]string{"name": "disk-b", "type": "disk", "disk.fs_uuid": "not-a-uuid", "disk.appear_timeout": "x"})},
		{"/config/medium", func() url.Values { f := s3Medium(); f.Set("base", c.base()); return f }},
		{"/config/medium", func() url.Values { f := tapeMedium(); f.Set("base", c.base()); return f }},
		{"/config/alerts", config("/config/alerts", map[string]string{"webhook.url": "ftp://example.invalid/hook", "email.server": "mail.example", "email.port": "x"})},
		{"/config/restore", config("/config/restore", map[string]string{"restore.window": "1m", "restore.drill_schedule": "never"})},
		{"/config/target", config("/config/target", map[string]string{"name": "t2", "host": "127.0.0.1", "port": "22", "user": "pull", "key_file": "emr.key", "base_dir": "x"})},
		{"/config/scan", config("/config/scan", map[string]string{"tcp_ports": "1-1024,99999", "rate": "5", "concurrency": "5000", "schedule": "someday"})},
		{"/config/relay/delete", func() url.Values { return url.Values{"orig": {"r1"}, "base": {c.base()}} }},
		{"/config/relay/delete", fixed(url.Values{"orig": {"r1"}, "base": {"stale"}})},
		{"/config/undo", fixed(url.Values{})},
		{"/config/source/key", fixed(url.Values{"orig": {"emr"}, "op": {"upload"}, "key": {"not a key"}})},
		{"/config/target/key", fixed(url.Values{"orig": {"nobody"}, "op": {"generate"}})},
		{"/config/medium/secret", fixed(url.Values{"orig": {"cloud"}, "op": {"secret_key"}, "secret_key": {"two words"}})},
		{"/config/medium/secret", fixed(url.Values{"orig": {"cloud"}, "op": {"ca"}, "ca": {"not pem"}})},
		{"/config/medium/secret", fixed(url.Values{"orig": {"disk-a"}, "op": {"ca"}})},
		{"/tls", fixed(url.Values{"cert": {"x"}, "key": {"y"}})},
		{"/users/add", fixed(url.Values{"name": {"x"}, "role": {"hospital_staff"}, "password": {"a-long-password-1"}, "password2": {"another-password-2"}})},
		{"/users/add", fixed(url.Values{"name": {"Bad Name"}, "role": {"hospital_staff"}, "password": {"a-long-password-1"}, "password2": {"a-long-password-1"}})},
		{"/users/add", fixed(url.Values{"name": {"short"}, "role": {"hospital_staff"}, "password": {"short"}, "password2": {"short"}})},
		{"/users/add", fixed(url.Values{"name": {"staff"}, "role": {"hospital_staff"}, "password": {"a-long-password-1"}, "password2": {"a-long-password-1"}})},
		{"/users/role", fixed(url.Values{"name": {"staff"}, "role": {"king"}})},
		{"/users/role", fixed(url.Values{"name": {"nobody"}, "role": {"auditor"}})},
		{"/users/password", fixed(url.Values{"name": {"staff"}, "password": {"short"}, "password2": {"short"}})},
		{"/users/delete", fixed(url.Values{"name": {"admin"}})},
		{"/users/nothing", fixed(url.Values{})},
		{"/account/password", fixed(url.Values{"current": {adminPW}, "password": {"a-long-password-1"}, "password2": {"another-password-2"}})},
		{"/documents/fields", fixed(url.Values{"hospital_name": {"Example"}, "rpo": {"soon"}, "rto": {"-1h"}})},
		{"/scan/register", fixed(url.Values{"id": {"bad id"}, "global_ip": {"999.1.1.1"}, "line_type": {"carrier-pigeon"}})},
		{"/scan/register", fixed(url.Values{"orig": {"CAF09999"}, "id": {"CAF09999"}})},
		{"/scan/register/delete", fixed(url.Values{"id": {"CAF09999"}})},
		{"/scan/register/import", fixed(url.Values{})},
		{"/scan/register/import", fixed(url.Values{"csv": {"not,a,register\n1,2"}})},
		{"/scan/feed", fixed(url.Values{"feed": {"{}"}})},
		{"/scan/confirm", fixed(url.Values{"id": {"CAF09999"}, "typed": {"203.0.113.7"}})},
		{"/restore", fixed(url.Values{"medium": {"disk-a"}, "snapshot": {"abcdef123456"}, "dest": {"nowhere"}})},
		{"/restore", fixed(url.Values{"medium": {"disk-a"}, "snapshot": {"abcdef123456"}, "dest": {"target"}})},
		{"/restore", fixed(url.Values{"medium": {"disk-a"}, "snapshot": {"abcdef123456"}, "dest": {"gateway"}, "deadline": {"tomorrow"}})},
		{"/restore", fixed(url.Values{"medium": {"nothing"}, "snapshot": {"abcdef123456"}, "dest": {"gateway"}})},
		{"/drill", fixed(url.Values{"medium": {"nothing"}})},
		{"/restores/nothing/remove", fixed(url.Values{})},
		{"/anomalies/nothing/ack", fixed(url.Values{})},
	}
	for _, f := range forms {
		lc.pair("POST "+f.path, c.postIn(f.path, f.form))
	}
	lc.pair("GET a restored file that is not there", c.getIn("/restores/nothing/file?path=x"))
}

// liveInBothLanguages reads the first events of the live stream in each
// language: the script copies them onto the page as they are.
func liveInBothLanguages(t *testing.T, c *client) {
	t.Helper()
	read := func(lang string) string {
		c.get(withLang("/", lang))
		return readUntil(t, c, "event: progress\ndata: ")
	}
	ja, en := read("ja"), read("en")
	if !strings.Contains(ja, "event: progress") || !strings.Contains(en, "event: progress") {
		t.Fatalf("no progress in the live stream:\n%s\n%s", ja, en)
	}
	if japaneseRE.MatchString(en) {
		t.Errorf("the English live stream shows Japanese:\n%s", en)
	}
	for _, want := range []string{"this is the test's cut reason", "files 3 / 10", `"eta":"2m"`} {
		if !strings.Contains(en, want) || strings.Contains(ja, want) {
			t.Errorf("live stream: %q only in English:\n%s\n%s", want, ja, en)
		}
	}
}

// TestSetupPageInOneLanguage: the first-start page and its refusals, in
// each language.
func TestSetupPageInOneLanguage(t *testing.T) {
	e := newEnv(t, envOptions{noAdmin: true})
	c := e.client()
	lc := &langCheck{t: t}
	lc.pair("setup", c.getIn(auth.SetupPath))
	for _, f := range []url.Values{
		{"code": {"WRONG"}, "username": {"vendor"}, "password": {"vendor-password-1"}, "password2": {"vendor-password-1"}},
		{"code": {e.code}, "username": {"Bad Name"}, "password": {"vendor-password-1"}, "password2": {"vendor-password-1"}},
		{"code": {e.code}, "username": {"vendor"}, "password": {"short"}, "password2": {"short"}},
		{"code": {e.code}, "username": {"vendor"}, "password": {"vendor-password-1"}, "password2": {"vendor-password-2"}},
	} {
		lc.pair("setup refused", func(lang string) resp {
			g := c.get(withLang(auth.SetupPath, lang))
			form := url.Values{auth.CSRFField: {formToken(t, g.body)}}
			for k, v := range f {
				form[k] = v
			}
			return c.do("POST", withLang(auth.SetupPath, lang), form)
		})
	}
	if lc.pages != 5 {
		t.Fatalf("%d setup pages checked", lc.pages)
	}
}

// readUntil reads the live stream until it has sent want and the line
// after it.
func readUntil(t *testing.T, c *client, want string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", c.e.srv.URL+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Body.Close() }() // read-only
	var got strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		got.Write(buf[:n])
		if i := strings.Index(got.String(), want); i >= 0 && strings.Contains(got.String()[i+len(want):], "\n") {
			return got.String()
		}
		if err != nil {
			t.Fatalf("the live stream ended before %q: %v\n%s", want, err, got.String())
		}
	}
}

// chainCore fails as the gateway does when a saved configuration's
// hardware will not open: a bilingual message wrapping a bilingual cause
// that ends in the operating system's words. Undo finds a previous
// configuration that no longer validates.
type chainCore struct{ *gateway.Gateway }

func hardwareError() error {
	cause := msg.Errorf("リレー %s の GPIO チップを開けません: %w", "cannot open the GPIO chip of relay %s: %w", "r1",
		&fs.PathError{Op: "open", Path: "/dev/gpiochip9", Err: syscall.ENOENT})
	return msg.Errorf("新しい設定は保存されましたが、機器を開けませんでした。前の設定で動作しています: %w",
		"the new configuration was saved but its hardware could not be opened; still running on the previous one: %w", cause)
}

func (chainCore) Reconfigure(context.Context, string, *config.Config) error { return hardwareError() }

func (chainCore) UndoConfig(context.Context, string) error {
	ve := &config.ValidationError{Title: msg.T("設定に誤りがあります:", "the configuration is invalid:")}
	ve.AddText("schedule", msg.T("スケジュールが読めません", "the schedule cannot be read"))
	ve.AddText("media[0].relay", msg.T("リレーがありません", "no such relay"))
	return msg.Errorf("元の設定 %s を使えません: %w", "cannot use the previous configuration %s: %w", "config.json.prev", ve)
}

// TestCoreErrorShowsWholeInEachLanguage: an error of the core that wraps
// a bilingual cause reads whole in each language on the configuration
// pages. Cut at its first " / " (as the page once did), the Japanese lost
// the cause.
func TestCoreErrorShowsWholeInEachLanguage(t *testing.T) {
	e := newEnv(t, envOptions{wrap: func(g *gateway.Gateway) web.Core { return chainCore{g} },
		configure: func(_ string, cfg *config.Config) {
			cfg.Relays = []relay.Spec{{Name: "r9", Driver: relay.DriverSimulated}}
		}})
	c := e.login("admin", adminPW)
	err := hardwareError()
	want := map[string]string{"ja": msg.In(err, msg.JA), "en": msg.In(err, msg.EN)}
	if !strings.Contains(want["ja"], "no such file or directory") || !strings.Contains(want["en"], "cannot open the GPIO chip of relay r1") {
		t.Fatalf("the chain is not what the test means: %q", want)
	}
	lc := &langCheck{t: t}
	for _, step := range []struct {
		name string
		do   func(lang string) resp
	}{
		{"save", c.postIn("/config/general", func() url.Values { return generalForm(t, c, map[string]string{"schedule": "daily 03:00"}) })},
		{"delete", c.postIn("/config/relay/delete", func() url.Values { return url.Values{"orig": {"r9"}, "base": {c.base()}} })},
	} {
		lc.pair(step.name, step.do)
		for _, lang := range []string{"ja", "en"} {
			body := htmlUnescape(step.do(lang).body)
			if !strings.Contains(body, want[lang]) {
				t.Errorf("%s (%s): the page lacks the whole message %q:\n%s", step.name, lang, want[lang], body)
			}
		}
	}
	lc.pair("undo", c.postIn("/config/undo", func() url.Values { return url.Values{} }))
	for lang, wants := range map[string][]string{"ja": {"スケジュールが読めません", "media[0].relay: リレーがありません"},
		"en": {"the schedule cannot be read", "media[0].relay: no such relay"}} {
		body := htmlUnescape(c.post(withLang("/config/undo", lang), url.Values{}).body)
		for _, w := range wants {
			if !strings.Contains(body, w) {
				t.Errorf("undo (%s): the page lacks %q", lang, w)
			}
		}
	}
}
