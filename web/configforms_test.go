package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/internal/sshdtest"
	"github.com/danzen-gw/danzen/ledger"
)

// postWithBase posts a configuration form made from the current
// configuration.
func (c *client) postWithBase(path string, f url.Values) resp {
	c.e.t.Helper()
	f.Set("base", c.base())
	return c.post(path, f)
}

// savedConfig reads config.json as the gateway left it on disk.
func (e *env) savedConfig() *config.Config {
	e.t.Helper()
	// A test's gateway may have no source yet, as while commissioning.
	cfg, _, err := config.LoadUnfinished(filepath.Join(e.dir, "config.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	return cfg
}

// s3Medium is an s3 medium as typed into the page, with a disk section
// left holding junk: only the chosen type's fields are read.
func s3Medium() url.Values {
	return url.Values{"orig": {""}, "name": {"cloud"}, "type": {"s3"}, "relay": {""},
		"s3.endpoint": {"127.0.0.1:9000"}, "s3.region": {"ap-northeast-1"}, "s3.bucket": {"Bad_Bucket"}, "s3.prefix": {"danzen/emr"},
		"s3.access_key_id": {"DANZENTESTKEY"}, "s3.secret_key_file": {""}, "s3.min_retention_days": {"3650"},
		"s3.appear_timeout": {"2m"}, "disk.appear_timeout": {"not a duration"}, "tape.record_size": {"x"}}
}

func tapeMedium() url.Values {
	return url.Values{"orig": {""}, "name": {"lto"}, "type": {"tape"}, "relay": {"r-tape"},
		"tape.device": {"/dev/nst7"}, "tape.spool_dir": {"/perm/danzen/spool-lto"}, "tape.record_size": {"1000"},
		"tape.gone_timeout": {"45s"}, "disk.fs_uuid": {"not-a-uuid"}, "s3.min_retention_days": {"x"}}
}

func TestS3AndTapeMediaThroughTheForm(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	if r := c.postWithBase("/config/relay", url.Values{"orig": {""}, "name": {"r-tape"}, "driver": {"simulated"}, "line": {"0"}, "sense.line": {"1"}, "sense": {"on"}}); r.code != http.StatusSeeOther {
		t.Fatalf("add relay: %d\n%s", r.code, r.body)
	}
	// The new medium's form offers every type and each type's settings,
	// with the script that hides the others.
	form := c.get("/config/medium").body
	for _, want := range []string{`<option value="disk" selected>`, `<option value="s3">`, `<option value="tape">`,
		`data-variant="disk"`, `data-variant="s3"`, `data-variant="tape"`, `name="s3.bucket"`, `name="tape.record_size"`, `src="/static/form.js"`} {
		if !strings.Contains(form, want) {
			t.Errorf("the medium form lacks %s", want)
		}
	}
	if r := c.get("/static/form.js"); r.code != http.StatusOK || !strings.Contains(r.body, "data-variant") {
		t.Errorf("form.js: %d", r.code)
	}
	for _, p := range []string{"/config/medium/secret", "/config/target/key", "/config/restore", "/config/target", "/config/target/delete"} {
		if r := c.do("POST", p, url.Values{"orig": {"cloud"}, "op": {"secret_key"}, "secret_key": {"x"}}); r.code != http.StatusForbidden {
			t.Errorf("POST %s without the CSRF token: %d, want 403", p, r.code)
		}
	}

	// s3: a bad bucket name and a retention shorter than the kept
	// generations are shown beside their fields; the junk in the disk and
	// tape sections is not read.
	f := s3Medium()
	f.Set("s3.min_retention_days", "3")
	r := c.postWithBase("/config/medium", f)
	if errs := fieldErrors(r.body, "s3.bucket"); r.code != http.StatusOK || len(errs) != 1 || !strings.Contains(errs[0], "バケット名は3〜63文字") {
		t.Fatalf("bad bucket: %d %q\n%s", r.code, errs, r.body)
	}
	if errs := fieldErrors(r.body, "s3.min_retention_days"); len(errs) != 1 || !strings.Contains(errs[0], "日以上にしてください") {
		t.Fatalf("short retention: %q", errs)
	}
	if len(fieldErrors(r.body, "disk.appear_timeout"))+len(fieldErrors(r.body, "tape.record_size")) != 0 || strings.Contains(r.body, `id="other-errors"`) {
		t.Fatalf("other types' fields were read, or a message has no field:\n%s", r.body)
	}
	if !strings.Contains(r.body, `value="Bad_Bucket"`) {
		t.Fatal("the typed bucket is not shown beside its message")
	}
	// English messages in English.
	if r := c.postWithBase("/config/medium?lang=en", s3Medium()); !contains(fieldErrors(r.body, "s3.bucket"), "bucket names are 3–63") {
		t.Fatalf("English bucket message: %q", fieldErrors(r.body, "s3.bucket"))
	}
	c.get("/?lang=ja")
	if len(e.g.Config().Media) != 0 {
		t.Fatal("an invalid medium was saved")
	}

	f = s3Medium()
	f.Set("s3.bucket", "danzen-emr")
	if r := c.postWithBase("/config/medium", f); r.code != http.StatusSeeOther || r.location != "/config?done=saved" {
		t.Fatalf("save s3: %d %s\n%s", r.code, r.location, r.body)
	}
	disk := e.savedConfig()
	m, err := disk.Medium("cloud")
	if err != nil || m.Type != config.MediumS3 || m.S3 == nil || m.Disk != nil || m.Tape != nil || m.Relay != "" {
		t.Fatalf("s3 medium on disk: %+v %v", m, err)
	}
	if x := *m.S3; x.Name != "cloud" || x.Endpoint != "127.0.0.1:9000" || x.Region != "ap-northeast-1" || x.Bucket != "danzen-emr" ||
		x.Prefix != "danzen/emr" || x.AccessKeyID != "DANZENTESTKEY" || x.SecretKeyFile != "cloud.s3-secret-key" ||
		x.MinRetentionDays != 3650 || time.Duration(x.AppearTimeout) != 2*time.Minute || m.PasswordFile != "cloud.restic-password" {
		t.Fatalf("s3 settings on disk: %+v", x)
	}
	if live, _ := e.g.Config().Medium("cloud"); live == nil || live.S3 == nil {
		t.Fatal("the s3 medium is not in use without a reboot")
	}

	// The secret key is only ever replaced: its state is shown, never it.
	page := c.get("/config/medium?name=cloud").body
	if !strings.Contains(page, `id="s3-secret-section"`) || !strings.Contains(page, "紙に書き写して読み合わせ") || !strings.Contains(page, "未設定") || !strings.Contains(page, `type="password" name="secret_key"`) {
		t.Fatalf("the s3 secret section:\n%s", page)
	}
	secret := "PLANTED/s3+secret" + strconv.FormatInt(time.Now().UnixNano(), 36)
	r = c.post("/config/medium/secret", url.Values{"orig": {"cloud"}, "op": {"secret_key"}, "secret_key": {secret + " tail"}})
	if r.code != http.StatusOK || !strings.Contains(r.body, "空白を含まない1行") {
		t.Fatalf("a key with a space: %d %s", r.code, r.body)
	}
	if r := c.post("/config/medium/secret", url.Values{"orig": {"cloud"}, "op": {"secret_key"}, "secret_key": {"  " + secret + "\n"}}); r.code != http.StatusSeeOther {
		t.Fatalf("replace the secret key: %d %s", r.code, r.body)
	}
	keyPath := filepath.Join(e.cfg.SecretsDir, "cloud.s3-secret-key")
	if got, err := os.ReadFile(keyPath); err != nil || strings.TrimSpace(string(got)) != secret {
		t.Fatalf("secret key file: %q %v", got, err)
	}
	if fi, _ := os.Stat(keyPath); fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret key mode %o", fi.Mode().Perm())
	}
	if page := c.get("/config/medium?name=cloud&done=secret").body; !strings.Contains(page, "設定済み(0600、内容は表示しません)") {
		t.Fatal("the secret key's presence is not shown")
	}
	es := e.entries(ledger.KindSecretReplaced)
	if len(es) != 1 || es[0].Actor != "admin" || es[0].Medium != "cloud" {
		t.Fatalf("replacement not recorded: %+v", es)
	}
	// A CA bundle needs a file name first, and must be certificates.
	ca := selfSignedPEM(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), nil).cert
	if r := c.post("/config/medium/secret", url.Values{"orig": {"cloud"}, "op": {"ca"}, "ca": {string(ca)}}); !strings.Contains(r.body, "CA証明書ファイル名を設定") {
		t.Fatalf("a CA without a file name: %s", r.body)
	}
	f.Set("orig", "cloud")
	f.Set("s3.secret_key_file", "cloud.s3-secret-key")
	f.Set("s3.ca_file", "cloud-ca.pem")
	if r := c.postWithBase("/config/medium", f); r.code != http.StatusSeeOther {
		t.Fatalf("set the CA file: %d\n%s", r.code, r.body)
	}
	if r := c.post("/config/medium/secret", url.Values{"orig": {"cloud"}, "op": {"ca"}, "ca": {"not a certificate"}}); !strings.Contains(r.body, "PEM 形式の証明書として読めません") {
		t.Fatalf("a bad CA: %s", r.body)
	}
	if r := c.post("/config/medium/secret", url.Values{"orig": {"cloud"}, "op": {"ca"}, "ca": {string(ca)}}); r.code != http.StatusSeeOther {
		t.Fatalf("CA upload: %d %s", r.code, r.body)
	}
	if got, _ := os.ReadFile(filepath.Join(e.cfg.SecretsDir, "cloud-ca.pem")); !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(ca)) {
		t.Fatal("the CA bundle was not stored")
	}
	if got, _ := os.ReadFile(keyPath); strings.TrimSpace(string(got)) != secret {
		t.Fatal("saving the form changed the secret key")
	}

	// tape: a bad record size is shown beside it; a tape needs a relay.
	f = tapeMedium()
	f.Set("relay", "")
	r = c.postWithBase("/config/medium", f)
	if errs := fieldErrors(r.body, "tape.record_size"); len(errs) != 1 || !strings.Contains(errs[0], "レコード長は 262144〜1048576") {
		t.Fatalf("bad record size: %q\n%s", errs, r.body)
	}
	if errs := fieldErrors(r.body, "relay"); len(errs) != 1 || !strings.Contains(errs[0], "リレーを指定") {
		t.Fatalf("a tape without a relay: %q", errs)
	}
	if len(fieldErrors(r.body, "disk.fs_uuid"))+len(fieldErrors(r.body, "s3.min_retention_days")) != 0 || strings.Contains(r.body, `id="other-errors"`) {
		t.Fatalf("other types' fields were read:\n%s", r.body)
	}
	f = tapeMedium()
	f.Set("tape.record_size", "262144")
	if r := c.postWithBase("/config/medium", f); r.code != http.StatusSeeOther {
		t.Fatalf("save tape: %d\n%s", r.code, r.body)
	}
	disk = e.savedConfig()
	if m, err := disk.Medium("lto"); err != nil || m.Tape == nil || m.Disk != nil || m.S3 != nil || m.Relay != "r-tape" ||
		m.Tape.Name != "lto" || m.Tape.Device != "/dev/nst7" || m.Tape.SpoolDir != "/perm/danzen/spool-lto" || m.Tape.RecordSize != 262144 ||
		time.Duration(m.Tape.GoneTimeout) != 45*time.Second {
		t.Fatalf("tape medium on disk: %+v %v", m, err)
	}
	raw, _ := os.ReadFile(filepath.Join(e.dir, "config.json"))
	var onDisk struct{ Media []map[string]json.RawMessage }
	if err := json.Unmarshal(raw, &onDisk); err != nil || len(onDisk.Media) != 2 {
		t.Fatalf("config.json: %v", err)
	}
	for _, m := range onDisk.Media {
		if _, ok := m["disk"]; ok {
			t.Fatalf("a dropped type's settings were saved: %s", raw)
		}
	}

	// A medium changes type: the old type's settings go.
	f = tapeMedium()
	f.Set("orig", "lto")
	f.Set("type", "disk")
	f.Set("disk.fs_uuid", "0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d")
	f.Set("disk.media_id", "DANZEN-LTO")
	if r := c.postWithBase("/config/medium", f); r.code != http.StatusSeeOther {
		t.Fatalf("change type: %d\n%s", r.code, r.body)
	}
	if m, _ := e.savedConfig().Medium("lto"); m.Disk == nil || m.Tape != nil || m.Disk.Name != "lto" {
		t.Fatalf("after the type change: %+v", m)
	}

	// The overview lists both with links to their forms.
	ov := htmlUnescape(c.get("/config").body)
	for _, want := range []string{`href="/config/medium?name=cloud"`, "S3 クラウド(Object Lock)、リレー なし、127.0.0.1:9000/danzen-emr/danzen/emr、最低保持 3650 日",
		`href="/config/medium?name=lto"`} {
		if !strings.Contains(ov, want) {
			t.Errorf("overview lacks %s", want)
		}
	}
	if strings.Contains(e.logs.String(), secret) || strings.Contains(e.ledgerText(), secret) {
		t.Fatal("the secret key is in the log or the ledger")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range e.bodies {
		if strings.Contains(b, secret) || strings.Contains(htmlUnescape(b), secret) || strings.Contains(b, url.QueryEscape(secret)) {
			t.Fatal("a response contains the s3 secret key")
		}
	}
}

// restoreTargetForm is the send-back account of the rig's sshd as typed
// into the page.
func restoreTargetForm(x *rig.Rig, op string) url.Values {
	return url.Values{"orig": {""}, "name": {"emr-back"}, "host": {"127.0.0.1"}, "port": {strconv.Itoa(x.SSHD.Port)},
		"user": {sshdtest.RestoreUser}, "key_file": {"emr-back.key"}, "base_dir": {"/restore"}, "op": {op}}
}

func TestRestoreSettingsAndSendBackTargets(t *testing.T) {
	x := rig.New(t, nil, nil, 0)
	// The page fetches host keys from the real sshd (no fake fetcher).
	e := newEnv(t, envOptions{configure: func(_ string, cfg *config.Config) {
		// The pull key moves into this gateway's secrets/, where keys sit.
		cfg.Sources = append([]config.Source(nil), x.Cfg.Sources...)
		key, err := os.ReadFile(x.SSHD.ClientKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Sources[0].KeyFile = "emr.key"
		if err := os.MkdirAll(cfg.SecretsDir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg.KeyPath("emr.key"), key, 0o600); err != nil {
			t.Fatal(err)
		}
	}})
	c := e.login("admin", adminPW)

	// Restore window and drill schedule.
	r := c.postWithBase("/config/restore", url.Values{"restore.window": {"5m"}, "restore.drill_schedule": {"once a year"}})
	if errs := fieldErrors(r.body, "restore.window"); r.code != http.StatusOK || len(errs) != 1 || !strings.Contains(errs[0], "10分〜72時間") {
		t.Fatalf("short window: %d %q", r.code, errs)
	}
	if errs := fieldErrors(r.body, "restore.drill_schedule"); len(errs) != 1 || !strings.Contains(htmlUnescape(errs[0]), `"0 10 1 4 *"`) {
		t.Fatalf("bad drill schedule: %q", fieldErrors(r.body, "restore.drill_schedule"))
	}
	if !strings.Contains(htmlUnescape(c.get("/config/restore").body), `"0 10 1 4 *"`) {
		t.Error("the form does not hint at a yearly drill")
	}
	if r := c.postWithBase("/config/restore", url.Values{"restore.window": {"2h"}, "restore.drill_schedule": {"0 10 1 4 *"}}); r.code != http.StatusSeeOther {
		t.Fatalf("save restore settings: %d\n%s", r.code, r.body)
	}
	if rs := e.g.Config().Restore; rs.DrillSchedule != "0 10 1 4 *" || rs.Window.Std() != 2*time.Hour {
		t.Fatalf("not in effect: %+v", rs)
	}
	if rs := e.savedConfig().Restore; rs.DrillSchedule != "0 10 1 4 *" {
		t.Fatalf("not saved: %+v", rs)
	}

	// A target that is the pull account, or uses its key, is refused
	// beside the field.
	f := restoreTargetForm(x, "save")
	f.Set("user", sshdtest.User)
	f.Set("key_file", "emr.key")
	r = c.postWithBase("/config/target", f)
	if errs := fieldErrors(r.body, "user"); r.code != http.StatusOK || len(errs) != 1 || !strings.Contains(errs[0], "取得元 emr の読み取り専用アカウントと同じです") {
		t.Fatalf("pull account as target: %d %q\n%s", r.code, errs, r.body)
	}
	if errs := fieldErrors(r.body, "key_file"); len(errs) != 1 || !strings.Contains(errs[0], "取得元 emr と同じ鍵です") {
		t.Fatalf("pull key as target key: %q", errs)
	}
	if len(e.g.Config().Restore.Targets) != 0 {
		t.Fatal("a refused target was saved")
	}

	// The host key: fetched from the real sshd and shown, pinned only after
	// the confirmation, and the same as the one sshd was started with.
	_, _, want, _, _, err := ssh.ParseKnownHosts([]byte(x.SSHD.KnownHosts))
	if err != nil {
		t.Fatal(err)
	}
	fp := ssh.FingerprintSHA256(want)
	r = c.postWithBase("/config/target", restoreTargetForm(x, "fetch"))
	if !strings.Contains(htmlUnescape(r.body), fp) || !strings.Contains(r.body, `id="pin-confirm"`) {
		t.Fatalf("fetch does not show the sshd's fingerprint %s:\n%s", fp, r.body)
	}
	if len(e.g.Config().Restore.Targets) != 0 {
		t.Fatal("fetching saved the target")
	}
	f = restoreTargetForm(x, "save")
	f.Set("pin_fp", fp)
	if r := c.postWithBase("/config/target", f); !strings.Contains(r.body, `id="pin-error"`) || len(e.g.Config().Restore.Targets) != 0 {
		t.Fatal("pinned without the confirmation tick")
	}
	f.Set("pin_confirm", "on")
	// A send-back target is guarded: the password typed again.
	f.Set("reauth_password", "")
	if r := c.postWithBase("/config/target", f); !strings.Contains(r.body, "パスワードをもう一度入力してください") || len(e.g.Config().Restore.Targets) != 0 {
		t.Fatalf("a target was saved without the password:\n%s", r.body)
	}
	f.Del("reauth_password")
	if r := c.postWithBase("/config/target", f); r.code != http.StatusSeeOther || r.location != "/config?done=pinned" {
		t.Fatalf("confirmed pin: %d %s\n%s", r.code, r.location, r.body)
	}
	tg, err := e.g.Config().RestoreTarget("emr-back")
	if err != nil || len(tg.KnownHosts) != 1 || tg.User != sshdtest.RestoreUser || tg.BaseDir != "/restore" {
		t.Fatalf("target: %+v %v", tg, err)
	}
	_, hosts, got, _, _, err := ssh.ParseKnownHosts([]byte(tg.KnownHosts[0]))
	if err != nil || !bytes.Equal(got.Marshal(), want.Marshal()) || len(hosts) != 1 || hosts[0] != "[127.0.0.1]:"+strconv.Itoa(x.SSHD.Port) {
		t.Fatalf("pinned %q: %v", tg.KnownHosts[0], err)
	}
	if saved, err := e.savedConfig().RestoreTarget("emr-back"); err != nil || len(saved.KnownHosts) != 1 {
		t.Fatalf("target not saved: %v", err)
	}
	pins := e.entries(ledger.KindHostKeyPinned)
	if len(pins) != 1 || pins[0].Actor != "admin" {
		t.Fatalf("pin not recorded: %+v", pins)
	}
	if d, err := ledger.Decode[ledger.HostKeyPinnedData](pins[0]); err != nil || d.Target != "emr-back" || d.Fingerprint != fp {
		t.Fatalf("pin not recorded: %+v", pins)
	}

	// The target's key is uploaded like a source's: stored 0600, its
	// public key shown, the key itself never.
	key, err := os.ReadFile(x.SSHD.RestoreKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.post("/config/target/key", url.Values{"orig": {"emr-back"}, "op": {"upload"}, "key": {string(key)}}); r.code != http.StatusSeeOther || r.location != "/config/target?name=emr-back&done=key" {
		t.Fatalf("key upload: %d %s %s", r.code, r.location, r.body)
	}
	stored := filepath.Join(e.cfg.SecretsDir, "emr-back.key")
	if got, err := os.ReadFile(stored); err != nil || !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(key)) {
		t.Fatalf("key not stored: %v", err)
	}
	if fi, _ := os.Stat(stored); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %o", fi.Mode().Perm())
	}
	signer, _ := ssh.ParsePrivateKey(key)
	page := htmlUnescape(c.get("/config/target?name=emr-back").body)
	if !strings.Contains(page, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))) || !strings.Contains(page, ssh.FingerprintSHA256(want)) {
		t.Fatal("the target's page lacks its public key or its pinned host key")
	}
	ks := e.entries(ledger.KindSecretReplaced)
	if len(ks) != 1 {
		t.Fatalf("key replacement not recorded: %+v", ks)
	}
	if kd, err := ledger.Decode[ledger.SecretReplacedData](ks[0]); err != nil || kd.Target != "emr-back" {
		t.Fatalf("key replacement not recorded: %+v", ks)
	}
	// The saved target now connects to the write account with the pinned
	// key and the uploaded key: the send-back path is usable.
	cl, err := ssh.Dial("tcp", x.SSHD.Addr(), &ssh.ClientConfig{User: tg.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(got), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("connect with the saved target: %v", err)
	}
	if err := cl.Close(); err != nil {
		t.Error(err)
	}

	// The overview lists the restore settings and the target.
	ov := htmlUnescape(c.get("/config").body)
	for _, want := range []string{`id="edit-restore"`, "毎年4月1日 10:00(0 10 1 4 *)", "2時間", `href="/config/target?name=emr-back"`,
		sshdtest.RestoreUser + "@127.0.0.1:" + strconv.Itoa(x.SSHD.Port) + " /restore、ホスト鍵 1件", "ホスト鍵を登録: emr-back"} {
		if !strings.Contains(ov, want) {
			t.Errorf("overview lacks %s", want)
		}
	}
	for _, b := range e.bodies {
		for _, s := range secretLines(string(key)) {
			if strings.Contains(b, s) {
				t.Fatal("a response contains the target's private key")
			}
		}
	}
	// An S3 secret is never written over the target's SSH key.
	f = s3Medium()
	f.Set("s3.bucket", "danzen-emr")
	f.Set("s3.secret_key_file", "emr-back.key")
	if r := c.postWithBase("/config/medium", f); r.code != http.StatusSeeOther {
		t.Fatalf("save s3: %d\n%s", r.code, r.body)
	}
	if r := c.post("/config/medium/secret", url.Values{"orig": {"cloud"}, "op": {"secret_key"}, "secret_key": {"overwrite"}}); !strings.Contains(r.body, "他の秘密情報が使っています") {
		t.Fatalf("an S3 secret over an SSH key: %d %s", r.code, r.body)
	}
	if r := c.post("/config/target/key", url.Values{"orig": {"emr-back"}, "op": {"generate"}}); !strings.Contains(r.body, "他の秘密情報が使っています") {
		t.Fatalf("an SSH key over an S3 secret: %d %s", r.code, r.body)
	}
	if got, _ := os.ReadFile(stored); !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(key)) {
		t.Fatal("the target's key was overwritten")
	}
	// Deleting a medium waits for its waiting period (gateway/pending.go).
	if r := c.postWithBase("/config/medium/delete", url.Values{"orig": {"cloud"}}); r.code != http.StatusSeeOther || r.location != "/config?done=held" {
		t.Fatalf("delete medium: %d %s", r.code, r.location)
	}
	if r := c.postWithBase("/config/target/delete", url.Values{"orig": {"emr-back"}}); r.code != http.StatusSeeOther || len(e.g.Config().Restore.Targets) != 0 {
		t.Fatalf("delete target: %d", r.code)
	}
	if n := len(e.entries(ledger.KindConfigChange)); n != 4 {
		t.Errorf("%d configuration changes recorded, want 4 (the medium's removal is held)", n)
	}
	if ps, err := e.g.PendingChanges(); err != nil || len(ps) != 1 {
		t.Errorf("the medium's removal is not held: %+v %v", ps, err)
	}
}

// TestMediumTypesInBrowser switches a new medium to s3 in headless
// Chromium: form.js shows only the chosen type's settings, a bad bucket
// is shown beside its field with the s3 settings still in view, and the
// corrected form saves. Any console error fails.
func TestMediumTypesInBrowser(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser("/config/medium", "config-form")
	shown := func() string {
		t.Helper()
		s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("fieldset[data-variant]")].filter(f => f.offsetParent !== null).map(f => f.dataset.variant).join(",")`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// empty empties a field before typing into it, as a person would.
	empty := func(name string) {
		t.Helper()
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { document.querySelector('#config-form [name="`+name+`"]').value = ""; return true })()`)); err != nil {
			t.Fatal(err)
		}
	}
	if s := shown(); s != "disk" {
		t.Fatalf("a new medium shows %q, want the disk settings only", s)
	}
	// The person picks s3 from the list.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const s = document.querySelector('select[name="type"]'); s.value = "s3"; s.dispatchEvent(new Event("change")); return true })()`)); err != nil {
		t.Fatal(err)
	}
	if s := shown(); s != "s3" {
		t.Fatalf("after choosing s3 the page shows %q", s)
	}
	empty("s3.min_retention_days")
	b.step("fill", chromedp.SendKeys(chromedp.CSS(`[name="name"]`), "cloud"),
		chromedp.SendKeys(chromedp.CSS(`[name="s3.endpoint"]`), "127.0.0.1:9000"),
		chromedp.SendKeys(chromedp.CSS(`[name="s3.bucket"]`), "Bad_Bucket"),
		chromedp.SendKeys(chromedp.CSS(`[name="s3.access_key_id"]`), "DANZENTESTKEY"),
		chromedp.SendKeys(chromedp.CSS(`[name="s3.min_retention_days"]`), "3650"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.CSS(`.field-error[data-for="s3.bucket"]`)))
	if s := shown(); s != "s3" {
		t.Fatalf("the form shown again with its message shows %q", s)
	}
	b.shot("medium-s3-error")
	empty("s3.bucket")
	b.step("fix", chromedp.SendKeys(chromedp.CSS(`[name="s3.bucket"]`), "danzen-emr"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("flash")))
	if m, err := e.g.Config().Medium("cloud"); err != nil || m.S3 == nil || m.S3.Bucket != "danzen-emr" || m.Disk != nil {
		t.Fatalf("saved from the browser: %+v %v", m, err)
	}
}
