package documents

import (
	"cmp"
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/rtu"
)

// A relay of driver "modbus" is a channel of a DIN-rail Modbus RTU relay
// module on a USB–RS-485 adapter: the board needs no GPIO. Its output is
// the module's terminal CHn (coil n−1), its sense input the module's
// opto-isolated terminal DIn (discrete input n−1).

// realRelay reports whether r switches a real supply: a GPIO line or a
// relay module's coil.
func realRelay(r *relay.Spec) bool {
	return r.Driver == relay.DriverGPIO || r.Driver == relay.DriverModbus
}

// onPi reports whether the configuration is for the Raspberry Pi image,
// the only board whose lines have header pins to print.
func (b *builder) onPi() bool {
	_, instance := b.board()
	return instance == instanceRPi
}

// hasModules reports whether any relay is a relay module's.
func (b *builder) hasModules() bool {
	return slices.ContainsFunc(b.cfg.Relays, func(r relay.Spec) bool { return r.Driver == relay.DriverModbus })
}

// module returns the relay module called name (nil if none).
func (b *builder) module(name string) *rtu.ModuleSpec {
	i := slices.IndexFunc(b.cfg.RelayModules, func(m rtu.ModuleSpec) bool { return m.Name == name })
	if i < 0 {
		return nil
	}
	return &b.cfg.RelayModules[i]
}

// outputName names a relay's output for the person wiring it.
func (b *builder) outputName(r *relay.Spec) string {
	if r.Driver == relay.DriverModbus {
		return b.l.f("リレーモジュール %s の端子 CH%d(コイル %d)", "relay module %s, terminal CH%d (coil %d)", r.Chip, r.Line+1, r.Line)
	}
	return pinName(b.l, b.onPi(), r.Chip, r.Line)
}

// senseName names a relay's sense input (r.Sense is set).
func (b *builder) senseName(r *relay.Spec) string {
	if r.Driver == relay.DriverModbus {
		return b.l.f("リレーモジュール %s の端子 DI%d(入力 %d)", "relay module %s, terminal DI%d (input %d)", r.Sense.Chip, r.Sense.Line+1, r.Sense.Line)
	}
	return pinName(b.l, b.onPi(), r.Sense.Chip, r.Sense.Line)
}

// lineSettings is a module's serial line as its settings say it: "9600
// bps, 8N1".
func lineSettings(m *rtu.ModuleSpec) string {
	parity := map[string]string{rtu.ParityEven: "8E1", rtu.ParityOdd: "8O1"}[m.Parity]
	return fmt.Sprintf("%d bps, %s", cmp.Or(m.Baud, rtu.DefaultBaud), cmp.Or(parity, "8N1"))
}

// moduleConnection says where a module hangs: its adapter's USB serial
// number, or a serial device.
func (b *builder) moduleConnection(m *rtu.ModuleSpec) Cell {
	if m.Device != "" {
		return cell(text(b.l.t("シリアルデバイス ", "serial device ")), code(m.Device))
	}
	return cell(text(b.l.t("USB–RS-485 アダプタ、シリアル番号 ", "USB–RS-485 adapter, serial number ")), code(m.Adapter))
}

// moduleParts are the parts list's rows for the relay modules: the
// modules, their adapters and supplies, the bus's terminations and cable.
func (b *builder) moduleParts() [][]Cell {
	l := b.l
	if !b.hasModules() {
		return nil
	}
	var mods, adapters []string
	for _, r := range b.cfg.Relays {
		if r.Driver == relay.DriverModbus && !slices.Contains(mods, r.Chip) {
			mods = append(mods, r.Chip)
			if m := b.module(r.Chip); m != nil && m.Adapter != "" && !slices.Contains(adapters, m.Adapter) {
				adapters = append(adapters, m.Adapter)
			}
		}
	}
	buses := max(len(adapters), 1)
	return [][]Cell{
		{tcell(l.t("DINレール取付の Modbus RTU リレーモジュール(絶縁型デジタル入力付き、4〜8チャンネル)", "DIN-rail Modbus RTU relay module with opto-isolated digital inputs (4–8 channels)")), tcell(fmt.Sprint(len(mods))),
			tcell(l.f("国内で広く販売されている RS-485 の Modbus RTU リレーモジュール。リレー1つにつきコイル出力(CH)1つとセンス用のデジタル入力(DI)1つ。接点定格は媒体の電源電圧・電流以上。設定のモジュール: %s",
				"an RS-485 Modbus RTU relay module of the kind sold widely in Japan; per relay, one coil output (CH) and one digital input (DI) for the sense. Contacts rated above the media supplies' voltage and current. Modules of the configuration: %s",
				strings.Join(mods, ", ")))},
		{tcell(l.t("USB–RS-485 アダプタ", "USB–RS-485 adapter")), tcell(fmt.Sprint(buses)),
			tcell(l.t("FTDI、CP210x または CH341 のチップ(イメージのカーネルにドライバがあります)。USB シリアル番号を持つもの: ゲートウェイはアダプタをシリアル番号で見つけます(FTDI・CP210x はほぼ持ち、CH341 の多くは持ちません)",
				"an FTDI, CP210x or CH341 chip (the image's kernel has their drivers), with a USB serial number: the gateway finds the adapter by it (FTDI and CP210x nearly always have one, most CH341 do not)"))},
		{tcell(l.t("リレーモジュール用 DC 24V 電源(DINレール)", "24 V DC supply for the relay module (DIN rail)")), tcell(fmt.Sprint(len(mods))),
			tcell(l.t("モジュールの電源端子へ。媒体の電源とは別に", "to the module's supply terminals; separate from the media supplies"))},
		{tcell(l.t("終端抵抗 120Ω", "120 Ω termination resistor")), tcell(fmt.Sprint(2 * buses)),
			tcell(l.t("RS-485 バスの両端(アダプタと最後のモジュール)の A–B 間。内蔵の終端ジャンパがあればそれを使う", "across A–B at both ends of the RS-485 bus (the adapter and the last module); use a built-in termination jumper where there is one"))},
		{tcell(l.t("ツイストペアケーブル", "twisted-pair cable")), tcell("1"),
			tcell(l.t("A と B に1対を使う(シールド付き推奨)。GND も配線する", "one pair for A and B (shielded recommended); wire GND as well"))},
	}
}

// moduleWiring is a module relay's wiring table and the checks of its
// first day, in place of a GPIO relay's pins.
func (b *builder) moduleWiring(r *relay.Spec) []Block {
	l := b.l
	m := b.module(r.Chip)
	if m == nil {
		return []Block{note(bad(l.f("リレーモジュール %s が設定にありません。", "Relay module %s is not in the configuration.", r.Chip)))}
	}
	pairs := []kvPair{
		pair(l.t("リレーモジュール", "relay module"), code(m.Name)),
		{l.t("接続", "connection"), b.moduleConnection(m)},
		pair(l.t("Modbus アドレス", "Modbus address"), code(fmt.Sprint(m.Address)), text(l.t("(モジュールの DIP スイッチまたは設定と同じに)", " (as set on the module's DIP switches or settings)"))),
		pair(l.t("通信設定", "line settings"), code(lineSettings(m))),
		pair(l.t("出力(媒体の電源を通す接点)", "output (the contact the medium's supply runs through)"), text(l.f("端子 CH%d の COM と NO(コイル %d)", "terminal CH%d, COM and NO (coil %d)", r.Line+1, r.Line))),
	}
	if r.Sense != nil {
		pairs = append(pairs, pair(l.t("センス入力", "sense input"), text(l.f("モジュール %s の端子 DI%d(入力 %d): NO 接点の後の媒体の電源 + を DI%d へ、− をデジタル入力の共通端子へ",
			"module %s, terminal DI%d (input %d): the medium's supply + after the NO contact to DI%d, its − to the digital inputs' common terminal",
			r.Sense.Chip, r.Sense.Line+1, r.Sense.Line, r.Sense.Line+1))))
	} else {
		pairs = append(pairs, pair(l.t("センス入力", "sense input"), bad(l.t("なし: 切断を証明できません", "none: cuts cannot be proven"))))
	}
	return []Block{
		kv([2]string{l.t("項目", "item"), l.t("設定値", "value")}, pairs...),
		ptext(l.t("センス(反転なし): モジュールのデジタル入力は絶縁型なので、媒体の電源(DC 5〜24V、入力の定格内)を NO 接点の後から直接つなげます。媒体に給電されているとONを読み、接点の溶着は「切断を確認できません」として現れます。センス(反転、active_low): 強制ガイドリレーの補助接点(NC)を入力につなぎ、リレーがOFFのとき入力がONになります。断線も「切断を確認できません」になる、最も安全な配線です。",
			"Sense (not inverted): the module's digital inputs are opto-isolated, so the medium's supply (DC 5–24 V, within the input's rating) goes to the input straight from after the NO contact; the input reads ON while the medium is powered, and a welded contact shows as \"cut not verified\". Sense (inverted, active_low): a force-guided relay's auxiliary NC contact drives the input, which reads ON while the relay is off; a broken wire then also shows as \"cut not verified\", the safest wiring.")),
		ptext(l.f("初日の確認: アダプタをゲートウェイの USB ポートにつなぎ、画面の%sでモジュール %s を開き、接続中のアダプタの一覧にシリアル番号 %s が出ることを確かめてから、リレーの配線テストを行う。配線テストの各段階(リレーをオン → センス入力がオン → 装置が現れた → リレーをオフ → センス入力がオフ → 装置が消えた)がすべて成功するまで媒体を使わない。モジュールが応答しないときは、アドレス・通信速度・パリティ、A と B の入れ替わり、終端抵抗、モジュールの 24V 電源を確かめる。",
			"On the first day: plug the adapter into the gateway's USB port, open module %[2]s on the page under %[1]s and check that the list of adapters connected now shows serial number %[3]s, then run the relay's wiring test. Use no medium until every stage of it passed (relay on → sense input on → device appeared → relay off → sense input off → device gone). When the module does not answer, check the address, baud and parity, A and B swapped, the terminations and the module's 24 V supply.",
			l.q(pageConfig)+" → "+l.q(pageModules), m.Name, orDash(m.Adapter))),
	}
}

// moduleSVG draws a module relay: the gateway's USB port, the adapter and
// the RS-485 bus, the module's channel in the medium's supply and the
// digital input that senses it.
func moduleSVG(l lang, r relay.Spec, m *rtu.ModuleSpec, medium string) string {
	e := html.EscapeString
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	conn, addr, line := "?", "?", "?"
	if m != nil {
		conn, addr, line = cmp.Or(m.Adapter, m.Device), fmt.Sprint(m.Address), lineSettings(m)
	}
	w(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 760 330" width="760" height="330" role="img" font-family="Noto Sans CJK JP, Noto Sans, sans-serif" font-size="12">`)
	w(`<title>%s</title>`, e(l.f("リレー %s の配線(媒体 %s)", "Wiring of relay %s (medium %s)", r.Name, medium)))
	w(`<rect x="0" y="0" width="760" height="330" fill="#fff"/>`)
	w(`<rect x="10" y="30" width="170" height="110" fill="#f4f6f8" stroke="#333"/>`)
	w(`<text x="20" y="50" font-weight="bold">%s</text>`, e(l.t("ゲートウェイ", "gateway")))
	w(`<text x="20" y="75">USB</text>`)
	w(`<rect x="10" y="170" width="170" height="110" fill="#f4f6f8" stroke="#333"/>`)
	w(`<text x="20" y="190" font-weight="bold">USB–RS-485</text>`)
	w(`<text x="20" y="212">%s</text>`, e("serial "+conn))
	w(`<text x="20" y="234">A+ · B− · GND · 120Ω</text>`)
	w(`<line x1="60" y1="140" x2="60" y2="170" stroke="#333" stroke-width="2"/>`)
	w(`<rect x="250" y="30" width="240" height="250" fill="#fffbe6" stroke="#333"/>`)
	w(`<text x="260" y="50" font-weight="bold">%s</text>`, e(l.f("リレーモジュール %s", "relay module %s", r.Chip)))
	w(`<text x="260" y="72">%s</text>`, e(l.f("アドレス %s、%s、DC 24V", "address %s, %s, 24 V DC", addr, line)))
	w(`<text x="260" y="100">A+ · B− · GND · 120Ω</text>`)
	w(`<text x="260" y="140">CH%d: COM → NO %s</text>`, r.Line+1, e(l.t("(常時開: 使用)", "(normally open: used)")))
	w(`<line x1="180" y1="225" x2="250" y2="96" stroke="#1565c0" stroke-width="2"/>`)
	mediumSupplySVG(w, l, medium)
	w(`<line x1="490" y1="136" x2="560" y2="70" stroke="#c62828" stroke-width="2"/>`)
	w(`<line x1="490" y1="140" x2="560" y2="170" stroke="#c62828" stroke-width="2"/>`)
	switch {
	case r.Sense != nil && !r.Sense.ActiveLow:
		w(`<text x="260" y="220">%s</text>`, e(l.f("DI%d ← NO %s", "DI%d ← NO %s", r.Sense.Line+1, l.t("の後の媒体の +", "side, medium +"))))
		w(`<text x="260" y="242">%s</text>`, e(l.t("DI 共通 ← 媒体の −", "DI common ← medium −")))
		w(`<line x1="490" y1="216" x2="560" y2="180" stroke="#6a1b9a" stroke-width="2"/>`)
	case r.Sense != nil:
		w(`<text x="260" y="220">%s</text>`, e(l.f("DI%d ← %s", "DI%d ← %s", r.Sense.Line+1, l.t("強制ガイドリレーの補助接点(NC)", "force-guided relay's auxiliary contact (NC)"))))
		w(`<text x="260" y="242">%s</text>`, e(l.t("反転(active_low): OFF で入力 ON", "inverted (active_low): input ON while off")))
	default:
		w(`<text x="260" y="220" fill="#b00020">%s</text>`, e(l.t("センス入力なし: 切断を証明できません", "no sense input: cuts cannot be proven")))
	}
	w(`<text x="10" y="315" fill="#333">%s</text>`, e(l.t("NO接点のため、モジュールが電源を失うと媒体への給電も切れます(全コイルが切れます)。", "The NO contact leaves the medium unpowered whenever the module loses power (it drops every coil).")))
	w(`</svg>`)
	return b.String()
}
