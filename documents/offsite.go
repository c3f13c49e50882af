package documents

import (
	"time"

	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/offsite"
)

// offsiteSections is the off-site rotation as the annex prints it: the
// same blocks as the plan's fire and flood point, under their own title;
// none when no medium can be carried away.
func (b *builder) offsiteSections() []Section {
	blocks := b.offsiteBlocks()
	if len(blocks) == 0 {
		return nil
	}
	return []Section{{Title: b.l.t("院外保管の輪番", "Off-site rotation"), Blocks: blocks}}
}

// offsiteBlocks says which medium is off-site, since when, by when it
// must be back, and how a medium is taken away and brought back, from the
// ledger's marks as the page shows them.
func (b *builder) offsiteBlocks() []Block {
	st := offsite.FromEntries(b.cfg, b.in.Entries, b.in.Now)
	portable := false
	for _, m := range st.Media {
		portable = portable || m.Portable
	}
	if !portable {
		return nil
	}
	l := b.l
	blocks := []Block{ptext(l.f("この表は %s 時点の記録です(画面の「院外保管」で記録した持ち出し・返却から作成)。院外保管中の媒体はバックアップのサイクルで書き込まず、その旨を証跡台帳に記録します。輪番は %d 回に1回各媒体に書き込むため、持ち出した媒体は「戻す期限」の回までに戻してください。",
		"This table is as of %s, from the take-outs and returns marked on the page's off-site view. A cycle does not write a medium kept off-site and records that in the evidence ledger. The rotation writes each medium once every %d runs: bring a medium back before the run named under \"due back\".",
		b.stamp(b.in.Now), b.cfg.RotationRuns()))}
	blocks = append(blocks, b.offsiteTable(st), b.offsiteExpectation(st), b.offsiteProcedure())
	return blocks
}

// offsiteTable is one row per medium that can be carried away.
func (b *builder) offsiteTable(st offsite.State) Block {
	l := b.l
	var rows [][]Cell
	for _, m := range st.Media {
		if !m.Portable {
			continue
		}
		where, since, due := cell(text(l.t("サーバ室", "server room"))), tcell(b.orNever(m.Since, l.t("持ち出しの記録なし", "never taken away"))), tcell("—")
		if m.Away {
			where = cell(strong(l.t("院外保管中", "off-site")))
			if m.Note != "" {
				where = append(where, text(l.f("(%s)", " (%s)", m.Note)))
			}
			since = tcell(l.f("%s から(%s)", "since %s (%s)", b.stamp(m.Since), m.By))
			due = tcell(b.orNever(m.DueBack, l.t("スケジュールなし", "nothing scheduled")))
			if m.Overdue {
				due = cell(bad(l.f("%s(期限切れ)", "%s (overdue)", b.stamp(m.DueBack))))
			}
		} else if !m.Since.IsZero() {
			since = tcell(l.f("%s に返却(%s)", "returned %s (%s)", b.stamp(m.Since), m.By))
		}
		rows = append(rows, []Cell{cell(code(m.Name)), where, since, tcell(b.orNever(m.LastWritten, l.t("未書込", "never written"))), due})
	}
	return table([]string{l.t("媒体", "medium"), l.t("場所", "where"), l.t("持出・返却", "taken or returned"), l.t("最終書込", "last written"), l.t("戻す期限", "due back")}, rows, "")
}

// rotatedOffsite says whether the ledger shows the medium called name
// (any medium, for "") taken off-site at least once.
func (b *builder) rotatedOffsite(name string) bool {
	for _, e := range b.in.Entries {
		if e.Kind != ledger.KindOffsite || name != "" && e.Medium != name {
			continue
		}
		if d, err := ledger.Decode[ledger.OffsiteData](e); err == nil && d.Action == ledger.OffsiteAway {
			return true
		}
	}
	return false
}

// orNever is t stamped, or none when t is zero.
func (b *builder) orNever(t time.Time, none string) string {
	if t.IsZero() {
		return none
	}
	return b.stamp(t)
}

// offsiteExpectation says whether a medium is expected away at all
// times, and flags a lapse.
func (b *builder) offsiteExpectation(st offsite.State) Block {
	l := b.l
	limit := l.in(duration.Words(st.AllHomeLimit))
	if !st.Expected {
		return ptext(l.t("院外保管の輪番は設定されていません(offsite.expected)。すべての媒体がサーバ室にあっても警報は出ません。火災・水害に備えるには、輪番の媒体を1台院外に置き、この設定をオンにしてください。",
			"No off-site rotation is set (offsite.expected): no alert is raised while every medium is in the server room. To be ready for a fire or flood, keep one rotated medium off-site and turn this setting on."))
	}
	expect := l.f("院外保管の輪番を行います。すべての媒体が %s を超えてサーバ室にあると警報が出ます。", "An off-site rotation is kept: an alert is raised when every medium has been in the server room for longer than %s.", limit)
	if st.Lapsed {
		return note(text(expect+" "), bad(l.f("%s から、すべての媒体がサーバ室にあります。輪番が途切れています。", "Every medium has been in the server room since %s: the rotation has lapsed.", b.stamp(st.AllHomeSince))))
	}
	return ptext(expect)
}

// offsiteProcedure is how a medium is taken away and brought back.
func (b *builder) offsiteProcedure() Block {
	l := b.l
	return steps(
		titem(l.t("持ち出し: 前夜のサイクルが終わり、画面でその媒体が「切断中(確認済み)」であることを確かめてから、ディスク・RDXカートリッジ・テープを取り外す。",
			"Taking away: after last night's cycle has ended and the page shows the medium \"cut, verified\", remove the disk, RDX cartridge or tape.")),
		titem(l.t("画面の「院外保管」で「持ち出し」を押し、運ぶ人と保管場所を記録する(最後の1台は持ち出せません)。媒体取扱記録簿に1行記入する。",
			"On the page's off-site view press \"Take away\" and record who carries it and where it is kept (the last medium at home cannot be taken). Write one line in the media handling log.")),
		titem(l.t("施錠できるケースに入れ、別棟・別施設の決められた場所に保管する。",
			"Carry it in a lockable case and keep it at the agreed place in another building or site.")),
		titem(l.t("返却: 「戻す期限」の回より前に持ち帰って差し込み、画面で「返却」を押し、媒体取扱記録簿に記入する。次の媒体を同じ手順で持ち出す。",
			"Bringing back: before the run under \"due back\", bring it back and plug it in, press \"Returned\" on the page and write it in the media handling log. Take the next medium away the same way.")),
	)
}
