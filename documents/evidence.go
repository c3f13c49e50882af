package documents

import (
	"fmt"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/ledger"
)

// drills returns the drill records before To, oldest first. Drill records
// are read only through ledger.KindDrill and ledger.RestoreData.
func drills(in *Input) []drillRecord {
	var out []drillRecord
	for _, e := range in.Entries {
		if e.Kind != ledger.KindDrill {
			continue
		}
		d, err := ledger.Decode[ledger.RestoreData](e)
		if err != nil {
			continue
		}
		out = append(out, drillRecord{Entry: e, Data: d})
	}
	return out
}

type drillRecord struct {
	Entry ledger.Entry
	Data  ledger.RestoreData
}

func inPeriod(in *Input, t time.Time) bool { return !t.Before(in.From) && t.Before(in.To) }

func (b *builder) evidence() *Doc {
	l, in := b.l, b.in
	d := b.newDoc("evidence-report", l.t("オフライン証跡報告書", "Offline evidence report"))
	d.Intro = []Span{text(l.f("期間: %s から %s まで(終わりを含まない)。本書の数値はすべてゲートウェイ %s の証跡台帳(ハッシュ連鎖)から計算したものです。",
		"Period: %s up to %s (end excluded). Every figure is computed from the hash-chained evidence ledger of gateway %s.",
		b.stamp(in.From), b.stamp(in.To), b.cfg.GatewayID))}
	d.Sections = append(d.Sections, b.mediaProof(), b.mediumHours())
	d.Sections = append(d.Sections, b.periodRecords().sections(l)...)
	d.Sections = append(d.Sections,
		Section{Title: l.t("復元測定の記録(自動・画面からの復元測定)", "Restore measurements (automatic or started on the page)"), NewPage: true, Blocks: b.drillBlocks(true)},
		b.exerciseSection(), // bcp.go: the 訓練・演習 staff recorded
		Section{Title: l.t("証跡台帳の検証", "Ledger verification"), Blocks: b.verifyBlocks()},
		b.ledgerExportSection(),
		b.evidenceSignatures(),
	)
	return d
}

// mediumHours is the section of hours connected versus cut, per medium.
func (b *builder) mediumHours() Section {
	l, in := b.l, b.in
	var rows [][]Cell
	entries := b.provenEntries()
	for _, m := range b.cfg.Media {
		s := ledger.Summarize(entries, m.Name, in.From, in.To)
		fails := cell(text(fmt.Sprint(s.FailedCuts)))
		if s.FailedCuts > 0 {
			fails = cell(bad(fmt.Sprint(s.FailedCuts)))
		}
		rows = append(rows, []Cell{cell(code(m.Name)), tcell(hours(s.Connected)), tcell(hours(s.CutOff)), tcell(hours(s.Unknown)), tcell(fmt.Sprint(s.Connections)),
			tcell(fmt.Sprint(s.VerifiedCuts)), fails, tcell(fmt.Sprint(s.Snapshots)), tcell(fmt.Sprintf("%d / %d", s.Checks, s.FailedChecks))})
	}
	return Section{Title: l.t("媒体ごとの接続・切断時間", "Hours connected and cut off, per medium"), Blocks: append([]Block{
		table([]string{l.t("媒体", "medium"), l.t("接続(時間)", "connected (h)"), l.t("切断・確認済み(時間)", "cut, verified (h)"), l.t("記録なし(時間)", "no record (h)"),
			l.t("接続回数", "connections"), l.t("確認済み切断", "verified cuts"), l.t("未確認の切断", "unverified cuts"), l.t("スナップショット", "snapshots"), l.t("検査 成功/失敗", "checks ok/failed")},
			rows, l.t("媒体が設定されていません。", "No medium is configured.")),
		note(text(l.t("未確認の切断は接続として数えます。コマンドを送っただけでオフラインとは扱いません。切断を証明できないリレー(模擬など)での切断の記録も、確認済みの切断とは扱わず接続として数えます。", "An unverified cut counts as connected: a command alone never counts as offline. A cut recorded through a relay that cannot prove it (simulated …) is not a verified cut either and counts as connected."))),
	}, b.gapBlocks(entries)...)}
}

// records are the period's rows of each evidence table.
type records struct {
	cuts, unproven, fails, snaps, checks [][]Cell
}

// periodRecords sorts every entry of the period into its table: each
// verified cut, each failure, each snapshot and each check.
func (b *builder) periodRecords() records {
	var r records
	for _, e := range b.in.Entries {
		if !inPeriod(b.in, e.Time) {
			continue
		}
		lead := []Cell{tcell(b.stampSec(e.Time)), tcell(fmt.Sprint(e.Seq))}
		switch e.Kind {
		case ledger.KindPowerOffVerified:
			if why, ok := b.provesCut(e); !ok {
				r.unproven = append(r.unproven, append(lead, cell(code(e.Medium)), cell(bad(why))))
				continue
			}
			r.cuts = append(r.cuts, append(lead, b.cutCells(e)...))
		case ledger.KindPowerOffUnverified, ledger.KindError, ledger.KindInterrupted, ledger.KindCycleMissed, ledger.KindDrillMissed,
			ledger.KindCycleEnd, ledger.KindDrill, ledger.KindRestore:
			if what, failed := b.failure(e); failed {
				medium := cell(code(orDash(e.Medium)))
				if e.Kind == ledger.KindCycleEnd {
					medium = tcell("—") // a cycle spans media
				}
				r.fails = append(r.fails, append(lead, medium, tcell(string(e.Kind)), cell(bad(what))))
			}
		case ledger.KindSnapshot:
			s, _ := ledger.Decode[ledger.SnapshotData](e)
			r.snaps = append(r.snaps, append(lead, cell(code(e.Medium)), tcell(orDash(s.Source)), cell(code(orDash(s.Snapshot))), tcell(fmt.Sprint(s.Files)), tcell(bytesize.Format(s.DataAdded))))
		case ledger.KindCheck:
			r.checks = append(r.checks, append(lead, b.checkCells(e)...))
		}
	}
	return r
}

// cutCells are a verified cut's medium, relay, sense, device and time.
func (b *builder) cutCells(e ledger.Entry) []Cell {
	l := b.l
	c, _ := ledger.Decode[ledger.CutData](e)
	return []Cell{cell(code(e.Medium)), tcell(orDash(c.Relay)), tcell(yesNo(l, c.SenseOff)), tcell(yesNo(l, c.DeviceGone)), tcell(fmt.Sprintf("%.1f s", float64(c.ElapsedMS)/1000))}
}

// failure says what went wrong in e, in the document's language, and
// whether e records a failure at all (a good cycle end or drill does not).
func (b *builder) failure(e ledger.Entry) (string, bool) {
	l := b.l
	switch e.Kind {
	case ledger.KindCycleEnd:
		if c, err := ledger.Decode[ledger.CycleEndData](e); err != nil || c.OK {
			return "", false
		}
		if what := l.in(e.Message); what != "" {
			return what, true
		}
		return l.t("サイクルが失敗しました", "the cycle failed"), true
	case ledger.KindDrill, ledger.KindRestore:
		x, err := ledger.Decode[ledger.RestoreData](e)
		if err != nil || x.OK {
			return "", false
		}
		return orDash(l.in(x.Error)), true
	case ledger.KindPowerOffUnverified:
		what := e.Message
		if c, err := ledger.Decode[ledger.CutData](e); err == nil && !c.Reason.IsZero() {
			what = what.Append(": ", c.Reason)
		}
		return orDash(l.in(what)), true
	}
	return orDash(l.in(e.Message)), true
}

// checkCells are a check's medium, scope and result.
func (b *builder) checkCells(e ledger.Entry) []Cell {
	l := b.l
	c, err := ledger.Decode[ledger.CheckData](e)
	res := cell(text(l.t("成功", "ok")))
	if err != nil || !c.OK {
		res = cell(bad(l.t("失敗", "FAILED") + " " + l.in(e.Message)))
	}
	return []Cell{cell(code(e.Medium)), tcell(orDash(c.Detail)), res}
}

// sections are the tables of the period's records.
func (r records) sections(l lang) []Section {
	none := l.t("この期間の記録はありません。", "No records in this period.")
	cuts := []Block{table([]string{l.t("時刻", "time"), "seq", l.t("媒体", "medium"), l.t("リレー", "relay"), l.t("センスOFF", "sense off"), l.t("デバイス消失", "device gone"), l.t("所要", "took")}, r.cuts, none)}
	if len(r.unproven) > 0 {
		cuts = append(cuts,
			para(strong(l.t("確認済みの切断として扱わない切断の記録", "Cuts on record that are not verified cuts")), text(l.t("(リレーが切断を証明できないため、オフラインの証跡になりません):", " (the relay cannot prove a cut, so they are no evidence of being offline):"))),
			table([]string{l.t("時刻", "time"), "seq", l.t("媒体", "medium"), l.t("理由", "why")}, r.unproven, none))
	}
	return []Section{
		{Title: l.t("確認済みの切断", "Verified cuts"), NewPage: true, Blocks: cuts},
		{Title: l.t("失敗・異常", "Failures"), Blocks: []Block{table([]string{l.t("時刻", "time"), "seq", l.t("媒体", "medium"), l.t("種類", "kind"), l.t("内容", "what")}, r.fails, l.t("この期間に失敗・異常の記録はありません。", "No failure was recorded in this period."))}},
		{Title: l.t("スナップショット", "Snapshots"), Blocks: []Block{table([]string{l.t("時刻", "time"), "seq", l.t("媒体", "medium"), l.t("取得元", "source"), l.t("スナップショットID", "snapshot ID"), l.t("ファイル数", "files"), l.t("追加量", "added")}, r.snaps, none)}},
		{Title: l.t("検査(restic check)", "Checks (restic check)"), Blocks: []Block{table([]string{l.t("時刻", "time"), "seq", l.t("媒体", "medium"), l.t("範囲", "scope"), l.t("結果", "result")}, r.checks, none)}},
	}
}

// drillBlocks is the table of drill records (in the period, or all).
func (b *builder) drillBlocks(periodOnly bool) []Block {
	l := b.l
	var rows [][]Cell
	for _, r := range drills(b.in) {
		if periodOnly && !inPeriod(b.in, r.Entry.Time) {
			continue
		}
		x := r.Data
		result := cell(text(l.t("合格", "passed")))
		if !x.OK {
			result = cell(bad(l.t("不合格", "FAILED") + " " + l.in(x.Error)))
		}
		verified := fmt.Sprintf("%d / %d", x.FilesVerified, x.Files)
		if len(x.Mismatches) > 0 {
			verified += l.f("(不一致 %d: %s)", " (%d mismatched: %s)", len(x.Mismatches), l.joinIn(x.Mismatches))
		}
		check := l.t("未実施", "not run")
		if x.CheckRan {
			check = yesNoOK(l, x.CheckOK)
		}
		rows = append(rows, []Cell{tcell(b.stamp(x.Started)), tcell(fmt.Sprint(r.Entry.Seq)), cell(code(orDash(x.Medium))), cell(code(orDash(x.Snapshot))), tcell(orDash(x.Source)),
			tcell(humanDuration(l, time.Duration(x.RestoreMS)*time.Millisecond)), tcell(verified), tcell(check), tcell(yesNo(l, x.CutVerified)), tcell(orDash(x.Actor)), result})
	}
	empty := l.t("この期間に復元測定の記録はありません。年1回以上の訓練・演習(施設基準)の材料として、少なくとも年1回は測定してください。",
		"No restore measurement was recorded in this period. Measure at least once a year, as material for the yearly exercise the facility standard requires.")
	return []Block{table([]string{l.t("開始", "started"), "seq", l.t("媒体", "medium"), l.t("スナップショット", "snapshot"), l.t("取得元", "source"), l.t("復元時間(実測)", "time to restore (measured)"),
		l.t("照合済みファイル", "files verified"), l.t("全データ検査", "full check"), l.t("切断確認", "cut verified"), l.t("実施者", "by"), l.t("結果", "result")}, rows, empty)}
}

// verifyBlocks prints the ledger's verification with its head hash.
func (b *builder) verifyBlocks() []Block {
	l, r := b.l, b.in.Verify
	result := cell(strong(l.t("正常: ハッシュ連鎖と head.json が一致しています", "OK: the hash chain and head.json agree")))
	if !r.OK {
		why := l.t("検証できません", "cannot be verified")
		if b.in.VerifyErr != nil {
			why = l.inErr(b.in.VerifyErr)
		}
		result = cell(bad(l.t("異常あり: ", "FAILED: ") + why))
	}
	pairs := []kvPair{
		pair(l.t("検証結果", "result"), result...),
		pair(l.t("台帳ファイル", "ledger file"), code(orDash(r.Path))),
		pair(l.t("検証した記録数", "entries checked"), text(fmt.Sprint(r.Entries))),
		pair(l.t("最終記録", "last entry"), text(fmt.Sprintf("seq %d, %s", r.LastSeq, b.stampSec(r.LastTime)))),
		pair(l.t("先頭ハッシュ(head hash)", "head hash"), code(orDash(r.LastHash))),
	}
	if r.Head != nil {
		pairs = append(pairs, pair("head.json", code(fmt.Sprintf("seq %d, %s", r.Head.Seq, r.Head.Hash))))
	}
	for _, p := range r.Problems {
		pairs = append(pairs, pair(l.f("異常(%d行目)", "problem (line %d)", p.Line), bad(l.in(p.Message))))
	}
	return []Block{
		kv([2]string{l.t("項目", "item"), l.t("内容", "value")}, pairs...),
		para(text(l.t("この先頭ハッシュを控えておけば、それまでの記録が後から書き換えられていないことを誰でも確認できます: ", "Keeping this head hash pins every record up to it; anyone can re-verify that none was rewritten later: ")),
			code("danzen ledger verify --dir "+b.cfg.LedgerDir),
			text(l.t("。各行の hash は、その行から末尾の hash 項目を除いたJSONのSHA-256で、次の行の prev と一致します。", ". Each line's hash is the SHA-256 of the line without its final hash member, and equals the next line's prev."))),
	}
}

func yesNo(l lang, v bool) string {
	if v {
		return l.t("はい", "yes")
	}
	return l.t("いいえ", "no")
}

func yesNoOK(l lang, v bool) string {
	if v {
		return l.t("成功", "ok")
	}
	return l.t("失敗", "failed")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// joinIn renders bilingual items in the document's language, comma-separated.
func (l lang) joinIn(items []ledger.Mismatch) string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = l.in(it)
	}
	return strings.Join(out, ", ")
}
