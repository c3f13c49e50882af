package documents

import (
	"fmt"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
)

// cutProof says how a medium's cuts are proven: its relay and driver, and
// whether that relay can prove a cut at all (a real driver with a sense
// input), or, without a relay, whether Object Lock stands in for one.
func (b *builder) cutProof(m *config.Medium) (relayText string, proves bool, why string) {
	l := b.l
	if m.Relay == "" {
		if m.Type == config.MediumS3 {
			return "—", true, l.t("リレーなし: オブジェクトロック(追記不能)で判定", "no relay: judged by Object Lock (immutability)")
		}
		return "—", false, l.t("リレーがなく、切断を証明できません", "no relay: a cut cannot be proven")
	}
	r := relayOf(b.cfg, m)
	if r == nil {
		return m.Relay, false, l.t("リレーが設定にありません", "the relay is not in the configuration")
	}
	relayText = fmt.Sprintf("%s (%s)", r.Name, r.Driver)
	switch {
	case !realRelay(r):
		return relayText, false, l.f("ドライバ %s は実際のリレーを駆動しません。この媒体はオフラインではありません", "driver %s drives no real relay: this medium is not offline", r.Driver)
	case r.Sense == nil:
		return relayText, false, l.t("センス入力がなく、切断を証明できません", "no sense input: a cut cannot be proven")
	}
	return relayText, true, l.t("センス入力のOFFとデバイスの消失で確認", "sense input OFF and the device gone")
}

// provesCut reports whether a power.off.verified entry is a verified cut
// for this report, and why not: a simulated cut, or a medium whose relay
// cannot prove one, never is.
func (b *builder) provesCut(e ledger.Entry) (string, bool) {
	l := b.l
	c, _ := ledger.Decode[ledger.CutData](e)
	if c.Simulated {
		return l.t("模擬のリレーでの記録です(何も切断していません)", "recorded by a simulated relay (nothing was cut)"), false
	}
	m, err := b.cfg.Medium(e.Medium)
	if err != nil {
		return l.t("現在の設定にない媒体です", "the medium is not in the configuration"), false
	}
	if _, proves, why := b.cutProof(m); !proves && !c.Immutable {
		return why, false
	}
	return "", true
}

// provenEntries are the ledger entries with every cut this report does not
// accept as verified turned into an unverified one, so the hours count it
// as connected.
func (b *builder) provenEntries() []ledger.Entry {
	out := make([]ledger.Entry, len(b.in.Entries))
	copy(out, b.in.Entries)
	for i, e := range out {
		if e.Kind != ledger.KindPowerOffVerified {
			continue
		}
		if _, ok := b.provesCut(e); !ok {
			out[i].Kind = ledger.KindPowerOffUnverified
		}
	}
	return out
}

// mediaProof is the section of each medium's relay, how its cut is
// proven and the generations it holds now.
func (b *builder) mediaProof() Section {
	l := b.l
	var rows [][]Cell
	for i := range b.cfg.Media {
		m := &b.cfg.Media[i]
		k, _ := kindOf(m)
		relayText, proves, why := b.cutProof(m)
		proof := tcell(why)
		if !proves {
			proof = cell(bad(why))
		}
		rows = append(rows, []Cell{tcell(m.Name), tcell(k.label(l, m)), tcell(relayText), proof, tcell(b.keptSummary(m.Name))})
	}
	return Section{Title: l.t("媒体と切断の証明方法・保持している世代", "Media, how their cuts are proven, and the generations they hold"), Blocks: []Block{
		table([]string{l.t("媒体", "medium"), l.t("種類", "type"), l.t("リレー(ドライバ)", "relay (driver)"), l.t("切断の証明", "proof of the cut"), l.f("保持している世代(%s 現在)", "generations held (as of %s)", b.stamp(b.asOf()))},
			rows, l.t("媒体が設定されていません。", "No medium is configured.")),
		note(text(l.t("切断を証明できない媒体の切断の記録は、確認済みの切断として数えません。世代数は、書き込まれたスナップショットから世代整理(forget)で削除されたものを除いたサイクルの数です。", "Cuts of a medium that cannot prove them never count as verified. Generations are the cycles whose snapshots were written and not yet removed by retention (forget)."))),
	}}
}

// gapBlocks explains the hours with no record, per medium that has some.
func (b *builder) gapBlocks(entries []ledger.Entry) []Block {
	l, in := b.l, b.in
	var items [][]Span
	for _, m := range b.cfg.Media {
		s := ledger.Summarize(entries, m.Name, in.From, in.To)
		if s.Unknown <= 0 {
			continue
		}
		first := l.t("期間の終わりまで記録はありません", "there is no record until the period's end")
		for _, iv := range s.Intervals {
			if iv.State == ledger.StateUnknown && iv.To.Before(in.To) {
				first = l.f("最初の記録は %s", "the first record is at %s", b.stamp(iv.To))
				break
			}
		}
		items = append(items, item(code(m.Name), text(l.f(": 記録なし %s時間(%s)。%s。", ": no record for %s h (%s); %s.", hours(s.Unknown), roughDuration(l, s.Unknown), first))))
	}
	if len(items) == 0 {
		return nil
	}
	return []Block{
		para(strong(l.t("「記録なし」について", "About \"no record\"")), text(l.t(": 期間の初めから、その媒体の最初の通電または切断の記録までの時間です。この間の媒体の状態を台帳は証明できないため、オフラインとしては数えません。主な原因は、媒体が期間の途中で追加された・まだ使われていなかった、ゲートウェイの導入や台帳の開始が期間の途中だった、のいずれかです。導入前の期間を報告に含めていないか、期間を確かめてください。",
			": the time from the period's start to the medium's first record of power or cut. The ledger cannot prove the medium's state then, so it never counts as offline. It usually means the medium was added during the period or not yet in use, or the gateway (and its ledger) began during the period: check that the period does not reach back before the gateway was installed."))),
		list(items...),
	}
}

// roughDuration is a long duration in whole days and hours ("約29日23時間").
func roughDuration(l lang, d time.Duration) string {
	d = d.Round(time.Hour)
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if d < time.Hour {
		return l.t("1時間未満", "under an hour")
	}
	var ja, en []string
	if days > 0 {
		ja, en = append(ja, fmt.Sprintf("%d日", days)), append(en, plural(days, "day"))
	}
	if h > 0 {
		ja, en = append(ja, fmt.Sprintf("%d時間", h)), append(en, plural(h, "hour"))
	}
	return l.t("約"+strings.Join(ja, ""), "about "+strings.Join(en, " "))
}

// plural is "1 day", "2 days".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// ledgerExportSection tells an auditor how to take the ledger away and
// verify it, and lists the period's downloads.
func (b *builder) ledgerExportSection() Section {
	l := b.l
	name := fmt.Sprintf("danzen-ledger-%s-YYYYMMDD-HHMM", b.cfg.GatewayID)
	var rows [][]Cell
	for _, e := range b.in.Entries {
		if e.Kind != ledger.KindLedgerExport || !inPeriod(b.in, e.Time) {
			continue
		}
		x, _ := ledger.Decode[ledger.LedgerExportData](e)
		rows = append(rows, []Cell{tcell(b.stampSec(e.Time)), tcell(fmt.Sprint(e.Seq)), tcell(orDash(e.Actor)), tcell(fmt.Sprint(x.LastSeq)), cell(code(orDash(x.LastHash)))})
	}
	return Section{Title: l.t("証跡台帳の写しと検証方法", "A copy of the ledger and how to verify it"), Blocks: []Block{
		steps(
			titem(l.f("ゲートウェイの画面の%sで%sを押す。%s.tar が保存され、書き出したことも台帳に記録される。", "On the gateway's page, %s, press %s: it saves %s.tar, and the download itself is recorded in the ledger.",
				l.q(pageLedger), l.q(pageLedgerExport), name)),
			titem(l.t("写しは作業用PC(ゲートウェイではないPC。danzen コマンドを同じリポジトリから go build -o bin/ ./cmd/danzen で作る)で検証する。正常と表示され、最終記録の seq と先頭ハッシュが本書の「証跡台帳の検証」と一致すること:", "Verify the copy on a bench PC (not the gateway; build the danzen command from the same repository with go build -o bin/ ./cmd/danzen). It must say OK, and its last seq and head hash must equal this report's ledger verification:")),
		),
		codeBlock(fmt.Sprintf("tar xf %s.tar\ndanzen ledger verify --dir %s", name, name)),
		ptext(l.f("danzen コマンドがなくても、写しに入っている %s の手順(各行の SHA-256 と prev の照合)で検証できます。", "Without the danzen command, the copy's %s gives the recipe (each line's SHA-256 against the next line's prev).", ledger.ExportReadme)),
		table([]string{l.t("書き出し日時", "downloaded"), "seq", l.t("実施者", "by"), l.t("写しの最終 seq", "copy's last seq"), l.t("写しの先頭ハッシュ", "copy's head hash")}, rows,
			l.t("この期間に台帳の書き出しの記録はありません。", "The ledger was not downloaded in this period.")),
	}}
}

// evidenceSignatures is the report's approval block.
func (b *builder) evidenceSignatures() Section {
	l := b.l
	return Section{Title: l.t("作成・確認・承認", "Prepared, checked and approved"), Blocks: []Block{
		ptext(l.t("本書の内容を証跡台帳の検証結果と照合し、確認しました。", "The contents of this report were checked against the ledger's verification.")),
		signatures(l.t("作成者(氏名・署名)", "prepared by (name, signature)"), l.t("作成日", "date"),
			l.t("確認者(氏名・署名)", "checked by (name, signature)"), l.t("確認日", "date"),
			l.t("承認者(氏名・署名)", "approved by (name, signature)"), l.t("承認日", "date")),
	}}
}
