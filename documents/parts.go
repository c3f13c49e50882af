package documents

import (
	"fmt"

	"github.com/danzen-gw/danzen/relay"
)

// parts is the parts list: the board, its boot medium and console, the
// relays with their drivers, supplies and sense parts, each medium's own
// parts and the rest.
func (b *builder) parts() []Block {
	l, cfg := b.l, b.cfg
	name, _ := b.board()
	rows := [][]Cell{
		{tcell(l.t("ゲートウェイ本体", "gateway board")), tcell("1"), tcell(name)},
		{tcell(l.t("起動用 microSD または USB SSD", "boot microSD or USB SSD")), tcell("1"), tcell(l.t("32GB以上(/perm に取得領域を置く場合はエクスポートの2倍以上)", "32 GB or more (twice the export size if staging lives on /perm)"))},
	}
	rows = append(rows, b.consoleParts()...)
	rows = append(rows, b.gpioRelayParts()...)
	rows = append(rows, b.moduleParts()...)
	rows = append(rows, b.interlockParts()...)
	rows = append(rows, b.clockParts()...)
	for i := range cfg.Media {
		m := &cfg.Media[i]
		k, _ := kindOf(m)
		rows = append(rows, k.parts(b, m)...)
	}
	rows = append(rows,
		[]Cell{tcell(l.t("ゲートウェイ用電源", "gateway power supply")), tcell("1"), tcell(l.t("ボード純正品(Raspberry Pi 5 は 5V 5A)", "the board's own supply (5 V 5 A for a Raspberry Pi 5)"))},
		[]Cell{tcell(l.t("筐体(DINレールまたは施錠できるケース)", "enclosure (DIN rail or a lockable case)")), tcell("1"), tcell(l.t("リレーと媒体の電源配線を収める", "holds the relays and the media supply wiring"))},
		[]Cell{tcell(l.t("LANケーブル", "LAN cable")), tcell("1"), tcell(l.t("電子カルテのエクスポートを取得するネットワークへ", "to the network the e-chart export is pulled from"))},
		[]Cell{tcell(l.t("UPS(推奨)", "UPS (recommended)")), tcell("1"), tcell(l.t("停電時に書き込み中の媒体を保護する", "protects a medium being written during a power cut"))},
	)
	return []Block{table([]string{l.t("品目", "item"), l.t("数量", "qty"), l.t("仕様・備考", "specification")}, rows, "")}
}

// wiringSections draws every relay and adds its SVG to the document's
// figures for the Markdown form.
func (b *builder) wiringSections(d *Doc) []Section {
	l, cfg := b.l, b.cfg
	mediumOf := map[string]string{}
	for _, m := range cfg.Media {
		mediumOf[m.Relay] = m.Name
	}
	intro := Section{Title: l.t("配線", "Wiring"), NewPage: true, Blocks: []Block{
		ptext(l.t("媒体の電源はリレーの常時開(NO)接点を通します。ゲートウェイが停止・再起動・停電すると媒体への給電は切れます(フェイルセーフ)。電源の − は媒体の − へ直接つなぎ、切り替えません。センス入力は切断の証明に使います。図の線は色ごとに別の導線で、黒丸の点だけで接続します。同じ名前の記号(+24V、+3.3V、GND など)どうしは、つながっています。",
			"Each medium's supply runs through its relay's normally-open (NO) contact, so a stopped, restarting or unpowered gateway leaves the medium unpowered (fail-safe). The supply's − goes straight to the medium's −, never switched. The sense input proves each cut. In the drawings each colour is a separate wire; wires join only at a black dot, and labels of the same name (+24V, +3.3V, GND …) are joined.")),
	}}
	var rows [][]Cell
	for i := range cfg.Relays {
		rows = append(rows, b.wiringRow(&cfg.Relays[i], mediumOf[cfg.Relays[i].Name]))
	}
	intro.Blocks = append(intro.Blocks, table([]string{l.t("リレー", "relay"), l.t("媒体", "medium"), l.t("ドライバ", "driver"), l.t("出力", "output"), l.t("センス入力", "sense input")}, rows,
		l.t("リレーが設定されていません。媒体の給電を切れないため、オフラインにできません。", "No relay is configured: no medium can be cut off.")))
	out := append([]Section{intro}, b.interlockSection()...)
	for _, r := range cfg.Relays {
		f := Figure{File: "wiring-" + r.Name + "." + string(l) + ".svg", Caption: l.f("リレー %s(%s)の配線図", "Wiring of relay %s (%s)", r.Name, b.poweredBy(r.Name).label)}
		if r.Driver == relay.DriverModbus {
			f.SVG = b.moduleSVG(r, b.module(r.Chip))
			d.Figures = append(d.Figures, f)
			out = append(out, Section{Title: l.f("リレー %s", "Relay %s", r.Name), Blocks: append([]Block{figure(f)}, b.moduleWiring(&r)...)})
			continue
		}
		f.SVG = b.wiringSVG(r)
		d.Figures = append(d.Figures, f)
		blocks := []Block{figure(f)}
		if r.Sense != nil {
			blocks = append(blocks, b.senseCircuit(&r)...)
		}
		if r.ActiveLow {
			blocks = append(blocks, note(bad(l.t("出力の active_low=true は、入力が負論理のリレーボード用です。本書の TBD62003APG は GPIO が HIGH のときコイルに通電するため、active_low を false にしてください。",
				"Output active_low=true is for relay boards with inverted inputs. The TBD62003APG of this runbook energises the coil while the GPIO line is HIGH: set active_low to false."))))
		}
		if !realRelay(&r) {
			blocks = append(blocks, note(bad(l.f("このリレーのドライバは %q で、実際のリレーを駆動しません。受入試験の前に gpio または modbus に変更してください。", "This relay's driver is %q, which drives no real relay: change it to gpio or modbus before the acceptance test.", r.Driver))))
		}
		out = append(out, Section{Title: l.f("リレー %s", "Relay %s", r.Name), Blocks: blocks})
	}
	return out
}

// wiringRow is a relay's row in the wiring table: a GPIO relay's lines, or
// a module relay's terminals.
func (b *builder) wiringRow(r *relay.Spec, medium string) []Cell {
	l := b.l
	sense := cell(bad(l.t("なし", "none")))
	output := b.outputName(r)
	switch {
	case r.Sense != nil && r.Driver == relay.DriverModbus:
		sense = tcell(b.senseName(r))
	case r.Sense != nil:
		pull := r.Sense.Pull
		if pull == "" {
			pull = l.t("既定", "default")
		}
		sense = cell(text(b.senseName(r)), text(fmt.Sprintf(" pull=%s active_low=%t", pull, r.Sense.ActiveLow)))
	}
	if r.Driver != relay.DriverModbus {
		output += fmt.Sprintf(" active_low=%t", r.ActiveLow)
	}
	return []Cell{cell(code(r.Name)), cell(code(orDash(medium))), tcell(r.Driver), tcell(output), sense}
}
