package documents

import (
	"cmp"
	"fmt"
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
	var aux []string
	for i := range b.cfg.Relays {
		if r := &b.cfg.Relays[i]; r.Driver == relay.DriverModbus && senseOf(r) == senseAux {
			aux = append(aux, r.Name)
		}
	}
	var fg [][]Cell
	if len(aux) > 0 {
		fg = [][]Cell{{tcell(l.t("強制ガイドリレー(補助NC接点付き)OMRON G7SA-2A2B DC24 とソケット P7SA-10F-ND DC24", "force-guided relay with an auxiliary NC contact, OMRON G7SA-2A2B DC24 with socket P7SA-10F-ND DC24")), tcell(fmt.Sprint(len(aux))),
			tcell(l.t("モジュールの CH の接点で 24V をコイルに通す(コイル 15mA)。NO 主接点に媒体の電源 +、NC 補助接点を +24V から DI へ(反転センス)。リレー: ", "the module's CH contact switches 24 V to its coil (15 mA); its NO main contact carries the medium's supply +, its NC auxiliary contact feeds +24 V to the DI (inverted sense). Relays: ") + strings.Join(aux, ", "))}}
	}
	return append([][]Cell{
		{tcell(l.t("DINレール取付の Modbus RTU リレーモジュール(絶縁型デジタル入力付き、4〜8チャンネル)", "DIN-rail Modbus RTU relay module with opto-isolated digital inputs (4–8 channels)")), tcell(fmt.Sprint(len(mods))),
			tcell(l.f("国内で広く販売されている RS-485 の Modbus RTU リレーモジュール。リレー1つにつきコイル出力(CH)1つとセンス用のデジタル入力(DI)1つ。接点定格は媒体の電源電圧・電流以上。設定のモジュール: %s",
				"an RS-485 Modbus RTU relay module of the kind sold widely in Japan; per relay, one coil output (CH) and one digital input (DI) for the sense. Contacts rated above the media supplies' voltage and current. Modules of the configuration: %s",
				strings.Join(mods, ", ")))},
		{tcell(l.t("USB–RS-485 アダプタ", "USB–RS-485 adapter")), tcell(fmt.Sprint(buses)),
			tcell(l.t("例: FTDI USB-RS485-WE-1800-BT(FTDI チップ、シリアル番号あり、線端 1.8m)。FTDI、CP210x または CH341 のチップ(イメージのカーネルにドライバがあります)。USB シリアル番号を持つもの: ゲートウェイはアダプタをシリアル番号で見つけます(FTDI・CP210x はほぼ持ち、CH341 の多くは持ちません)",
				"an FTDI, CP210x or CH341 chip (the image's kernel has their drivers), with a USB serial number: the gateway finds the adapter by it (FTDI and CP210x nearly always have one, most CH341 do not)"))},
		{tcell(l.t("リレーモジュール用 DC 24V 電源(DINレール)", "24 V DC supply for the relay module (DIN rail)")), tcell(fmt.Sprint(len(mods))),
			tcell(l.t("モジュールの電源端子へ。媒体の電源とは別に", "to the module's supply terminals; separate from the media supplies"))},
		{tcell(l.t("終端抵抗 120Ω", "120 Ω termination resistor")), tcell(fmt.Sprint(2 * buses)),
			tcell(l.t("RS-485 バスの両端(アダプタと最後のモジュール)の A–B 間。内蔵の終端ジャンパがあればそれを使う", "across A–B at both ends of the RS-485 bus (the adapter and the last module); use a built-in termination jumper where there is one"))},
		{tcell(l.t("ツイストペアケーブル", "twisted-pair cable")), tcell("1"),
			tcell(l.t("A と B に1対を使う(シールド付き推奨)。GND も配線する", "one pair for A and B (shielded recommended); wire GND as well"))},
	}, fg...)
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
	if senseOf(r) == senseAux {
		pairs[len(pairs)-1] = pair(l.t("出力", "output"), text(l.f("端子 CH%[1]d の COM に +24V、NO を G7SA-2A2B のコイル A1(+)へ、A2(−)を 24V 電源の − へ(コイル %[2]d)。媒体の電源 + は G7SA-2A2B の NO 主接点を通す",
			"terminal CH%[1]d: COM to +24 V, NO to the G7SA-2A2B's coil A1 (+), A2 (−) to the 24 V supply's − (coil %[2]d). The medium's supply + runs through the G7SA-2A2B's NO main contact", r.Line+1, r.Line)))
		pairs = append(pairs, pair(l.t("センス入力", "sense input"), text(l.f("モジュール %[1]s の端子 DI%[2]d(入力 %[3]d): +24V から G7SA-2A2B の NC 補助接点を通して DI%[2]d へ、デジタル入力の共通端子を 24V 電源の − へ(反転、active_low)",
			"module %[1]s, terminal DI%[2]d (input %[3]d): +24 V through the G7SA-2A2B's NC auxiliary contact to DI%[2]d, the digital inputs' common terminal to the 24 V supply's − (inverted, active_low)", r.Sense.Chip, r.Sense.Line+1, r.Sense.Line))))
	} else if r.Sense != nil {
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

// moduleSVG draws a module relay as it is built: the gateway's USB port,
// the adapter and the RS-485 bus, the module and its 24 V supply, the
// channel's contact in the supply of what it powers (or, for an inverted
// sense, in a force-guided relay's coil), the return, the data cable and
// the digital input that senses it.
func (b *builder) moduleSVG(r relay.Spec, m *rtu.ModuleSpec) string {
	l := b.l
	p := b.poweredBy(r.Name)
	conn, addr, line := "?", "?", "?"
	if m != nil {
		conn, addr, line = cmp.Or(m.Adapter, m.Device), fmt.Sprint(m.Address), lineSettings(m)
	}
	d := newDrawing(900, 520, l.f("リレー %s の配線(%s)", "Wiring of relay %s (%s)", r.Name, p.label))
	d.box(10, 40, 170, 100, "#f4f6f8")
	d.text(20, 60, l.t("ゲートウェイ", "gateway"), true, "")
	d.text(175, 74, "USB", false, "end")
	d.text(95, 132, p.cable, false, "middle")
	d.wire("usb", [2]int{180, 70}, [2]int{230, 70})
	d.box(230, 40, 170, 80, "#f4f6f8")
	d.text(240, 60, "USB–RS-485", true, "")
	d.text(240, 80, "serial "+conn, false, "")
	d.text(240, 100, l.t("終端 120Ω(A–B)", "120 Ω across A–B"), false, "")
	d.box(440, 40, 180, 260, "#fffbe6")
	d.text(450, 58, l.f("リレーモジュール %s", "relay module %s", r.Chip), true, "")
	d.text(450, 76, l.f("アドレス %s、%s", "address %s, %s", addr, line), false, "")
	for i, n := range []string{"A+", "B−", "GND"} {
		y := 90 + 20*i
		d.wire([]string{"rs485-a", "rs485-b", "rs485-gnd"}[i], [2]int{400, y}, [2]int{440, y})
		d.text(444, y+4, n, false, "")
	}
	d.box(230, 150, 170, 50, "#fffbe6")
	d.text(240, 172, l.t("DC 24V 電源", "24 V DC supply"), true, "")
	d.wire("24v", [2]int{400, 160}, [2]int{440, 160})
	d.wire("24v-return", [2]int{400, 185}, [2]int{440, 185})
	d.text(396, 164, "+24V", false, "end")
	d.text(396, 189, "24V −", false, "end")
	d.text(444, 164, "V+", false, "")
	d.text(444, 189, "V−", false, "")
	if senseOf(&r) == senseAux {
		moduleAuxSVG(d, l, &r, p)
	} else {
		moduleSupplySVG(d, l, &r, p)
	}
	return d.svg(l.t("NO 接点のため、モジュールが電源を失うと給電も切れます(全コイルが切れます)。", "The NO contact leaves it unpowered whenever the module loses power (it drops every coil)."))
}

// moduleSupplySVG: the channel's contact carries the supply's +, and the
// switched + drives the digital input, whose common is the supply's −.
func moduleSupplySVG(d *drawing, l lang, r *relay.Spec, p powered) {
	d.text(614, 124, fmt.Sprintf("CH%d COM", r.Line+1), false, "end")
	d.text(614, 164, fmt.Sprintf("CH%d NO", r.Line+1), false, "end")
	at := supplyAndLoad(d, l, p, 620, 120, 160, 95, 140, 440)
	if r.Sense == nil {
		d.text(450, 250, l.t("センス入力なし: 切断を証明できません", "no sense input: cuts cannot be proven"), false, "")
		return
	}
	d.text(614, 234, fmt.Sprintf("DI%d", r.Sense.Line+1), false, "end")
	d.text(614, 274, l.t("DI 共通", "DI common"), false, "end")
	d.wire("medium+", at, [2]int{620, 230})
	d.dot(at[0], at[1])
	d.wire("supply-", [2]int{875, 245}, [2]int{875, 290}, [2]int{640, 290}, [2]int{640, 270}, [2]int{620, 270})
	d.dot(875, 245)
}

// moduleAuxSVG: the channel's contact switches +24 V to a force-guided
// relay's coil; that relay's NO contact carries the supply's +, and its
// NC auxiliary contact feeds +24 V to the digital input (ON while off).
// The 24 V rail and the input are joined by name (net labels).
func moduleAuxSVG(d *drawing, l lang, r *relay.Spec, p powered) {
	ch := r.Line + 1
	d.text(480, 294, fmt.Sprintf("CH%d COM", ch), false, "middle")
	d.text(540, 294, fmt.Sprintf("CH%d NO", ch), false, "middle")
	d.wire("24v", [2]int{480, 300}, [2]int{480, 320})
	d.text(476, 330, "+24V", true, "end")
	d.wire("coil", [2]int{540, 300}, [2]int{540, 340})
	d.box(460, 340, 160, 90, "#fff3e0")
	d.text(470, 370, "G7SA-2A2B DC24", true, "")
	d.text(544, 354, "A1(+)", false, "")
	d.text(466, 394, "A2(−)", false, "")
	d.flag("24v-return", 460, 390, -20, "24V −")
	d.text(614, 364, "NO", false, "end")
	d.text(614, 404, "NO", false, "end")
	supplyAndLoad(d, l, p, 620, 360, 400, 95, 140, 490)
	d.text(490, 424, l.t("NC 補助", "NC aux"), false, "")
	d.wire("sense", [2]int{500, 430}, [2]int{500, 450})
	d.text(500, 464, fmt.Sprintf("DI%d", r.Sense.Line+1), true, "middle")
	d.wire("24v", [2]int{580, 430}, [2]int{580, 450})
	d.text(580, 464, "+24V", true, "middle")
	d.text(450, 254, l.f("DI%d ← NC 補助接点(+24V から)", "DI%d ← NC aux contact (from +24 V)", r.Sense.Line+1), false, "")
	d.text(450, 274, l.t("DI 共通 ← 24V −", "DI common ← 24 V −"), false, "")
}
