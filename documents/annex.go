package documents

import (
	"github.com/danzen-gw/danzen/alert"
)

func (b *builder) annex() *Doc {
	l := b.l
	d := b.newDoc("operations-annex", l.t("運用管理規程 別紙: オフラインバックアップ運用手順", "Annex to the operations rules: offline backup procedure"))
	d.Intro = []Span{text(l.t("本別紙は運用管理規程に定めるオフラインバックアップの具体的な手順です。ゲートウェイの現在の設定から生成しており、設定を変えた場合は再生成し、承認を受け直してください。",
		"This annex is the concrete offline backup procedure the operations rules refer to. It is generated from the gateway's live configuration; regenerate it after any change and have it approved again."))}
	d.Sections = append(d.Sections, b.annexScope(), b.annexOffline())
	d.Sections = append(d.Sections, b.annexMedia()...)
	d.Sections = append(d.Sections, b.offsiteSections()...) // the off-site rotation (offsite.go)
	d.Sections = append(d.Sections, b.annexDaily(), b.capacitySection(), b.lifecycleSection())
	d.Sections = append(d.Sections, Section{Title: l.t("警報ごとの対応", "What to do on each alert"), NewPage: true, Blocks: []Block{b.alertsTable(), b.alertActions()}})
	d.Sections = append(d.Sections, b.annexEmergency(), b.annexRecords())
	d.Sections = append(d.Sections, b.handlingLog(), b.dailySheet(), b.monthlySheet(), b.docControl())
	return d
}

// annexScope is the purpose, what is covered and why the annex exists.
func (b *builder) annexScope() Section {
	l := b.l
	return Section{Title: l.t("目的と適用範囲", "Purpose and scope"), Blocks: []Block{
		b.basics(),
		para(text(l.t("対象システム: ", "Systems covered: ")), b.field("systems_covered")),
		ptext(l.t("診療録管理体制加算の施設基準が求めるオフラインバックアップについて、疑義解釈資料の送付について(その8) 問2 は、その具体的な手順を運用管理規程に定めることを求めています。本別紙はその手順であり、次の要求を実施します。",
			"For the offline backup the 診療録管理体制加算 facility standard requires, the MHLW Q&A (疑義解釈資料の送付について その8, question 2) asks that the concrete procedure be set out in the operations rules. This annex is that procedure and carries out the following requirements.")),
		b.annexBasis(),
	}}
}

// annexOffline is what offline means on this gateway.
func (b *builder) annexOffline() Section {
	l := b.l
	return Section{Title: l.t("オフラインの定義", "What offline means"), Blocks: []Block{
		ptext(l.t("バックアップに使用する媒体は、バックアップ時及び戻し時のみ対象機器と接続する(厚生労働省 2022年11月10日の注意喚起)。本ゲートウェイでは、媒体の給電をリレーで切り、その切断をセンス入力とデバイスの消失で確認できた時間だけを「オフライン」とします。",
			"A backup medium is connected only while a backup is written or data is restored (MHLW alert of 10 Nov 2022). On this gateway a medium counts as offline only for the time its power is cut by its relay and the cut is verified by the sense input and the device's disappearance.")),
		note(strong(l.t("切断を確認できない媒体はオフラインではありません。", "A medium whose cut cannot be verified is not offline.")), text(l.t(" 画面は赤で表示し、警報を送り、証跡台帳に記録します。", " The page shows it in red, an alert goes out and the evidence ledger records it."))),
	}}
}

// annexMedia is one section per medium: how it is cut off and the steps.
func (b *builder) annexMedia() []Section {
	l, cfg := b.l, b.cfg
	if len(cfg.Media) == 0 {
		return []Section{{Title: l.t("媒体", "Media"), Blocks: []Block{note(bad(l.t("媒体が設定されていません。", "No medium is configured.")))}}}
	}
	var out []Section
	for i := range cfg.Media {
		m := &cfg.Media[i]
		k, _ := kindOf(m)
		blocks := append(k.offline(b, m), k.procedure(b, m)...)
		out = append(out, Section{Title: l.f("媒体 %s の手順(%s)", "Procedure for medium %s (%s)", m.Name, k.label(l, m)), Blocks: blocks})
		if m.Disk != nil && m.Disk.RDX {
			out = append(out, Section{Title: l.f("RDXカートリッジの取扱い(媒体 %s)", "Handling the RDX cartridge (medium %s)", m.Name), Blocks: b.rdxHandling(m)})
		}
	}
	return out
}

// annexDaily is the daily operation and the checks staff make.
func (b *builder) annexDaily() Section {
	l, cfg := b.l, b.cfg
	morning := l.t("毎朝、画面で各媒体が「切断中(確認済み)」であること、前夜のサイクルが成功したことを確認し、日次点検表に記録する。",
		"Each morning, check on the page that every medium reads \"cut, verified\" and that last night's cycle succeeded, and tick the daily check sheet.")
	if b.hasRDX() {
		morning = l.t("毎朝、画面で各媒体が「切断中(確認済み)」であること、前夜のサイクルが成功したことを確認し、排出されたRDXカートリッジを差し戻して、日次点検表に記録する。",
			"Each morning, check on the page that every medium reads \"cut, verified\" and that last night's cycle succeeded, push the ejected RDX cartridge back in, and tick the daily check sheet.")
	}
	return Section{Title: l.t("日々の運用", "Daily operation"), Blocks: []Block{
		kv([2]string{l.t("項目", "item"), l.t("設定値", "value")},
			pair(l.t("スケジュール", "schedule"), text(b.scheduleWords(cfg.Schedule))),
			pair(l.t("ローテーション", "rotation"), text(b.rotationText())),
			pair(l.t("保持する世代", "generations kept"), text(b.retentionText())),
			pair(l.t("媒体の保管場所", "where media are stored"), b.field("media_storage")),
		),
		steps(
			titem(morning),
			titem(l.t("通知を受けたら、「警報ごとの対応」の表のとおり対応し、対応内容を日次点検表の備考に記録する。", "On an alert, do what \"What to do on each alert\" says and write what was done under the daily sheet's remarks.")),
			titem(l.t("月に1回、証跡台帳の検証(画面の「証跡台帳」)を行い、先頭ハッシュと点検結果を月次点検表に記録する。", "Once a month, verify the evidence ledger (the page's ledger view) and write its head hash and the checks on the monthly check sheet.")),
			titem(l.t("媒体を手で扱ったとき(差し込み・持ち出し・返却・交換・廃棄)は、媒体取扱記録簿に記録する。", "Whenever a person handles a medium (inserts, takes out, returns, replaces or disposes of it), write it in the media handling log.")),
			item(text(l.t("年1回以上、事業継続計画(BCP)に基づく訓練・演習を行い、画面の「提出書類」で記録する。予定: ", "At least once a year, hold an exercise based on the business continuity plan (BCP) and record it on the page's Documents view. Planned: ")),
				b.field("drill_schedule"), text(l.t("。ゲートウェイの復元測定(訓練の材料): ", ". The gateway's restore measurement (material for the exercise): ")+b.measurementPlan())),
		),
	}}
}

// annexEmergency is the emergency restore.
func (b *builder) annexEmergency() Section {
	l := b.l
	return Section{Title: l.t("非常時の復旧", "Emergency restore"), Blocks: []Block{
		steps(
			titem(l.t("ランサムウェア等の疑いがあれば、まずゲートウェイを含む院内ネットワークを遮断する。オフライン媒体を感染の疑いのある機器に接続しない。", "If ransomware is suspected, first isolate the hospital network including the gateway. Never connect an offline medium to a machine that may be infected.")),
			titem(l.t("復旧手順書(媒体と一緒に保管)に従い、清浄なPCで標準の restic により復元する。", "Follow the recovery sheet (kept with the media) and restore with stock restic on a clean PC.")),
			item(text(l.t("パスワードは封をした紙で保管されている: ", "The passwords are on sealed paper at: ")), b.field("password_storage")),
			titem(l.t("復元したデータをマニフェストのSHA-256で照合し、電子カルテベンダに引き渡す。", "Check the restored data against the manifest's SHA-256 and hand it to the e-chart vendor.")),
			item(text(l.t("連絡先: ", "Contacts: ")), b.field("responsible"), text(" / "), b.field("vendor_contact")),
		),
	}}
}

// annexRecords is what is recorded and kept for an audit.
func (b *builder) annexRecords() Section {
	l := b.l
	return Section{Title: l.t("記録と監査", "Records and audit"), Blocks: []Block{
		ptext(l.t("通電・切断・確認・スナップショット・検査・訓練・設定変更・ログインはすべて、改ざんを検出できるハッシュ連鎖の証跡台帳に記録されます。監査の際は、期間を指定したオフライン証跡報告書を生成して提出します。",
			"Every power change, verification, snapshot, check, drill, configuration change and login is recorded in the hash-chained evidence ledger, which detects tampering. For an audit, generate the offline evidence report for the period and hand it over.")),
		ptext(keepRecordsText(l)),
	}}
}

// alertActions says, for each cause an alert or the page reports, what
// happened and what staff and the vendor do: the guide of package alert,
// the same words the page and the alert itself use.
func (b *builder) alertActions() Block {
	l := b.l
	var rows [][]Cell
	for _, g := range alert.Guides() {
		kind := text(l.t("(画面のみ)", "(page only)"))
		if g.Alert != "" {
			kind = code(string(g.Alert))
		}
		sev := text(severityLabel(l, g.Severity))
		if g.Severity == alert.SeverityCritical {
			sev = bad(severityLabel(l, g.Severity))
		}
		rows = append(rows, []Cell{cell(kind), cell(sev), tcell(l.in(g.What)), tcell(l.in(g.Staff)), tcell(l.in(g.Vendor))})
	}
	t := table([]string{l.t("警報", "alert"), l.t("重要度", "severity"), l.t("起きたこと", "what happened"),
		l.t("病院職員の対応", "what hospital staff do"), l.t("保守ベンダの対応", "what the vendor does")}, rows, "")
	t.NoWrap = []int{1} // 「最重要」 on one line
	return t
}

// severityLabel is how the annex names an alert's severity.
func severityLabel(l lang, s alert.Severity) string {
	switch s {
	case alert.SeverityCritical:
		return l.t("最重要", "critical")
	case alert.SeverityError:
		return l.t("重要", "error")
	}
	return l.t("注意", "warning")
}
