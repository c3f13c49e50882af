package documents

import (
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/schedule"
)

// newDoc starts a document with the header every page carries.
func (b *builder) newDoc(id, title string) *Doc {
	b.doc = id
	return &Doc{ID: id, Lang: string(b.l), Title: title, Hospital: b.field("hospital_name"), Date: b.date(b.in.Now)}
}

// basics is the table of who and what every document opens with.
func (b *builder) basics() Block {
	l := b.l
	return kv([2]string{l.t("項目", "item"), l.t("内容", "value")},
		pair(l.t("医療機関名", "hospital"), b.field("hospital_name")),
		pair(l.t("ゲートウェイID", "gateway ID"), code(b.cfg.GatewayID)),
		pair(l.t("責任者", "responsible person"), b.field("responsible")),
		pair(l.t("担当者", "operator"), b.field("operator")),
		pair(l.t("保守ベンダ連絡先", "vendor contact"), b.field("vendor_contact")),
		pair(l.t("作成日", "date"), text(b.date(b.in.Now))),
	)
}

// sourcesTable lists the e-chart exports that are pulled.
func (b *builder) sourcesTable() Block {
	l := b.l
	var rows [][]Cell
	for _, s := range b.cfg.Sources {
		done := l.f("完了マーカー %s", "done-marker %s", s.Completion.Marker)
		if s.Completion.Mode != "marker" {
			done = l.f("%s 変化なし", "unchanged for %s", humanDuration(l, time.Duration(s.Completion.StableFor)))
		}
		rows = append(rows, []Cell{cell(code(s.Name)), cell(code(fmt.Sprintf("%s:%d", s.Host, s.Port))), cell(code(s.User)), cell(code(s.ExportDir)),
			tcell(strings.Join(s.Include, " ")), tcell(done)})
	}
	return table([]string{l.t("取得元", "source"), l.t("サーバ", "server"), l.t("アカウント", "account"), l.t("エクスポート先", "export directory"), l.t("対象", "include"), l.t("完了の判定", "complete when")},
		rows, l.t("取得元が設定されていません。電子カルテのエクスポートを取得元として設定してください。", "No source is configured: add the e-chart export as a source."))
}

// mediaTable lists each medium with its type and relay.
func (b *builder) mediaTable() Block {
	l := b.l
	var rows [][]Cell
	for i := range b.cfg.Media {
		m := &b.cfg.Media[i]
		k, known := kindOf(m)
		label := cell(text(k.label(l, m)))
		if !known {
			label = cell(bad(k.label(l, m) + l.t("(保守ベンダの手順による)", " (vendor's procedure)")))
		}
		rows = append(rows, []Cell{cell(code(m.Name)), label, cell(code(orDash(m.Relay)))})
	}
	return table([]string{l.t("媒体", "medium"), l.t("種類", "type"), l.t("リレー", "relay")}, rows,
		l.t("媒体が設定されていません。オフラインの媒体がありません。", "No medium is configured: there is no offline medium."))
}

func (b *builder) retentionText() string {
	l, r := b.l, b.cfg.Retention
	parts := []string{l.f("直近 %d 世代", "the last %d generations", r.KeepLast)}
	if r.KeepDaily > 0 {
		parts = append(parts, l.f("日次 %d", "%d daily", r.KeepDaily))
	}
	if r.KeepWeekly > 0 {
		parts = append(parts, l.f("週次 %d", "%d weekly", r.KeepWeekly))
	}
	if r.KeepMonthly > 0 {
		parts = append(parts, l.f("月次 %d", "%d monthly", r.KeepMonthly))
	}
	return strings.Join(parts, l.t("、", ", "))
}

func (b *builder) rotationText() string {
	l, n := b.l, b.cfg.Rotation.PerCycle
	if n == 0 || n >= len(b.cfg.Media) {
		return l.t("毎回すべての媒体に書き込みます", "every medium is written every time")
	}
	return l.f("毎回 %d 台に、最も前に書き込んだ媒体から順に書き込みます(%d 台の輪番。各媒体には %d 回に1回)", "%d medium each time, the one written longest ago first (a rotation over %d media: each is written every %d times)", n, len(b.cfg.Media), rotationSpan(b))
}

// scheduleWords is a schedule as a person reads it: 「毎日 2:00」.
func (b *builder) scheduleWords(expr string) string {
	return b.l.in(schedule.Describe(expr)) + b.l.t("(", " (") + b.cfg.TimeZone + b.l.t(")", ")")
}

// spanText is about how far back the kept generations reach per medium.
func (b *builder) spanText() string {
	return b.l.f("各媒体の世代は約 %d 日前までさかのぼれます", "Each medium's generations reach back about %d days", b.cfg.GenerationSpanDays())
}

// The gateway's listener on the LAN: the page danzend serves (its -listen
// default), which updates go through too; gokrazy's own page is not on
// the network (images with an update key: gokrazy/build), port 80 closed.
const (
	pagePort    = 8443
	gokrazyPort = 80
)

// listenText says which way connections go and what the gateway listens
// on: it pulls, and the e-chart server can reach its page like any other
// device on the LAN.
func (b *builder) listenText() Block {
	l := b.l
	return ptext(l.f("ゲートウェイが電子カルテサーバに接続し、読み取り専用アカウントで SFTP により次のエクスポートを取得します。電子カルテサーバはゲートウェイの鍵もバックアップへの経路も持ちません。ゲートウェイが院内LANで待ち受けるのは、管理画面(HTTPS、TCP %d。アカウントでログイン)の1つだけです。ファームウェアの更新もこの画面から行い、ベンダが署名したものだけを受け付けます(gokrazy の保守画面はゲートウェイ内部にしかなく、TCP %d は閉じています)。ゲートウェイ自身は接続元を制限しないため、電子カルテサーバを含め院内LANからゲートウェイに届く機器はこの画面に接続できます。スイッチ・ファイアウォールで、到達できる機器を保守用の端末に限ってください。",
		"The gateway connects to the e-chart server and pulls the following exports over SFTP with a read-only account; the e-chart server holds neither the gateway's key nor a path to the backups. On the LAN the gateway listens on one port only: the page (HTTPS, TCP %d, login with an account). Firmware updates go through it too, and only those signed by the vendor are taken (gokrazy's maintenance page exists only inside the gateway: TCP %d is closed). The gateway does not restrict who connects, so any device on the LAN that can reach it — the e-chart server included — can connect to the page: restrict it to the maintenance PCs with the switch or firewall.",
		pagePort, gokrazyPort))
}

func (b *builder) plan() *Doc {
	l, cfg := b.l, b.cfg
	d := b.newDoc("offline-backup-plan", l.t("オフラインバックアップ計画書", "Offline backup plan"))
	d.Intro = []Span{text(l.t("本計画書は、診療録管理体制加算1の施設基準(バックアップの複数方式での確保とオフラインでの保管、事業継続計画に基づく訓練・演習)に沿って、ゲートウェイの現在の設定から生成したものです。",
		"This plan follows the facility standard of 診療録管理体制加算1 (backups kept in several methods, part of them offline; exercises under the business continuity plan) and is generated from the gateway's live configuration."))}
	d.Sections = append(d.Sections, Section{Title: l.t("基本情報", "Basic information"), Blocks: []Block{b.basics()}})
	d.Sections = append(d.Sections, b.bcpSection())
	d.Sections = append(d.Sections, Section{Title: l.t("対象システム", "Systems covered"), Blocks: []Block{
		para(text(l.t("対象システム: ", "Systems: ")), b.field("systems_covered")),
		b.listenText(),
		b.sourcesTable(),
	}})
	d.Sections = append(d.Sections, b.diagramSection(d))
	d.Sections = append(d.Sections, Section{Title: l.t("バックアップの方式(複数の方式)", "Backup methods (several methods)"), Blocks: b.methodBlocks()})
	var off []Block
	for i := range cfg.Media {
		m := &cfg.Media[i]
		k, _ := kindOf(m)
		off = append(off, para(strong(l.f("媒体 %s", "Medium %s", m.Name))))
		off = append(off, k.offline(b, m)...)
	}
	if len(off) == 0 {
		off = append(off, note(bad(l.t("媒体が設定されていません。", "No medium is configured."))))
	}
	d.Sections = append(d.Sections, Section{Title: l.t("各媒体とオフライン化の方法", "Each medium and how it is cut off"), NewPage: true, Blocks: off})
	d.Sections = append(d.Sections, Section{Title: l.t("ローテーション・世代・スケジュール", "Rotation, generations and schedule"), Blocks: []Block{
		kv([2]string{l.t("項目", "item"), l.t("設定値", "value")},
			pair(l.t("スケジュール", "schedule"), text(b.scheduleWords(cfg.Schedule))),
			pair(l.t("ローテーション", "rotation"), text(b.rotationText())),
			pair(l.t("保持する世代", "generations kept"), text(b.retentionText())),
			pair(l.t("世代の期間", "span of the generations"), text(b.spanText())),
			pair(l.t("書き込み後の検査", "check after writing"), text(checkText(l, cfg.CheckSubset))),
			pair(l.t("暗号化", "encryption"), text(l.t("restic リポジトリ暗号化(AES-256)。パスワードは媒体ごと", "restic repository encryption (AES-256), one password per medium"))),
		),
		ptext(l.t("古い世代の整理は、その夜のバックアップがすべて成功した場合にのみ行います。失敗が続いても正常な世代は消えません。",
			"Old generations are pruned only after a fully good night, so failing exports never push good generations out.")),
	}})
	d.Sections = append(d.Sections, b.disasterSection())
	d.Sections = append(d.Sections, Section{Title: l.t("保管場所と体制", "Storage and responsibilities"), Blocks: []Block{
		kv([2]string{l.t("項目", "item"), l.t("内容", "value")},
			pair(l.t("媒体の保管場所", "where media are stored"), b.field("media_storage")),
			pair(l.t("パスワードの保管場所", "where the passwords are kept"), b.field("password_storage")),
			pair(l.t("責任者", "responsible person"), b.field("responsible")),
			pair(l.t("担当者", "operator"), b.field("operator")),
			pair(l.t("保守ベンダ連絡先", "vendor contact"), b.field("vendor_contact")),
		),
	}})
	d.Sections = append(d.Sections, Section{Title: l.t("目標復旧時点(RPO)・目標復旧時間(RTO)", "Recovery point (RPO) and recovery time (RTO)"), Blocks: b.rpoRTO()})
	d.Sections = append(d.Sections, Section{Title: l.t("復旧手順", "Restore procedure"), Blocks: []Block{
		steps(
			titem(l.t("ゲートウェイが使える場合: 画面で媒体とスナップショットを選び復元する(媒体は復元の間だけ通電)。", "With the gateway: choose the medium and snapshot on the page and restore (the medium is powered only while it is read).")),
			titem(l.t("ゲートウェイが使えない場合: 復旧手順書に従い、任意のPCと標準の restic で媒体から直接復元する。", "Without the gateway: follow the recovery sheet and restore from the medium with stock restic on any PC.")),
			titem(l.t("復元したファイルをマニフェストのSHA-256で照合してから電子カルテベンダに引き渡す。", "Check the restored files against the manifest's SHA-256 before handing them to the e-chart vendor.")),
		),
	}})
	d.Sections = append(d.Sections, b.contactsSection(), b.paperSection(), b.drillSection())
	d.Sections = append(d.Sections, Section{Title: l.t("通知", "Alerts"), Blocks: []Block{b.alertsTable()}})
	d.Sections = append(d.Sections, b.docControl())
	return d
}

// methodBlocks are the methods the backups are kept in, from the
// configuration: one per kind of medium. The gateway's staging area is
// its working copy for the next snapshot, not a backup.
func (b *builder) methodBlocks() []Block {
	l, cfg := b.l, b.cfg
	var items [][]Span
	count := map[string]int{}
	var order []string
	for i := range cfg.Media {
		k, _ := kindOf(&cfg.Media[i])
		label := k.label(l, &cfg.Media[i])
		if count[label] == 0 {
			order = append(order, label)
		}
		count[label]++
	}
	for _, label := range order {
		items = append(items, titem(l.f("%s %d 台への暗号化された restic スナップショット", "encrypted restic snapshots on %[2]d × %[1]s", label, count[label])))
	}
	blocks := []Block{ptext(l.t("ゲートウェイは、バックアップを次の方式で確保します。", "The gateway keeps the backups in these methods:"))}
	if len(items) > 0 {
		blocks = append(blocks, list(items...))
	}
	blocks = append(blocks, b.mediaTable(),
		ptext(l.t("ゲートウェイの取得領域(直近のエクスポートの写し)は次のスナップショットを作るための作業領域であり、バックアップには数えません。電子カルテ側のバックアップは、その運用者が定めるもので本書の対象外です(事業継続計画の表に記入してください)。",
			"The gateway's staging area (a copy of the last export) is the working area for the next snapshot and is not counted as a backup. The e-chart system's own backups are run by whoever operates it and are outside this plan (enter them in the BCP table).")))
	if len(order) < 2 {
		blocks = append(blocks, note(bad(l.t("媒体の種類が1つだけです。施設基準は複数の方式を求めています。種類の異なる媒体(例: ディスクとオブジェクトロック付きバケット)を組み合わせてください。",
			"Only one kind of medium: the facility standard asks for several methods. Combine different kinds (e.g. disks and an object-locked bucket)."))))
	}
	if len(cfg.Media) < 2 {
		blocks = append(blocks, note(bad(l.t("媒体が2台未満です。1台の故障・紛失に備え、2台以上の輪番を推奨します。", "Fewer than two media: two or more in rotation are recommended so one failure or loss is survivable."))))
	}
	return blocks
}

// disasterSection is the fire/flood point: which media leave the server
// room, and what to add when none does.
func (b *builder) disasterSection() Section {
	l, cfg := b.l, b.cfg
	var offsite, portable, fixed []string
	for _, m := range cfg.Media {
		switch {
		case m.Type == config.MediumS3:
			offsite = append(offsite, m.Name)
		case m.Disk != nil && m.Disk.RDX:
			portable = append(portable, m.Name)
		case !b.rotatedOffsite(m.Name): // one taken off-site is in offsiteBlocks
			fixed = append(fixed, m.Name)
		}
	}
	join := func(xs []string) string { return strings.Join(xs, ", ") }
	var blocks []Block
	blocks = append(blocks, ptext(l.t("ゲートウェイにつながる媒体は、ゲートウェイと同じ部屋(サーバ室など)にあります。火災・水害・盗難では、電子カルテサーバ、ゲートウェイ、その部屋の媒体を同時に失います。",
		"The media wired to the gateway sit in the same room as the gateway (the server room). A fire, flood or theft there destroys the e-chart server, the gateway and those media together.")))
	if len(offsite) > 0 {
		blocks = append(blocks, ptext(l.f("この設定には院外の媒体があります: オブジェクトロック付きバケット %s。サーバ室を失っても、保持期間中の世代はここから復元できます。", "This configuration has an off-site medium: the object-locked bucket %s. Its retained generations survive the loss of the server room.", join(offsite))))
	}
	if len(portable) > 0 {
		blocks = append(blocks, ptext(l.f("RDX カートリッジ(媒体 %s)は取り外して院外に保管できます。輪番のカートリッジの一つを院外(別棟・別施設)に置いてください。手順は運用管理規程 別紙にあります。", "The RDX cartridges of medium %s can be taken out and kept off-site: keep one of the rotated cartridges in another building or site. The annex gives the steps.", join(portable))))
	}
	if len(fixed) > 0 {
		blocks = append(blocks, ptext(l.f("媒体 %s はサーバ室に置いたままです。", "Media %s stay in the server room.", join(fixed))))
	}
	if len(offsite) == 0 && len(portable) == 0 && !b.rotatedOffsite("") {
		blocks = append(blocks, note(bad(l.t("この設定には院外に置ける媒体がありません。輪番の媒体を院外で保管する(RDX など)か、オブジェクトロック付きのバケットを追加してください。",
			"This configuration has no medium that leaves the server room: keep a rotated medium off-site (RDX, for example) or add an object-locked bucket."))))
	}
	blocks = append(blocks, b.offsiteBlocks()...) // which medium is off-site, due back when (offsite.go)
	return Section{Title: l.t("火災・水害への備え", "Fire and flood"), Blocks: blocks}
}

func checkText(l lang, subset string) string {
	if subset == "" {
		return l.t("restic check(構造のみ)", "restic check (structure only)")
	}
	return l.f("restic check --read-data-subset %s", "restic check --read-data-subset %s", subset)
}

// rpoRTO prints the targets next to what the schedule gives, what the
// last restore measurement took (a sample restored into the gateway's
// scratch area, not a recovery) and the time to restore the whole export
// to a PC, measured or estimated.
func (b *builder) rpoRTO() []Block {
	l, doc := b.l, b.cfg.Documents
	measured := cell(text(l.t("復元測定の記録なし", "no restore measurement recorded yet")))
	if ds := drills(b.in); len(ds) > 0 {
		x := ds[len(ds)-1].Data
		took := time.Duration(x.RestoreMS) * time.Millisecond
		measured = cell(text(l.f("%[1]s(%[2]s、媒体 %[5]s の %[3]d ファイル・%[4]s をゲートウェイの作業領域に復元し照合)", "%[1]s (%[2]s: %[3]d files, %[4]s of medium %[5]s restored into the gateway's scratch area and checked)",
			humanDuration(l, took), b.stamp(x.Started), x.Files, bytesize.Format(x.Bytes), x.Medium)))
		if !x.OK {
			measured = append(measured, bad(l.t(" — 測定は不合格", " — the measurement failed")))
		}
	}
	full, took := b.fullRestore()
	if doc.RTO > 0 && took > time.Duration(doc.RTO) {
		full = append(full, bad(l.t(" — 目標を超えています", " — exceeds the target")))
	}
	return []Block{kv([2]string{l.t("項目", "item"), l.t("内容", "value")},
		pair(l.t("RPO 目標", "RPO target"), b.field("rpo")),
		pair(l.t("RPO 設定上の値", "RPO from the schedule"), text(b.rpoWords())),
		pair(l.t("RTO 目標", "RTO target"), b.field("rto")),
		pair(l.t("エクスポート全体をPCへ復元する時間", "time to restore the whole export to a PC"), full...),
		pair(l.t("復元測定(最新。見本の復元であり復旧ではない)", "restore measurement (latest; a sample restore, not a recovery)"), measured...),
	)}
}

// fullRestore is the time to restore the whole export to a PC: a full
// restore on record, else an estimate from the newest measurement's
// throughput and the newest snapshots' size, labelled with its basis.
func (b *builder) fullRestore() (Cell, time.Duration) {
	l := b.l
	var last *ledger.RestoreData
	for _, e := range b.in.Entries {
		if e.Kind != ledger.KindRestore {
			continue
		}
		if x, err := ledger.Decode[ledger.RestoreData](e); err == nil && x.OK && x.Dest != "scratch" {
			last = &x
		}
	}
	size := b.exportBytes()
	if last != nil && size > 0 && last.Bytes >= size*9/10 {
		took := time.Duration(last.RestoreMS) * time.Millisecond
		return cell(text(l.f("実測 %[1]s(%[2]s、媒体 %[3]s から %[4]s を復元)", "measured: %[1]s (%[2]s, %[4]s restored from medium %[3]s)", humanDuration(l, took), b.stamp(last.Started), last.Medium, bytesize.Format(last.Bytes)))), took
	}
	ds := drills(b.in)
	if len(ds) == 0 || size == 0 {
		return cell(bad(l.t("見積もれません(復元測定とスナップショットの記録が必要です)。訓練で全体の復元を実測してください。", "cannot be estimated (a restore measurement and a snapshot are needed): measure a whole restore in an exercise."))), 0
	}
	x := ds[len(ds)-1].Data
	if x.RestoreMS <= 0 || x.Bytes <= 0 {
		return cell(bad(l.t("見積もれません(最新の復元測定に速度の記録がありません)。", "cannot be estimated (the newest restore measurement has no throughput)."))), 0
	}
	rate := float64(x.Bytes) / (float64(x.RestoreMS) / 1000)
	took := time.Duration(float64(size) / rate * float64(time.Second))
	return cell(text(l.f("推定 約 %s(根拠: 復元測定の速度 %s/秒 × 直近のスナップショットの大きさ %s。PC・接続方式で変わるため、訓練で実測してください)",
		"estimate: about %s (basis: the restore measurement's %s/s × the newest snapshots' %s; it depends on the PC and its connection, so measure it in an exercise)",
		humanDuration(l, took), bytesize.Format(int64(rate)), bytesize.Format(size)))), took
}

// exportBytes is the size of the newest snapshot of each source, summed.
func (b *builder) exportBytes() int64 {
	last := map[string]int64{}
	for _, e := range b.in.Entries {
		if e.Kind != ledger.KindSnapshot {
			continue
		}
		if s, err := ledger.Decode[ledger.SnapshotData](e); err == nil && s.TotalBytes > 0 {
			last[s.Source] = s.TotalBytes
		}
	}
	var sum int64
	for _, v := range last {
		sum += v
	}
	return sum
}

func rotationSpan(b *builder) int {
	n := b.cfg.Rotation.PerCycle
	if n == 0 || len(b.cfg.Media) == 0 {
		return 1
	}
	return (len(b.cfg.Media) + n - 1) / n
}

// rpoWords says how old the newest backup can be, by the schedule and
// the rotation, in words.
func (b *builder) rpoWords() string {
	l, every := b.l, b.scheduleWords(b.cfg.Schedule)
	if n := rotationSpan(b); n > 1 {
		return l.f("最新のバックアップは最大でスケジュール1回分前のもの(スケジュール: %s)。1台の媒体に書き込むのは %d 回に1回なので、1台だけで見ると最大 %d 回分前のものです",
			"the newest backup is at most one scheduled run old (schedule: %s); each medium is written once every %d runs, so on any one medium it is at most %d runs old",
			every, n, n)
	}
	return l.f("最新のバックアップは最大でスケジュール1回分前のもの(スケジュール: %s)。毎回すべての媒体に書き込みます",
		"the newest backup is at most one scheduled run old (schedule: %s); every medium is written every run", every)
}

// alertsTable lists where alerts go.
func (b *builder) alertsTable() Block {
	l, a := b.l, b.cfg.Alerts
	var rows [][]Cell
	if a.Email != nil {
		rows = append(rows, []Cell{tcell(l.t("メール", "mail")), tcell(strings.Join(a.Email.To, ", ")), tcell(l.f("送信サーバ %s", "via %s", a.Email.Server))})
	}
	if a.Webhook != nil {
		rows = append(rows, []Cell{tcell("webhook"), cell(code(a.Webhook.URL)), tcell("HTTP POST (JSON)")})
	}
	return table([]string{l.t("経路", "channel"), l.t("宛先", "to"), l.t("備考", "note")}, rows,
		l.t("通知先が設定されていません。切断を確認できない場合も誰にも通知されません。画面で通知先を設定してください。", "No alert channel is configured: nobody is told when a cut cannot be verified. Set one on the page."))
}

// diagramSection is the 構成図: the e-chart servers the gateway pulls
// from, the gateway with what it listens on, and each medium with its
// relay, drawn from the configuration.
func (b *builder) diagramSection(d *Doc) Section {
	l := b.l
	f := Figure{File: "network." + string(l) + ".svg", Caption: l.t("構成図(設定から作成)", "Network diagram (from the configuration)"), SVG: b.networkSVG()}
	d.Figures = append(d.Figures, f)
	return Section{Title: l.t("構成図", "Network diagram"), Blocks: []Block{
		figure(f),
		ptext(l.t("矢印は接続を始める向きです。ゲートウェイから電子カルテサーバへ接続し、媒体にはリレーで給電している間だけつながります。",
			"Arrows point the way connections are opened: the gateway connects to the e-chart server, and a medium is attached only while its relay powers it.")),
	}}
}

// networkSVG draws the diagram from fixed markup and escaped values.
func (b *builder) networkSVG() string {
	l, cfg := b.l, b.cfg
	e := html.EscapeString
	rows := max(len(cfg.Sources), len(cfg.Media), 2)
	height := 90 + rows*70 + 40
	var s strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&s, format, args...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 760 %d" width="760" height="%d" role="img" font-family="Noto Sans CJK JP, Noto Sans, sans-serif" font-size="12">`, height, height)
	w(`<title>%s</title>`, e(l.t("構成図", "Network diagram")))
	w(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>`)
	w(`<rect x="0" y="0" width="760" height="%d" fill="#fff"/>`, height)
	w(`<text x="10" y="20" font-weight="bold">%s</text>`, e(l.t("院内LAN", "hospital LAN")))
	w(`<text x="540" y="20" font-weight="bold">%s</text>`, e(l.t("媒体", "media")))
	gy := 40
	w(`<rect x="290" y="%d" width="200" height="120" fill="#e8f0fe" stroke="#333"/>`, gy)
	w(`<text x="300" y="%d" font-weight="bold">%s</text>`, gy+20, e(l.f("ゲートウェイ %s", "gateway %s", cfg.GatewayID)))
	addr := cfg.Network.Address
	if cfg.Network.Mode != "static" || addr == "" {
		addr = l.t("DHCP", "DHCP")
		if a := cfg.Documents.GatewayAddress; a != "" {
			addr += " (" + a + ")"
		}
	}
	w(`<text x="300" y="%d">%s</text>`, gy+42, e(addr))
	w(`<text x="300" y="%d">%s</text>`, gy+64, e(l.f("待ち受け: HTTPS %d(画面)", "listens: HTTPS %d (page)", pagePort)))
	w(`<text x="300" y="%d">%s</text>`, gy+84, e(l.f("TCP %d は閉(gokrazy は内部のみ)", "TCP %d closed (gokrazy inside only)", gokrazyPort)))
	for i, src := range cfg.Sources {
		y := 40 + i*70
		w(`<rect x="10" y="%d" width="220" height="50" fill="#f4f6f8" stroke="#333"/>`, y)
		w(`<text x="20" y="%d" font-weight="bold">%s</text>`, y+20, e(l.f("電子カルテ %s", "e-chart %s", src.Name)))
		w(`<text x="20" y="%d">%s</text>`, y+40, e(fmt.Sprintf("%s:%d SFTP", src.Host, src.Port)))
		w(`<line x1="290" y1="%d" x2="232" y2="%d" stroke="#333" stroke-width="1.5" marker-end="url(#arrow)"/>`, gy+30+i*10, y+25)
	}
	py := gy + 150
	w(`<rect x="290" y="%d" width="200" height="40" fill="#f4f6f8" stroke="#333"/>`, py)
	w(`<text x="300" y="%d">%s</text>`, py+25, e(l.t("保守用端末(ブラウザ)", "maintenance PC (browser)")))
	w(`<line x1="390" y1="%d" x2="390" y2="%d" stroke="#333" stroke-width="1.5" marker-end="url(#arrow)"/>`, py, gy+122)
	if a := cfg.Alerts.Email; a != nil {
		w(`<text x="10" y="%d">%s</text>`, height-20, e(l.f("通知: メール(%s)", "alerts: mail (%s)", a.Server)))
	}
	for i := range cfg.Media {
		m := &cfg.Media[i]
		k, _ := kindOf(m)
		y := 40 + i*70
		fill := "#fffbe6"
		if m.Type == config.MediumS3 {
			fill = "#eef7ee"
		}
		w(`<rect x="540" y="%d" width="210" height="50" fill="%s" stroke="#333"/>`, y, fill)
		w(`<text x="550" y="%d" font-weight="bold">%s</text>`, y+20, e(m.Name+": "+k.label(l, m)))
		via := l.f("リレー %s", "relay %s", orDash(m.Relay))
		if m.Type == config.MediumS3 && m.S3 != nil {
			via = l.f("インターネット経由 %s", "over the internet: %s", m.S3.Endpoint)
		}
		w(`<text x="550" y="%d">%s</text>`, y+40, e(via))
		w(`<line x1="490" y1="%d" x2="538" y2="%d" stroke="#333" stroke-width="1.5" stroke-dasharray="5,3" marker-end="url(#arrow)"/>`, gy+30+i*10, y+25)
	}
	w(`</svg>`)
	return s.String()
}
