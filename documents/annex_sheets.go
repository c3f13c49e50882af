package documents

import (
	"fmt"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
)

// blockForm is a printable sheet staff fill in by hand: a table whose
// cells may be blank (Rows give the prefilled cells, such as the day of
// the month), printed with rows tall enough to write in.
const blockForm = "form"

// form makes a printable sheet.
func form(head []string, rows [][]Cell) Block { return Block{Kind: blockForm, Head: head, Rows: rows} }

// blankRows is n rows of width empty cells.
func blankRows(n, width int) [][]Cell {
	rows := make([][]Cell, n)
	for i := range rows {
		rows[i] = make([]Cell, width)
	}
	return rows
}

// annexBasis says why the annex exists and which requirements of the
// MHLW guideline it carries out. Only sections whose titles were checked
// against the published text are cited.
func (b *builder) annexBasis() Block {
	l := b.l
	row := func(source, requirement, where string) []Cell {
		return []Cell{tcell(source), tcell(requirement), tcell(where)}
	}
	return table([]string{l.t("根拠", "source"), l.t("求められていること", "what it asks"), l.t("本別紙の該当箇所", "where this annex does it")}, [][]Cell{
		row(l.t("疑義解釈資料の送付について(その8) 問2", "MHLW Q&A on the fee schedule (疑義解釈 その8), question 2"),
			l.t("オフラインバックアップの具体的な手順を運用管理規程に定めること。追記不能の設定をした機器・クラウドは、その機能の詳細と非常時の復旧方法も定めること。",
				"The hospital's operations rules describe the concrete offline backup procedure; for equipment or cloud storage set to be unrewritable, also how that works and how to restore in an emergency."),
			l.t("本別紙全体(媒体ごとの手順、非常時の復旧)", "this whole annex (each medium's procedure, emergency restore)")),
		row(l.t("安全管理ガイドライン 第6.0版 システム運用編「11. システム運用管理(通常時・非常時等)」", "Guideline 6.0, System operation volume, \"11. System operation management (normal times, emergencies)\""),
			l.t("重要なファイルは数世代のバックアップを複数の方式で確保し、その一部は不正ソフトウェアの影響が及ばない手段で管理すること。",
				"Keep several generations of important files in more than one way, part of them where malware cannot reach."),
			l.t("オフラインの定義、媒体ごとの手順、保存容量と保存期間", "what offline means, each medium's procedure, capacity and retention")),
		row(l.t("同 企画管理編「15. 技術的な安全管理対策の管理」", "Guideline 6.0, Management volume, \"15. Managing technical safety measures\""),
			l.t("記録媒体の保管と取扱いを運用管理規程に定め、作業の履歴を残すこと。情報を保存する場所とその保存可能容量を明示すること。",
				"Set out in the operations rules how recording media are stored and handled, and keep a record of that work; state where information is stored and how much each place holds."),
			l.t("媒体の交換と廃棄、媒体取扱記録簿、保存容量と保存期間", "replacing and disposing of media, media handling log, capacity and retention")),
		row(l.t("同 システム運用編「2. システム設計・運用に必要な規程類と文書体系」", "Guideline 6.0, System operation volume, \"2. Rules and documents needed to design and run the system\""),
			l.t("運用に必要な手順を整備して常に最新に保ち、非常時の手順は承認を得ること。",
				"Keep the procedures needed for operation up to date, and have the emergency procedures approved."),
			l.t("文書管理(版・承認・改定履歴)、点検表", "document control (revision, approval, history), check sheets")),
	}, "")
}

// rdxHandling is how staff handle an RDX cartridge: the dock ejects it
// after every cycle and it must be pushed back in by hand before the
// next; the gateway writes only the one cartridge whose media ID it knows.
func (b *builder) rdxHandling(m *config.Medium) []Block {
	l := b.l
	appear := humanDuration(l, orDefault(m.Disk.AppearTimeout, disk.DefaultAppearTimeout))
	return []Block{
		ptext(l.f("媒体 %[1]s の書き込みに使うカートリッジは、媒体ID %[2]s を書き込んだ1本だけです。ゲートウェイはサイクルの終わりにカートリッジを排出してからドックの給電を切るため、カートリッジは次のサイクルまでに手で差し戻す必要があります。",
			"Medium %[1]s is written on one cartridge only, the one prepared with media ID %[2]s. At the end of each cycle the gateway ejects it and then cuts the dock's power, so the cartridge must be pushed back in by hand before the next cycle.",
			m.Name, m.Disk.MediaID)),
		steps(
			titem(l.f("カートリッジのラベルに媒体ID %s を記入しておく。", "Write media ID %s on the cartridge's label.", m.Disk.MediaID)),
			titem(l.f("サイクルの後、画面で媒体 %s が「切断中(確認済み)」であることを確認する。ドックの給電中(画面が「接続中」)はカートリッジに触れない。", "After a cycle, check on the page that medium %s reads \"cut, verified\". Never touch the cartridge while the dock is powered (the page says connected).", m.Name)),
			titem(l.t("排出されたカートリッジに破損がないことを確かめ、ドックに奥まで差し込む。給電が切れているので、差し込んでも書き込みは始まらない。", "Check the ejected cartridge for damage and push it fully into the dock. The dock has no power, so nothing is written until the next cycle.")),
			item(text(l.t("次のサイクルまでに差し込む。スケジュール: ", "Insert it before the next cycle. Schedule: ")), text(b.scheduleWords(b.cfg.Schedule))),
			titem(l.t("差し込んだことを日次点検表に記録する。", "Tick it on the daily check sheet.")),
		),
		note(text(l.f("カートリッジが差し込まれていないと、ドックに給電しても %[1]s 以内にディスクが現れず、そのサイクルは失敗として記録され警報(cycle_failed)が送られます。媒体ID %[2]s 以外のカートリッジは照合で拒否され、書き込まれません。",
			"Without a cartridge the disk does not appear within %[1]s of powering the dock: the cycle is recorded as failed and the cycle_failed alert goes out. A cartridge other than media ID %[2]s is refused by the identity check and never written.",
			appear, m.Disk.MediaID))),
		ptext(l.t("院外保管とローテーション: この設定では、ドック1台に登録されたカートリッジは1本です(媒体ごとに専用のリレーが必要なため)。カートリッジを院外へ持ち出すのは次のサイクルまでの間に限り、持ち出しと返却を媒体取扱記録簿に記録します。複数のカートリッジを交互に院外保管する運用には、カートリッジごとにドックとリレーを用意して別の媒体として登録し、ローテーション(1回に書き込む媒体数)を設定します。設定の変更は保守ベンダが行い、本書の改定履歴に載ります。",
			"Off-site storage and rotation: in this configuration one dock has one registered cartridge (each medium needs its own relay). Take the cartridge off-site only between cycles and record taking it out and bringing it back in the media handling log. To keep cartridges off-site in turn, give each cartridge its own dock and relay, register it as a separate medium and set the rotation (media per cycle); the vendor makes that change, and it appears in this paper's revision history.")),
	}
}

// capacitySection is 保存容量と保存期間: per medium how many generations
// are kept, how far back they reach, and what the ledger says the data
// needs.
func (b *builder) capacitySection() Section {
	l := b.l
	span := b.cfg.GenerationSpanDays()
	export, added := b.exportBytes(), b.meanAdded()
	need := l.t("算出できません(スナップショットの記録がありません)", "cannot be estimated (no snapshot on record)")
	if export > 0 {
		est := export + int64(b.cfg.Retention.KeepLast)*added
		need = l.f("約 %s(直近のエクスポート %s + 保持世代 %d × 1回の平均増分 %s)。媒体はこの2倍以上の容量を推奨します。",
			"about %s (newest export %s + %d kept generations × mean data added per cycle %s); a medium of at least twice that is recommended.",
			bytesize.Format(est), bytesize.Format(export), b.cfg.Retention.KeepLast, bytesize.Format(added))
	}
	var rows [][]Cell
	for i := range b.cfg.Media {
		m := &b.cfg.Media[i]
		keep := l.f("%s(約 %d 日分)", "%s (about %d days)", b.retentionText(), span)
		if m.Type == config.MediumS3 && m.S3 != nil {
			keep += l.f("。Object Lock により各版は最低 %d 日間削除できません", "; Object Lock keeps every version undeletable for at least %d days", max(m.S3.MinRetentionDays, span))
		}
		rows = append(rows, []Cell{cell(code(m.Name)), tcell(b.mediumLabel(m)), tcell(keep), tcell(need)})
	}
	return Section{Title: l.t("保存容量と保存期間", "Capacity and retention"), Blocks: []Block{
		table([]string{l.t("媒体", "medium"), l.t("種類", "type"), l.t("保存期間(保持する世代)", "retention (generations kept)"), l.t("必要な容量の目安", "capacity needed (estimate)")}, rows,
			l.t("媒体が設定されていません。", "No medium is configured.")),
		ptext(l.t("保持期間を過ぎた世代はゲートウェイが自動で削除します(ランサムウェアの疑いがある間は削除を止めます)。容量の目安は証跡台帳の記録から計算したもので、エクスポートが増えれば大きくなります。媒体の容量が足りなくなると書き込みが失敗し、警報(cycle_failed)が送られます。",
			"Generations past the retention are removed by the gateway itself (not while a possible ransomware anomaly is open). The capacity estimate is computed from the evidence ledger and grows with the export. When a medium runs out of space the write fails and the cycle_failed alert goes out.")),
	}}
}

func (b *builder) mediumLabel(m *config.Medium) string {
	k, _ := kindOf(m)
	return k.label(b.l, m)
}

// meanAdded is the mean data one cycle added (all sources), from the
// ledger's snapshots.
func (b *builder) meanAdded() int64 {
	perCycle := map[string]int64{}
	for _, e := range b.in.Entries {
		if e.Kind != ledger.KindSnapshot {
			continue
		}
		if s, err := ledger.Decode[ledger.SnapshotData](e); err == nil {
			perCycle[s.Cycle+"\x00"+e.Medium] += s.DataAdded
		}
	}
	if len(perCycle) == 0 {
		return 0
	}
	var sum int64
	for _, v := range perCycle {
		sum += v
	}
	return sum / int64(len(perCycle))
}

// lifecycleSection is 媒体の交換と廃棄: when a medium is replaced, and
// how a medium that held patient data is made unreadable and recorded.
func (b *builder) lifecycleSection() Section {
	l := b.l
	return Section{Title: l.t("媒体の交換と廃棄", "Replacing and disposing of media"), Blocks: []Block{
		ptext(l.t("媒体は、検査(check)や復元訓練で異常が出たとき、メーカーの定める耐用年数・書き込み回数に達したとき、または外観に破損があるときに交換します。",
			"A medium is replaced when a check or a restore drill finds errors, when it reaches the maker's rated service life or write count, or when it is visibly damaged.")),
		steps(
			titem(l.t("交換: 保守ベンダが構築手順書に従って新しい媒体を準備し(媒体IDの書き込み)、画面で設定を変更する。設定の変更は証跡台帳に記録され、本書の改定履歴に載る。本書を再生成し、承認を受け直す。",
				"Replacement: the vendor prepares the new medium as the build runbook says (writing its media ID) and changes the configuration on the page. The change is recorded in the evidence ledger and appears in this paper's revision history; regenerate this paper and have it approved again.")),
			titem(l.t("新しい媒体への最初の書き込みと検査が成功したことを画面で確認するまで、古い媒体は廃棄しない。", "Do not dispose of the old medium until the page shows the first write and check on the new one succeeded.")),
			titem(l.t("廃棄: 媒体のデータは暗号化されていますが、患者情報を含む媒体として扱い、復元できない状態にしてから廃棄する。方法は物理破壊(穿孔・破砕)、磁気媒体(HDD・テープ)では消磁、または専門業者による消去とし、業者に依頼する場合はデータ消去証明書を受け取る。SSD・フラッシュ媒体は消磁では消えないため物理破壊とする。",
				"Disposal: the data on a medium is encrypted, but a medium that held it is treated as holding patient data and made unrecoverable before it is discarded: by physical destruction (drilling, shredding), degaussing for magnetic media (HDD, tape), or erasure by a specialist firm, which issues a data erasure certificate. Degaussing does not erase an SSD or flash medium: destroy it physically.")),
			titem(l.t("廃棄した日、媒体名・媒体ID・シリアル番号、方法、実施者と立会者を媒体取扱記録簿に記録し、消去証明書を添付して保管する。", "Record the date, the medium's name, media ID and serial number, the method, who did it and who witnessed it in the media handling log, and file the erasure certificate with it.")),
		),
	}}
}

// handlingLog is 媒体取扱記録簿: the printable log of every time a person
// handles a medium.
func (b *builder) handlingLog() Section {
	l := b.l
	return Section{Title: l.t("媒体取扱記録簿", "Media handling log"), NewPage: true, Blocks: []Block{
		ptext(l.t("媒体の差し込み・持ち出し・返却・交換・廃棄のたびに1行記入します(企画管理編 15 の作業履歴)。ゲートウェイの自動の通電・切断は証跡台帳に記録されるため、ここには書きません。",
			"Write one line each time a person inserts, takes out, returns, replaces or disposes of a medium (the work record of the Management volume, 15). The gateway's own power switching is in the evidence ledger and is not written here.")),
		form([]string{l.t("日付・時刻", "date, time"), l.t("媒体名・媒体ID", "medium, media ID"), l.t("取扱い(差込・持出・返却・交換・廃棄)", "action (insert, out, back, replace, dispose)"),
			l.t("行先・保管場所・方法", "to where, stored at, method"), l.t("取扱者", "by"), l.t("確認者", "checked by")}, blankRows(18, 6)),
	}}
}

// dailyChecks are the checks the annex orders every morning, as short
// column labels and the full wording.
func (b *builder) dailyChecks() (short, full []string) {
	l := b.l
	short = []string{l.t("①切断確認", "(1) cut"), l.t("②前夜の成功", "(2) cycle"), l.t("③警報", "(3) alerts")}
	full = []string{
		l.t("① 画面で各媒体が「切断中(確認済み)」である。", "(1) Every medium reads \"cut, verified\" on the page."),
		l.t("② 前夜のサイクルが成功している。", "(2) Last night's cycle succeeded."),
		l.t("③ 警報があれば「警報ごとの対応」に従って対応し、備考に記録した。", "(3) Any alert was dealt with as \"What to do on each alert\" says and noted under remarks."),
	}
	if b.hasRDX() {
		short = append(short, l.t("④RDX差込", "(4) RDX in"))
		full = append(full, l.t("④ 排出されたRDXカートリッジを差し込んだ。", "(4) The ejected RDX cartridge was pushed back in."))
	}
	return short, full
}

func (b *builder) hasRDX() bool {
	for _, m := range b.cfg.Media {
		if m.Disk != nil && m.Disk.RDX {
			return true
		}
	}
	return false
}

// dailySheet is 日次点検表: one month, one row per day.
func (b *builder) dailySheet() Section {
	l := b.l
	short, full := b.dailyChecks()
	head := append(append([]string{l.t("日", "day")}, short...), l.t("備考", "remarks"), l.t("点検者", "checked by"))
	rows := blankRows(31, len(head))
	for i := range rows {
		rows[i][0] = tcell(fmt.Sprint(i + 1))
		for j := range short {
			rows[i][1+j] = tcell("☐")
		}
	}
	var items [][]Span
	for _, f := range full {
		items = append(items, titem(f))
	}
	return Section{Title: l.t("日次点検表", "Daily check sheet"), NewPage: true, Blocks: []Block{
		para(text(l.t("年月: ", "Month: ")), text(l.t("　　　　年　　月", "__________"))),
		list(items...),
		form(head, rows),
	}}
}

// monthlySheet is 月次点検表: one row per month.
func (b *builder) monthlySheet() Section {
	l := b.l
	head := []string{l.t("年月", "month"), l.t("①台帳の検証", "(1) ledger"), l.t("先頭ハッシュ(先頭12文字)", "head hash (first 12)"), l.t("②書込・検査", "(2) writes"),
		l.t("③保管状態", "(3) storage"), l.t("④記録簿", "(4) log"), l.t("点検者", "checked by"), l.t("責任者", "responsible")}
	rows := blankRows(12, len(head))
	for i := range rows {
		for _, j := range []int{1, 3, 4, 5} {
			rows[i][j] = tcell("☐")
		}
	}
	return Section{Title: l.t("月次点検表", "Monthly check sheet"), NewPage: true, Blocks: []Block{
		list(
			titem(l.t("① 証跡台帳の検証(画面の「証跡台帳」)が成功し、先頭ハッシュを控えた。", "(1) The evidence ledger verifies (the page's ledger view) and its head hash is noted.")),
			titem(l.t("② 画面の履歴で、各媒体への書き込みと検査(check)がこの1か月、予定どおり成功している。", "(2) The page's history shows each medium written and checked as scheduled this month.")),
			item(text(l.t("③ 保管中の媒体・パスワードの封筒が所定の場所にあり、破損がない。保管場所: ", "(3) The stored media and the sealed passwords are where they belong and undamaged. Stored at: ")), b.field("media_storage")),
			titem(l.t("④ 媒体取扱記録簿と日次点検表に記入漏れがない。", "(4) The media handling log and the daily check sheets have no gaps.")),
		),
		form(head, rows),
	}}
}

// keepRecordsText says how long the sheets are kept.
func keepRecordsText(l lang) string {
	return l.t("点検表と媒体取扱記録簿は、証跡台帳の報告書とともに、病院の文書管理規程に定める期間保管します。",
		"Keep the check sheets and the media handling log with the evidence reports for as long as the hospital's document rules require.")
}
