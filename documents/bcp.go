package documents

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// The plan is one part of the hospital's 事業継続計画 (BCP): what the
// gateway knows (its schedule, media, retention) comes from the
// configuration, what only the hospital can say (the other systems, the
// contact tree, where incidents are reported, the paper procedure) from
// config.Documents.BCP, printed as 未記入 while empty.

// BCP field names as MissingField reports them.
const (
	fieldBCPDocument = "documents.bcp.document"
	fieldBCPSystems  = "documents.bcp.systems"
	fieldBCPContacts = "documents.bcp.contacts"
	fieldBCPPaper    = "documents.bcp.paper_operation"
)

// BCPLabels are the labels of the BCP's person-entered fields, by the
// name the page's form uses; the page shows the same words.
var BCPLabels = map[string]msg.Text{
	"bcp_document":    msg.T("事業継続計画(BCP)の名称・版", "the hospital's BCP (title, version)"),
	"bcp_systems":     msg.T("BCP の対象システム(復旧順位つき)", "systems of the BCP (with restore order)"),
	"bcp_contacts":    msg.T("連絡網", "contact tree"),
	"report_mhlw":     msg.T("厚生労働省への連絡先", "Ministry of Health (MHLW) contact"),
	"report_police":   msg.T("警察への連絡先", "police contact"),
	"report_ppc":      msg.T("個人情報保護委員会への報告窓口", "Personal Information Protection Commission contact"),
	"paper_operation": msg.T("紙運用への切替手順(文書名・保管場所)", "procedure for paper operation (document, where kept)"),
}

// bcpSection ties the plan to the hospital's BCP and prints the systems
// in restore order, in the shape of MHLW's BCP template 2.2.4.
func (b *builder) bcpSection() Section {
	l := b.l
	bcp := b.cfg.Documents.BCP
	return Section{Title: l.t("事業継続計画(BCP)との関係", "Relation to the business continuity plan (BCP)"), Blocks: []Block{
		para(text(l.t("本計画書は、当院の事業継続計画(", "This plan is part of the hospital's business continuity plan (")),
			b.person(fieldBCPDocument, BCPLabels["bcp_document"], bcp.Document),
			text(l.t(")のうち、情報システムが使えなくなった場合に備えるバックアップと復旧の部分を定めるものです(厚生労働省「医療情報システム部門等におけるBCPのひな形」の平時の備えと復旧処理にあたります)。",
				"): the backups and the restore that prepare for the information systems becoming unusable (the preparation and recovery steps of MHLW's BCP template for information-system departments)."))),
		ptext(l.t("次の表は、BCP のひな形 2.2.4 の形式で、システムごとのバックアップと復元の方法を復旧順位の順に示します。ゲートウェイの行は設定から作成し、その他の行は画面の「提出書類」で記入したものです。",
			"The table lists, in the shape of template 2.2.4, how each system is backed up and restored, in restore order. The gateway's row is made from its configuration; the others are entered on the page's Documents form.")),
		b.bcpSystemsTable(),
	}}
}

// bcpSystemsTable is one row per system: the hospital's, in restore
// order, and the gateway's offline copy of the e-chart export.
func (b *builder) bcpSystemsTable() Block {
	l := b.l
	systems := slices.Clone(b.cfg.Documents.BCP.Systems)
	slices.SortStableFunc(systems, func(x, y config.BCPSystem) int { return cmp.Compare(x.Order, y.Order) })
	head := []string{l.t("復旧順位", "order"), l.t("システム", "system"), l.t("バックアップ頻度", "backup frequency"), l.t("バックアップ方法", "backup method"),
		l.t("復元方法", "restore method"), l.t("OS・アプリケーション", "OS and application")}
	var rows [][]Cell
	for _, s := range systems {
		rows = append(rows, []Cell{tcell(fmt.Sprint(s.Order)), tcell(s.Name), tcell(s.Frequency), tcell(s.Method), tcell(s.Restore), tcell(orDash(s.Platform))})
	}
	if len(systems) == 0 {
		marker := b.person(fieldBCPSystems, BCPLabels["bcp_systems"], "")
		rows = append(rows, []Cell{cell(marker), cell(marker), cell(marker), cell(marker), cell(marker), cell(marker)})
	}
	rows = append(rows, []Cell{tcell("—"), tcell(l.f("オフラインバックアップ(ゲートウェイ %s)", "offline backup (gateway %s)", b.cfg.GatewayID)),
		tcell(b.scheduleWords(b.cfg.Schedule)), tcell(b.methodSummary()),
		tcell(l.t("復旧手順書に従い、媒体から標準の restic で PC に復元し、マニフェストの SHA-256 で照合する", "per the recovery sheet: restore from a medium to a PC with stock restic, check against the manifest's SHA-256")),
		tcell(l.t("restic 0.19.1(Linux・Windows。各媒体に同梱)", "restic 0.19.1 (Linux, Windows; a copy on every medium)"))})
	return table(head, rows, "")
}

// methodSummary is the gateway's media in one line: kinds, rotation and
// the span of the kept generations.
func (b *builder) methodSummary() string {
	l := b.l
	var kinds []string
	for i := range b.cfg.Media {
		m := &b.cfg.Media[i]
		k, _ := kindOf(m)
		kinds = append(kinds, m.Name+l.t("(", " (")+k.label(l, m)+l.t(")", ")"))
	}
	if len(kinds) == 0 {
		return l.t("媒体が設定されていません", "no medium is configured")
	}
	return l.f("暗号化した restic スナップショットを %s に書き込む。%s。%s", "encrypted restic snapshots written to %s. %s. %s",
		strings.Join(kinds, l.t("、", ", ")), b.rotationText(), b.spanText())
}

// contactsSection is the contact tree and where incidents are reported.
func (b *builder) contactsSection() Section {
	l, bcp := b.l, b.cfg.Documents.BCP
	var rows [][]Cell
	for i, c := range bcp.Contacts {
		rows = append(rows, []Cell{tcell(fmt.Sprint(i + 1)), tcell(c.Role), tcell(c.Name), tcell(c.Phone)})
	}
	if len(rows) == 0 {
		marker := b.person(fieldBCPContacts, BCPLabels["bcp_contacts"], "")
		rows = append(rows, []Cell{tcell("1"), cell(marker), cell(marker), cell(marker)})
	}
	report := func(field, name string) Span {
		return b.person("documents.bcp."+field, BCPLabels[name], reportValue(bcp, field))
	}
	return Section{Title: l.t("連絡体制と外部への報告", "Contact tree and external reporting"), Blocks: []Block{
		ptext(l.t("異常(切断を確認できない、取得したエクスポートの異常、媒体の故障、ランサムウェアの疑い)を知った者は、次の順に連絡します。",
			"Whoever learns of a problem (a cut that cannot be verified, an anomalous export, a failed medium, suspected ransomware) calls in this order.")),
		table([]string{l.t("順", "#"), l.t("役割", "role"), l.t("氏名", "name"), l.t("連絡先", "contact")}, rows, ""),
		table([]string{l.t("報告先", "report to"), l.t("いつ", "when"), l.t("連絡先", "contact")}, [][]Cell{
			{tcell(l.t("保守ベンダ", "the vendor")), tcell(l.t("ただちに(切り分けと復旧の依頼)", "at once (diagnosis and restore)")), cell(b.field("vendor_contact"))},
			{tcell(l.t("厚生労働省", "Ministry of Health, Labour and Welfare")), tcell(l.t("サイバー攻撃(疑いを含む)で診療に影響が出たとき", "a cyber attack (or its suspicion) that affects care")), cell(report("report_mhlw", "report_mhlw"))},
			{tcell(l.t("警察(都道府県警察のサイバー犯罪相談窓口)", "the police (the prefecture's cybercrime desk)")), tcell(l.t("サイバー攻撃(疑いを含む)のとき", "a cyber attack, or its suspicion")), cell(report("report_police", "report_police"))},
			{tcell(l.t("個人情報保護委員会", "Personal Information Protection Commission")), tcell(l.t("個人データの漏えい等(おそれを含む)のとき。速報は知ってから概ね3〜5日以内、確報は30日以内(不正の目的によるおそれがあるときは60日以内)",
				"a leak of personal data, or its risk: a first report within about 3–5 days of learning of it, the final one within 30 days (60 when it may be malicious)")), cell(report("report_ppc", "report_ppc"))},
		}, ""),
		note(text(l.t("ゲートウェイの通知(本書の「通知」)は連絡の始まりにすぎません。通知を受けた者が上の連絡網をたどります。",
			"The gateway's alerts (see Alerts) only start the chain: whoever receives one follows the contact tree above."))),
	}}
}

func reportValue(bcp config.BCP, field string) string {
	return map[string]string{"report_mhlw": bcp.ReportMHLW, "report_police": bcp.ReportPolice, "report_ppc": bcp.ReportPPC}[field]
}

// paperSection is the switch to paper operation: when, and which
// procedure; the gateway cannot know either.
func (b *builder) paperSection() Section {
	l := b.l
	return Section{Title: l.t("紙運用への切替", "Switching to paper operation"), Blocks: []Block{
		ptext(l.t("電子カルテが使えず、復元に目標復旧時間(RTO)を超える時間がかかると見込まれる場合は、責任者の判断で紙運用へ切り替えます。復元したデータを電子カルテに戻した後、紙で記録した内容を入力し直します。",
			"When the e-chart system cannot be used and the restore is expected to take longer than the RTO, the responsible person decides to switch to paper operation. After the restored data is back in the e-chart system, what was recorded on paper is entered into it.")),
		para(text(l.t("紙運用の手順: ", "Paper-operation procedure: ")), b.person(fieldBCPPaper, BCPLabels["paper_operation"], b.cfg.Documents.BCP.PaperOperation)),
	}}
}

// exercises are the 訓練・演習 staff recorded on the page, oldest first.
func exercises(in *Input) []exerciseRecord {
	var out []exerciseRecord
	for _, e := range in.Entries {
		if e.Kind != ledger.KindExercise {
			continue
		}
		if x, err := ledger.Decode[ledger.ExerciseData](e); err == nil {
			out = append(out, exerciseRecord{Entry: e, Data: x})
		}
	}
	return out
}

type exerciseRecord struct {
	Entry ledger.Entry
	Data  ledger.ExerciseData
}

// exerciseBlocks is the table of recorded 訓練・演習 (in the period, or
// all) with the restore measurement attached to each.
func (b *builder) exerciseBlocks(periodOnly bool) []Block {
	l := b.l
	var rows [][]Cell
	for _, r := range exercises(b.in) {
		if periodOnly && !inPeriod(b.in, r.Entry.Time) {
			continue
		}
		x := r.Data
		rows = append(rows, []Cell{tcell(x.Date), tcell(orDash(strings.Join(x.Participants, l.t("、", ", ")))), tcell(orDash(x.Scenario)),
			tcell(orDash(x.Problems)), tcell(orDash(x.Improvements)), tcell(b.measurementText(x)), tcell(fmt.Sprintf("%d / %s", r.Entry.Seq, orDash(r.Entry.Actor)))})
	}
	empty := l.t("訓練・演習の記録はありません。事業継続計画に基づく訓練・演習を年1回以上行い、画面の「提出書類」で記録してください。",
		"No exercise is recorded. Hold an exercise under the BCP at least once a year and record it on the page's Documents form.")
	blocks := []Block{table([]string{l.t("実施日", "date"), l.t("参加者", "participants"), l.t("想定(シナリオ)", "scenario"), l.t("うまくいかなかったこと", "what went wrong"),
		l.t("改善策", "improvements"), l.t("添付した復元測定", "restore measurement attached"), l.t("台帳 seq / 記録者", "ledger seq / recorded by")}, rows, empty)}
	if !periodOnly {
		if late := b.exerciseOverdue(); late != "" {
			blocks = append(blocks, note(bad(late)))
		}
	}
	return blocks
}

// measurementText is the restore measurement an exercise record carries.
func (b *builder) measurementText(x ledger.ExerciseData) string {
	l, m := b.l, x.Measurement
	if m == nil {
		return l.t("なし(復元測定の記録がありませんでした)", "none (no restore measurement was recorded)")
	}
	result := l.t("合格", "passed")
	if !m.OK {
		result = l.t("不合格", "failed")
	}
	return l.f("%s 実施、媒体 %s、%d ファイルを %s で復元・照合(%s、seq %d)", "%s, medium %s: %d files restored and checked in %s (%s, seq %d)",
		b.stamp(m.Started), m.Medium, m.Files, humanDuration(l, time.Duration(m.RestoreMS)*time.Millisecond), result, x.MeasurementSeq)
}

// exerciseOverdue says so when no exercise was recorded in the year
// before the document's date.
func (b *builder) exerciseOverdue() string {
	l := b.l
	ex := exercises(b.in)
	if len(ex) == 0 {
		return ""
	}
	last := ex[len(ex)-1].Entry.Time
	if b.in.Now.Sub(last) <= 365*24*time.Hour {
		return ""
	}
	return l.f("最後の訓練・演習の記録(%s)から1年を超えています。", "The last exercise on record (%s) is more than a year ago.", b.stamp(last))
}

// exerciseSection is the evidence report's list of recorded exercises
// in its period (evidence.go calls it).
func (b *builder) exerciseSection() Section {
	return Section{Title: b.l.t("訓練・演習の記録(事業継続計画)", "Exercises under the BCP"), Blocks: b.exerciseBlocks(true)}
}

// drillSection is the plan's 訓練・演習 and 復元測定: the exercises staff
// hold under the BCP, and the gateway's automatic restore measurement,
// which measures but is not an exercise.
func (b *builder) drillSection() Section {
	l := b.l
	blocks := []Block{
		ptext(l.t("診療録管理体制加算1の施設基準(12)により、事業継続計画に基づく訓練・演習を年1回以上行います。訓練・演習には参加者・想定(シナリオ)・うまくいかなかったこと・改善策があり、画面の「提出書類」で記録すると証跡台帳に残ります(記録の時点で最新の復元測定が添付されます)。",
			"Under facility standard (12) of 診療録管理体制加算1, an exercise based on the BCP is held at least once a year. An exercise has participants, a scenario, what went wrong and the improvements; recorded on the page's Documents form, it is kept in the evidence ledger with the newest restore measurement attached.")),
		para(append([]Span{text(l.t("訓練・演習の予定: ", "Exercises planned: "))}, b.field("drill_schedule"))...),
	}
	blocks = append(blocks, b.exerciseBlocks(false)...)
	blocks = append(blocks,
		para(strong(l.t("復元測定(自動)", "Restore measurement (automatic)"))),
		para(text(l.t("ゲートウェイは、媒体の一部のファイルを自身の作業領域に復元して時間を測り、SHA-256 で照合します(復元測定)。これは訓練・演習ではなく、その材料です。予定: ", "The gateway restores a sample of a medium's files into its own scratch area, times it and checks the SHA-256 (a restore measurement). It is not an exercise but material for one. Scheduled: ")), text(b.measurementPlan())),
	)
	blocks = append(blocks, b.drillBlocks(false)...)
	return Section{Title: l.t("訓練・演習と復元測定", "Exercises and restore measurements"), NewPage: true, Blocks: blocks}
}

// measurementPlan is when the gateway measures a restore by itself.
func (b *builder) measurementPlan() string {
	l, r := b.l, b.cfg.Restore
	if r.DrillSchedule == "" {
		return l.t("自動では行いません(画面から実行します)。", "not automatic (run it from the page).")
	}
	return b.scheduleWords(r.DrillSchedule) + l.t("に自動で実行します。", ", by the gateway itself.")
}
