package documents

import (
	"fmt"
	"strings"
	"time"
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
	if n == 0 {
		return l.t("毎回すべての媒体に書き込む", "every medium is written every cycle")
	}
	return l.f("毎回 %d 台の媒体に、最も前に書き込んだものから順に書き込む(媒体 %d 台の輪番)", "%d medium per cycle, the least recently written first (a rotation over %d media)", n, len(b.cfg.Media))
}

func (b *builder) plan() *Doc {
	l, cfg := b.l, b.cfg
	d := b.newDoc("offline-backup-plan", l.t("オフラインバックアップ計画書", "Offline backup plan"))
	d.Intro = []Span{text(l.t("本計画書は、診療録管理体制加算1の施設基準(バックアップの複数方式での確保とオフラインでの保管)に沿って、ゲートウェイの現在の設定から生成したものです。",
		"This plan follows the facility standard of 診療録管理体制加算1 (backups kept in several methods, part of them offline) and is generated from the gateway's live configuration."))}
	d.Sections = append(d.Sections, Section{Title: l.t("基本情報", "Basic information"), Blocks: []Block{b.basics()}})
	d.Sections = append(d.Sections, Section{Title: l.t("対象システム", "Systems covered"), Blocks: []Block{
		para(text(l.t("対象システム: ", "Systems: ")), b.field("systems_covered")),
		ptext(l.t("以下の電子カルテサーバのエクスポートを、ゲートウェイが読み取り専用アカウントでSFTPにより取得します(電子カルテサーバからゲートウェイへは接続できません)。",
			"The gateway pulls the following e-chart exports over SFTP with a read-only account; the e-chart server cannot connect to the gateway.")),
		b.sourcesTable(),
	}})
	methods := []Block{
		ptext(l.t("バックアップは次の方式で確保します。", "Backups are kept in these methods:")),
		list(
			titem(l.t("電子カルテ側の通常のバックアップ(既存、保守ベンダの運用)", "the e-chart system's own backup (existing, run by its vendor)")),
			titem(l.t("ゲートウェイの取得領域(直近のエクスポートの検証済みの写し、SHA-256付き)", "the gateway's staging (the last export, verified, with SHA-256 per file)")),
			titem(l.f("オフライン媒体 %d 台への暗号化された restic スナップショット", "encrypted restic snapshots on %d offline media", len(cfg.Media))),
		),
		b.mediaTable(),
	}
	if len(cfg.Media) < 2 {
		methods = append(methods, note(bad(l.t("媒体が2台未満です。1台の故障・紛失に備え、2台以上の輪番を推奨します。", "Fewer than two media: two or more in rotation are recommended so one failure or loss is survivable."))))
	}
	d.Sections = append(d.Sections, Section{Title: l.t("バックアップの方式(複数の方式)", "Backup methods (several methods)"), Blocks: methods})
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
			pair(l.t("ローテーション", "rotation"), text(b.rotationText())),
			pair(l.t("保持する世代", "generations kept"), text(b.retentionText())),
			pair(l.t("スケジュール", "schedule"), code(cfg.Schedule), text(" ("+cfg.TimeZone+")")),
			pair(l.t("書き込み後の検査", "check after writing"), text(checkText(l, cfg.CheckSubset))),
			pair(l.t("暗号化", "encryption"), text(l.t("restic リポジトリ暗号化(AES-256)。パスワードは媒体ごと", "restic repository encryption (AES-256), one password per medium"))),
		),
		ptext(l.t("古い世代の整理は、その夜のバックアップがすべて成功した場合にのみ行います。失敗が続いても正常な世代は消えません。",
			"Old generations are pruned only after a fully good night, so failing exports never push good generations out.")),
	}})
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
			titem(l.t("ゲートウェイが使える場合: 画面またはCLIで媒体とスナップショットを選び復元する(媒体は復元の間だけ通電)。", "With the gateway: choose the medium and snapshot on the page or CLI and restore (the medium is powered only while it is read).")),
			titem(l.t("ゲートウェイが使えない場合: 復旧手順書に従い、任意のLinux PCと標準の restic で媒体から直接復元する。", "Without the gateway: follow the recovery sheet and restore from the medium with stock restic on any Linux PC.")),
			titem(l.t("復元したファイルをマニフェストのSHA-256で照合してから電子カルテベンダに引き渡す。", "Check the restored files against the manifest's SHA-256 before handing them to the e-chart vendor.")),
		),
	}})
	d.Sections = append(d.Sections, Section{Title: l.t("訓練計画", "Drill schedule"), Blocks: append([]Block{
		para(append([]Span{text(l.t("訓練の予定: ", "Drills: "))}, b.drillPlan()...)...),
		ptext(l.t("施設基準により、復元訓練を年1回以上行い、その記録(復元時間の実測とチェックサム照合)を証跡台帳に残します。", "The facility standard requires a restore drill at least once a year; its record (measured time to restore and checksum comparison) is kept in the evidence ledger.")),
	}, b.drillBlocks(false)...)})
	d.Sections = append(d.Sections, Section{Title: l.t("通知", "Alerts"), Blocks: []Block{b.alertsTable()}})
	return d
}

func checkText(l lang, subset string) string {
	if subset == "" {
		return l.t("restic check(構造のみ)", "restic check (structure only)")
	}
	return l.f("restic check --read-data-subset %s", "restic check --read-data-subset %s", subset)
}

// rpoRTO prints the targets next to what the schedule and the last drill
// measured.
func (b *builder) rpoRTO() []Block {
	l, doc := b.l, b.cfg.Documents
	measured := cell(text(l.t("訓練記録なし", "no drill recorded yet")))
	if ds := drills(b.in); len(ds) > 0 {
		x := ds[len(ds)-1].Data
		took := time.Duration(x.RestoreMS) * time.Millisecond
		measured = cell(text(l.f("%s(%s の訓練、媒体 %s、%d ファイル)", "%s (drill of %s, medium %s, %d files)", humanDuration(l, took), b.stamp(x.Started), x.Medium, x.Files)))
		if doc.RTO > 0 && took > time.Duration(doc.RTO) {
			measured = append(measured, bad(l.t(" — 目標を超えています", " — exceeds the target")))
		}
		if !x.OK {
			measured = append(measured, bad(l.t(" — 訓練は不合格", " — the drill failed")))
		}
	}
	return []Block{kv([2]string{l.t("項目", "item"), l.t("内容", "value")},
		pair(l.t("RPO 目標", "RPO target"), b.field("rpo")),
		pair(l.t("RPO 設定上の値", "RPO from the schedule"), text(l.f("スケジュール %s の間隔(媒体の輪番により、1台あたりは %d 回に1回)", "the interval of schedule %s (each medium is written every %d cycles in rotation)", b.cfg.Schedule, rotationSpan(b)))),
		pair(l.t("RTO 目標", "RTO target"), b.field("rto")),
		pair(l.t("RTO 実測(最新の訓練)", "RTO measured (last drill)"), measured...),
	)}
}

func rotationSpan(b *builder) int {
	n := b.cfg.Rotation.PerCycle
	if n == 0 || len(b.cfg.Media) == 0 {
		return 1
	}
	return (len(b.cfg.Media) + n - 1) / n
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

// drillPlan is when drills run: the gateway's own drill schedule when one
// is configured, else what the hospital wrote.
func (b *builder) drillPlan() []Span {
	l, r := b.l, b.cfg.Restore
	if r.DrillSchedule == "" {
		return []Span{b.field("drill_schedule")}
	}
	out := []Span{text(l.t("ゲートウェイが自動で実行(", "run by the gateway itself (")), code(r.DrillSchedule), text(", " + b.cfg.TimeZone + ")")}
	if d := b.cfg.Documents.DrillSchedule; d != "" {
		out = append(out, text(l.t("。", "; ")+d))
	}
	return out
}
