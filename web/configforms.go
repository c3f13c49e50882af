package web

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/gateway"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/media/tape"
)

// mediumSpecs copies each type's settings of m (zero for the types m is
// not), so the form can show and edit them all.
func mediumSpecs(m *config.Medium) (disk.Spec, s3.Spec, tape.Spec) {
	var d disk.Spec
	var x s3.Spec
	var t tape.Spec
	if m.Disk != nil {
		d = *m.Disk
	}
	if m.S3 != nil {
		x = *m.S3
	}
	if m.Tape != nil {
		t = *m.Tape
	}
	return d, x, t
}

// s3SecretName is the secret key file a new s3 medium gets.
func s3SecretName(medium string) string { return medium + ".s3-secret-key" }

func s3Bindings(x *s3.Spec) bindings {
	sec := msg.T("S3 バケット(種類 s3)", "S3 bucket (type s3)")
	var b bindings
	g, s := bindString(&x.Endpoint)
	b.add(sec, "s3.endpoint", msg.T("エンドポイント", "Endpoint"), msg.T("ホスト名またはホスト名:ポート(https:// は付けません)。常に HTTPS", "host or host:port, without https://; always HTTPS"), textField, g, s)
	g, s = bindString(&x.Region)
	b.add(sec, "s3.region", msg.T("リージョン", "Region"), msg.T("例: ap-northeast-1。空欄は us-east-1", "e.g. ap-northeast-1; empty is us-east-1"), textField, g, s)
	g, s = bindString(&x.Bucket)
	b.add(sec, "s3.bucket", msg.T("バケット", "Bucket"), msg.T("バージョニングと Object Lock(COMPLIANCE)を有効にしたバケット", "a bucket with versioning and Object Lock (COMPLIANCE) enabled"), textField, g, s)
	g, s = bindString(&x.Prefix)
	b.add(sec, "s3.prefix", msg.T("フォルダ", "Prefix"), msg.T("バケット内のフォルダ(例: danzen/emr)。空欄はバケット直下", "the folder inside the bucket (e.g. danzen/emr); empty is the root"), textField, g, s)
	g, s = bindString(&x.AccessKeyID)
	b.add(sec, "s3.access_key_id", msg.T("アクセスキーID", "Access key ID"), msg.T("削除権限(DeleteObjectVersion 等)のないキー", "a key without delete rights (DeleteObjectVersion and the like)"), textField, g, s)
	g, s = bindString(&x.SecretKeyFile)
	b.add(sec, "s3.secret_key_file", msg.T("シークレットキーのファイル名", "Secret key file name"), msg.T("secrets 内。空欄なら <名前>.s3-secret-key。キーは下で置き換えます(表示されません)", "under secrets; empty gives <name>.s3-secret-key; replace the key itself below (never shown)"), textField, g, s)
	g, s = bindString(&x.CAFile)
	b.add(sec, "s3.ca_file", msg.T("CA証明書ファイル", "CA file"), msg.T("院内のオブジェクトストレージ用(任意)。secrets 内のファイル名か絶対パス", "for an on-premise object store (optional): a file name under secrets or an absolute path"), textField, g, s)
	g, s = bindInt(&x.MinRetentionDays)
	b.add(sec, "s3.min_retention_days", msg.T("最低保持日数", "Minimum retention (days)"), msg.T("バケットの既定保持期間(COMPLIANCE)がこれ未満なら書き込みません。保持する世代の期間以上", "the bucket's default retention (COMPLIANCE) must be at least this, or nothing is written; at least the span of the kept generations"), numberField, g, s)
	b.addTimeouts(sec, "s3.", &x.AppearTimeout, &x.GoneTimeout)
	return b.of(config.MediumS3)
}

func tapeBindings(t *tape.Spec) bindings {
	sec := msg.T("LTO テープ(種類 tape)", "LTO tape (type tape)")
	var b bindings
	g, s := bindString(&t.Device)
	b.add(sec, "tape.device", msg.T("テープ装置", "Tape device"), msg.Sprintf("巻き戻さない st 装置。空欄は %s", "the non-rewinding st node; empty is %s", tape.DefaultDevice), textField, g, s)
	g, s = bindString(&t.SpoolDir)
	b.add(sec, "tape.spool_dir", msg.T("スプール用フォルダ", "Spool directory"), msg.T("ゲートウェイ上のリポジトリ(リポジトリの2倍の空きが必要)", "holds the repository on the gateway (needs twice its size free)"), textField, g, s)
	g, s = bindInt(&t.RecordSize)
	b.add(sec, "tape.record_size", msg.T("レコード長(バイト)", "Record size (bytes)"), msg.Sprintf("%d〜%d の 512 の倍数。0 は %d", "a multiple of 512 from %d to %d; 0 is %d", tape.MinRecordSize, tape.MaxRecordSize, tape.DefaultRecordSize), numberField, g, s)
	b.addTimeouts(sec, "tape.", &t.AppearTimeout, &t.GoneTimeout)
	return b.of(config.MediumTape)
}

// restoreItem edits how restores and drills run.
func restoreItem(c *config.Config, _ string) (item, bool) {
	sec := msg.T("復元と訓練", "Restore and drills")
	var b bindings
	g, s := bindDuration(&c.Restore.Window)
	b.add(sec, "restore.window", msg.T("復元の通電時間", "Restore window"), msg.T("期限を指定しない復元・訓練はこの時間で切断します(10分〜72時間、例: 4時間)", "a restore or drill without a deadline is cut after this (10 minutes to 72 hours, e.g. 4 hours)"), durationField, g, s)
	g, s = bindString(&c.Restore.DrillSchedule)
	b.add(sec, "restore.drill_schedule", msg.T("復元訓練の実行時刻", "Drill schedule"), msg.T("年1回の例: \"0 10 1 4 *\"(4月1日 10:00)。空欄は手動のみ", "yearly: \"0 10 1 4 *\" (1 April, 10:00); empty for on demand only"), scheduleField, g, s)
	return item{binds: b, commit: func() {}}, true
}

// targetItem edits a write-enabled account restored files go back to.
// It is an SSH account like a source's, with the same key and host-key
// flows; the configuration refuses one that is a pull account.
func targetItem(c *config.Config, name string) (item, bool) {
	ts := &c.Restore.Targets
	i := slices.IndexFunc(*ts, func(t config.RestoreTarget) bool { return t.Name == name })
	if name == "" {
		*ts = append(*ts, config.RestoreTarget{Port: 22})
		i = len(*ts) - 1
	}
	if i < 0 {
		return item{}, false
	}
	t := &(*ts)[i]
	conn := msg.T("接続(書き込み用アカウント)", "Connection (write account)")
	acct := &sshAccount{kind: "target", name: &t.Name, host: &t.Host, port: &t.Port, user: &t.User, keyFile: &t.KeyFile, knownHosts: &t.KnownHosts}
	var b bindings
	b.addAccount(conn, acct, [3]msg.Text{{}, msg.T("書き込みできる別のアカウント。取得用(読み取り専用)のアカウントは使えません", "a separate account that may write; never the read-only pull account"),
		msg.T("secrets 内のファイル名。取得用とは別の鍵。鍵の中身は下で置き換えます", "a file name under secrets, not the pull key's; replace the key itself below")})
	g, s := bindString(&t.BaseDir)
	b.add(conn, "base_dir", msg.T("書き戻し先の親フォルダ", "Parent directory"), msg.T("サーバ上のパス(/ で始まる)。復元ごとにこの下にフォルダを作ります", "the path on the server (starts with /); each restore creates a directory below it"), textField, g, s)
	return item{prefix: fmt.Sprintf("restore.targets[%d]", i), binds: b, ssh: acct, commit: func() {}}, true
}

func removeTarget(c *config.Config, name string) bool {
	return removeNamed(&c.Restore.Targets, name, func(t config.RestoreTarget) string { return t.Name })
}

// s3Secrets is the state of an s3 medium's secret key and CA bundle;
// the key is only ever replaced, never shown.
type s3Secrets struct {
	Key, CA       msg.Text
	KeyBad, CABad bool
	Action        string
}

func s3State(cfg *config.Config, m *config.Medium) *s3Secrets {
	x := &s3Secrets{Action: "/config/medium/secret"}
	if p, err := secretPath(cfg, m.S3.SecretKeyFile, s3Secret); err != nil {
		x.Key, x.KeyBad = msg.TextOf(err), true
	} else {
		st := secretState(p)
		x.Key, x.KeyBad = st.text, !st.ok
	}
	switch {
	case m.S3.CAFile == "":
		x.CA = msg.T("なし(システムの認証局を使います)", "none (the system's authorities are used)")
	case filepath.IsAbs(m.S3.CAFile):
		x.CA = msg.Plain(m.S3.CAFile)
	default:
		st := secretState(cfg.KeyPath(m.S3.CAFile))
		x.CA, x.CABad = st.text, !st.ok
	}
	return x
}

// s3Upload is what a secret form of an s3 medium replaces: the file
// name, its new content and what it is, for the ledger.
func s3Upload(r *http.Request, m *config.Medium) (file, content, what string, err error) {
	if r.PostFormValue("op") != "ca" {
		content = strings.TrimSpace(r.PostFormValue("secret_key"))
		if content == "" || strings.ContainsAny(content, " \t\r\n") {
			// The message never quotes what was typed.
			return "", "", "", msg.New("シークレットキーは空白を含まない1行です(保存していません)", "the secret key is one line without spaces (nothing was saved)")
		}
		return m.S3.SecretKeyFile, content, "secret_key", nil
	}
	content = strings.TrimSpace(r.PostFormValue("ca"))
	if m.S3.CAFile == "" {
		return "", "", "", msg.New("先に CA証明書ファイル名を設定してください", "set the CA file name first")
	}
	if !x509.NewCertPool().AppendCertsFromPEM([]byte(content)) {
		return "", "", "", msg.New("PEM 形式の証明書として読めません(保存していません)", "not a PEM certificate bundle (nothing was saved)")
	}
	return m.S3.CAFile, content, "ca", nil
}

// mediumSecret replaces an s3 medium's secret key or CA bundle under
// secrets. The key is written 0600 and never shown or recorded; the
// ledger records that it changed.
func (s *Server) mediumSecret(w http.ResponseWriter, r *http.Request) {
	cfg := s.core.Config()
	name := r.PostFormValue("orig")
	back := "/config/medium?name=" + url.QueryEscape(name)
	m, err := cfg.Medium(name)
	if err != nil || m.Type != config.MediumS3 || m.S3 == nil {
		s.message(w, r, http.StatusOK, msg.T("先に種類 s3 の媒体として保存してください", "save it as an s3 medium first"), true, "/config")
		return
	}
	file, content, what, err := s3Upload(r, m)
	if err != nil {
		s.failure(w, r, http.StatusOK, err, back)
		return
	}
	p, err := secretPath(cfg, file, s3Secret)
	if err != nil {
		s.failure(w, r, http.StatusOK, err, back)
		return
	}
	if err := atomicfile.Write(p, []byte(content+"\n"), 0o600); err != nil {
		s.log.Error("write s3 secret", "medium", name, "err", err)
		s.failure(w, r, http.StatusInternalServerError, msg.Wrap(err, "保存できません", "cannot save"), back)
		return
	}
	s.record(r.Context(), ledger.Entry{Kind: ledger.KindSecretReplaced, Actor: actor(r), Medium: name, Message: msg.T("S3 の秘密情報を置き換え", "S3 secret replaced"),
		Payload: ledger.SecretReplacedData{Medium: name, File: filepath.Base(p), What: what}})
	http.Redirect(w, r, back+"&done=secret", http.StatusSeeOther)
}

// mediumRow summarises a medium for the overview: what identifies it and
// what proves it offline.
func mediumRow(m config.Medium, edit string) row {
	relay := msg.Plain(m.Relay)
	if m.Relay == "" {
		relay = msg.T("なし", "none")
	}
	r := row{Name: m.Name, Edit: edit}
	t, ok := gateway.MediumTypeOf(m.Type)
	if !ok || !t.Configured(m) {
		r.Summary, r.Bad = msg.Sprintf("%s(設定が不完全です)", "%s (incomplete)", m.Type), true
		return r
	}
	r.Summary = msg.Sprintf("%s、リレー %s、%s", "%s, relay %s, %s", t.Label, relay, t.Describe(m))
	return r
}
