package web

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/gateway"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/hostkey"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
)

// cloneConfig copies c deeply, so a form edits a copy and the gateway's
// configuration is only ever replaced whole.
func cloneConfig(c *config.Config) (*config.Config, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("copy the configuration: %w", err)
	}
	var out config.Config
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("copy the configuration: %w", err)
	}
	return &out, nil
}

// versionOf names a configuration's content. Forms carry it, so a change
// made meanwhile elsewhere is not silently overwritten.
func versionOf(c *config.Config) string {
	b, _ := json.Marshal(c) // plain data: it always encodes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// item is one editable thing in a configuration copy: its validation path
// prefix, its fields, and commit, run after the fields are set.
type item struct {
	prefix string
	binds  []binding
	commit func()
	// variant, when set, says which type the item now has; fields of the
	// other types are neither read nor saved.
	variant func() string
	// ssh is set for an item that is an SSH account on the e-chart side.
	ssh *sshAccount
	// useAdapter, when set, takes the USB serial number of an adapter the
	// form lists (a relay module's "Use this adapter").
	useAdapter func(serial string)
}

// reads says whether a submitted form sets b. The type field comes
// before the fields that depend on it, so variant sees the new type.
func (it item) reads(b binding) bool {
	if b.readOnly || b.hidden {
		return false
	}
	return b.variant == "" || it.variant != nil && hasVariant(b.variant, it.variant())
}

// current are the item's bindings of its chosen type: the fields a
// validation message may stand beside (another type's field may share
// the setting's path, as a relay's GPIO chip and Modbus module do).
func (it item) current() []binding {
	if it.variant == nil {
		return it.binds
	}
	v := it.variant()
	return slices.DeleteFunc(slices.Clone(it.binds), func(b binding) bool { return !hasVariant(b.variant, v) })
}

// editor is one kind of form: the general settings, a source, a relay, a
// medium, the alerts, the restore settings or a send-back target.
type editor struct {
	heading msg.Text
	// find returns the item called name in c; name "" appends a new one
	// (general has exactly one item and ignores name).
	find   func(c *config.Config, name string) (item, bool)
	remove func(c *config.Config, name string) bool
	single bool
}

func (s *Server) editors() map[string]editor {
	return map[string]editor{
		"general": {heading: msg.T("全般・スケジュール・保持世代", "General, schedule and retention"), find: generalItem, single: true},
		"source":  {heading: msg.T("取得元(電子カルテサーバ)", "Source (e-chart server)"), find: sourceItem, remove: removeSource},
		"relay":   {heading: msg.T("リレー", "Relay"), find: relayItem, remove: removeRelay},
		"module":  {heading: msg.T("リレーモジュール(Modbus RTU)", "Relay module (Modbus RTU)"), find: moduleItem, remove: removeModule}, // relayform.go
		"medium":  {heading: msg.T("媒体", "Medium"), find: mediumItem, remove: removeMedium},
		"alerts":  {heading: msg.T("通知(メール・Webhook)", "Alerts (mail, webhook)"), find: alertsItem, single: true},
		"restore": {heading: msg.T("復元と訓練", "Restore and drills"), find: restoreItem, single: true},
		"target":  {heading: msg.T("書き戻し先(書き込み用アカウント)", "Send-back target (write account)"), find: targetItem, remove: removeTarget},
		"scan":    {heading: msg.T("自己診断の設定", "Self-scan settings"), find: scanItem, single: true}, // scanform.go
	}
}

func generalItem(c *config.Config, _ string) (item, bool) {
	basic := msg.T("基本", "Basics")
	sched := msg.T("スケジュール", "Schedule")
	keep := msg.T("保持世代(restic forget)", "Retention (restic forget)")
	var b bindings
	g, s := bindString(&c.GatewayID)
	b.add(basic, "gateway_id", msg.T("ゲートウェイID", "Gateway ID"), msg.T("スナップショットと証跡に記録される名前。変更しないでください", "recorded in snapshots and the ledger; keep it stable"), textField, g, s)
	g, s = bindRate(&c.BandwidthLimit)
	b.add(basic, "bandwidth_limit", msg.T("取得の帯域制限", "Pull bandwidth limit"), msg.T("例: 40MB/s、制限なしは 0", "e.g. 40MB/s; 0 for no limit"), textField, g, s)
	g, s = bindString(&c.CheckSubset)
	b.add(basic, "check_read_data_subset", msg.T("検査で読むデータの割合", "Data read by each check"), msg.T("restic check --read-data-subset(例: 5%、空欄は構造のみ)", "restic check --read-data-subset (e.g. 5%; empty checks the structure only)"), textField, g, s)
	g, s = bindString(&c.Schedule)
	b.add(sched, "schedule", msg.T("実行時刻", "When cycles run"), msg.T("\"daily 02:00\" または5項目の cron 式(例: 30 1 * * 1-5)", "\"daily 02:00\" or five cron fields (e.g. 30 1 * * 1-5)"), scheduleField, g, s)
	g, s = bindInt(&c.Rotation.PerCycle)
	b.add(sched, "rotation.per_cycle", msg.T("1回に書き込む媒体数", "Media written per cycle"), msg.T("書き込みの古い順。0 はすべて", "least recently written first; 0 for all"), numberField, g, s)
	g, s = bindBool(&c.Offsite.Expected) // the off-site rotation (offsite.go)
	b.add(sched, "offsite.expected", msg.T("院外保管の輪番を行う", "Keep a medium off-site in turn"), msg.T("オンにすると、すべての媒体が下の期間を超えてサーバ室にあるときに警報を出します", "when on, an alert is raised while every medium has been in the server room longer than the period below"), checkField, g, s)
	g, s = bindDuration(&c.Offsite.MaxAllHome)
	b.add(sched, "offsite.max_all_home", msg.T("全媒体がサーバ室にある許容期間", "Longest time every medium may be home"), msg.T("例: 14d(1〜365日)", "e.g. 14d (1 to 365 days)"), durationField, g, s)
	il := interlockFields(&b, c) // the optional timer interlock (below)
	g, s = bindInt(&c.Retention.KeepLast)
	b.add(keep, "retention.keep_last", msg.T("最新から保持する世代数", "Generations kept (latest)"), msg.T("ガイドラインQ&Aの例: 電子カルテ 5 世代", "the guideline's example: 5 for the e-chart"), numberField, g, s)
	g, s = bindInt(&c.Retention.KeepDaily)
	b.add(keep, "retention.keep_daily", msg.T("日次で保持", "Daily kept"), msg.Text{}, numberField, g, s)
	g, s = bindInt(&c.Retention.KeepWeekly)
	b.add(keep, "retention.keep_weekly", msg.T("週次で保持", "Weekly kept"), msg.Text{}, numberField, g, s)
	g, s = bindInt(&c.Retention.KeepMonthly)
	b.add(keep, "retention.keep_monthly", msg.T("月次で保持", "Monthly kept"), msg.Text{}, numberField, g, s)
	g, s = bindDuration(&c.Retention.ShortenDelay)
	b.add(keep, "retention.shorten_delay", msg.T("保持を減らす変更の待機期間", "Waiting period of a change that keeps less"),
		msg.T("保持世代・書き込み媒体数・媒体の削除など、保持を減らす変更はこの期間の後に適用されます。空欄は7日、最短1日", "a change that keeps less (generations, media per cycle, removing a medium …) applies after this; empty is 7 days, at least 1 day"), durationField, g, s)
	// Paths of the state layout are shown, not edited: moving them under
	// a running gateway would leave its ledger and staging behind.
	for _, p := range []struct {
		key string
		v   string
		l   msg.Text
	}{{"staging_dir", c.StagingDir, msg.T("ステージング", "Staging")}, {"ledger_dir", c.LedgerDir, msg.T("証跡台帳", "Evidence ledger")},
		{"secrets_dir", c.SecretsDir, msg.T("秘密情報", "Secrets")}, {"restic_binary", c.ResticBinary, msg.Plain("restic")}} {
		v := p.v
		b = append(b, binding{key: p.key, section: msg.T("保存場所(変更不可)", "Locations (fixed)"), label: p.l, readOnly: true,
			get: func() string { return v }, set: func(string) error { return nil }})
	}
	return item{binds: b, commit: il}, true
}

// interlockFields binds the optional interlock timer's window (as the
// timer is programmed) to a copy of c.Interlock; the returned commit sets
// it, or removes it when every field is empty.
func interlockFields(b *bindings, c *config.Config) (commit func()) {
	sec := msg.T("インターロック(タイマースイッチ、任意)", "Interlock (timer switch, optional)")
	var il config.Interlock
	if c.Interlock != nil {
		il = *c.Interlock
	}
	g, s := bindString(&il.Start)
	b.add(sec, "interlock.start", msg.T("タイマーが給電を入れる時刻", "When the timer switches the coils' supply on"),
		msg.T("例: 01:30(リレーのコイル電源に入れたタイマーの設定どおり。使わない場合は4項目とも空欄)", "e.g. 01:30, as the timer in the coils' supply is programmed; leave all four empty without one"), textField, g, s)
	g, s = bindString(&il.End)
	b.add(sec, "interlock.end", msg.T("タイマーが給電を切る時刻", "When the timer switches it off"),
		msg.T("例: 05:00(開始以前なら日付をまたぐ)。この時間外に始まるバックアップ・訓練の予定は保存できません", "e.g. 05:00 (at or before the start it crosses midnight); schedules starting outside the window are refused"), textField, g, s)
	g, s = bindWords(&il.Days)
	b.add(sec, "interlock.days", msg.T("曜日", "Days"), msg.T("例: mon tue wed thu fri(月〜金。空欄は毎日)", "e.g. mon,tue,wed,thu,fri for weekdays (empty: every day)"), textField, g, s)
	g, s = bindWords(&il.Relays)
	b.add(sec, "interlock.relays", msg.T("タイマーを通すリレー", "Relays fed through the timer"), msg.T("リレー名を空白区切りで(空欄はすべて)", "relay names separated by spaces (empty: all)"), textField, g, s)
	return func() {
		if il.Start == "" && il.End == "" && len(il.Days) == 0 && len(il.Relays) == 0 {
			c.Interlock = nil
			return
		}
		c.Interlock = &il
	}
}

func sourceItem(c *config.Config, name string) (item, bool) {
	i := slices.IndexFunc(c.Sources, func(s config.Source) bool { return s.Name == name })
	if name == "" {
		c.Sources = append(c.Sources, config.DefaultSource())
		i = len(c.Sources) - 1
	}
	if i < 0 {
		return item{}, false
	}
	src := &c.Sources[i]
	conn := msg.T("接続", "Connection")
	files := msg.T("取得するファイル", "Files to pull")
	tune := msg.T("転送", "Transfer")
	acct := &sshAccount{kind: "source", name: &src.Name, host: &src.Host, port: &src.Port, user: &src.User, keyFile: &src.KeyFile, knownHosts: &src.KnownHosts}
	var b bindings
	b.addAccount(conn, acct, [3]msg.Text{msg.T("ステージングのフォルダ名になります", "names the staging folder"), msg.T("読み取り専用のSFTPアカウント", "the read-only SFTP account"),
		msg.T("secrets 内のファイル名。鍵の中身は下で置き換えます", "a file name under secrets; replace the key itself below")})
	g, s := bindString(&src.ExportDir)
	b.add(files, "export_dir", msg.T("エクスポート先", "Export directory"), msg.T("サーバ上のパス(/ で始まる)", "the path on the server (starts with /)"), textField, g, s)
	g, s = bindLines(&src.Include)
	b.add(files, "include", msg.T("対象(1行に1つ)", "Include (one per line)"), msg.T("例: db/*.dmp、**/*.csv、すべては **", "e.g. db/*.dmp, **/*.csv; ** for everything"), linesField, g, s)
	g, s = bindLines(&src.Exclude)
	b.add(files, "exclude", msg.T("除外(1行に1つ)", "Exclude (one per line)"), msg.Text{}, linesField, g, s)
	g, s = bindString(&src.Completion.Mode)
	b.add(files, "completion.mode", msg.T("完了の判定", "Completion rule"), msg.Text{}, selectField, g, s,
		opt(config.CompletionMarker, "完了マーカー", "done marker"), opt(config.CompletionStable, "一定時間変化なし", "unchanged for a while"))
	g, s = bindString(&src.Completion.Marker)
	b.add(files, "completion.marker", msg.T("完了マーカー名", "Marker name"), msg.T("例: EXPORT_COMPLETE、{name}.done", "e.g. EXPORT_COMPLETE, {name}.done"), textField, g, s)
	g, s = bindDuration(&src.Completion.StableFor)
	b.add(files, "completion.stable_for", msg.T("変化なしの時間", "Unchanged for"), msg.T("例: 1分、90秒", "e.g. 1 minute, 90s"), durationField, g, s)
	g, s = bindBool(&src.Mirror)
	b.add(files, "mirror", msg.T("サーバで消えたファイルをステージングからも消す", "Remove staged files that are gone on the server"), msg.Text{}, checkField, g, s)
	g, s = bindInt(&src.Connections)
	b.add(tune, "connections", msg.T("SSH接続数", "SSH connections"), msg.T("1〜8", "1–8"), numberField, g, s)
	g, s = bindInt(&src.Workers)
	b.add(tune, "workers", msg.T("同時転送数", "Files at once"), msg.T("1〜64", "1–64"), numberField, g, s)
	g, s = bindInt(&src.Attempts)
	b.add(tune, "attempts", msg.T("再接続の試行回数", "Attempts"), msg.T("1〜10", "1–10"), numberField, g, s)
	return item{prefix: fmt.Sprintf("sources[%d]", i), binds: b, ssh: acct, commit: func() {
		if src.Completion.Mode == config.CompletionStable {
			src.Completion.Marker = ""
		} else {
			src.Completion.StableFor = 0
		}
	}}, true
}

// removeNamed deletes the entry of *list whose name is name, and says
// whether there was one.
func removeNamed[T any](list *[]T, name string, nameOf func(T) string) bool {
	n := len(*list)
	*list = slices.DeleteFunc(*list, func(v T) bool { return nameOf(v) == name })
	return len(*list) < n
}

func removeSource(c *config.Config, name string) bool {
	return removeNamed(&c.Sources, name, func(s config.Source) string { return s.Name })
}

func removeRelay(c *config.Config, name string) bool {
	return removeNamed(&c.Relays, name, func(r relay.Spec) string { return r.Name })
}

func mediumItem(c *config.Config, name string) (item, bool) {
	i := slices.IndexFunc(c.Media, func(m config.Medium) bool { return m.Name == name })
	if name == "" {
		c.Media = append(c.Media, config.Medium{Type: config.MediumDisk})
		i = len(c.Media) - 1
	}
	if i < 0 {
		return item{}, false
	}
	m := &c.Media[i]
	med := msg.T("媒体", "Medium")
	var b bindings
	g, s := bindString(&m.Name)
	b.add(med, "name", msg.T("名前", "Name"), msg.Text{}, textField, g, s)
	g, s = bindString(&m.Type)
	var types []option
	for _, t := range gateway.MediumTypes() {
		types = append(types, option{t.Name, t.Label})
	}
	b.add(med, "type", msg.T("種類", "Type"), msg.T("種類ごとの設定は下にあります。選んだ種類の設定だけが保存されます", "each type's settings are below; only the chosen type's are saved"), selectField, g, s,
		types...)
	relays := []option{opt("", "(なし: s3 のみ)", "(none: s3 only)")}
	for _, r := range c.Relays {
		relays = append(relays, option{r.Name, msg.Plain(r.Name)})
	}
	g, s = bindString(&m.Relay)
	b.add(med, "relay", msg.T("給電するリレー", "Relay that powers it"), msg.T("媒体ごとに専用のリレーが必要です(s3 は回線装置のリレー、任意)", "each medium needs its own relay (for s3, the uplink device's, optional)"), selectField, g, s, relays...)
	g, s = bindString(&m.PasswordFile)
	b.add(med, "password_file", msg.T("パスワードファイル名", "Password file name"), msg.T("secrets 内。空欄なら <名前>.restic-password。内容は表示されません", "under secrets; empty gives <name>.restic-password; its content is never shown"), textField, g, s)
	// Each type edits a copy; commit keeps the chosen type's only.
	dk, sk, tk := mediumSpecs(m)
	b = append(b, diskBindings(&dk)...)
	b = append(b, s3Bindings(&sk)...)
	b = append(b, tapeBindings(&tk)...)
	return item{prefix: fmt.Sprintf("media[%d]", i), binds: b, variant: func() string { return m.Type }, commit: func() {
		m.Disk, m.S3, m.Tape = nil, nil, nil
		switch m.Type {
		case config.MediumDisk:
			d := dk
			d.Name, m.Disk = m.Name, &d
		case config.MediumS3:
			x := sk
			if x.SecretKeyFile == "" && m.Name != "" {
				x.SecretKeyFile = s3SecretName(m.Name)
			}
			x.Name, m.S3 = m.Name, &x
		case config.MediumTape:
			t := tk
			t.Name, m.Tape = m.Name, &t
		}
		if m.PasswordFile == "" && m.Name != "" {
			m.PasswordFile = m.Name + ".restic-password"
		}
	}}, true
}

func diskBindings(d *disk.Spec) bindings {
	id := msg.T("ディスクの識別(種類 disk、取り違え防止)", "Disk identity (type disk; no other disk is taken for it)")
	var b bindings
	g, s := bindString(&d.Serial)
	b.add(id, "disk.serial", msg.T("シリアル番号", "Serial"), msg.T("USBシリアル、SCSIシリアルまたはWWN", "USB serial, SCSI serial or WWN"), textField, g, s)
	g, s = bindString(&d.FSUUID)
	b.add(id, "disk.fs_uuid", msg.T("ext4 UUID", "ext4 UUID"), msg.T("blkid が表示する UUID", "the UUID blkid shows"), textField, g, s)
	g, s = bindString(&d.MediaID)
	b.add(id, "disk.media_id", msg.T("媒体ID", "Media ID"), msg.T("媒体の準備で書き込むID", "the ID preparing the medium writes onto it"), textField, g, s)
	g, s = bindString(&d.MountDir)
	b.add(id, "disk.mount_dir", msg.T("マウント先", "Mount directory"), emptyIsDefault(), textField, g, s)
	g, s = bindBool(&d.RDX)
	b.add(id, "disk.rdx", msg.T("RDX(切断前にカートリッジを取り出す)", "RDX (eject the cartridge before the cut)"), msg.Text{}, checkField, g, s)
	b.addTimeouts(id, "disk.", &d.AppearTimeout, &d.GoneTimeout)
	return b.of(config.MediumDisk)
}

func removeMedium(c *config.Config, name string) bool {
	return removeNamed(&c.Media, name, func(m config.Medium) string { return m.Name })
}

// formBody is a configuration form.
type formBody struct {
	Kind, Orig, Base, Action string
	New                      bool
	Heading                  msg.Text
	Sections                 []sectionView
	Other                    []msg.Text
	Error                    msg.Text
	Summary                  *formSummary // every error of a refused form, at its top
	DeleteAction             string
	Reauth                   bool // the password may be asked again (pending.go)
	Account                  *accountExtras
	Medium                   *mediumExtras
	Module                   *moduleExtras
	// Next is the commissioning page the form returns to once saved.
	Next string
}

type mediumExtras struct {
	Password msg.Text
	Missing  bool
	Prepare  string     // the medium's preparation page
	S3       *s3Secrets // set for a saved s3 medium
}

// formState is what a submitted form carries back into the page.
type formState struct {
	raw    map[string]string
	errs   map[string][]msg.Text
	other  []msg.Text
	err    msg.Text
	extras func(*formBody)
	// hostKeys are an account's pinned keys as the form showed them, and
	// removed those ticked for removal: a form that comes back shows them
	// ticked still, not gone (they are removed only when it is saved).
	hostKeys []string
	removed  []string
}

// renderForm shows t's item as it stands in t.next; base is the version
// of the configuration the form began from.
func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, t formEdit, base string, st formState) {
	cfg, it, orig := t.next, t.it, t.name
	body := formBody{Kind: t.kind, Orig: orig, Base: base, Action: "/config/" + t.kind, New: orig == "" && !t.ed.single,
		Heading: t.ed.heading, Sections: views(it.binds, st.raw, st.errs), Other: st.other, Error: st.err, Next: commissionNext(r)}
	if !t.ed.single && orig != "" {
		body.DeleteAction = "/config/" + t.kind + "/delete"
	}
	body.Reauth = guardedForm(t.kind)
	if it.ssh != nil {
		if st.hostKeys != nil {
			*it.ssh.knownHosts = st.hostKeys
		}
		body.Account = s.accountExtras(cfg, it.ssh, orig)
		body.Account.KnownHostErrs = st.errs["known_hosts"]
		for i, kh := range body.Account.KnownHosts {
			body.Account.KnownHosts[i].Remove = slices.Contains(st.removed, strconv.Itoa(kh.Index))
		}
	}
	if t.kind == "medium" {
		body.Medium = mediumPassword(cfg, it)
		if i := indexOf(it.prefix); orig != "" && cfg.Media[i].S3 != nil {
			body.Medium.S3 = s3State(cfg, &cfg.Media[i])
		}
	}
	if t.kind == "module" {
		body.Module = s.adapterList(cfg, it)
	}
	if st.extras != nil {
		st.extras(&body)
	}
	body.Summary = summarize(body.Sections, body.Other)
	if a := body.Account; a != nil && len(a.KnownHostErrs) > 0 {
		body.Summary = body.Summary.with(summaryField{ID: "hostkeys", Label: msg.T("ホスト鍵", "Host keys"), Texts: a.KnownHostErrs})
	}
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "form.html", "/config", body.Heading, flash, bad, body)
}

func mediumPassword(cfg *config.Config, it item) *mediumExtras {
	i := indexOf(it.prefix)
	if i < 0 || i >= len(cfg.Media) || cfg.Media[i].PasswordFile == "" {
		return &mediumExtras{Password: msg.T("未設定", "not set"), Missing: true}
	}
	st := secretState(cfg.KeyPath(cfg.Media[i].PasswordFile))
	return &mediumExtras{Password: st.text.Append("", msg.T("。パスワードは「導入手順」の媒体の準備で作成し、一度だけ表示されたものを紙に控えます",
		". Create it when preparing the medium under Commissioning: it is shown once, to be written on paper")), Missing: !st.ok,
		Prepare: "/commission/medium?name=" + url.QueryEscape(cfg.Media[i].Name)}
}

// indexOf reads the index out of "sources[3]".
func indexOf(prefix string) int {
	a, b := strings.IndexByte(prefix, '['), strings.IndexByte(prefix, ']')
	if a < 0 || b < a {
		return -1
	}
	n := 0
	for _, c := range prefix[a+1 : b] {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// formEdit is what a form request edits: the form's editor, the
// configuration the request began from, a copy to change and the item
// called name in that copy.
type formEdit struct {
	kind string
	ed   editor
	cur  *config.Config
	next *config.Config
	it   item
	name string
}

// noSuchPage answers a configuration path that names no form.
func noSuchPage() msg.Text { return msg.T("そのページはありません", "no such page") }

// formEdit finds the form the request's path names and the item called
// name in a copy of the configuration. When it returns false it has
// answered the request.
func (s *Server) formEdit(w http.ResponseWriter, r *http.Request, name string) (formEdit, bool) {
	t := formEdit{kind: r.PathValue("kind"), name: name}
	var ok bool
	if t.ed, ok = s.editors()[t.kind]; !ok {
		s.message(w, r, http.StatusNotFound, noSuchPage(), true, "/config")
		return t, false
	}
	t.cur = s.core.Config()
	var err error
	if t.next, err = cloneConfig(t.cur); err != nil {
		s.failure(w, r, http.StatusInternalServerError, err, "/config")
		return t, false
	}
	if t.it, ok = t.ed.find(t.next, name); !ok {
		s.message(w, r, http.StatusNotFound, msg.Sprintf("その項目は設定にありません: %s", "not in the configuration: %s", name), true, "/config")
		return t, false
	}
	return t, true
}

func (s *Server) configForm(w http.ResponseWriter, r *http.Request) {
	t, ok := s.formEdit(w, r, r.URL.Query().Get("name"))
	if !ok {
		return
	}
	s.renderForm(w, r, t, versionOf(t.cur), formState{})
}

// errBusyConfig: changes wait for a running job in the gateway; the page
// refuses instead of hanging for the length of a backup.
func errBusyConfig() error {
	return msg.New("サイクル実行中は設定を変更できません。終わってからやり直してください", "The configuration cannot be changed while a cycle runs: try again when it has finished.")
}

func staleMessage() msg.Text {
	return msg.T("設定は別の画面で変更されました。最新の内容を確認してからやり直してください", "The configuration was changed elsewhere meanwhile: check the current settings and try again.")
}

// errUnchanged: a form was saved without a change. Nothing is written,
// and the undo still goes back to the change before.
var errUnchanged = msg.New("変更はありません(何も保存していません)", "nothing changed (nothing was saved)")

// apply validates and applies next. It returns the validation errors for
// the form, or why it could not be applied (errUnchanged when next is the
// configuration in use), or nothing on success.
func (s *Server) apply(ctx context.Context, who string, next *config.Config) (*config.ValidationError, error) {
	var ve *config.ValidationError
	if err := next.ValidateChange(s.core.Config()); errors.As(err, &ve) {
		return ve, nil
	} else if err != nil {
		return nil, err
	}
	if busy, _ := s.core.Running(); busy {
		return nil, errBusyConfig()
	}
	if versionOf(next) == versionOf(s.core.Config()) {
		return nil, errUnchanged
	}
	if err := s.core.Reconfigure(ctx, who, next); err != nil {
		if errors.As(err, &ve) {
			return ve, nil
		}
		s.log.Error("reconfigure", "err", err)
		return nil, err
	}
	return nil, nil
}

// readForm sets the item's fields from the submitted form; a value that
// does not parse is kept as typed, beside its message.
func readForm(r *http.Request, it item) formState {
	st := formState{raw: map[string]string{}, errs: map[string][]msg.Text{}}
	for _, b := range it.binds {
		if !it.reads(b) {
			continue
		}
		v := r.PostFormValue(b.key)
		if err := b.set(v); err != nil {
			st.raw[b.key] = v
			st.errs[b.key] = append(st.errs[b.key], msg.TextOf(err))
		}
	}
	return st
}

// addValidation adds what the configuration's validation says about the
// fields that did parse, so every problem is shown at once.
func addValidation(st *formState, it item, cur, next *config.Config) {
	var ve *config.ValidationError
	if !errors.As(next.ValidateChange(cur), &ve) {
		return
	}
	errs, other := matchErrors(it.prefix, it.current(), ve)
	for k, v := range errs {
		if _, typed := st.raw[k]; !typed {
			st.errs[k] = append(st.errs[k], v...)
		}
	}
	st.other = other
}

func (s *Server) configSubmit(w http.ResponseWriter, r *http.Request) {
	t, ok := s.formEdit(w, r, r.PostFormValue("orig"))
	if !ok {
		return
	}
	it, next, base := t.it, t.next, r.PostFormValue("base")
	st := readForm(r, it)
	if serial := r.PostFormValue("use_adapter"); serial != "" && it.useAdapter != nil {
		it.useAdapter(serial)
	}
	it.commit()
	var pinned *hostkey.Offer
	if it.ssh != nil {
		st.hostKeys, st.removed = slices.Clone(*it.ssh.knownHosts), r.PostForm["kh_remove"]
		var stop bool
		if pinned, stop = s.accountHostKey(r, it.ssh, &st); stop {
			s.renderForm(w, r, t, base, st)
			return
		}
	}
	if base != versionOf(t.cur) {
		st.err = staleMessage()
	}
	if pinned != nil {
		// Not saved yet: the confirmation must come back with the form.
		st.extras = func(b *formBody) {
			b.Account.Pin = s.pinView(pinned)
			b.Account.Pin.Confirmed = true
		}
	}
	if len(st.errs) > 0 || !st.err.IsZero() {
		addValidation(&st, it, t.cur, next)
		s.renderForm(w, r, t, base, st)
		return
	}
	// Guarded (pending.go): the password typed again; refused, the form
	// comes back as typed. An invalid form is shown with its errors first
	// (it changes nothing either way).
	op, who := guardedSave(t.kind, t.name, t.cur, next, pinned), actor(r)
	if op != "" && next.ValidateChange(t.cur) == nil {
		var refused msg.Text
		if who, refused = s.confirmGuarded(r); !refused.IsZero() {
			st.err = refused
			s.renderForm(w, r, t, base, st)
			return
		}
	}
	held := s.pendingCount()
	ve, problem := s.apply(withOrigin(r), who, next)
	if errors.Is(problem, errUnchanged) {
		http.Redirect(w, r, "/config?done=nochange", http.StatusSeeOther)
		return
	}
	if ve != nil || problem != nil {
		// The errors stand in the summary and beside their fields.
		st.errs, st.other = matchErrors(it.prefix, it.current(), ve)
		st.err = msg.TextOf(problem)
		s.renderForm(w, r, t, base, st)
		return
	}
	done := "saved"
	if op != "" {
		target := cmp.Or(r.PostFormValue("name"), t.name)
		if op == "hostkey.accept" {
			target = pinned.Addr
		}
		s.recordGuarded(r, who, op, target, guardedText(op, target))
	}
	if s.pendingCount() > held {
		done = "held"
	}
	if pinned != nil {
		for _, e := range pinned.Entries(actor(r)) {
			s.record(r.Context(), e)
		}
		done = "pinned"
	}
	http.Redirect(w, r, withDone(cmp.Or(commissionNext(r), "/config"), done), http.StatusSeeOther)
}

// accountOf picks the ledger field that names an SSH account of kind
// ("source" or "target").
func accountOf(kind string, source, target *string) *string {
	if kind == "target" {
		return target
	}
	return source
}

func (s *Server) configDelete(w http.ResponseWriter, r *http.Request) {
	kind := r.PathValue("kind")
	ed, ok := s.editors()[kind]
	if !ok || ed.remove == nil {
		s.message(w, r, http.StatusNotFound, noSuchPage(), true, "/config")
		return
	}
	cur := s.core.Config()
	if r.PostFormValue("base") != versionOf(cur) {
		s.renderOverview(w, r, staleMessage(), nil)
		return
	}
	next, err := cloneConfig(cur)
	if err != nil {
		s.failure(w, r, http.StatusInternalServerError, err, "/config")
		return
	}
	if !ed.remove(next, r.PostFormValue("orig")) {
		s.renderOverview(w, r, msg.T("その項目は設定にありません", "not in the configuration"), nil)
		return
	}
	op, who, orig := guardedDelete(kind), actor(r), r.PostFormValue("orig")
	if op != "" {
		var refused msg.Text
		if who, refused = s.confirmGuarded(r); !refused.IsZero() {
			s.renderOverview(w, r, refused, nil)
			return
		}
	}
	held := s.pendingCount()
	ve, problem := s.apply(withOrigin(r), who, next)
	if ve != nil {
		_, other := matchErrors("", nil, ve)
		s.renderOverview(w, r, msg.T("削除できません。次の設定がこの項目を使っています(何も変更していません):", "Cannot delete: these settings still use it (nothing was changed):"), other)
		return
	}
	if problem != nil {
		s.renderOverview(w, r, msg.TextOf(problem), nil)
		return
	}
	if op != "" {
		s.recordGuarded(r, who, op, orig, guardedText(op, orig))
	}
	if s.pendingCount() > held {
		http.Redirect(w, r, "/config?done=held", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/config?done=deleted", http.StatusSeeOther)
}

func (s *Server) configUndo(w http.ResponseWriter, r *http.Request) {
	if busy, _ := s.core.Running(); busy {
		s.renderOverview(w, r, msg.TextOf(errBusyConfig()), nil)
		return
	}
	if err := s.core.UndoConfig(r.Context(), actor(r)); err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			_, other := matchErrors("", nil, ve)
			s.renderOverview(w, r, msg.T("元に戻せません:", "Cannot undo:"), other)
			return
		}
		s.renderOverview(w, r, msg.TextOf(msg.Wrap(err, "元に戻せません", "Cannot undo")), nil)
		return
	}
	http.Redirect(w, r, "/config?done=undone", http.StatusSeeOther)
}

// overview is the configuration's front page.
type overviewBody struct {
	Base     string
	Error    msg.Text
	Problems []msg.Text
	General  []kv
	Sources  []row
	Relays   []row
	Modules  []row
	Media    []row
	Restore  []kv
	Targets  []row
	Scan     []kv
	Changes  []change
	// Pending are the held changes that keep less (pending.go).
	Pending    []heldView
	PendingErr msg.Text
}

type kv struct{ Key, Value msg.Text }

type row struct {
	Name, Edit string
	Summary    msg.Text
	Bad        bool
}

type change struct {
	Time, Actor string
	What        msg.Text
}

func (s *Server) configOverview(w http.ResponseWriter, r *http.Request) {
	s.renderOverview(w, r, msg.Text{}, nil)
}

func (s *Server) renderOverview(w http.ResponseWriter, r *http.Request, errMsg msg.Text, problems []msg.Text) {
	c := s.core.Config()
	b := overviewBody{Base: versionOf(c), Error: errMsg, Problems: problems, General: generalSummary(c), Restore: restoreSummary(c),
		Scan: scanSummary(c.Scan)}
	b.Pending, b.PendingErr = s.pendingViews()
	// While commissioning, the page says what is still missing.
	var missing *config.ValidationError
	if err := c.Validate(); config.Unfinished(err) && errors.As(err, &missing) {
		_, other := matchErrors("", nil, missing)
		b.Problems = append(b.Problems, other...)
	}
	var err error
	if b.Changes, err = recentChanges(c.LedgerDir, s.zone()); err != nil {
		s.log.Warn("configuration changes from the ledger", "err", err)
	}
	edit := func(kind, name string) string { return "/config/" + kind + "?name=" + url.QueryEscape(name) }
	for _, src := range c.Sources {
		b.Sources = append(b.Sources, row{Name: src.Name, Edit: edit("source", src.Name), Summary: accountSummary(src.User, src.Host, src.Port, src.ExportDir, len(src.KnownHosts)),
			Bad: len(src.KnownHosts) == 0})
	}
	for _, rl := range c.Relays {
		b.Relays = append(b.Relays, row{Name: rl.Name, Edit: edit("relay", rl.Name), Summary: relaySummary(rl), Bad: rl.Sense == nil || rl.Driver == relay.DriverSimulated})
	}
	if len(c.RelayModules) > 0 {
		present, err := s.adapters()
		if err != nil {
			s.log.Warn("listing the USB serial adapters", "err", err)
		}
		for _, m := range c.RelayModules {
			b.Modules = append(b.Modules, moduleRow(m, edit("module", m.Name), present))
		}
	}
	for _, m := range c.Media {
		b.Media = append(b.Media, mediumRow(m, edit("medium", m.Name)))
	}
	for _, t := range c.Restore.Targets {
		b.Targets = append(b.Targets, row{Name: t.Name, Edit: edit("target", t.Name), Summary: accountSummary(t.User, t.Host, t.Port, t.BaseDir, len(t.KnownHosts)),
			Bad: len(t.KnownHosts) == 0})
	}
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "config.html", "/config", msg.T("設定", "Configuration"), flash, bad, b)
}

// accountSummary is an SSH account on the overview.
func accountSummary(user, host string, port int, dir string, hostKeys int) msg.Text {
	return msg.Sprintf("%s@%s:%d %s、ホスト鍵 %d件", "%s@%s:%d %s, %d pinned host keys", user, host, port, dir, hostKeys)
}

func generalSummary(c *config.Config) []kv {
	return []kv{
		{msg.T("ゲートウェイID", "Gateway ID"), msg.Plain(c.GatewayID)},
		{msg.T("実行時刻", "Schedule"), scheduleWords(c.Schedule)},
		{msg.T("1回に書き込む媒体数", "Media per cycle"), msg.Plain(fmt.Sprint(c.Rotation.PerCycle))},
		{msg.T("保持世代", "Generations kept"), msg.Sprintf("最新 %d、日次 %d、週次 %d、月次 %d", "last %d, daily %d, weekly %d, monthly %d",
			c.Retention.KeepLast, c.Retention.KeepDaily, c.Retention.KeepWeekly, c.Retention.KeepMonthly)},
		{msg.T("検査", "Check"), msg.Plain(c.CheckSubset)},
	}
}

func restoreSummary(c *config.Config) []kv {
	drills := scheduleWords(c.Restore.DrillSchedule)
	if c.Restore.DrillSchedule == "" {
		drills = msg.T("手動のみ(年1回以上の訓練が必要です)", "on demand only (a drill is due at least yearly)")
	}
	return []kv{
		{msg.T("復元の通電時間", "Restore window"), c.Restore.Window.Words()},
		{msg.T("復元訓練の実行時刻", "Drill schedule"), drills},
	}
}

// recentChanges are the last ten configuration changes and host-key pins
// and replacements of the past year, newest first.
func recentChanges(ledgerDir string, z when.Zone) ([]change, error) {
	entries, err := ledger.Read(ledgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindConfigChange, ledger.KindHostKeyPinned, ledger.KindHostKeyReplaced},
		From: time.Now().Add(-365 * 24 * time.Hour)})
	var out []change
	for i := len(entries) - 1; i >= 0 && len(out) < 10; i-- {
		e := entries[i]
		var what msg.Text // a payload that does not decode shows empty
		switch e.Kind {
		case ledger.KindHostKeyPinned:
			d, _ := ledger.Decode[ledger.HostKeyPinnedData](e)
			what = msg.Sprintf("ホスト鍵を登録: %s %s", "host key pinned: %s %s", d.Source+d.Target, d.Fingerprint)
		case ledger.KindHostKeyReplaced:
			d, _ := ledger.Decode[ledger.HostKeyReplacedData](e)
			what = msg.Sprintf("ホスト鍵を置き換え: %s %s → %s(旧鍵を廃止)", "host key replaced: %s %s → %s (old key retired)", d.Source+d.Target, d.Retired, d.Fingerprint)
		default:
			d, _ := ledger.Decode[ledger.ConfigChangeData](e)
			what = msg.Plain(strings.Join(d.Changed, ", "))
		}
		out = append(out, change{Time: z.Stamp(e.Time), Actor: e.Actor, What: what})
	}
	return out, err
}
