package documents

import (
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/relay"
)

// headerPin maps a Raspberry Pi 4/5 GPIO line (BCM numbering, which is the
// line offset on pinctrl-bcm2711 and pinctrl-rp1 alike) to its pin on the
// 40-pin header.
var headerPin = map[int]int{
	0: 27, 1: 28, 2: 3, 3: 5, 4: 7, 5: 29, 6: 31, 7: 26, 8: 24, 9: 21, 10: 19, 11: 23, 12: 32, 13: 33,
	14: 8, 15: 10, 16: 36, 17: 11, 18: 12, 19: 35, 20: 38, 21: 40, 22: 15, 23: 16, 24: 18, 25: 22, 26: 37, 27: 13,
}

// Header pins that are not lines: the 3.3 V the sense resistor hangs
// from, and a ground. The relay coils take nothing from the header.
const (
	pin3V3 = 1
	pinGND = 6
)

// raspberryChip reports whether chip names the Raspberry Pi's main GPIO
// controller, whose lines are the header's BCM GPIO numbers.
func raspberryChip(chip string) bool {
	switch chip {
	case "pinctrl-rp1", "pinctrl-bcm2711", "pinctrl-bcm2835", "gpiochip0", "/dev/gpiochip0":
		return true
	}
	return false
}

// pinName names a line for the person wiring it: "GPIO17 (header pin 11)"
// on a Raspberry Pi (pi: the configuration is for the Pi image), "chip X
// line N" elsewhere.
func pinName(l lang, pi bool, chip string, line int) string {
	if p, ok := headerPin[line]; ok && pi && raspberryChip(chip) {
		return l.f("GPIO%d(40ピンヘッダの%d番ピン)", "GPIO%d (header pin %d)", line, p)
	}
	return l.f("%s のライン %d(ボードの説明書で端子を確認)", "%s line %d (find the terminal in the board's manual)", chip, line)
}

// shortPin is the label drawn in the diagram.
func shortPin(pi bool, chip string, line int) string {
	if p, ok := headerPin[line]; ok && pi && raspberryChip(chip) {
		return fmt.Sprintf("GPIO%d · pin %d", line, p)
	}
	return fmt.Sprintf("%s:%d", chip, line)
}

// senseKind is how a relay's sense input is wired, read from its settings
// the way relay/ reads the line.
type senseKind int

const (
	senseNone senseKind = iota
	// senseAux: a force-guided relay's NC auxiliary contact. A broken
	// sense wire reads ON, so the fault shows as a cut not verified.
	senseAux
	// senseSupply: taken from the medium's supply (an optocoupler, or a
	// module's isolated input). A broken sense wire reads OFF, so the
	// fault shows at the next power-on.
	senseSupply
)

// senseOf says which wiring a relay's settings fit. On a GPIO line a
// broken wire reads what the resistor pulls it to; that level is ON for
// the auxiliary contact (pull-up with active_low=false, pull-down with
// active_low=true) and OFF for the optocoupler. A module's input reads
// OFF when its wire is broken, so active_low there means the NC contact.
func senseOf(r *relay.Spec) senseKind {
	switch {
	case r.Sense == nil:
		return senseNone
	case r.Driver == relay.DriverModbus && r.Sense.ActiveLow:
		return senseAux
	case r.Driver == relay.DriverModbus:
		return senseSupply
	case (r.Sense.Pull == relay.PullDown) == r.Sense.ActiveLow:
		return senseAux
	}
	return senseSupply
}

// senseToGND reports whether a GPIO sense's contact or optocoupler output
// switches the input to GND, its resistor pulling up to 3.3 V (else the
// other way round: pull-down, switched to 3.3 V).
func senseToGND(r *relay.Spec) bool { return r.Sense.Pull != relay.PullDown }

// The sense circuit's parts on a GPIO line (3.3 V logic).
const (
	optoVf      = 1.2   // PC817 LED forward voltage, typical (V)
	optoIf      = 5.0   // LED current aimed at (mA)
	optoCTR     = 0.5   // PC817's least current transfer ratio (50 %)
	auxPullOhm  = 1000  // R1 for the auxiliary contact: 3.3 mA through it
	optoPullOhm = 10000 // R1 for the optocoupler's transistor: 0.33 mA
	logicVolts  = 3.3
)

// ledResistors are R2, the PC817 LED's series resistor, for the usual
// medium supplies (E12 values near (V − Vf) / 5 mA).
var ledResistors = []struct {
	volts float64
	ohm   int
}{{5, 750}, {12, 2200}, {24, 4700}}

// ohms prints a resistance as a parts list does: 750 Ω, 2.2 kΩ.
func ohms(r int) string {
	if r >= 1000 {
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", float64(r)/1000), "0"), ".") + " kΩ"
	}
	return fmt.Sprintf("%d Ω", r)
}

// ledResistorRows are the rows of R2's table: supply, resistor, the LED
// current and the resistor's dissipation.
func ledResistorRows(l lang) [][]Cell {
	var rows [][]Cell
	for _, r := range ledResistors {
		i := (r.volts - optoVf) / float64(r.ohm) // A
		rows = append(rows, []Cell{tcell(fmt.Sprintf("DC %gV", r.volts)), tcell(ohms(r.ohm) + l.t("(1/4W)", " (1/4 W)")),
			tcell(fmt.Sprintf("%.1f mA", i*1000)), tcell(fmt.Sprintf("%.0f mW", i*i*float64(r.ohm)*1000))})
	}
	return rows
}

// senseCircuit says how to build a GPIO relay's sense input: its parts
// with their values and the currents through them.
func (b *builder) senseCircuit(r *relay.Spec) []Block {
	l := b.l
	rail, other := l.t("3.3V", "3.3 V"), "GND"
	if !senseToGND(r) {
		rail, other = other, rail
	}
	settings := fmt.Sprintf("pull=%s active_low=%t", orDash(r.Sense.Pull), r.Sense.ActiveLow)
	switch senseOf(r) {
	case senseAux:
		return []Block{ptext(l.f("センス(%[1]s): 強制ガイドリレー G7SA-2A2B の補助接点(NC)を、センス入力と %[3]s の間につなぐ。センス入力と %[2]s の間に R1 %[4]s(1/4W)を入れる。リレーが切れている間は NC が閉じ、R1 に %.1[5]f mA 流れる(3.3V ÷ %[4]s)。ボード内蔵の pull(約50kΩ)だけでは補助接点に流れる電流が小さすぎるため、R1 を付ける。コイルに通電すると NC が開き、入力は ON を読む。主接点が溶着すると NC は開いたままになり(強制ガイド)、センス線が外れても入力は ON を読むため、どちらの故障も切断の確認で見つかる。",
			"Sense (%[1]s): wire the G7SA-2A2B's auxiliary NC contact between the sense input and %[3]s, and R1 %[4]s (1/4 W) between the sense input and %[2]s. While the relay is off the NC contact is closed and %.1[5]f mA flows through R1 (3.3 V ÷ %[4]s); the board's own pull (about 50 kΩ) alone would pass too little current through the contact, hence R1. With the coil energised the NC contact opens and the input reads ON. A welded main contact holds the NC contact open (force-guided), and a loose sense wire also reads ON: the cut's verification finds both.",
			settings, rail, other, ohms(auxPullOhm), logicVolts/auxPullOhm*1000))}
	case senseSupply:
		ic := logicVolts / optoPullOhm * 1000
		out := l.t("コレクタ(4番)をセンス入力へ、エミッタ(3番)を GND へ", "the collector (pin 4) to the sense input, the emitter (pin 3) to GND")
		if !senseToGND(r) {
			out = l.t("コレクタ(4番)を 3.3V へ、エミッタ(3番)をセンス入力へ", "the collector (pin 4) to 3.3 V, the emitter (pin 3) to the sense input")
		}
		return []Block{
			ptext(l.f("センス(%[1]s): フォトカプラ PC817 の LED を、R2 を介して NO 接点の後の媒体の電源 + と − の間につなぐ(アノード1番を R2 経由で +、カソード2番を −)。LED と逆並列にダイオード 1N4148 を付ける(逆電圧の保護)。出力は%[2]s。R1 %[3]s(1/4W)をセンス入力と %[4]s の間に入れる。R1 に流れるのは %.2[5]f mA で、PC817 は LED 電流 5 mA、最小の電流伝達率 50%% でも %.1[6]f mA まで流せるため、確実に飽和する。",
				"Sense (%[1]s): put the PC817 optocoupler's LED, through R2, across the medium's supply + and − after the NO contact (anode, pin 1, through R2 to +; cathode, pin 2, to −), with a 1N4148 diode in reverse across the LED (reverse-voltage protection). Its output: %[2]s; R1 %[3]s (1/4 W) between the sense input and %[4]s. R1 passes %.2[5]f mA, and the PC817 sinks up to %.1[6]f mA at 5 mA LED current and its least current transfer ratio of 50%%, so it saturates.",
				settings, out, ohms(optoPullOhm), rail, ic, optoIf*optoCTR)),
			ptext(l.f("R2 は媒体の電源電圧で選ぶ(LED の順電圧 %.1f V、目標の LED 電流 %.0f mA):", "Choose R2 by the medium's supply voltage (LED forward voltage %.1f V, LED current aimed at %.0f mA):", optoVf, optoIf)),
			table([]string{l.t("媒体の電源", "medium supply"), "R2", l.t("LED 電流", "LED current"), l.t("R2 の損失", "R2 dissipation")}, ledResistorRows(l), ""),
		}
	}
	return nil
}

// powered is what a relay powers, as the drawing names it: a medium, a
// tape drive, or an S3 bucket's uplink device; and the cable that carries
// its data to the gateway.
type powered struct {
	label, cable string
}

// poweredBy is what the relay called name powers.
func (b *builder) poweredBy(name string) powered {
	l := b.l
	i := slices.IndexFunc(b.cfg.Media, func(m config.Medium) bool { return m.Relay == name })
	if i < 0 {
		return powered{label: l.t("媒体(未割り当て)", "medium (none assigned)"), cable: "USB"}
	}
	m := &b.cfg.Media[i]
	switch m.Type {
	case config.MediumS3:
		return powered{label: l.f("回線装置(媒体 %s のネットワーク回線)", "uplink device (network uplink of medium %s)", m.Name), cable: "LAN"}
	case config.MediumTape:
		return powered{label: l.f("テープ装置(媒体 %s)", "tape drive (medium %s)", m.Name), cable: "SAS"}
	}
	return powered{label: l.f("媒体 %s", "medium %s", m.Name), cable: "USB"}
}

// drawing is an SVG wiring diagram. Every wire is a <line> of one net
// (data-net), and wires of one net meet only end to end, so two nets never
// touch: the test reads the nets back from the markup.
type drawing struct {
	b strings.Builder
	h int
}

var netColor = map[string]string{
	"gpio-out": "#1565c0", "sense": "#6a1b9a", "3v3": "#ef6c00", "gnd": "#000",
	"24v": "#c62828", "24v-t": "#d84315", "24v-return": "#000", "coil": "#2e7d32",
	"supply+": "#c62828", "medium+": "#ad1457", "supply-": "#37474f", "led": "#ad1457",
	"data": "#00838f", "usb": "#00838f", "rs485-a": "#1565c0", "rs485-b": "#6d4c41", "rs485-gnd": "#000",
}

func newDrawing(w, h int, title string) *drawing {
	d := &drawing{h: h}
	d.raw(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" font-family="Noto Sans CJK JP, Noto Sans, sans-serif" font-size="12">`, w, h, w, h)
	d.raw(`<title>%s</title>`, html.EscapeString(title))
	d.raw(`<rect x="0" y="0" width="%d" height="%d" fill="#fff"/>`, w, h)
	return d
}

func (d *drawing) raw(format string, args ...any) { fmt.Fprintf(&d.b, format, args...) }

// wire draws a net through points, one <line> per leg.
func (d *drawing) wire(net string, pts ...[2]int) {
	for i := 1; i < len(pts); i++ {
		d.raw(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" data-net="%s"/>`,
			pts[i-1][0], pts[i-1][1], pts[i][0], pts[i][1], netColor[net], net)
	}
}

// dot marks a junction: wires of one net that join there.
func (d *drawing) dot(x, y int) { d.raw(`<circle cx="%d" cy="%d" r="3" fill="#000"/>`, x, y) }

func (d *drawing) box(x, y, w, h int, fill string) {
	d.raw(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#333"/>`, x, y, w, h, fill)
}

// text writes s at x, y; anchor "end" right-aligns it.
func (d *drawing) text(x, y int, s string, bold bool, anchor string) {
	attrs := ""
	if bold {
		attrs += ` font-weight="bold"`
	}
	if anchor != "" {
		attrs += ` text-anchor="` + anchor + `"`
	}
	d.raw(`<text x="%d" y="%d"%s>%s</text>`, x, y, attrs, html.EscapeString(s))
}

// flag is a net label: a short stub ending in the net's name, which joins
// it to every other flag of that name (a supply rail or ground).
func (d *drawing) flag(net string, x, y, dx int, name string) {
	d.wire(net, [2]int{x, y}, [2]int{x + dx, y})
	anchor := ""
	if dx < 0 {
		anchor = "end"
	}
	d.text(x+dx+sign(dx)*3, y+4, name, true, anchor)
}

func sign(x int) int {
	if x < 0 {
		return -1
	}
	return 1
}

func (d *drawing) svg(footer string) string {
	d.text(10, d.h-10, footer, false, "")
	d.raw(`</svg>`)
	return d.b.String()
}

// supplyAndLoad draws the supply of what the relay powers, its + through
// the contact at (cx, inY) → (cx, outY), its − straight to the load's −
// (the return, never switched), and the load's data cable back to the
// gateway's port at (portX, portY), routed along dataY. It returns where the switched + meets
// the load, for a sense taken from it.
func supplyAndLoad(d *drawing, l lang, p powered, cx, inY, outY, portX, portY, dataY int) [2]int {
	d.box(680, 40, 170, 60, "#eef7ee")
	d.text(690, 62, l.t("電源(ACアダプタ)", "its supply (adapter)"), true, "")
	d.text(686, 94, "+", true, "")
	d.text(844, 94, "−", true, "end")
	d.box(680, 190, 170, 70, "#eef2fb")
	d.text(690, 212, p.label, true, "")
	d.text(686, 246, "+", true, "")
	d.text(844, 240, "−", true, "end")
	d.wire("supply+", [2]int{680, 80}, [2]int{650, 80}, [2]int{650, inY}, [2]int{cx, inY})
	d.wire("medium+", [2]int{cx, outY}, [2]int{660, outY}, [2]int{660, 230})
	d.wire("medium+", [2]int{660, 230}, [2]int{680, 230})
	d.wire("supply-", [2]int{850, 80}, [2]int{875, 80}, [2]int{875, 245})
	d.wire("supply-", [2]int{875, 245}, [2]int{850, 245})
	d.wire("data", [2]int{765, 260}, [2]int{765, dataY}, [2]int{portX, dataY}, [2]int{portX, portY})
	d.text(775, dataY-10, l.f("%s ケーブル", "%s cable", p.cable), false, "")
	return [2]int{660, 230}
}

// wiringSVG draws one GPIO relay as it is built: the gateway's lines (the
// header's pins on a Raspberry Pi), the coil driver TBD62003APG and its
// 24 V supply, the force-guided relay whose NO contact carries the
// supply's +, the return, the data cable, and the sense circuit.
func (b *builder) wiringSVG(r relay.Spec) string {
	l, pi := b.l, b.onPi()
	p := b.poweredBy(r.Name)
	d := newDrawing(900, 480, l.f("リレー %s の配線(%s)", "Wiring of relay %s (%s)", r.Name, p.label))
	// The gateway.
	d.box(10, 60, 190, 270, "#f4f6f8")
	d.text(20, 82, l.t("ゲートウェイ", "gateway"), true, "")
	d.text(195, 106, l.t("出力 ", "output ")+shortPin(pi, r.Chip, r.Line), false, "end")
	v33, gnd := "3.3V", "GND"
	if pi {
		v33, gnd = fmt.Sprintf("3.3V · pin %d", pin3V3), fmt.Sprintf("GND · pin %d", pinGND)
	}
	d.text(195, 176, v33, false, "end")
	d.text(195, 276, gnd, false, "end")
	d.text(105, 322, p.cable, false, "middle")
	d.wire("gpio-out", [2]int{200, 110}, [2]int{260, 110})
	d.flag("3v3", 200, 180, 30, "+3.3V")
	d.flag("gnd", 200, 280, 30, "GND")
	// The coil driver and its supply: GPIO high sinks OUT1, which
	// energises the coil; its COM returns the coil's kick to +24 V.
	d.box(260, 90, 140, 60, "#fffbe6")
	d.text(330, 125, "TBD62003APG", true, "middle")
	d.text(264, 104, "IN1(1)", false, "")
	d.text(396, 144, "OUT1(16)", false, "end")
	coilNet, coilRail := "24v", "+24V"
	if b.cfg.Interlocked(r.Name) {
		coilNet, coilRail = "24v-t", timedRail
	}
	d.wire(coilNet, [2]int{380, 90}, [2]int{380, 70})
	d.text(384, 68, coilRail, true, "")
	d.text(376, 104, "COM(9)", false, "end")
	d.text(264, 144, "GND(8)", false, "")
	d.wire("gnd", [2]int{280, 150}, [2]int{280, 165})
	d.flag("gnd", 280, 165, 20, "GND")
	d.box(260, 10, 160, 40, "#fffbe6")
	d.text(270, 34, l.t("DC 24V 電源", "24 V DC supply"), true, "")
	if b.cfg.Interlocked(r.Name) {
		drawTimer(d, l, 420, 30)
	} else {
		d.flag("24v", 420, 30, 20, "+24V")
	}
	d.flag("gnd", 260, 30, -20, "GND")
	// The force-guided relay.
	d.box(460, 90, 160, 120, "#fff3e0")
	d.text(470, 104, "G7SA-2A2B DC24", true, "")
	d.text(466, 124, "A1(+)", false, "")
	d.text(466, 144, "A2(−)", false, "")
	d.text(614, 124, l.t("NO 主接点", "NO main"), false, "end")
	d.flag(coilNet, 460, 120, -20, coilRail)
	d.wire("coil", [2]int{400, 140}, [2]int{460, 140})
	at := supplyAndLoad(d, l, p, 620, 120, 160, 105, 330, 440)
	switch senseOf(&r) {
	case senseAux:
		drawAuxSense(d, l, &r, pi)
	case senseSupply:
		drawOptoSense(d, l, &r, pi, at)
	default:
		d.text(20, 240, l.t("センス入力なし: 切断を証明できません", "no sense input: cuts cannot be proven"), false, "")
	}
	return d.svg(l.t("NO 接点のため、ゲートウェイの停止・再起動・停電時、24V 電源の停止時は給電されません。", "The NO contact leaves it unpowered whenever the gateway stops, restarts or loses power, and whenever the 24 V supply is off."))
}

// senseResistor draws R1 from the sense input's junction at (300, 230) to
// its rail (up to +3.3 V, or down to GND).
func senseResistor(d *drawing, r *relay.Spec, ohm int) {
	if senseToGND(r) {
		d.wire("3v3", [2]int{300, 180}, [2]int{300, 190})
		d.flag("3v3", 300, 180, 20, "+3.3V")
		d.box(294, 190, 12, 30, "#fff")
		d.text(290, 210, "R1 "+ohms(ohm), false, "end")
		d.wire("sense", [2]int{300, 220}, [2]int{300, 230})
	} else {
		d.wire("sense", [2]int{300, 230}, [2]int{300, 240})
		d.box(294, 240, 12, 30, "#fff")
		d.text(290, 260, "R1 "+ohms(ohm), false, "end")
		d.wire("gnd", [2]int{300, 270}, [2]int{300, 290})
		d.flag("gnd", 300, 290, 20, "GND")
	}
	d.dot(300, 230)
}

// farRail is the rail the sense's contact or transistor switches the
// input to, as a flag's net and name.
func farRail(r *relay.Spec) (net, name string) {
	if senseToGND(r) {
		return "gnd", "GND"
	}
	return "3v3", "+3.3V"
}

// drawAuxSense draws the NC auxiliary contact between the sense input and
// its far rail.
func drawAuxSense(d *drawing, l lang, r *relay.Spec, pi bool) {
	d.text(195, 226, l.t("センス ", "sense ")+shortPin(pi, r.Sense.Chip, r.Sense.Line), false, "end")
	senseResistor(d, r, auxPullOhm)
	d.wire("sense", [2]int{200, 230}, [2]int{300, 230}, [2]int{500, 230}, [2]int{500, 210})
	d.text(540, 200, l.t("NC 補助接点", "NC auxiliary"), false, "middle")
	net, name := farRail(r)
	d.wire(net, [2]int{580, 210}, [2]int{580, 240})
	d.flag(net, 580, 240, 20, name)
}

// drawOptoSense draws the PC817 with R2 and its diode on the load's
// switched +, and its transistor between the sense input and its far rail.
func drawOptoSense(d *drawing, l lang, r *relay.Spec, pi bool, at [2]int) {
	d.text(195, 226, l.t("センス ", "sense ")+shortPin(pi, r.Sense.Chip, r.Sense.Line), false, "end")
	senseResistor(d, r, optoPullOhm)
	d.box(480, 330, 120, 70, "#fdeef0")
	d.text(540, 350, "PC817", true, "middle")
	d.text(540, 368, l.t("D1 1N4148 逆並列", "D1 1N4148 reversed"), false, "middle")
	d.text(596, 348, "1", false, "end")
	d.text(596, 392, "2", false, "end")
	d.text(484, 348, "4", false, "")
	d.text(484, 392, "3", false, "")
	// LED: the switched + through R2 to the anode, the cathode to −.
	d.wire("medium+", at, [2]int{at[0], 290})
	d.dot(at[0], at[1])
	d.box(at[0]-6, 290, 12, 30, "#fff")
	d.text(at[0]+10, 310, l.t("R2(表)", "R2 (table)"), false, "")
	d.wire("led", [2]int{at[0], 320}, [2]int{at[0], 345}, [2]int{600, 345})
	d.wire("supply-", [2]int{875, 245}, [2]int{875, 385}, [2]int{600, 385})
	d.dot(875, 245)
	// The transistor: one end to the sense input, the other to the rail.
	net, name := farRail(r)
	senseAt, railAt := [2]int{480, 345}, [2]int{480, 385}
	if !senseToGND(r) {
		senseAt, railAt = railAt, senseAt
	}
	d.wire("sense", [2]int{200, 230}, [2]int{300, 230}, [2]int{450, 230}, [2]int{450, senseAt[1]}, senseAt)
	d.wire(net, railAt, [2]int{470, railAt[1]}, [2]int{470, 415})
	d.text(470, 430, name, true, "middle")
}
